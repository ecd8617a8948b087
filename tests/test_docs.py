"""The README keeps step with the code: every setting and every command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command

from masthead.cli.main import app
from masthead.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_the_readme(name: str) -> None:
    assert f"`MASTHEAD_{name.upper()}`" in README


def _command_paths() -> list[str]:
    root = get_command(app)
    paths: list[str] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        children = getattr(command, "commands", None)
        if children:
            paths.extend(f"masthead {name} {child}" for child in children)
        else:
            paths.append(f"masthead {name}")
    return sorted(paths)


@pytest.mark.parametrize("command", _command_paths())
def test_every_cli_command_is_documented_in_the_readme(command: str) -> None:
    assert f"`{command}" in README


def test_readme_gives_the_two_commands() -> None:
    assert "make demo" in README
    assert "make test" in README
