"""Requests/s of the internal API: a draft create and a post GET, on SQLite or PostgreSQL.

    python -m bench.api_load [--database sqlite|postgres] [--seconds 10] [--connections 8]
                             [--with-key]

While each measured run loads the API, a probe fetches the public index page every 0.2 s
from another connection: the "GET / meanwhile" rows say how long a reader waits while
writers crowd the server (`--connections 100 --with-key`: a hundred keyed writes at once).

Starts `masthead serve` (uvicorn, one process) over a scratch database made with the CLI
(`masthead init --demo`, `masthead staff add`, `masthead token create`), with an edge secret
in `MASTHEAD_EDGE_SECRETS`, then loads it from a second process on loopback: wrk with a Lua
script when wrk is installed, otherwise a few httpx clients in threads. The PostgreSQL
database is created for the run and dropped afterwards (`MASTHEAD_BENCH_POSTGRES_URL`, default
`postgresql://postgres@127.0.0.1:5432/postgres`). Every response must be a 2xx; the table
counts any that are not.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"
EDGE_HEADER = "X-Masthead-Edge"
POSTGRES_ADMIN_URL = os.environ.get(
    "MASTHEAD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
WARMUP_SECONDS = 1.0
BODY = "A paragraph of the kind a draft starts with. " * 12

# wrk runs one Lua state per thread; each numbers its own requests, so titles (and so slugs)
# never repeat and a create never has to search for a free slug.
WRK_SCRIPT = """
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  run_tag = args[1]
  with_key = args[2] == "key"
end

function request()
  counter = counter + 1
  local name = run_tag .. " " .. thread_id .. " " .. counter
  local headers = {}
  for key, value in pairs(wrk.headers) do
    headers[key] = value
  end
  headers["Content-Type"] = "application/json"
  if with_key then
    headers["Idempotency-Key"] = name
  end
  local body = '{"title": "Load ' .. name .. '", "body": "BODY"}'
  return wrk.format("POST", wrk.path, headers, body)
end
"""


@dataclass
class Figure:
    name: str
    requests: int = 0
    seconds: float = 0.0
    failures: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    p50_ms: float = 0.0
    p99_ms: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summarise(self) -> None:
        if self.latencies_ms:
            ordered = sorted(self.latencies_ms)
            self.p50_ms = statistics.median(ordered)
            self.p99_ms = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


@dataclass(frozen=True)
class Api:
    base: str
    edge: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {EDGE_HEADER: self.edge, "Authorization": f"Bearer {self.token}"}


# --- the scratch database -------------------------------------------------------------


@contextmanager
def scratch_database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"mh_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def masthead(*args: str, env: dict[str, str], cwd: Path) -> str:
    script = Path(sys.executable).with_name("masthead")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "masthead.cli.main"]
    done = subprocess.run(
        [*command, *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"masthead {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done.stdout.strip()


def prepare(env: dict[str, str], cwd: Path) -> str:
    """A demo database, an admin, and the admin's token (printed once by the CLI)."""
    masthead("init", "--demo", env=env, cwd=cwd)
    admin = ["--slug", "bench-admin", "--name", "Bench Admin", "--role", "admin"]
    masthead("staff", "add", *admin, env=env, cwd=cwd)
    return masthead("token", "create", "bench-admin", "--name", "api load", env=env, cwd=cwd)


# --- the server -------------------------------------------------------------------------


