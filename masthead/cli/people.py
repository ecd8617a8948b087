"""`masthead staff …` and `masthead token …`: managing staff and their tokens from the server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from masthead.actions import auth, staff
from masthead.actions.context import OPERATOR
from masthead.actions.setup import grant_demo_access
from masthead.actions.shapes import staff_shape, token_shape
from masthead.cli.context import open_database, operator_call
from masthead.cli.output import emit_json, errors_to_exit_codes
from masthead.domain.staff import Role, StaffKind, StaffMember
from masthead.domain.tokens import TokenScope
from masthead.errors import UnusablePath
from masthead.store.engine import reading, writing

__all__ = ["demo_access", "staff_app", "token_app"]

staff_app = typer.Typer(no_args_is_help=True, help="Staff members.")
token_app = typer.Typer(no_args_is_help=True, help="Staff tokens: issue, list, revoke.")
DEMO_EDGE, DEMO_TOKEN = "MASTHEAD_DEMO_EDGE", "MASTHEAD_DEMO_TOKEN"
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]


@staff_app.command("list")
def staff_list(as_json: JsonOption = False) -> None:
    """Every staff member, one a line."""
    with errors_to_exit_codes(), reading(open_database()) as connection:
        members = staff.all_staff(connection)
    if as_json:
        emit_json([staff_shape(member) for member in members])
        return
    for member in members:
        state = "active" if member.active else "suspended"
        fields = (member.slug, member.kind.value, member.role.value, state, member.name)
        typer.echo("\t".join((*fields, member.byline)))


@staff_app.command("add")
def staff_add(
    slug: Annotated[str, typer.Option(help="Lowercase slug, used in URLs.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role_title: Annotated[str, typer.Option(help="e.g. Platform Engineer.")] = "",
    department: Annotated[str, typer.Option(help="e.g. Engineering.")] = "",
    kind: Annotated[StaffKind, typer.Option(help="person or agent.")] = StaffKind.PERSON,
    role: Annotated[Role, typer.Option(help="writer, editor or admin.")] = Role.WRITER,
    bio: Annotated[str, typer.Option(help="One or two sentences.")] = "",
) -> None:
    """Add a staff member."""
    member = StaffMember(slug, name, role_title, department, kind, bio, role)
    with errors_to_exit_codes(), writing(open_database()) as connection:
        staff.add_staff(connection, operator_call(), member)
    typer.echo(f"added {slug} ({role.value})")


def _change(slug: str, changes: staff.StaffChanges, done: str, already: str) -> None:
    """Make the change; one that changes nothing writes nothing and says so (exit 0)."""
    with errors_to_exit_codes(), writing(open_database()) as connection:
        before = staff.find_staff(connection, slug)
        after = staff.change_staff(connection, operator_call(), slug, changes)
    typer.echo(f"{slug}: {done if after != before else already}")


@staff_app.command("set-role")
def staff_set_role(slug: str, role: Role) -> None:
    """Give a staff member another role."""
    _change(
        slug,
        staff.StaffChanges(role=role),
        f"role is now {role.value}",
        f"role is already {role.value}",
    )


@staff_app.command("suspend")
def staff_suspend(slug: str) -> None:
    """Suspend a staff member: their tokens stop working at once."""
    _change(slug, staff.StaffChanges(active=False), "suspended", "already suspended")


@staff_app.command("resume")
def staff_resume(slug: str) -> None:
    """Let a suspended staff member work again."""
    _change(slug, staff.StaffChanges(active=True), "active", "already active")


@token_app.command("create")
def token_create(
    slug: Annotated[str, typer.Argument(help="The staff member the token is for.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "",
    scope: Annotated[
        TokenScope,
        typer.Option(help="staff: what the owner's role allows; metrics: only /api/v1/metrics."),
    ] = TokenScope.STAFF,
) -> None:
    """Issue a token and print it (only it, on stdout, this once)."""
    with errors_to_exit_codes(), writing(open_database()) as connection:
        issued = auth.issue_token(connection, operator_call(), slug, name, scope)
    typer.echo(issued.secret)


@token_app.command("list")
def token_list(as_json: JsonOption = False) -> None:
    """Every token: id, owner, name, last use (never the secret)."""
    with errors_to_exit_codes(), reading(open_database()) as connection:
        records = auth.list_tokens(connection, OPERATOR, limit=10_000)
    if as_json:
        emit_json([token_shape(record) for record in records])
        return
    for record in records:
        state = "revoked" if record.revoked_at else "active"
        used = record.last_used_at.isoformat() if record.last_used_at else "never used"
        typer.echo(
            f"{record.id}\t{record.staff_slug}\t{state}\t…{record.hint}\t{used}\t{record.name}"
        )


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token: it stops working at once."""
    with errors_to_exit_codes(), writing(open_database()) as connection:
        before = auth.find_token(connection, OPERATOR, token_id)
        auth.revoke_token(connection, operator_call(), token_id)
    typer.echo(
        f"token {token_id} was already revoked"
        if before.revoked_at
        else f"token {token_id} revoked"
    )


def demo_access(
    path: Annotated[Path, typer.Argument(help="File to keep the secret and token in.")],
    port: Annotated[int, typer.Option(help="The port the demo serves on.")] = 8000,
) -> None:
    """Give the demo an edge secret and an admin token (once), and show how to call the API."""
    with errors_to_exit_codes():
        if path.exists():
            secret, token = _kept_access(path)
        else:
            with writing(open_database()) as connection:
                access = grant_demo_access(connection, operator_call())
                _keep_access(path, access.edge_secret, access.token)  # refused: rolled back
            secret, token = access.edge_secret, access.token
    typer.echo(f"API access for the demo (kept in {path}):")
    typer.echo(
        f"  curl -H 'X-Masthead-Edge: {secret}' -H 'Authorization: Bearer {token}' "
        f"http://127.0.0.1:{port}/api/v1/me"
    )


def _kept_access(path: Path) -> tuple[str, str]:
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UnusablePath(f"cannot read {path}: {error}") from error
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    if {DEMO_EDGE, DEMO_TOKEN} - values.keys():
        raise UnusablePath(f"{path} does not hold {DEMO_EDGE} and {DEMO_TOKEN}: remove it")
    return values[DEMO_EDGE], values[DEMO_TOKEN]


def _keep_access(path: Path, secret: str, token: str) -> None:
    try:
        path.touch(mode=0o600, exist_ok=False)
        path.chmod(0o600)
        path.write_text(f"{DEMO_EDGE}={secret}\n{DEMO_TOKEN}={token}\n")
    except OSError as error:
        raise UnusablePath(f"cannot write {path}: {error.strerror}") from error
