"""docs/mcp.md keeps step with the server: its tool table is the tool table, by role, and
every code its error table names is one the API answers with."""

from __future__ import annotations

import re
from pathlib import Path

from jsonschema import Draft202012Validator

from masthead.domain.staff import Role
from masthead.errors import CODES
from masthead.mcp.tools import TOOLS

DOC = (Path(__file__).resolve().parent.parent / "docs" / "mcp.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| `(?P<name>[a-z_]+)` \|(?P<cells>.*)$", re.MULTILINE)


def _tool_rows() -> dict[str, list[str]]:
    rows = {}
    for match in ROW.finditer(DOC):
        cells = [cell.strip() for cell in match.group("cells").split("|")]
        if match.group("name") in TOOLS and len(cells) >= 4:
            rows[match.group("name")] = cells[:3]
    return rows


def test_the_tool_table_lists_every_tool_with_the_roles_that_see_it() -> None:
    rows = _tool_rows()
    assert set(rows) == set(TOOLS)
    for name, marks in rows.items():
        roles = (Role.WRITER, Role.EDITOR, Role.ADMIN)
        seen = {role for role, mark in zip(roles, marks, strict=True) if mark}
        assert seen == set(TOOLS[name].roles), name


def test_every_code_the_error_table_names_is_an_api_code() -> None:
    section = DOC.split("## Errors", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE)
    assert len(named) >= 10
    for code in named:
        assert code in CODES, code
        assert CODES[code].in_api, code


def test_every_tool_s_schemas_are_valid_json_schema() -> None:
    for tool in TOOLS.values():
        Draft202012Validator.check_schema(tool.arguments.model_json_schema())
        Draft202012Validator.check_schema(tool.output)
        assert tool.description.endswith("."), tool.name
        assert len(tool.description) <= 120, tool.name
