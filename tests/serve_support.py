"""A real `masthead serve` process on a free port, its stderr piped and kept line by line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import _free_port

START_SECONDS = 60.0
"""How long a server may take to answer its first request on a loaded machine."""


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        """Every stderr line so far that is a JSON object (all of them, off a terminal)."""
        found = []
        for line in list(self.lines):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                found.append(record)
        return found

    def wait_for_record(self, timeout: float = 20.0, **fields: Any) -> dict[str, Any]:
        """The first log record holding every one of `fields`, waiting for it to be written."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.records():
                if all(record.get(key) == value for key, value in fields.items()):
                    return record
            assert time.monotonic() < deadline, f"no log line with {fields}: {self.lines}"
            time.sleep(0.05)

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def _keep_lines(served: Served) -> None:
    assert served.process.stderr is not None
    for line in served.process.stderr:
        served.lines.append(line.rstrip("\n"))


@contextmanager
def masthead_serve(database_url: str, *args: str, **env: str) -> Iterator[Served]:
    """`masthead serve ARGS…` until the block ends (SIGTERM, then SIGKILL if it hangs)."""
    port = _free_port()
    environment = {**os.environ, "MASTHEAD_DATABASE_URL": database_url, **env}
    command = [sys.executable, "-m", "masthead.cli", "serve", "--port", str(port), *args]
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    served = Served(process, f"http://127.0.0.1:{port}")
    reader = threading.Thread(target=_keep_lines, args=(served,), daemon=True)
    reader.start()
    try:
        _wait_until_up(served)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        reader.join(timeout=10)


def _wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        assert served.process.poll() is None, f"masthead serve exited: {served.lines}"
        try:
            httpx.get(f"{served.url}/healthz", timeout=2)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "masthead serve did not start"
            time.sleep(0.1)
