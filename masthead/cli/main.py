"""`masthead …`: the operator's commands. Each one calls an action and reports."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Connection, Engine

from masthead.actions.context import OPERATOR
from masthead.actions.drafts import find_post_by_slug, list_visible_posts
from masthead.actions.exporting import export_folder
from masthead.actions.importing import ImportSummary, SaveOutcome, import_folder
from masthead.actions.migrating import check_pages_wanted
from masthead.actions.scheduling import schedule_post, unschedule_post
from masthead.actions.setup import load_demo_content, migrate_database
from masthead.actions.shapes import post_shape
from masthead.cli.audit import audit_command
from masthead.cli.build import build_command
from masthead.cli.context import load_configuration, open_database, operator_call
from masthead.cli.mcp import mcp_command
from masthead.cli.migrating import migrate_from
from masthead.cli.ops import ops_app
from masthead.cli.output import emit_json, errors_to_exit_codes, progress_bar
from masthead.cli.people import demo_access, staff_app, token_app
from masthead.cli.publishing import posts_publish, receipts_app
from masthead.cli.queue import tasks_app, worker_command, workers_app
from masthead.cli.redirects import redirects_app
from masthead.cli.times import moment_option
from masthead.cli.webhooks import webhooks_app
from masthead.domain.posts import PostQuery, RevisionSource
from masthead.errors import Conflict
from masthead.settings import Settings
from masthead.store.engine import reading, writing

__all__ = ["app", "run"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Masthead: publish, verified.")
posts_app = typer.Typer(no_args_is_help=True, help="Posts.")
app.add_typer(staff_app, name="staff")
app.add_typer(token_app, name="token")
app.command("demo-access")(demo_access)
app.command("audit")(audit_command)
app.command("worker")(worker_command)
app.command("mcp")(mcp_command)
app.add_typer(workers_app, name="workers")
app.add_typer(tasks_app, name="tasks")
app.add_typer(posts_app, name="posts")
app.add_typer(receipts_app, name="receipts")
posts_app.command("publish")(posts_publish)
app.add_typer(ops_app, name="ops")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(redirects_app, name="redirects")
app.command("build")(build_command)

JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]


@app.command("migrate")
def migrate_command() -> None:
    """Upgrade the database to the newest schema (safe to run again)."""
    with errors_to_exit_codes():
        migrate_database(open_database(schema=False))
    typer.echo("database is at the newest schema")


@app.command()
def init(
    demo: Annotated[bool, typer.Option("--demo", help="Also load the demo content.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create the database (or bring it up to date), optionally with demo content."""
    settings = load_configuration()
    with errors_to_exit_codes():
        engine = open_database(settings, schema=False)
        migrate_database(engine)
        summary = None
        if demo:
            with writing(engine) as connection:
                summary = load_demo_content(connection, operator_call(RevisionSource.IMPORT))
    if as_json:
        emit_json(
            {"database": settings.database_url, "demo": summary.as_dict() if summary else None}
        )
    else:
        typer.echo(f"database ready: {settings.database_url}")
        if summary:
            typer.echo(f"demo content: {_counts(summary)}")


