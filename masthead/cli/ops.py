"""`masthead ops …`: runbooks as commands. Each is non-interactive and safe to run twice;
`--json` prints one document on stdout (human text goes to stderr)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import httpx
import typer

from masthead.actions.doctor import diagnose
from masthead.actions.setup import open_database
from masthead.actions.verification import http_fetcher
from masthead.cli.context import load_configuration, now
from masthead.cli.output import ExitCode, emit_json, errors_to_exit_codes
from masthead.domain.diagnostics import Finding, counts, is_problem

__all__ = ["ops_app"]

ops_app = typer.Typer(
    no_args_is_help=True, help="Runbooks as commands: check, back up, restore, reconcile."
)
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout; text goes to stderr.")
]
FETCH_TIMEOUT_SECONDS = 10.0


def _say(line: str, as_json: bool) -> None:
    """Human text: on stdout, or on stderr when stdout carries the JSON document."""
    typer.echo(line, err=as_json)


def _finish(document: dict[str, Any], as_json: bool, code: ExitCode) -> None:
    if as_json:
        emit_json(document)
    sys.exit(int(code))


@ops_app.command("doctor")
def doctor(as_json: JsonOption = False) -> None:
    """Check settings, database, edge secret, public site, workers, queue and disk.

    Exits 0 when nothing is wrong, 1 when a finding is an error or a warning, 4 when the
    database does not answer.
    """
    settings = load_configuration()
    with errors_to_exit_codes(as_json), httpx.Client(timeout=FETCH_TIMEOUT_SECONDS) as client:
        engine = open_database(settings)
        try:
            findings = diagnose(engine, settings, http_fetcher(settings, client), now())
        finally:
            engine.dispose()
    for finding in findings:
        _say(_finding_line(finding), as_json)
    problems = [finding for finding in findings if is_problem(finding)]
    document = {
        "ok": not problems,
        "findings": [finding.as_dict() for finding in findings],
        "counts": counts(findings),
    }
    _finish(document, as_json, _doctor_exit(findings, problems))


def _doctor_exit(findings: Sequence[Finding], problems: Sequence[Finding]) -> ExitCode:
    if any(finding.code == "database_unreachable" for finding in findings):
        return ExitCode.DATABASE_UNAVAILABLE
    return ExitCode.PROBLEMS if problems else ExitCode.OK


def _finding_line(finding: Finding) -> str:
    fix = f"  → {finding.command}" if finding.command else ""
    return f"{finding.severity.value:7} {finding.code}: {finding.message}{fix}"
