"""`masthead build`: write the public site as static files, or roll back to the release
before the live one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from masthead.actions.static_build import BuildOptions, build_site, rollback_site
from masthead.cli.context import load_configuration, now, open_database
from masthead.cli.output import emit_json, errors_to_exit_codes, progress_bar
from masthead.domain.releases import DEFAULT_KEEP

__all__ = ["build_command"]


def build_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="The output folder: releases/ and the `current` symlink go there."
        ),
    ],
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="Render only the pages changed since the live release; hard-link the rest.",
        ),
    ] = False,
    jobs: Annotated[
        int, typer.Option("--jobs", min=1, max=64, help="Processes rendering pages at once.")
    ] = 1,
    keep: Annotated[
        int, typer.Option("--keep", min=1, help="Complete releases to keep on disk.")
    ] = DEFAULT_KEEP,
    rollback: Annotated[
        bool,
        typer.Option("--rollback", help="Point `current` at the release before the live one."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
) -> None:
    """Write every public page into DIR/releases/ID/ and make it live by renaming a new
    `current` symlink over the old one (atomic); keeps the last --keep releases."""
    if rollback:
        with errors_to_exit_codes(as_json):
            back = rollback_site(out)
        if as_json:
            emit_json(back.as_dict())
        else:
            typer.echo(f"current: {back.current} (was {back.previous})")
        return
    settings = load_configuration()
    options = BuildOptions(out=out, jobs=jobs, incremental=incremental, keep=keep)
    with errors_to_exit_codes(as_json), progress_bar("Building", not as_json) as progress:
        summary = build_site(open_database(settings), settings, options, now(), progress)
    if as_json:
        emit_json(summary.as_dict())
        return
    typer.echo(
        f"release {summary.release}: {summary.pages} pages "
        f"({summary.rendered} rendered, {summary.reused} reused), "
        f"{summary.redirects} redirects, in {summary.seconds:.2f} s; current → {summary.folder}"
    )
