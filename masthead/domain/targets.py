"""Which URLs a webhook may be sent to: the SSRF guard, as pure rules.

A target is checked twice: its URL as written (`parse_target`: the scheme, no
credentials, no numeric spellings a resolver could read otherwise), and every
address its host resolves to (`address_refusal`), at registration and again before
each delivery, which then connects to the address that was checked. Resolving is
the caller's business (`masthead.actions.webhook_targets`); nothing here does IO.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "METADATA_ADDRESSES",
    "Target",
    "TargetRefused",
    "address_refusal",
    "legacy_ipv4",
    "parse_target",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack …
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
"""Cloud metadata services: refused even where private targets are allowed."""

CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
MAX_URL_LENGTH = 2000


class TargetRefused(ValueError):
    """A webhook target Masthead will not send to; the message says why."""


@dataclass(frozen=True)
class Target:
    """A parsed target: what to resolve, where to connect, what to ask for."""

    url: str
    scheme: str  # "https" or "http"
    host: str  # a name, or an address without brackets
    port: int
    path: str  # the path and query, as sent on the request line

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def parse_target(url: str, *, allow_http: bool) -> Target:
    """The target a URL names, or `TargetRefused` naming what is wrong with it."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(character) < 33 or ord(character) == 127 for character in url):
        raise TargetRefused("the URL holds a space or a control character")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"the URL cannot be parsed: {error}") from error
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise TargetRefused(f"the scheme {scheme or '(none)'!r} is not http or https")
    if scheme == "http" and not allow_http:
        raise TargetRefused("plain http is refused: use https (or allow private targets)")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise TargetRefused("the URL carries credentials (user@ or user:password@)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused("the URL names no host")
    if host.lower() in LOCAL_NAMES or host.lower().endswith(".localhost"):
        raise TargetRefused(f"{host} names this machine (loopback)")
    _refuse_numeric_spellings(host)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url, scheme, host, port or (443 if scheme == "https" else 80), path)


def _refuse_numeric_spellings(host: str) -> None:
    """An address must be written plainly: `a.b.c.d` or an IPv6 form in brackets."""
    if "%" in host:
        raise TargetRefused("an IPv6 zone (%…) names an interface of this machine")
    legacy = legacy_ipv4(host)
    if legacy is None:
        return
    refusal = address_refusal(legacy, allow_private=False)
    if str(legacy) != host:
        spelled = f"{host} is {legacy}" + (f", {refusal}" if refusal else "")
        raise TargetRefused(f"{spelled}: write an address as four decimal numbers")


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a resolver's `inet_aton` would read `host` as: decimal, octal (a
    leading 0) or hex (0x) parts, one to four of them; None if it is no such number."""
    parts = host.lower().split(".")
    if not 1 <= len(parts) <= 4:
        return None
    try:
        numbers = [_legacy_number(part) for part in parts]
    except ValueError:
        return None
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for number in leading:
        value = value * 256 + number
    value = value * 256 ** (5 - len(numbers)) + last
    return ipaddress.IPv4Address(value)


def _legacy_number(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:], 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8)
    if not part.isdigit():
        raise ValueError(part)
    return int(part)


def address_refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why Masthead will not connect to `address`, or None when it may.

    Metadata services, unspecified and multicast addresses and IPv4 inside IPv6 are
    refused always; loopback, private, link-local, unique-local, CGNAT and other
    non-public ranges only unless `allow_private` (tests, closed networks).
    """
    always = _always_refused(address)
    if always is not None:
        return always
    if allow_private:
        return None
    return _private_refusal(address)


def _always_refused(address: IPAddress) -> str | None:
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata service"
    if address.is_unspecified or (address.version == 4 and address in THIS_NETWORK):
        return f"{address} is unspecified (this host)"
    if address.is_multicast:
        return f"{address} is multicast"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or _teredo_client(address)
        if embedded is not None:
            return f"{address} is IPv4 ({embedded}) inside IPv6"
        if any(address in network for network in NAT64):
            return f"{address} is IPv4 inside IPv6 (NAT64)"
        if address in ipaddress.ip_network("::/96") and not address.is_loopback:
            return f"{address} is an IPv4-compatible IPv6 address"
    return None


def _teredo_client(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    found = address.teredo
    return found[1] if found else None


def _private_refusal(address: IPAddress) -> str | None:
    if address.is_loopback:
        return f"{address} is loopback"
    if address.is_link_local:
        return f"{address} is link-local"
    if address.version == 4 and address in CGNAT:
        return f"{address} is shared address space (CGNAT, 100.64.0.0/10)"
    if address.version == 6 and address in ipaddress.ip_network("fc00::/7"):
        return f"{address} is unique-local (fc00::/7)"
    if address.is_private:
        return f"{address} is private"
    if not address.is_global or address.is_reserved:
        return f"{address} is not a public address"
    return None