@app.command("import")
def import_command(
    folder: Annotated[
        Path, typer.Argument(help="Folder of Markdown files, a site folder, or an export file.")
    ],
    source_format: Annotated[
        str,
        typer.Option(
            "--from",
            help="masthead (default), jekyll, hugo, ghost or wordpress (docs/migrating.md).",
        ),
    ] = "masthead",
    create_missing: Annotated[
        bool, typer.Option("--create-missing", help="Create unknown tags and authors.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count; write nothing.")
    ] = False,
    include_pages: Annotated[
        bool,
        typer.Option(
            "--include-pages", help="Import WordPress and Ghost pages as posts (not attachments)."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import posts, staff and tags: all of it, or nothing when any file has a problem."""
    if source_format != "masthead":
        migrate_from(
            source_format, folder, create_missing, dry_run, as_json, include_pages=include_pages
        )
        return
    if include_pages:
        with errors_to_exit_codes(as_json):
            check_pages_wanted(source_format, folder)
    engine = open_database()
    call = operator_call(RevisionSource.IMPORT)
    with (
        errors_to_exit_codes(as_json),
        progress_bar("Importing", not as_json) as progress,
        writing(engine, commit=not dry_run) as connection,
    ):
        summary = import_folder(
            connection, call, folder, create_missing=create_missing, progress=progress
        )
    if as_json:
        emit_json({"dry_run": dry_run, **summary.as_dict()})
        return
    prefix = "would import" if dry_run else "imported"
    people = f"staff written {summary.staff_written}, tags written {summary.tags_written}"
    typer.echo(f"{prefix}: {_counts(summary)}; {people}")
    by_code = summary.warnings_by_code()
    if by_code:
        codes = ", ".join(f"{code} ×{count}" for code, count in sorted(by_code.items()))
        typer.echo(f"gate warnings (not blocking an import; --json lists each): {codes}")


def _counts(summary: ImportSummary) -> str:
    """`3 posts created, 1 updated, 12 unchanged`."""
    created, updated, unchanged = (summary.posts[outcome] for outcome in SaveOutcome)
    return f"{created} posts created, {updated} updated, {unchanged} unchanged"


@app.command("export")
def export_command(
    folder: Annotated[Path, typer.Argument(help="Folder to write (created if missing).")],
    as_json: JsonOption = False,
) -> None:
    """Export posts, staff and tags in the import format."""
    engine = open_database()
    with (
        errors_to_exit_codes(as_json),
        progress_bar("Exporting", not as_json) as progress,
        reading(engine) as connection,
    ):
        summary = export_folder(connection, folder, progress=progress)
    if as_json:
        emit_json(summary.as_dict())
    else:
        counts = f"{summary.posts} posts, {summary.staff} staff, {summary.tags} tags"
        typer.echo(f"exported {counts} to {folder}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    worker: Annotated[
        bool, typer.Option(help="Run a task worker in this process (turn off for separate ones).")
    ] = True,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=256,
            help="Server processes on the one port (default: 1 on SQLite, one per core on "
            "PostgreSQL).",
        ),
    ] = None,
) -> None:
    """Serve the site over HTTP, with an in-process task worker unless --no-worker.

    On SIGTERM: stop accepting, let requests in flight finish (within
    MASTHEAD_SHUTDOWN_GRACE_SECONDS), stop the worker as the queue does, exit 0.
    """
    from masthead.queue.embedded import start_embedded_worker
    from masthead.web.app import create_app
    from masthead.web.logs import configure_logging
    from masthead.web.server import default_workers, run_server

    configure_logging()
    settings = load_configuration()
    engine = open_database(settings)
    processes = workers or default_workers(settings)
    with errors_to_exit_codes():
        application = create_app(settings, engine)
        listening = _listen(host, port)
        if processes > 1:
            _serve_processes(settings, engine, listening, processes, worker=worker)
            return
        embedded = start_embedded_worker(settings, engine) if worker else None
    mode = "with an in-process worker" if embedded else "without a worker"
    typer.echo(f"Masthead on http://{host}:{port}/ ({mode}; database: {settings.database_url})")
    try:
        run_server(application, settings, listening)
    finally:
        if embedded is not None:
            embedded.stop()


def _serve_processes(
    settings: Settings, engine: Engine, listening: socket.socket, processes: int, *, worker: bool
) -> None:
    """`serve --workers N`: N forked server processes; the task worker stays in this one."""
    from masthead.queue.embedded import EmbeddedWorker, start_embedded_worker
    from masthead.web.app import create_app
    from masthead.web.server import run_workers

    engine.dispose()  # each process opens its own connections after the fork
    embedded: list[EmbeddedWorker] = []

    def started() -> None:
        if worker:
            embedded.append(start_embedded_worker(settings, engine))

    host, port = listening.getsockname()[:2]
    mode = "with an in-process worker" if worker else "without a worker"
    typer.echo(
        f"Masthead on http://{host}:{port}/ ({processes} processes, {mode}; "
        f"database: {settings.database_url})"
    )
    try:
        run_workers(
            lambda: create_app(settings, open_database(settings)),
            settings,
            listening,
            processes,
            started=started,
        )
    finally:
        for running in embedded:
            running.stop()


def _listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything says the server is up."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        reason = error.strerror or str(error)
        raise Conflict(f"cannot listen on {host}:{port}: {reason}", code="address_in_use") from None


@posts_app.command("schedule")
def posts_schedule(
    slug: Annotated[str, typer.Argument(help="The post's slug.")],
    at: Annotated[
        datetime,
        typer.Option(
            parser=moment_option,
            metavar="TIME",
            help="When to publish: ISO 8601 with its zone, e.g. 2026-11-19T09:00:00Z.",
        ),
    ],
) -> None:
    """Publish a post at a time; a worker (or `masthead serve`) does it then."""
    with errors_to_exit_codes(), writing(open_database()) as connection:
        schedule_post(connection, operator_call(), _post_id(connection, slug), at)
    typer.echo(f"{slug} will be published at {at.isoformat()}")


@posts_app.command("unschedule")
def posts_unschedule(slug: Annotated[str, typer.Argument(help="The post's slug.")]) -> None:
    """Cancel a scheduled publish: the post goes back to a draft."""
    with errors_to_exit_codes(), writing(open_database()) as connection:
        unschedule_post(connection, operator_call(), _post_id(connection, slug))
    typer.echo(f"{slug} is a draft again; its scheduled publish is cancelled")


def _post_id(connection: Connection, slug: str) -> int:
    return find_post_by_slug(connection, OPERATOR, slug).id


@posts_app.command("list")
def posts_list(as_json: JsonOption = False) -> None:
    """Every post in any state, one a line, newest first."""
    settings = load_configuration()
    with errors_to_exit_codes(), reading(open_database(settings)) as connection:
        posts = list_visible_posts(connection, OPERATOR, PostQuery())
    if as_json:
        emit_json([post_shape(post, settings.public_url) for post in posts])
        return
    for post in posts:
        date = post.published_at.date().isoformat() if post.published_at else "-"
        typer.echo(
            f"{post.id}\t{post.status.value}\t{date}\t{post.content.slug}\t{post.content.title}"
        )


def run() -> None:
    app()
