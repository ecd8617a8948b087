"""`masthead ops …`: runbooks as commands. Each is non-interactive and safe to run twice;
`--json` prints one document on stdout (human text goes to stderr)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from masthead.actions.backup import backup_database, restore_database
from masthead.actions.doctor import diagnose
from masthead.actions.edge_rotation import finish_rotation, start_rotation
from masthead.actions.housekeeping import prune_records, requeue_lost
from masthead.actions.setup import open_database as engine_for
from masthead.actions.site_check import check_site, plan_site_check
from masthead.actions.verification import http_fetcher
from masthead.cli.context import load_configuration, now, open_database, operator_call
from masthead.cli.output import ExitCode, emit_json, errors_to_exit_codes, progress_bar
from masthead.domain.diagnostics import Finding, counts, is_problem
from masthead.store.engine import reading, writing

__all__ = ["ops_app"]

ops_app = typer.Typer(
    no_args_is_help=True, help="Runbooks as commands: check, back up, restore, reconcile."
)
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout; text goes to stderr.")
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace what is there (a file, or a database's content).")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Check and say what would be done; change nothing.")
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
        engine = engine_for(settings)  # unchecked: an unmigrated database is a finding
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


@ops_app.command("backup")
def backup(
    to: Annotated[Path, typer.Option("--to", help="The backup file to write.")],
    force: ForceOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write a consistent backup while the site serves, and FILE.manifest.json beside it.

    SQLite: its online backup; PostgreSQL: pg_dump's custom format (pg_dump must be on
    PATH). The file appears under its name whole, or not at all.
    """
    settings = load_configuration()
    engine = open_database(settings)
    with errors_to_exit_codes(as_json), progress_bar("Backing up", not as_json) as progress:
        report = backup_database(
            engine, to, now=now(), force=force, dry_run=dry_run, progress=progress
        )
    verb = "would write" if dry_run else "wrote"
    manifest = report.manifest
    rows = sum(manifest.counts.values())
    _say(f"{verb} {to} ({manifest.size} bytes, {rows} rows, schema {manifest.revision})", as_json)
    action = {"action": "backup", "path": str(to), "done": not dry_run}
    document = {
        "ok": True,
        "actions": [action],
        "counts": dict(manifest.counts),
        **report.as_dict(),
    }
    _finish(document, as_json, ExitCode.OK)


