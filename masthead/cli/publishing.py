"""`masthead posts publish` and `masthead receipts …`: the publish pipeline from the server's
command line, with the same gates, receipts and verification as the API."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from sqlalchemy import Engine

from masthead.actions.context import OPERATOR
from masthead.actions.drafts import find_post_by_slug
from masthead.actions.publishing import publish_post
from masthead.actions.receipts import MAX_PAGE, find_receipt, list_receipts
from masthead.actions.shapes import receipt_shape
from masthead.cli.context import open_database, operator_call
from masthead.cli.output import ExitCode, emit_json, errors_to_exit_codes
from masthead.domain.receipts import Receipt, ReceiptState
from masthead.store.engine import reading, writing

__all__ = ["posts_publish", "receipts_app"]

MAX_WAIT_SECONDS = 600.0
POLL_SECONDS = 0.2

receipts_app = typer.Typer(
    no_args_is_help=True, help="Publish receipts: what went live, and what the site showed."
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]


def posts_publish(
    slug: Annotated[str, typer.Argument(help="The post's slug.")],
    wait: Annotated[
        float,
        typer.Option(
            min=0,
            max=MAX_WAIT_SECONDS,
            help="Seconds to wait for the receipt to be verified or unverified (a worker, or "
            "`masthead serve`, does the checking).",
        ),
    ] = 0,
    as_json: JsonOption = False,
) -> None:
    """Publish a post's current revision: gates first, then a receipt.

    With --wait, exits 0 once the receipt is verified, and 5 if it ended unverified or is
    still pending when the wait runs out.
    """
    engine = open_database()
    with errors_to_exit_codes(), writing(engine) as connection:
        post = find_post_by_slug(connection, OPERATOR, slug)
        done = publish_post(connection, operator_call(), post.id)
    receipt = done.receipt
    assert receipt is not None, "a publish from the command line always has a receipt"
    if wait:
        receipt = _settled(engine, receipt, wait)
    if as_json:
        emit_json({"receipt": receipt_shape(receipt), "post": {"id": post.id, "slug": slug}})
    else:
        typer.echo(f"{slug} is published (revision {done.post.revision}); receipt {receipt.id}:")
        _print_receipt(receipt)
    if wait and receipt.state is not ReceiptState.VERIFIED:
        raise SystemExit(int(ExitCode.FAILED))


def _settled(engine: Engine, receipt: Receipt, wait: float) -> Receipt:
    deadline = time.monotonic() + wait
    while receipt.state is ReceiptState.PENDING and time.monotonic() < deadline:
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        with errors_to_exit_codes(), reading(engine) as connection:
            receipt = find_receipt(connection, OPERATOR, receipt.id)
    return receipt


@receipts_app.command("list")
def receipts_list(
    state: Annotated[ReceiptState | None, typer.Option(help="Only receipts in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="At most this many.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Receipts, newest first, one a line."""
    with errors_to_exit_codes(), reading(open_database()) as connection:
        found = list_receipts(connection, OPERATOR, state=state, limit=limit)
    if as_json:
        emit_json([receipt_shape(receipt) for receipt in found])
        return
    for receipt in found:
        took = "-" if receipt.seconds_to_verified is None else f"{receipt.seconds_to_verified}s"
        fields = (
            str(receipt.id),
            receipt.flipped_at.isoformat(),
            receipt.action.value,
            f"post {receipt.post_id} rev {receipt.revision}",
            receipt.state.value,
            took,
            receipt.actor,
        )
        typer.echo("\t".join(fields))


@receipts_app.command("show")
def receipts_show(
    receipt_id: Annotated[int, typer.Argument(min=1, help="The receipt's id.")],
    as_json: JsonOption = False,
) -> None:
    """One receipt: who published what, and each check of the latest attempt."""
    with errors_to_exit_codes(), reading(open_database()) as connection:
        receipt = find_receipt(connection, OPERATOR, receipt_id)
    if as_json:
        emit_json(receipt_shape(receipt))
        return
    _print_receipt(receipt)


def _print_receipt(receipt: Receipt) -> None:
    approval = receipt.approval
    lines = [
        ("receipt", str(receipt.id)),
        ("action", f"{receipt.action.value} post {receipt.post_id}, revision {receipt.revision}"),
        ("state", receipt.state.value),
        ("by", f"{receipt.actor} ({receipt.actor_kind})"),
        ("approved", f"{approval['staff']}, revision {approval['revision']}" if approval else "no"),
        ("flipped at", receipt.flipped_at.isoformat()),
        ("attempts", str(len(receipt.attempts))),
        ("verified in", "-" if receipt.seconds_to_verified is None
         else f"{receipt.seconds_to_verified} s"),
    ]  # fmt: skip
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        typer.echo(f"{label.ljust(width)}  {value}")
    if not receipt.checks:
        typer.echo("no checks yet: a worker (or `masthead serve`) runs them")
        return
    typer.echo("")
    name_width = max(len(check.name) for check in receipt.checks)
    for check in receipt.checks:
        mark = "ok  " if check.ok else "FAIL"
        status = "-" if check.status is None else str(check.status)
        typer.echo(
            f"{mark} {check.name.ljust(name_width)} {status:>3} "
            f"{check.duration_ms:7.1f} ms  {check.detail}"
        )
