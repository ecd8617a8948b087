"""Creating and upgrading a database, and loading the demo content."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from masthead.actions.auth import issue_token
from masthead.actions.context import Call
from masthead.actions.edge import add_edge_secret, new_edge_secret
from masthead.actions.importing import ImportSummary, import_folder
from masthead.actions.staff import add_staff
from masthead.demo import DEMO_CONTENT
from masthead.domain.staff import Role, StaffKind, StaffMember
from masthead.errors import DatabaseUnavailable
from masthead.settings import Settings
from masthead.store import migrations
from masthead.store.engine import open_engine
from masthead.store.staff import get_staff

__all__ = [
    "DEMO_ADMIN",
    "DemoAccess",
    "grant_demo_access",
    "load_demo_content",
    "migrate_database",
    "open_database",
    "require_schema",
    "schema_state",
]

DEMO_ADMIN = StaffMember(
    slug="demo-admin",
    name="Demo Admin",
    role_title="Administrator",
    department="Operations",
    kind=StaffKind.PERSON,
    bio="The account `make demo` creates, so that the API can be tried at once.",
    role=Role.ADMIN,
)


@dataclass(frozen=True)
class DemoAccess:
    edge_secret: str
    token: str


def migrate_database(engine: Engine) -> None:
    """Bring the database to the newest schema (idempotent; a cut-off run resumes).

    The one use case given an engine rather than a connection: each migration commits
    on its own, so that a run cut off half-way is completed by running it again.
    """
    migrations.migrate(engine)


def schema_state(engine: Engine) -> tuple[str | None, str | None]:
    """The database's schema revision, and the newest one this code knows."""
    return migrations.current_revision(engine), migrations.head_revision()


def require_schema(engine: Engine) -> None:
    """Refuse a database that was never set up (an empty file, a fresh PostgreSQL database)."""
    if migrations.current_revision(engine) is None:
        raise DatabaseUnavailable("the database has no schema: run `masthead init`")


def load_demo_content(connection: Connection, call: Call) -> ImportSummary:
    """Import (or refresh) the demo posts, staff and tags."""
    return import_folder(connection, call, DEMO_CONTENT)


def grant_demo_access(connection: Connection, call: Call) -> DemoAccess:
    """An edge secret (kept as a digest) and an admin token, for trying the API locally."""
    if get_staff(connection, DEMO_ADMIN.slug) is None:
        add_staff(connection, call, DEMO_ADMIN)
    edge_secret = new_edge_secret()
    add_edge_secret(connection, call, edge_secret, "demo")
    issued = issue_token(connection, call, DEMO_ADMIN.slug, "make demo")
    return DemoAccess(edge_secret=edge_secret, token=issued.secret)


POOL_SPARE = 4
"""Connections beyond the request handlers' and the worker's: housekeeping, listeners."""


def open_database(settings: Settings) -> Engine:
    """The engine of one process: a connection for each request handler thread, and for
    each handler of an in-process worker, and a few spare."""
    return open_engine(
        settings.database_url,
        pool_size=settings.server_threads,
        max_overflow=settings.queue_concurrency + POOL_SPARE,
        pool_timeout=settings.database_timeout_seconds,
    )
