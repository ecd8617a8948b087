"""`masthead ops doctor`: every check an operator would make by hand, as findings.

Given an engine rather than a connection (as `migrate_database` is): each check opens its
own short read, so that a database that is away or unmigrated is a finding, not a crash.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from masthead.actions.edge import MIN_EDGE_SECRET_LENGTH
from masthead.actions.verification import Fetcher, canonical_of
from masthead.actions.webhook_secrets import MIN_KEY_LENGTH
from masthead.domain.diagnostics import Finding, QueueFigures, Severity
from masthead.domain.tasks import Worker
from masthead.errors import MastheadError
from masthead.settings import Settings
from masthead.store import diagnostics, migrations
from masthead.store import webhooks as webhook_store
from masthead.store import workers as worker_store
from masthead.store.edge_secrets import active_labels
from masthead.store.engine import reading

__all__ = ["diagnose"]

DEMO_LABEL = "demo"
FREE_BYTES_ERROR = 64 * 1024 * 1024
FREE_BYTES_WARNING = 512 * 1024 * 1024
BACKLOG = timedelta(minutes=5)
FAILED_WINDOW = timedelta(hours=24)

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


def diagnose(engine: Engine, settings: Settings, fetch: Fetcher, now: datetime) -> list[Finding]:
    """Every finding, in the order an operator would look: settings, database, edge,
    public site, queue, disk."""
    findings = list(_settings(settings))
    database = list(_database(engine))
    findings += database
    if not any(finding.severity is ERROR for finding in database):
        findings += _in_database(engine, settings, now)
    findings += _public_site(settings, fetch)
    findings += _disk(settings)
    return findings


def _settings(settings: Settings) -> Iterator[Finding]:
    if settings.env != "production":
        yield Finding("development_mode", INFO, "MASTHEAD_ENV is development: weak set-ups allowed")
        return
    if not settings.public_url.startswith("https://"):
        yield Finding(
            "public_url_not_https",
            WARNING,
            f"production serves readers at {settings.public_url}, not over HTTPS",
            "set MASTHEAD_PUBLIC_URL",
        )
    yield from _webhook_settings(settings)
    for secret in settings.edge_secret_list:
        if len(secret) < MIN_EDGE_SECRET_LENGTH:
            yield Finding(
                "edge_secret_short",
                ERROR,
                f"an edge secret in MASTHEAD_EDGE_SECRETS is shorter than {MIN_EDGE_SECRET_LENGTH}",
                "set MASTHEAD_EDGE_SECRETS to a longer secret",
            )


def _webhook_settings(settings: Settings) -> Iterator[Finding]:
    """Production's webhook settings (the server and workers refuse to start without a key)."""
    if settings.webhooks_allow_private:
        yield Finding(
            "webhooks_allow_private",
            WARNING,
            "MASTHEAD_WEBHOOKS_ALLOW_PRIVATE is set in production: webhooks may reach "
            "loopback and private networks, over plain http",
            "unset MASTHEAD_WEBHOOKS_ALLOW_PRIVATE",
        )
    if len(settings.webhook_key) < MIN_KEY_LENGTH:
        yield Finding(
            "webhook_key_missing",
            ERROR,
            f"MASTHEAD_WEBHOOK_KEY is unset or shorter than {MIN_KEY_LENGTH} characters",
            "set MASTHEAD_WEBHOOK_KEY",
        )


def _database(engine: Engine) -> Iterator[Finding]:
    try:
        current, head = migrations.current_revision(engine), migrations.head_revision()
    except (SQLAlchemyError, MastheadError) as error:
        yield Finding("database_unreachable", ERROR, f"the database does not answer: {error}")
        return
    if current is None:
        yield Finding("not_migrated", ERROR, "the database has no schema", "masthead migrate")
    elif current != head and not migrations.is_known_revision(current):
        yield Finding(
            "schema_newer",
            ERROR,
            f"the database is at {current}, newer than this code knows ({head})",
            "upgrade Masthead",
        )
    elif current != head:
        yield Finding(
            "schema_behind", ERROR, f"the schema is at {current}, not {head}", "masthead migrate"
        )
    else:
        yield from _integrity(engine)


def _integrity(engine: Engine) -> Iterator[Finding]:
    with reading(engine) as connection:
        problems = diagnostics.integrity_problems(connection)
    if problems:
        yield Finding(
            "integrity_failed",
            ERROR,
            f"the integrity check says: {'; '.join(problems[:5])}",
            "restore a backup (docs/operating.md)",
        )


