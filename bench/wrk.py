"""Run wrk against one URL and read its text report (`--latency` gives the percentiles)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass

__all__ = ["WrkResult", "parse_wrk", "run_wrk", "wrk_version"]

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_TIME = r"([\d.]+)(us|ms|s|m|h)"
_LATENCY_LINE = re.compile(rf"^\s*Latency\s+{_TIME}\s+{_TIME}\s+{_TIME}", re.MULTILINE)
_PERCENTILE = re.compile(rf"^\s*(50|75|90|99)(?:\.0+)?%\s+{_TIME}\s*$", re.MULTILINE)
_TOTALS = re.compile(
    r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read", re.MULTILINE
)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    requests: int
    seconds: float
    bytes_read: int
    non_2xx_3xx: int
    socket_errors: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _ms(value: str, unit: str) -> float:
    return float(value) * _TIME_UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    """Read wrk's text report; raise ValueError when a figure is missing."""
    rate = _RATE.search(output)
    latency = _LATENCY_LINE.search(output)
    totals = _TOTALS.search(output)
    percentiles = {match[1]: _ms(match[2], match[3]) for match in _PERCENTILE.finditer(output)}
    missing = [
        name
        for name, found in (
            ("Requests/sec", rate),
            ("Latency", latency),
            ("requests in", totals),
            ("latency distribution", len(percentiles) == 4),
        )
        if not found
    ]
    if missing or rate is None or latency is None or totals is None:
        raise ValueError(f"wrk output without {', '.join(missing)}:\n{output}")
    non_2xx = _NON_2XX.search(output)
    socket_errors = _SOCKET.search(output)
    return WrkResult(
        requests_per_second=float(rate[1]),
        p50_ms=percentiles["50"],
        p75_ms=percentiles["75"],
        p90_ms=percentiles["90"],
        p99_ms=percentiles["99"],
        mean_ms=_ms(latency[1], latency[2]),
        max_ms=_ms(latency[5], latency[6]),
        requests=int(totals[1]),
        seconds=_ms(totals[2], totals[3]) / 1000,
        bytes_read=int(float(totals[4]) * _SIZE_UNITS[totals[5]]),
        non_2xx_3xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(count) for count in socket_errors.groups()) if socket_errors else 0,
    )


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    path = wrk_path()
    if path is None:
        return "missing"
    done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].split(" [", 1)[0] if lines else "unknown"


def run_wrk(url: str, *, seconds: float, threads: int, connections: int) -> WrkResult:
    """`wrk -tT -cC -dDs --latency URL`, parsed."""
    path = wrk_path()
    if path is None:
        raise RuntimeError("wrk is not installed (make bench-deps installs it with apt-get)")
    duration = f"{max(1, round(seconds))}s"
    args = [path, f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency", url]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return parse_wrk(done.stdout)
