"""What `/api/v1/metrics` reports from the database: for admins and scrape tokens.

Read at scrape time, so the figures are whole across server processes and workers:
receipts by action and state (publishes and their verification), finished task runs by
kind and outcome, the queue's depth, and runs whose lease has expired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from masthead.domain.permissions import Actor, may_read_metrics
from masthead.errors import Forbidden
from masthead.store import figures
from masthead.store import webhooks as webhook_store

__all__ = ["Figures", "read_figures"]

Counts = dict[tuple[str, str], int]


@dataclass(frozen=True)
class Figures:
    receipts: Counts
    """(action, state) → receipts: `publish`/`unpublish`/`archive`; `verified`, `unverified` …"""
    runs: Counts
    """(kind, outcome) → finished runs."""
    pending: Counts
    """(kind, state) → tasks `queued` or `running`."""
    expired_leases: int
    webhook_deliveries: dict[str, int] = field(default_factory=dict)
    """state → webhook deliveries: `pending`, `delivered`, `failed`."""


def read_figures(connection: Connection, actor: Actor, now: datetime) -> Figures:
    """The database's figures, in one read transaction (a consistent snapshot)."""
    if not may_read_metrics(actor):
        raise Forbidden("metrics need the admin role or a token made for scraping them")
    return Figures(
        receipts=figures.receipt_counts(connection),
        runs=figures.run_counts(connection),
        pending=figures.pending_tasks(connection),
        expired_leases=figures.expired_leases(connection, now),
        webhook_deliveries=webhook_store.delivery_counts(connection),
    )