def bench_environment(database_url: str) -> dict[str, str]:
    """This process's environment without its MASTHEAD_ settings, for a scratch site: its
    database, a fresh edge secret, and no rate limit (one token, as fast as it can go)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
    return env | {
        "MASTHEAD_DATABASE_URL": database_url,
        "MASTHEAD_EDGE_SECRETS": secrets.token_urlsafe(36),
        "MASTHEAD_RATE_LIMIT_PER_MINUTE": "0",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(env: dict[str, str], cwd: Path) -> Iterator[str]:
    """`masthead serve` in its own process group, stopped (by its pid) on every way out; its
    public URL is its own address unless `env` names one (so publishes verify against it)."""
    port = free_port()
    env = {"MASTHEAD_PUBLIC_URL": f"http://{HOST}:{port}", **env}
    script = Path(sys.executable).with_name("masthead")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "masthead.cli.main"]
    log = (cwd / "server.log").open("wb")
    process = subprocess.Popen(
        [*command, "serve", "--host", HOST, "--port", str(port)],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError((cwd / "server.log").read_text(errors="replace")[-2000:])
            with suppress(httpx.TransportError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("masthead serve did not answer /healthz within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


# --- load with wrk ----------------------------------------------------------------------

_WRK_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_WRK_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(ms|s|m)", re.MULTILINE)
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(
    name: str,
    url: str,
    api: Api,
    seconds: float,
    connections: int,
    script: Path | None = None,
    *script_args: str,
) -> Figure:
    threads = max(1, min(connections, 2))
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    args += ["--latency", "--timeout", "10s"]
    for header, value in api.headers.items():
        args += ["-H", f"{header}: {value}"]
    if script is not None:
        args += ["-s", str(script)]
    args.append(url)
    if script_args:
        args += ["--", *script_args]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    total, rate = _WRK_TOTAL.search(done.stdout), _WRK_RATE.search(done.stdout)
    if done.returncode != 0 or total is None or rate is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    non_2xx = _WRK_NON_2XX.search(done.stdout)
    percentiles = {
        match[1]: float(match[2]) * _TO_MS[match[3]]
        for match in _WRK_PERCENTILE.finditer(done.stdout)
    }
    figure = Figure(name, requests=int(total[1]), seconds=float(total[2]) * _TO_MS[total[3]] / 1e3)
    figure.failures = int(non_2xx[1]) if non_2xx else 0
    figure.p50_ms, figure.p99_ms = percentiles.get("50", 0.0), percentiles.get("99", 0.0)
    return figure


def wrk_create(
    name: str, api: Api, seconds: float, connections: int, workdir: Path, *, with_key: bool
) -> Figure:
    script = workdir / "create.lua"
    script.write_text(WRK_SCRIPT.replace("BODY", BODY.strip()))
    tag = uuid.uuid4().hex[:8]
    mode = "key" if with_key else "nokey"
    return wrk(name, f"{api.base}/api/v1/posts", api, seconds, connections, script, tag, mode)


# --- load with httpx threads (when wrk is not installed) --------------------------------


def httpx_load(
    name: str,
    api: Api,
    seconds: float,
    connections: int,
    *,
    create: bool,
    post_id: int,
    with_key: bool = False,
) -> Figure:
    figure = Figure(name)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(number: int) -> None:
        latencies, count, failures = [], 0, 0
        with httpx.Client(base_url=f"{api.base}/api/v1", headers=api.headers) as client:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                if create:
                    title = f"Load {number} {count} {uuid.uuid4().hex[:6]}"
                    headers = {"Idempotency-Key": title} if with_key else {}
                    response = client.post(
                        "/posts", json={"title": title, "body": BODY}, headers=headers
                    )
                else:
                    response = client.get(f"/posts/{post_id}")
                latencies.append((time.perf_counter() - started) * 1000)
                count += 1
                failures += not response.is_success
        with lock:
            figure.requests += count
            figure.failures += failures
            figure.latencies_ms.extend(latencies)

    began = time.monotonic()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    figure.seconds = time.monotonic() - began
    figure.summarise()
    return figure


# --- the run ------------------------------------------------------------------------------

PROBE_EVERY_SECONDS = 0.2


@contextmanager
def probing(api: Api, name: str) -> Iterator[Figure]:
    """Fetch the public index now and then while the block runs; the figure of those."""
    figure = Figure(f"GET / meanwhile ({name})")
    stop = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=api.base, timeout=60) as client:
            while not stop.is_set():
                began = time.perf_counter()
                status = client.get("/").status_code
                figure.latencies_ms.append((time.perf_counter() - began) * 1000)
                figure.requests += 1
                figure.failures += status != 200
                stop.wait(PROBE_EVERY_SECONDS)

    thread = threading.Thread(target=probe, daemon=True)
    began = time.perf_counter()
    thread.start()
    try:
        yield figure
    finally:
        stop.set()
        thread.join(60)
        figure.seconds = time.perf_counter() - began
        figure.summarise()


def measure(
    api: Api, seconds: float, connections: int, workdir: Path, *, tool: str, with_key: bool
) -> list[Figure]:
    with httpx.Client(base_url=f"{api.base}/api/v1", headers=api.headers) as client:
        created = client.post("/posts", json={"title": "The post everyone reads", "body": BODY})
        created.raise_for_status()
        post_id = int(created.json()["id"])
        assert client.get(f"/posts/{post_id}").status_code == 200
    runs: list[tuple[str, bool, bool]] = [("POST /api/v1/posts (draft create)", True, False)]
    if with_key:
        runs.append(("POST /api/v1/posts + Idempotency-Key", True, True))
    runs.append((f"GET /api/v1/posts/{post_id}", False, False))
    figures = []
    for name, create, key in runs:
        for duration, keep in ((WARMUP_SECONDS, False), (seconds, True)):
            with probing(api, name.split(" (")[0]) as probe:
                if tool == "wrk" and create:
                    figure = wrk_create(name, api, duration, connections, workdir, with_key=key)
                elif tool == "wrk":
                    path = f"{api.base}/api/v1/posts/{post_id}"
                    figure = wrk(name, path, api, duration, connections)
                else:
                    figure = httpx_load(
                        name, api, duration, connections, create=create, post_id=post_id,
                        with_key=key,
                    )  # fmt: skip
            if keep:
                figures += [figure, probe]
    return figures


def table(figures: list[Figure], title: str) -> str:
    columns = ("req/s", "p50 ms", "p99 ms", "requests", "non-2xx")
    head = f"{'request':<52} " + " ".join(f"{column:>9}" for column in columns)
    lines = [title, head, "-" * len(head)]
    for figure in figures:
        lines.append(
            f"{figure.name:<52} {figure.rate:>9.1f} {figure.p50_ms:>9.2f} {figure.p99_ms:>9.2f} "
            f"{figure.requests:>9} {figure.failures:>9}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_load", description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--connections", type=int, default=8, help="concurrent clients")
    parser.add_argument(
        "--client", choices=["auto", "wrk", "httpx"], default="auto", help="load generator"
    )
    parser.add_argument(
        "--with-key", action="store_true", help="also time a create with an Idempotency-Key"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args(argv)
    tool = options.client
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "httpx"
    with tempfile.TemporaryDirectory(prefix="masthead-api-load-") as tmp:
        workdir = Path(tmp)
        with scratch_database(options.database, workdir) as database_url:
            env = bench_environment(database_url)
            token = prepare(env, workdir)
            with serving(env, workdir) as base:
                api = Api(base, env["MASTHEAD_EDGE_SECRETS"], token)
                figures = measure(
                    api,
                    options.seconds,
                    options.connections,
                    workdir,
                    tool=tool,
                    with_key=options.with_key,
                )
    title = (
        f"{options.database}, masthead serve (uvicorn, 1 process), {tool}, "
        f"{options.connections} connections, {options.seconds:g} s each"
    )
    if options.json:
        rows = [
            {
                "name": f.name,
                "rate": f.rate,
                "p50_ms": f.p50_ms,
                "p99_ms": f.p99_ms,
                "requests": f.requests,
                "non_2xx": f.failures,
            }
            for f in figures
        ]
        print(json.dumps({"title": title, "figures": rows}, indent=2))
    else:
        print(table(figures, title))
    return 1 if any(figure.failures for figure in figures) else 0


if __name__ == "__main__":
    raise SystemExit(main())
