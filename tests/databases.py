"""Fresh databases for tests: a copied file on SQLite, a cloned template on PostgreSQL.

Migrations run once per test session and database kind (into a template); every test
then gets its own copy, so tests never see each other's rows.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from masthead.actions.setup import load_demo_content, migrate_database
from masthead.domain.posts import RevisionSource
from masthead.store.engine import open_engine, writing
from tests.operators import call_as

POSTGRES_ADMIN_URL = os.environ.get(
    "MASTHEAD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DEMO_TIME = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
Seed = Callable[[Engine], None]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def postgres_unavailable(reason: str) -> None:
    """Skip with a clear message; in CI a missing PostgreSQL is a failure."""
    message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {reason}"
    if _in_ci():
        pytest.fail(message + " (CI=true: the PostgreSQL tests must run)", pytrace=False)
    pytest.skip(message)


def _admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)


def _seed(engine: Engine, content: str) -> None:
    migrate_database(engine)
    if content == "demo":
        with writing(engine) as connection:
            load_demo_content(connection, call_as(at=DEMO_TIME, source=RevisionSource.IMPORT))


@dataclass
class DatabaseFactory:
    """Hands out fresh databases of one kind, cloned from a migrated template."""

    kind: str
    workdir: Path
    prefix: str = field(default_factory=lambda: f"mh{uuid.uuid4().hex[:8]}")
    _templates: dict[str, str] = field(default_factory=dict)
    _created: list[str] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def new(self, content: str = "empty") -> str:
        template = self._template(content)
        number = next(self._counter)
        if self.kind == "sqlite":
            path = self.workdir / f"test-{number}.db"
            shutil.copyfile(template, path)
            return f"sqlite:///{path}"
        name = f"{self.prefix}_t{number}"
        with _admin_connection() as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self._created.append(name)
        return self._postgres_url(name)

    def drop(self, url: str) -> None:
        if self.kind == "postgres":
            name = make_url(url).database
            with _admin_connection() as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._created.remove(str(name))

    def close(self) -> None:
        if self.kind != "postgres":
            return
        with _admin_connection() as connection:
            for name in [*self._created, *self._templates.values()]:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _postgres_url(self, name: str) -> str:
        return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def _template(self, content: str) -> str:
        if content in self._templates:
            return self._templates[content]
        if self.kind == "sqlite":
            path = self.workdir / f"template-{content}.db"
            engine = open_engine(f"sqlite:///{path}")
            _seed(engine, content)
            engine.dispose()
            self._templates[content] = str(path)
            return str(path)
        name = f"{self.prefix}_tpl_{content}"
        try:
            with _admin_connection() as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as error:
            postgres_unavailable(str(error).strip())
        engine = open_engine(self._postgres_url(name))
        _seed(engine, content)
        engine.dispose()
        self._templates[content] = name
        return name