@ops_app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(help="A backup written by `masthead ops backup`.")],
    force: ForceOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Restore a backup: its checksum and schema checked first, a database with content
    refused without --force; then its rows compared with the manifest (exit 1 if they
    differ) and the schema migrated to the newest. Stop the servers and workers first.
    """
    settings = load_configuration()
    engine = open_database(settings, schema=False)
    with errors_to_exit_codes(as_json), progress_bar("Restoring", not as_json) as progress:
        report = restore_database(engine, file, force=force, dry_run=dry_run, progress=progress)
    engine.dispose()
    for table, (want, have) in report.differences.items():
        _say(f"{table}: {want} rows in the manifest, {have} restored", as_json)
    verb = "would restore" if dry_run else "restored"
    _say(f"{verb} {file} (schema {report.manifest.revision})", as_json)
    findings = [
        {
            "code": "count_mismatch",
            "severity": "error",
            "table": table,
            "manifest": want,
            "restored": have,
        }
        for table, (want, have) in report.differences.items()
    ]
    document = {
        "ok": not findings,
        "actions": [{"action": "restore", "path": str(file), "done": not dry_run}],
        "findings": findings,
        **report.as_dict(),
    }
    _finish(document, as_json, ExitCode.PROBLEMS if findings else ExitCode.OK)


@ops_app.command("verify-site")
def verify_site(
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Pages fetched at once.")
    ] = 8,
    as_json: JsonOption = False,
) -> None:
    """Re-fetch every published post and every listing page, with the checks of publish
    verification: what the database says is live, against what readers get.

    Exits 0 when every page is right, 1 when any is not (each one listed).
    """
    settings = load_configuration()
    engine = open_database(settings)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with (
        errors_to_exit_codes(as_json),
        httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, limits=limits) as client,
        progress_bar("Fetching", not as_json) as progress,
    ):
        with reading(engine) as connection:
            plan = plan_site_check(connection, settings)
        fetch = http_fetcher(settings, client)
        report = check_site(plan, fetch, concurrency=concurrency, progress=progress)
    for problem in report.problems:
        found = problem.as_dict()
        _say(f"error   {found['code']}: {problem.path}: {found['message']}", as_json)
    _say(
        f"checked {report.posts} posts and {report.pages} other pages: "
        f"{len(report.problems)} wrong",
        as_json,
    )
    _finish(report.as_dict(), as_json, ExitCode.PROBLEMS if report.problems else ExitCode.OK)


@ops_app.command("rotate-edge-secret")
def rotate_edge_secret(
    finish: Annotated[
        bool, typer.Option("--finish", help="Retire every stored secret but the newest.")
    ] = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Step one: add a new edge secret beside the old ones and print it once (both work at
    once, on every server, without a restart). Then, once every client uses it: --finish.

    The new secret is printed before it is committed: unless the command exits 0, it is not
    valid, and running it again makes another. Secrets from MASTHEAD_EDGE_SECRETS are
    reported, never changed.
    """
    engine = open_database()
    call = operator_call()
    with errors_to_exit_codes(as_json), writing(engine, commit=not dry_run) as connection:
        step = finish_rotation if finish else start_rotation
        rotation = step(connection, call, dry_run=dry_run)
        if rotation.secret and not as_json:
            typer.echo(rotation.secret)  # the one time it is shown: before the commit
    if rotation.added:
        verb = "would add" if dry_run else "added"
        _say(f"{verb} {rotation.added!r}; the old secrets stay valid until --finish", True)
    for label in rotation.retired:
        _say(f"{'would retire' if dry_run else 'retired'} {label!r}", True)
    if finish and not rotation.retired:
        _say("nothing to retire: one stored secret (or none) is in use", True)
    if rotation.environment:
        _say(
            f"{rotation.environment} secret(s) from MASTHEAD_EDGE_SECRETS stay valid: "
            "only you can change them (edit the setting, restart the servers)",
            True,
        )
    _finish(rotation.as_dict(), as_json, ExitCode.OK)


@ops_app.command("requeue-lost")
def requeue_lost_command(dry_run: DryRunOption = False, as_json: JsonOption = False) -> None:
    """Run the reaper once, now: runs past their lease are marked lost and their tasks
    queued again (or failed, after too many lost runs). A second run finds nothing."""
    engine = open_database()
    with errors_to_exit_codes(as_json), writing(engine, commit=not dry_run) as connection:
        report = requeue_lost(connection, operator_call())
    verb = "would requeue" if dry_run else "requeued"
    _say(f"{verb} {len(report.requeued)} tasks; failed {len(report.failed)}", as_json)
    _finish({"dry_run": dry_run, **report.as_dict()}, as_json, ExitCode.OK)


def _duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`: a number and a unit (days, hours, minutes)."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit():
        raise typer.BadParameter("a number and a unit: 30d, 12h or 90m")
    return timedelta(**{units[unit]: int(number)})


@ops_app.command("prune")
def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", metavar="AGE", help="How old: 30d, 12h or 90m.")
    ] = "30d",
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Delete finished task runs (and succeeded or cancelled tasks), the earlier attempts
    of receipts and expired idempotency keys older than AGE. Receipts, approvals and
    events stay: they are the editorial record. A second run deletes nothing."""
    age = _duration(older_than)
    engine = open_database()
    with errors_to_exit_codes(as_json), writing(engine, commit=not dry_run) as connection:
        report = prune_records(connection, operator_call(), age)
    document = report.as_dict()
    verb = "would delete" if dry_run else "deleted"
    counted = ", ".join(
        f"{count} {name.replace('_', ' ')}" for name, count in document["counts"].items()
    )
    _say(f"{verb}: {counted}", as_json)
    _finish({"dry_run": dry_run, **document}, as_json, ExitCode.OK)
