"""One registry of error codes: every code raised anywhere is in it, and every face maps it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from masthead.cli.output import EXIT_OF_KIND, ExitCode
from masthead.errors import CODES, Conflict, Kind, MastheadError
from masthead.web.problems import PROBLEM_CODES, STATUS_OF_KIND, status_of

PACKAGE = Path(__file__).resolve().parent.parent / "masthead"


def _codes_in_source() -> set[str]:
    """Every code the package names: `code = "…"` in a class, `code="…"` in a call, and
    the first argument of `problem("…", …)`."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "code" for target in node.targets
            ):
                found |= _string(node.value)
            elif isinstance(node, ast.Call):
                found |= {
                    value
                    for keyword in node.keywords
                    if keyword.arg == "code"
                    for value in _string(keyword.value)
                }
                if getattr(node.func, "id", None) == "problem" and node.args:
                    found |= _string(node.args[0])
    return found


def _string(node: ast.expr) -> set[str]:
    return {node.value} if isinstance(node, ast.Constant) and isinstance(node.value, str) else set()


def test_every_code_the_package_raises_is_registered() -> None:
    named = _codes_in_source()
    assert named, "the scan found no codes at all"
    assert named - set(CODES) == set()


def test_an_unregistered_code_fails_at_once() -> None:
    with pytest.raises(AssertionError, match="unregistered error code"):
        Conflict("made up", code="no_such_code")


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_status_or_says_why_not(code: str) -> None:
    entry = CODES[code]
    if entry.kind in {Kind.TASK, Kind.CONFIGURATION} or not entry.in_api:
        assert code not in PROBLEM_CODES  # a task's or the CLI's own, never an API answer
    else:
        assert PROBLEM_CODES[code] == STATUS_OF_KIND[entry.kind] == status_of(code)


def test_exit_codes_follow_the_readme() -> None:
    """1 input problems, 2 usage or refused settings, 3 not found, 4 database, 5 the rest."""
    assert EXIT_OF_KIND[Kind.INPUT] is ExitCode.PROBLEMS
    assert EXIT_OF_KIND[Kind.NOT_FOUND] is ExitCode.NOT_FOUND
    assert EXIT_OF_KIND[Kind.UNAVAILABLE] is ExitCode.DATABASE_UNAVAILABLE
    assert EXIT_OF_KIND[Kind.CONFIGURATION] is ExitCode.USAGE
    for kind in (Kind.FORBIDDEN, Kind.CONFLICT, Kind.STALE, Kind.UNAUTHENTICATED):
        assert EXIT_OF_KIND.get(kind, ExitCode.FAILED) is ExitCode.FAILED


def test_every_error_class_names_a_registered_code() -> None:
    def subclasses(kind: type[MastheadError]) -> list[type[MastheadError]]:
        return [kind, *(sub for child in kind.__subclasses__() for sub in subclasses(child))]

    import masthead.actions.scheduling
    import masthead.queue.errors  # noqa: F401 - defines the queue's errors

    for kind in subclasses(MastheadError):
        assert kind.free_codes or kind.code in CODES, kind.__name__


def test_every_code_a_task_can_end_with_is_documented() -> None:
    queue_doc = (PACKAGE.parent / "docs" / "queue.md").read_text(encoding="utf-8")
    for code, entry in CODES.items():
        if entry.kind is Kind.TASK:
            assert f"| `{code}` |" in queue_doc, code
