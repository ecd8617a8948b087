"""The SSRF guard at the edge: resolve a target's host once and check every address.

`resolve` is the one function that asks DNS (tests replace it to make a name resolve
to a private address). A delivery connects to the address checked here, never to the
name, so a second lookup cannot be answered differently (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from masthead.domain.targets import Target, TargetRefused, address_refusal, parse_target
from masthead.settings import Settings

__all__ = ["CheckedTarget", "TargetRefused", "check_target", "parse_for", "resolve"]


@dataclass(frozen=True)
class CheckedTarget:
    target: Target
    address: str  # the address to connect to: checked, and the first the host resolved to


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an address resolves to itself)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(entry[4][0]) for entry in found))


def parse_for(settings: Settings, url: str) -> Target:
    return parse_target(url, allow_http=settings.webhooks_allow_private)


def check_target(settings: Settings, url: str) -> CheckedTarget:
    """The target and the address to connect to, or `TargetRefused` saying why not."""
    target = parse_for(settings, url)
    try:
        addresses = resolve(target.host, target.port)
    except (OSError, UnicodeError) as error:
        raise TargetRefused(f"{target.host} does not resolve ({error})") from error
    if not addresses:
        raise TargetRefused(f"{target.host} does not resolve")
    for address in addresses:
        refusal = address_refusal(
            ipaddress.ip_address(address.split("%")[0]),
            allow_private=settings.webhooks_allow_private,
        )
        if refusal is not None:
            via = "" if address == target.host else f"{target.host} resolves to {address}: "
            raise TargetRefused(via + refusal)
    return CheckedTarget(target, addresses[0])
