"""docs/runbooks/ keeps step with `masthead ops`: a page per command, naming exactly the
options its `--help` lists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.core import TyperOption
from typer.main import get_command

from masthead.cli.main import app

RUNBOOKS = Path(__file__).resolve().parent.parent / "docs" / "runbooks"


def _ops_commands() -> dict[str, Any]:
    ops = get_command(app).commands["ops"]  # type: ignore[attr-defined]
    commands: dict[str, Any] = ops.commands
    return commands


def _options(command: Any) -> set[str]:
    return {
        option
        for parameter in command.params
        if isinstance(parameter, TyperOption)
        for option in parameter.opts
        if option.startswith("--") and option != "--help"
    }


def test_there_are_ops_commands() -> None:
    assert "doctor" in _ops_commands()


@pytest.mark.parametrize("name", sorted(_ops_commands()))
def test_every_ops_command_has_its_page_with_the_options_of_its_help(name: str) -> None:
    page = RUNBOOKS / f"{name}.md"
    assert page.is_file(), f"docs/runbooks/{name}.md is missing"
    text = page.read_text(encoding="utf-8")
    assert f"masthead ops {name}" in text
    for heading in ("## What it does", "## When", "## Exit codes", "## Example"):
        assert heading in text, f"{page.name} has no {heading!r}"
    # another program's or command's options, in a code span of its own, are not ours
    ours = re.sub(rf"`(?!masthead ops {name}\b)[a-z_0-9]+ [^`]*`", "", text)
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", ours))
    assert named == _options(_ops_commands()[name])


@pytest.mark.parametrize("name", sorted(_ops_commands()))
def test_the_runbook_index_lists_every_command(name: str) -> None:
    index = (RUNBOOKS / "README.md").read_text(encoding="utf-8")
    assert f"`masthead ops {name}`" in index
    assert f"({name}.md)" in index
