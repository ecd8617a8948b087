"""Start an HTTP server on a free loopback port, wait until it answers, always stop it.

Each server runs in its own session (process group), so a Ctrl-C in the terminal
reaches the benchmark only, and stopping the group also stops any worker processes
the server forked. `running_server` stops the group on every way out of its block:
a normal return, an exception, KeyboardInterrupt.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.importing import masthead_command

__all__ = [
    "SERVERS",
    "Server",
    "free_port",
    "running_process",
    "running_server",
    "server_command",
]

HOST = "127.0.0.1"
SERVERS = ("uvicorn", "granian")
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Server:
    name: str
    base_url: str
    pid: int


def free_port(host: str = HOST) -> int:
    """A port the kernel says is free now (it could be taken before the server binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def server_command(name: str, host: str, port: int) -> list[str]:
    """`masthead serve` is uvicorn (one process); granian also runs one worker."""
    if name == "uvicorn":
        return [*masthead_command(), "serve", "--host", host, "--port", str(port)]
    if name == "granian":
        granian = Path(sys.executable).with_name("granian")
        return [
            str(granian) if granian.exists() else "granian",
            "--interface",
            "asgi",
            "--factory",
            "masthead.web.asgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
        ]
    raise ValueError(f"unknown server {name!r} (known: {', '.join(SERVERS)})")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server (it stops its own workers); then SIGKILL what is left of its group.

    A second Ctrl-C while waiting skips the grace period but still kills the group.
    """
    with suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    interrupted = False
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pass
    except KeyboardInterrupt:
        interrupted = True
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    if interrupted:
        raise KeyboardInterrupt


def _log_tail(log_path: Path) -> str:
    try:
        return log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
    except OSError:
        return ""


def _wait_ready(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {process.returncode} before answering:\n"
                    + _log_tail(log_path)
                )
            try:
                if client.get(f"{base_url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer {base_url}/healthz in {READY_TIMEOUT:.0f}s")


@contextmanager
def running_server(
    name: str, env: dict[str, str], cwd: Path, log_path: Path, host: str = HOST
) -> Iterator[Server]:
    port = free_port(host)
    base_url = f"http://{host}:{port}"
    command = server_command(name, host, port)
    with running_process(command, env, cwd, log_path, base_url) as pid:
        yield Server(name=name, base_url=base_url, pid=pid)


@contextmanager
def running_process(
    command: list[str], env: dict[str, str], cwd: Path, log_path: Path, base_url: str
) -> Iterator[int]:
    """Run `command` in its own session until the block ends, once `base_url`/healthz
    answers; its pid."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_ready(process, base_url, log_path)
            yield process.pid
        finally:
            _stop(process)
