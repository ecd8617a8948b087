"""docs/api.md cannot rot: its examples run against a live server, its error table is checked.

Every fenced ```sh block whose first line is `# example: NAME` runs, in document order, in
`bash` with real `curl` and `jq`, against a live server over a fresh demo database. Blocks
share shell variables as if typed into one shell: a variable assigned in one block is
carried into the next ones. `BASE`, `EDGE` and `MASTHEAD_DATABASE_URL` come from the test;
`masthead` is the project's own command.

A block's `# expect:` line lists the HTTP status of each `curl` call it makes, in order
(no line: the block makes no HTTP call). The statuses are read without touching the
examples: a `.curlrc` in `CURL_HOME` makes every `curl` write its status to stderr, so an
example must not pass `-w`/`--write-out` itself, nor `-q`.

A reader runs the examples in their own working directory, so they must leave nothing
behind there: the blocks run in an empty directory of their own (the shell's carried
state and the `.curlrc` live elsewhere), and a block that leaves a file in it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from masthead.web.problems import PROBLEM_CODES
from tests.api_support import EDGE_SECRET, ApiWorld, api_world, verifying_worker
from tests.databases import DatabaseFactory

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
STATUS_MARK = "@@http-status "
CURLRC = f'write-out = "%{{stderr}}{STATUS_MARK}%{{http_code}}\\n"\n'
FENCE = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=", re.MULTILINE)
TABLE_ROW = re.compile(r"^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|", re.MULTILINE)


@dataclass(frozen=True)
class Example:
    name: str
    expect: tuple[int, ...]
    script: str

    @property
    def assigns(self) -> list[str]:
        return sorted(set(ASSIGNMENT.findall(self.script)))


def parse_examples(text: str) -> list[Example]:
    examples = []
    for match in FENCE.finditer(text):
        block = match.group(1)
        lines = block.splitlines()
        if not lines or not lines[0].startswith("# example:"):
            continue
        name = lines[0].removeprefix("# example:").strip()
        expect: tuple[int, ...] = ()
        if len(lines) > 1 and lines[1].startswith("# expect:"):
            expect = tuple(int(word) for word in lines[1].removeprefix("# expect:").split())
        examples.append(Example(name, expect, block))
    return examples


EXAMPLES = parse_examples(DOC.read_text(encoding="utf-8"))


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_examples_are_well_formed() -> None:
    names = [example.name for example in EXAMPLES]
    assert len(EXAMPLES) >= 30
    assert len(names) == len(set(names)), "example names must be unique"
    for example in EXAMPLES:
        assert re.fullmatch(r"[a-z0-9-]+", example.name), example.name
        assert "--write-out" not in example.script, example.name
        assert not re.search(r"\s-w\s", example.script), example.name
        calls = len(re.findall(r"\bcurl\b", example.script))
        assert calls == len(example.expect), f"{example.name}: one status per curl call"


def test_the_error_table_lists_exactly_the_problem_codes() -> None:
    rows = TABLE_ROW.findall(_section(DOC.read_text(encoding="utf-8"), "Errors"))
    listed = [(code, int(status)) for code, status in rows]
    assert len(listed) == len({code for code, _ in listed}), "a code is listed twice"
    assert dict(listed) == PROBLEM_CODES


def test_the_doc_covers_every_topic_of_the_api() -> None:
    text = DOC.read_text(encoding="utf-8")
    for heading in (
        "Scheduling",
        "Tasks and workers",
        "Retrying safely",
        "Editing together",
        "Roles",
        "Errors",
        "Limits",
    ):
        assert f"\n## {heading}\n" in text
    for phrase in (
        "MASTHEAD_EDGE_SECRETS",
        "masthead staff add",
        "masthead token create",
        "X-Masthead-Edge",
        "If-Match",
        "Idempotency-Key",
        "Idempotent-Replayed: true",
        "Retry-After",
        "next_cursor",
        "/api/v1/posts/{id}/schedule",
        "DELETE /api/v1/posts/{id}/schedule",
        "publish.scheduled",
        "GET /api/v1/tasks",
        "/api/v1/tasks/{id}/retry",
        "/api/v1/tasks/{id}/cancel",
        "GET /api/v1/workers",
        "--no-worker",
    ):
        assert phrase in text, phrase


def test_the_role_table_covers_the_queue() -> None:
    roles = _section(DOC.read_text(encoding="utf-8"), "Roles")
    rows = [line for line in roles.splitlines() if line.startswith("| ")]
    for what in ("schedule", "tasks", "workers"):
        row = next((line for line in rows if what in line.split("|")[1]), None)
        assert row is not None, f"the role table has no row for {what}"
        assert row.split("|")[2:5] == [" no (403) ", " yes ", " yes "], row


@pytest.fixture
def docs_world(
    database_factories: dict[str, DatabaseFactory],
) -> Iterator[tuple[ApiWorld, str]]:
    """A live server over a fresh SQLite demo database, with a worker that verifies what
    is published against that server (as `masthead serve` runs one), and the database's URL."""
    factory = database_factories["sqlite"]
    url = factory.new("demo")
    for world in api_world(url):
        with verifying_worker(world.engine, world.server.url):
            yield world, url
    factory.drop(url)


