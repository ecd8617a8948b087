"""Creating and upgrading a database, and loading the demo content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from masthead.actions.auth import issue_token
from masthead.actions.context import Call
from masthead.actions.edge import add_edge_secret, new_edge_secret
from masthead.actions.importing import ImportSummary, import_folder
from masthead.actions.staff import add_staff
from masthead.demo import DEMO_CONTENT
from masthead.domain.staff import Role, StaffKind, StaffMember
from masthead.store.migrations import migrate
from masthead.store.staff import get_staff

__all__ = ["DEMO_ADMIN", "DemoAccess", "grant_demo_access", "initialise"]

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


def initialise(engine: Engine, *, demo: bool, at: datetime) -> ImportSummary | None:
    """Migrate to the newest schema; with `demo`, load (or refresh) the demo content."""
    migrate(engine)
    if not demo:
        return None
    return import_folder(engine, DEMO_CONTENT, at=at)


def grant_demo_access(connection: Connection, call: Call) -> DemoAccess:
    """An edge secret (kept as a digest) and an admin token, for trying the API locally."""
    if get_staff(connection, DEMO_ADMIN.slug) is None:
        add_staff(connection, call, DEMO_ADMIN)
    edge_secret = new_edge_secret()
    add_edge_secret(connection, call, edge_secret, "demo")
    issued = issue_token(connection, call, DEMO_ADMIN.slug, "make demo")
    return DemoAccess(edge_secret=edge_secret, token=issued.secret)
