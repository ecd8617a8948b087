"""The SSRF guard: hostile targets refused at registration (422, saying why) and again
at delivery time; a name that resolves (or later re-resolves) to a private address.

Names are made to resolve where the tests want by replacing only the resolver function,
`masthead.actions.webhook_targets.resolve`; addresses are never looked up at all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from masthead.actions import webhook_targets
from masthead.actions.webhook_delivery import Outgoing, post
from masthead.domain.targets import TargetRefused, address_refusal, legacy_ipv4, parse_target
from masthead.settings import Settings
from tests.api_support import ApiWorld, api_world
from tests.webhook_support import Receiver, serving

PUBLIC = "93.184.216.34"
NAMES = {
    "hooks.example.com": [PUBLIC],
    "internal.example.test": ["10.1.2.3"],
    "mixed.example.test": [PUBLIC, "127.0.0.1"],
    "metadata.example.test": ["169.254.169.254"],
    "v6.example.test": ["fd00::5"],
}

HOSTILE = [
    "https://127.0.0.1/hook",
    "https://127.8.9.10/",
    "https://localhost/",
    "https://api.localhost/",
    "https://LOCALHOST./",
    "https://10.0.0.1/",
    "https://10.255.255.255/",
    "https://172.16.0.1/",
    "https://172.31.255.254/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://169.254.1.1/",
    "https://100.64.0.1/",
    "https://100.127.255.254/",
    "https://0.0.0.0/",
    "https://0/",
    "https://198.18.0.1/",
    "https://255.255.255.255/",
    "https://224.0.0.1/",
    "https://[::1]/",
    "https://[::]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[fd12:3456::1]/",
    "https://[fd00:ec2::254]/",
    "https://[ff02::1]/",
    "https://[2002:7f00:1::]/",
    "https://[64:ff9b::7f00:1]/",
    "https://0x7f000001/",
    "https://2130706433/",
    "https://017700000001/",
    "https://0177.0.0.1/",
    "https://127.1/",
    "https://0x7f.1/",
    "https://0x0a.0.0.1/",
    "https://internal.example.test/",
    "https://mixed.example.test/",
    "https://metadata.example.test/",
    "https://v6.example.test/",
    "https://nowhere.example.test/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_",
    "ftp://example.com/",
    "javascript:alert(1)",
    "https://user:password@hooks.example.com/",
    "https://user@hooks.example.com/",
    "http://hooks.example.com/",
    "https://hooks.example.com/a b",
    "//hooks.example.com/",
]


def fake_resolve(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    if host not in NAMES:
        raise OSError(f"[Errno -2] Name or service not known: {host}")
    return NAMES[host]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_targets, "resolve", fake_resolve)


@pytest.fixture
def world(database_url: str, resolver: None) -> Iterator[ApiWorld]:
    yield from api_world(database_url)


def _settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


def test_there_are_at_least_30_hostile_targets() -> None:
    assert len(HOSTILE) >= 30


@pytest.mark.usefixtures("resolver")
@pytest.mark.parametrize("url", HOSTILE)
def test_a_hostile_target_is_refused_saying_why(url: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        webhook_targets.check_target(_settings(), url)
    assert str(refused.value)


@pytest.mark.usefixtures("resolver")
def test_a_public_https_target_is_accepted_and_pinned_to_its_address() -> None:
    checked = webhook_targets.check_target(_settings(), "https://hooks.example.com:8443/in?x=1")
    assert checked.address == PUBLIC
    assert checked.target.host_header == "hooks.example.com:8443"
    assert checked.target.path == "/in?x=1"


def test_numeric_spellings_are_read_as_a_resolver_reads_them() -> None:
    loopback = ipaddress.IPv4Address("127.0.0.1")
    for spelling in ("0x7f000001", "2130706433", "017700000001", "0177.0.0.1", "127.1", "0x7f.1"):
        assert legacy_ipv4(spelling) == loopback, spelling
    assert legacy_ipv4("hooks.example.com") is None
    assert legacy_ipv4("1.2.3.4.5") is None


def test_allowing_private_targets_still_refuses_metadata_multicast_and_mapped_forms() -> None:
    for allowed in ("127.0.0.1", "10.0.0.1", "fd00::1", "100.64.0.1", "::1"):
        assert address_refusal(ipaddress.ip_address(allowed), allow_private=True) is None
    for refused in ("169.254.169.254", "fd00:ec2::254", "224.0.0.1", "0.0.0.0", "::ffff:7f00:1"):
        assert address_refusal(ipaddress.ip_address(refused), allow_private=True), refused
    assert parse_target("http://127.0.0.1:9/", allow_http=True).scheme == "http"


def test_hostile_targets_are_refused_at_registration_with_a_422_naming_why(
    world: ApiWorld,
) -> None:
    with world.client("admin") as client:
        for url in HOSTILE:
            answer = client.post("/webhooks", json={"url": url, "events": ["post.published"]})
            assert answer.status_code == 422, (url, answer.text)
            problem = answer.json()
            assert problem["code"] == "webhook_target_refused", url
            assert problem["detail"].startswith("url: "), problem
        assert client.get("/webhooks").json()["items"] == []


def test_hostile_targets_are_refused_again_at_delivery_time() -> None:
    """Whatever is stored, an attempt checks its target before connecting to anything."""
    settings = _settings(webhooks_allow_private=False)
    at = datetime.now(UTC)
    for url in HOSTILE:
        sending = Outgoing(1, 1, url, "evt_1", "post.published", "{}", ("s",), at)
        attempt = post(settings, sending, at)
        assert attempt.status is None, url
        assert attempt.error is not None
        assert attempt.error.startswith("refused: "), (url, attempt.error)


def test_a_name_that_re_resolves_to_loopback_is_refused_at_delivery_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receiver = Receiver()
    with serving(receiver) as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        names = {"rebind.example.test": [PUBLIC]}

        def rebinding(host: str, _port: int) -> list[str]:
            return names[host]

        monkeypatch.setattr(webhook_targets, "resolve", rebinding)
        target = f"https://rebind.example.test:{port}/hook"
        assert webhook_targets.check_target(_settings(), target).address == PUBLIC
        names["rebind.example.test"] = ["127.0.0.1"]  # the attacker's DNS answers again
        at = datetime.now(UTC)
        attempt = post(_settings(), Outgoing(1, 1, target, "evt_1", "x", "{}", ("s",), at), at)
    assert (
        attempt.error == "refused: rebind.example.test resolves to 127.0.0.1: 127.0.0.1 is loopback"
    )
    assert receiver.received == []


def test_a_redirect_is_a_failed_attempt_and_is_not_followed() -> None:
    elsewhere = Receiver()
    with serving(elsewhere) as other:
        redirecting = Receiver(statuses=[302], headers={"Location": other})
        with serving(redirecting) as url:
            at = datetime.now(UTC)
            sending = Outgoing(1, 1, url, "evt_1", "x", "{}", ("s",), at)
            attempt = post(_settings(webhooks_allow_private=True), sending, at)
    assert attempt.status == 302
    assert attempt.error == "answered 302: redirects are not followed"
    assert len(redirecting.received) == 1
    assert elsewhere.received == []
