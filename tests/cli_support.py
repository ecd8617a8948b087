"""Running the `masthead` command as an operator does: a real process, a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def masthead(
    *args: str, database_url: str, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `masthead ARGS…` against `database_url`; output is captured, never checked."""
    environment = {**os.environ, "MASTHEAD_DATABASE_URL": database_url, **env}
    command = [sys.executable, "-m", "masthead.cli", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=120, check=False, cwd=cwd
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
