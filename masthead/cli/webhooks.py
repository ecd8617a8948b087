"""`masthead webhooks …`: webhooks from the server, through the same actions as the API."""

from __future__ import annotations

from typing import Annotated

import typer

from masthead.actions import webhooks
from masthead.actions.context import OPERATOR
from masthead.actions.shapes import webhook_delivery_shape, webhook_shape
from masthead.actions.webhook_delivery import ping, post
from masthead.cli.context import now, open_database, operator_call
from masthead.cli.output import ExitCode, emit_json, errors_to_exit_codes, text_lines
from masthead.store.engine import reading, writing

__all__ = ["webhooks_app"]

webhooks_app = typer.Typer(
    no_args_is_help=True, help="Webhooks: signed deliveries of lifecycle events."
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]
WebhookId = Annotated[int, typer.Argument(help="The webhook's id.")]
SHOWN_DELIVERIES = 20


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="The target: https://… (http only if allowed).")],
    events: Annotated[
        list[str], typer.Option("--event", help="An event type to send (repeat for more).")
    ],
    as_json: JsonOption = False,
) -> None:
    """Register a webhook; prints its signing secret, this once."""
    with errors_to_exit_codes(), writing(open_database()) as connection:
        created = webhooks.add_webhook(connection, operator_call(), url, events)
    if as_json:
        emit_json({**webhook_shape(created.webhook), "secret": created.secret})
        return
    typer.echo(f"webhook {created.webhook.id}: {url}")
    typer.echo(f"secret (shown once): {created.secret}")


@webhooks_app.command("list")
def webhooks_list(as_json: JsonOption = False) -> None:
    """Every webhook: id, active or paused, events, URL."""
    with errors_to_exit_codes(), reading(open_database()) as connection:
        found = webhooks.list_webhooks(connection, OPERATOR)
    if as_json:
        emit_json([webhook_shape(webhook) for webhook in found])
        return
    for webhook in found:
        standing = "active" if webhook.active else "paused"
        events = ",".join(event.value for event in webhook.events)
        typer.echo("\t".join((str(webhook.id), standing, events, webhook.url)))


@webhooks_app.command("show")
def webhooks_show(webhook_id: WebhookId, as_json: JsonOption = False) -> None:
    """A webhook and its latest deliveries, each with every attempt."""
    with errors_to_exit_codes(), reading(open_database()) as connection:
        webhook = webhooks.show_webhook(connection, OPERATOR, webhook_id)
        deliveries = webhooks.list_deliveries(
            connection, OPERATOR, webhook_id, limit=SHOWN_DELIVERIES
        )
    shown = [webhook_delivery_shape(delivery) for delivery in deliveries]
    if as_json:
        emit_json({**webhook_shape(webhook), "deliveries": shown})
        return
    for line in text_lines(webhook_shape(webhook)):
        typer.echo(line)
    for delivery in deliveries:
        fields = (delivery.id, delivery.state.value, delivery.event_type, delivery.attempts)
        typer.echo("delivery " + "\t".join(map(str, fields)) + f"\t{delivery.last_error or '-'}")


@webhooks_app.command("remove")
def webhooks_remove(webhook_id: WebhookId, as_json: JsonOption = False) -> None:
    """Delete a webhook with its deliveries."""
    with errors_to_exit_codes(), writing(open_database()) as connection:
        removed = webhooks.remove_webhook(connection, operator_call(), webhook_id)
    if as_json:
        emit_json(webhook_shape(removed))
        return
    typer.echo(f"removed webhook {webhook_id}")


@webhooks_app.command("test")
def webhooks_test(webhook_id: WebhookId, as_json: JsonOption = False) -> None:
    """Send a signed `webhook.test` ping now; exit 5 unless it is answered with a 2xx."""
    call = operator_call()
    with errors_to_exit_codes(), reading(open_database(call.settings)) as connection:
        sending = ping(connection, call, webhook_id)
    attempt = post(call.settings, sending, now())
    document = {
        "webhook_id": webhook_id,
        "event_id": sending.event_id,
        "status": attempt.status,
        "latency_ms": attempt.latency_ms,
        "answer": attempt.answer,
        "error": attempt.error,
    }
    if as_json:
        emit_json(document)
    else:
        for line in text_lines(document):
            typer.echo(line)
    if attempt.error is not None:
        raise typer.Exit(int(ExitCode.FAILED))
