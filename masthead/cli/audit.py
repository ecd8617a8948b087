"""`masthead audit`: who changed what, from the server's command line."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from masthead.actions.audit import read_audit
from masthead.actions.context import OPERATOR
from masthead.actions.shapes import audit_shape
from masthead.cli.context import open_database
from masthead.cli.output import emit_json, errors_to_exit_codes
from masthead.cli.times import moment_option
from masthead.store.engine import reading

__all__ = ["audit_command"]


def audit_command(
    actor: Annotated[str | None, typer.Option(help="Only this staff member's changes.")] = None,
    target: Annotated[str | None, typer.Option(help="TYPE:ID, e.g. post:12.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            parser=moment_option,
            metavar="TIME",
            help="Only changes from this time on: a date (UTC) or a time with its zone.",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many entries.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The audit log, newest first."""
    with errors_to_exit_codes(), reading(open_database()) as connection:
        entries = read_audit(
            connection, OPERATOR, actor_slug=actor, target=target, since=since, limit=limit
        )
    if as_json:
        emit_json([audit_shape(entry) for entry in entries])
        return
    for entry in entries:
        who = entry.staff_slug or "operator"
        target_text = f"{entry.target_type}:{entry.target_id}"
        fields = (entry.at.isoformat(), who, entry.action, target_text, entry.request_id or "-")
        typer.echo("\t".join(fields))