def _in_database(engine: Engine, settings: Settings, now: datetime) -> Iterator[Finding]:
    try:
        with reading(engine) as connection:
            labels = active_labels(connection)
            workers = worker_store.list_workers(connection)
            figures = diagnostics.queue_figures(connection, now, now - FAILED_WINDOW)
            failed_deliveries = webhook_store.count_failed(connection, now - FAILED_WINDOW)
    except (SQLAlchemyError, MastheadError) as error:
        yield Finding("database_unreachable", ERROR, f"the database does not answer: {error}")
        return
    yield from _edge(settings, labels)
    yield from _workers(workers, settings, now)
    yield from _queue(figures, now)
    if failed_deliveries:
        yield Finding(
            "webhook_deliveries_failed",
            WARNING,
            f"{failed_deliveries} webhook deliveries failed in the last 24 h",
            "masthead webhooks list, then masthead webhooks show ID",
        )


def _edge(settings: Settings, labels: list[str]) -> Iterator[Finding]:
    if not settings.edge_secret_list and not labels:
        yield Finding(
            "edge_secret_missing",
            ERROR if settings.env == "production" else WARNING,
            "no edge secret: the internal API refuses every call",
            "masthead ops rotate-edge-secret",
        )
    if settings.env == "production" and DEMO_LABEL in labels:
        yield Finding(
            "edge_secret_demo",
            ERROR,
            "a demo edge secret (from `masthead demo-access`) is accepted in production",
            "masthead ops rotate-edge-secret, then --finish",
        )


def _workers(workers: list[Worker], settings: Settings, now: datetime) -> Iterator[Finding]:
    silence = timedelta(seconds=settings.queue_lease_seconds)
    alive = [worker for worker in workers if worker.alive(now, silence)]
    for worker in workers:
        if worker not in alive:
            seen = worker.last_seen_at.isoformat()
            yield Finding(
                "worker_silent",
                WARNING,
                f"worker {worker.id} (pid {worker.pid} on {worker.host}) last seen {seen}",
                "masthead workers list",
            )
    if not alive:
        yield Finding(
            "no_worker_alive",
            WARNING,
            "no worker is alive: tasks wait",
            "masthead worker (or masthead serve)",
        )


def _queue(figures: QueueFigures, now: datetime) -> Iterator[Finding]:
    yield Finding("queue_depth", INFO, f"{figures.queued} tasks queued", "masthead tasks list")
    if figures.oldest_due is not None and now - figures.oldest_due > BACKLOG:
        waited = int((now - figures.oldest_due).total_seconds())
        yield Finding(
            "queue_backlog",
            WARNING,
            f"the oldest due task has waited {waited} s",
            "masthead tasks list --state queued",
        )
    if figures.past_lease:
        yield Finding(
            "runs_past_lease",
            WARNING,
            f"{figures.past_lease} runs are past their lease",
            "masthead ops requeue-lost",
        )
    if figures.failed_since:
        yield Finding(
            "tasks_failed",
            WARNING,
            f"{figures.failed_since} tasks failed in the last 24 h",
            "masthead tasks list --state failed",
        )
    if figures.unverified:
        yield Finding(
            "receipts_unverified",
            WARNING,
            f"{figures.unverified} publishes were not confirmed by the live site",
            "masthead receipts list --state unverified",
        )


def _public_site(settings: Settings, fetch: Fetcher) -> Iterator[Finding]:
    health = fetch("/healthz")
    if health.status != 200:
        said = health.error or f"answered {health.status}"
        yield Finding(
            "public_url_unreachable",
            ERROR,
            f"{health.url} {said}",
            "check MASTHEAD_PUBLIC_URL and masthead serve",
        )
        return
    index = fetch("/")
    want = f"{settings.public_url}/"
    tree = LexborHTMLParser(index.body) if index.status == 200 else None
    if canonical_of(tree) != want:
        yield Finding(
            "public_url_other_site",
            ERROR,
            f"{index.url} does not serve this site (no canonical link to {want})",
            "check MASTHEAD_PUBLIC_URL",
        )


def _disk(settings: Settings) -> Iterator[Finding]:
    """Free space where the SQLite file lives, and where static builds go."""
    prefix = "sqlite:///"
    if settings.database_url.startswith(prefix):
        folder = Path(settings.database_url.removeprefix(prefix)).resolve().parent
        yield _free_space(folder, "the database")
    if settings.static_dir:
        yield _free_space(_existing(Path(settings.static_dir).resolve()), "static builds")


def _existing(folder: Path) -> Path:
    """`folder`, or its nearest parent that exists (a static folder before its first build)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _free_space(folder: Path, what: str) -> Finding:
    free = shutil.disk_usage(folder).free
    mib = free // (1024 * 1024)
    if free < FREE_BYTES_WARNING:
        return Finding(
            "disk_low",
            ERROR if free < FREE_BYTES_ERROR else WARNING,
            f"{mib} MiB free where {what} live ({folder})",
            f"df -h {folder}",
        )
    return Finding("disk_free", INFO, f"{mib} MiB free in {folder} ({what})")
