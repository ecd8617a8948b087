"""`masthead redirects …`: old addresses (of an imported site) that redirect to posts."""

from __future__ import annotations

from typing import Annotated

import typer

from masthead.actions.context import OPERATOR
from masthead.actions.redirects import add_path_redirect, list_redirects, remove_path_redirect
from masthead.actions.shapes import redirect_shape
from masthead.cli.context import open_database, operator_call
from masthead.cli.output import emit_json, errors_to_exit_codes
from masthead.store.engine import reading, writing

__all__ = ["redirects_app"]

redirects_app = typer.Typer(no_args_is_help=True, help="Old addresses that redirect to posts.")
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]
PathArgument = Annotated[str, typer.Argument(help="The old path, e.g. /2013/05/05/x/ or /x.html.")]


@redirects_app.command("list")
def redirects_list(as_json: JsonOption = False) -> None:
    """Every old address, one a line: the path and where it leads."""
    with errors_to_exit_codes(as_json), reading(open_database()) as connection:
        found = list_redirects(connection, OPERATOR)
    if as_json:
        emit_json([redirect_shape(redirect) for redirect in found])
        return
    for redirect in found:
        typer.echo(f"{redirect.old_path}\t{redirect.location}")


@redirects_app.command("add")
def redirects_add(
    path: PathArgument,
    slug: Annotated[str, typer.Argument(help="The slug of the post it leads to.")],
    as_json: JsonOption = False,
) -> None:
    """Redirect an old path to a post (replacing where it led before)."""
    with errors_to_exit_codes(as_json), writing(open_database()) as connection:
        made = add_path_redirect(connection, operator_call(), path, slug)
    if as_json:
        emit_json(redirect_shape(made))
    else:
        typer.echo(f"{made.old_path} → {made.location}")


@redirects_app.command("remove")
def redirects_remove(path: PathArgument) -> None:
    """Stop redirecting an old path (it answers 404 again)."""
    with errors_to_exit_codes(), writing(open_database()) as connection:
        remove_path_redirect(connection, operator_call(), path)
    typer.echo(f"{path} no longer redirects")
