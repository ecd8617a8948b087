"""`masthead import PATH --from jekyll|hugo|ghost|wordpress`: moving in from another platform."""

from __future__ import annotations

from pathlib import Path

import typer

from masthead.actions.migrating import FORMATS, MigrationReport, import_from, open_source
from masthead.cli.context import open_database, operator_call
from masthead.cli.output import ExitCode, emit_json, errors_to_exit_codes, progress_bar
from masthead.domain.posts import RevisionSource
from masthead.store.engine import writing

__all__ = ["migrate_from"]


def migrate_from(
    format_name: str,
    path: Path,
    create_missing: bool,
    dry_run: bool,
    as_json: bool,
    *,
    include_pages: bool = False,
) -> None:
    if format_name not in FORMATS:
        known = ", ".join(["masthead", *FORMATS])
        typer.echo(f"import --from {format_name}: unknown format (known: {known})", err=True)
        raise SystemExit(int(ExitCode.USAGE))
    engine = open_database()
    call = operator_call(RevisionSource.IMPORT)
    with errors_to_exit_codes(as_json):
        source = open_source(format_name, path, include_pages=include_pages)
        with (
            progress_bar("Importing", not as_json) as progress,
            writing(engine, commit=not dry_run) as connection,
        ):
            report = import_from(
                connection, call, source, create_missing=create_missing, progress=progress
            )
    if as_json:
        emit_json({"dry_run": dry_run, **report.as_dict()})
        return
    _say(report, dry_run)


def _say(report: MigrationReport, dry_run: bool) -> None:
    created, updated, unchanged = (report.posts[key] for key in ("created", "updated", "unchanged"))
    prefix = "would import" if dry_run else "imported"
    typer.echo(
        f"{prefix} from {report.format}: {created} posts created, {updated} updated, "
        f"{unchanged} unchanged; {len(report.skipped)} skipped; "
        f"redirects made {report.redirects_made}; staff created {len(report.created_staff)}, "
        f"tags created {len(report.created_tags)}"
    )
    if report.warnings:
        typer.echo(f"{len(report.warnings)} warnings (not blocking; --json lists each):")
        for warning in report.warnings[:20]:
            typer.echo(f"  {warning}")
    if report.gate_warnings:
        typer.echo(f"gate warnings: {len(report.gate_warnings)} (--json lists each)")