class Shell:
    """Runs example blocks one after another, carrying their variables along.

    The blocks run in `workdir`, which holds nothing else; the carried variables and the
    `.curlrc` are kept beside it, in `private`.
    """

    def __init__(self, workdir: Path, private: Path, base: str, database_url: str) -> None:
        self.workdir = workdir
        self.state = private / "state.sh"
        self.state.write_text("")
        self.carried: list[str] = []
        curl_home = private / "curl-home"
        curl_home.mkdir()
        (curl_home / ".curlrc").write_text(CURLRC)
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("MASTHEAD_")},
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "CURL_HOME": str(curl_home),
            "BASE": base,
            "EDGE": EDGE_SECRET,
            "MASTHEAD_DATABASE_URL": database_url,
        }

    def run(self, example: Example) -> tuple[list[int], str]:
        self.carried = sorted({*self.carried, *example.assigns})
        keep = f"declare -p {' '.join(self.carried)} > {self.state}.new" if self.carried else ""
        script = "\n".join(
            [
                "set -euo pipefail",
                f"source {self.state}",
                example.script,
                keep,
                f"[ -f {self.state}.new ] && mv {self.state}.new {self.state}",
                "true",
            ]
        )
        finished = subprocess.run(
            ["bash", "-c", script],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        statuses = [
            int(line.removeprefix(STATUS_MARK).strip()[:3])
            for line in finished.stderr.splitlines()
            if line.startswith(STATUS_MARK)
        ]
        transcript = (
            f"--- {example.name}: exit {finished.returncode}\n"
            f"--- stdout:\n{finished.stdout[-3000:]}\n--- stderr:\n{finished.stderr[-3000:]}"
        )
        assert finished.returncode == 0, transcript
        return statuses, transcript

    def left_behind(self) -> list[str]:
        """Whatever the examples left in their working directory."""
        return sorted(path.name for path in self.workdir.iterdir())


def test_every_example_answers_as_the_doc_says(
    docs_world: tuple[ApiWorld, str], tmp_path: Path
) -> None:
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"the API doc examples need {tool} on PATH"
    world, url = docs_world
    workdir, private = tmp_path / "cwd", tmp_path / "private"
    workdir.mkdir()
    private.mkdir()
    shell = Shell(workdir, private, world.server.url, url)
    for example in EXAMPLES:
        statuses, transcript = shell.run(example)
        assert tuple(statuses) == example.expect, transcript
        left = shell.left_behind()
        assert not left, f"example {example.name} left files in its working directory: {left}"
