"""HTTP throughput and latency: the same pages under uvicorn and granian, one after another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.servers import Server, running_server
from bench.wrk import WrkResult, run_wrk

__all__ = ["LoadSettings", "Target", "check_pages", "measure_servers", "server_ratios"]

CHECK_REQUESTS = 20


@dataclass(frozen=True)
class Target:
    """One page to load: a short name for the report, its path, a text the page must hold."""

    name: str
    path: str
    expect: str


@dataclass(frozen=True)
class LoadSettings:
    seconds: float
    warmup_seconds: float
    threads: int
    connections: int


def check_pages(server: Server, targets: list[Target]) -> dict[str, int]:
    """Fetch each page a few times: a 200 with the expected text, else stop; return sizes."""
    sizes = {}
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        for target in targets:
            for _ in range(CHECK_REQUESTS):
                response = client.get(target.path)
                if response.status_code != 200 or target.expect not in response.text:
                    raise RuntimeError(
                        f"{server.name} {target.path}: status {response.status_code}, "
                        f"expected text {target.expect!r} "
                        f"{'found' if target.expect in response.text else 'missing'}"
                    )
            sizes[target.name] = len(response.content)
    return sizes


def measure_servers(
    servers: list[str],
    targets: list[Target],
    settings: LoadSettings,
    env: dict[str, str],
    workdir: Path,
    say: Callable[[str], None],
) -> dict[str, dict[str, WrkResult]]:
    """For each server: start it, check and warm every page, then wrk each page in turn."""
    results: dict[str, dict[str, WrkResult]] = {}
    for name in servers:
        log_path = workdir / f"{name}.log"
        with running_server(name, env, workdir, log_path) as server:
            sizes = check_pages(server, targets)
            say(f"  {name} is up (pid {server.pid}, {server.base_url}); page sizes {sizes}")
            per_page: dict[str, WrkResult] = {}
            for target in targets:
                url = server.base_url + target.path
                if settings.warmup_seconds > 0:
                    run_wrk(
                        url,
                        seconds=settings.warmup_seconds,
                        threads=settings.threads,
                        connections=settings.connections,
                    )
                result = run_wrk(
                    url,
                    seconds=settings.seconds,
                    threads=settings.threads,
                    connections=settings.connections,
                )
                per_page[target.name] = result
                errors = result.non_2xx_3xx + result.socket_errors
                say(
                    f"  {name:8} {target.name:6} {result.requests_per_second:9.1f} req/s  "
                    f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  {target.path}"
                    + (f"  ERRORS: {errors}" if errors else "")
                )
            results[name] = per_page
    return results


def server_ratios(
    results: dict[str, dict[str, WrkResult]], base: str, other: str
) -> dict[str, dict[str, float]]:
    """other / base for each page: requests/s (above 1: other is faster) and latencies."""
    if base not in results or other not in results:
        return {}
    ratios = {}
    for page, base_result in results[base].items():
        other_result = results[other].get(page)
        if other_result is None:
            continue
        ratios[page] = {
            "requests_per_second": _ratio(
                other_result.requests_per_second, base_result.requests_per_second
            ),
            "p50": _ratio(other_result.p50_ms, base_result.p50_ms),
            "p99": _ratio(other_result.p99_ms, base_result.p99_ms),
        }
    return ratios


def _ratio(top: float, bottom: float) -> float:
    """top / bottom; NaN when the base measured nothing (wrk completed no request)."""
    return top / bottom if bottom else float("nan")
