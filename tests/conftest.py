"""Shared fixtures: fresh databases of both kinds, and a live server on a real socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine
from starlette.types import ASGIApp

from masthead.settings import Settings
from masthead.store.engine import open_engine
from masthead.web.app import create_app
from masthead.web.server import server_config
from tests.databases import DatabaseFactory

DATABASE_KINDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def database_factories(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, DatabaseFactory]]:
    factories = {
        kind: DatabaseFactory(kind, tmp_path_factory.mktemp(f"db-{kind}"))
        for kind in DATABASE_KINDS
    }
    yield factories
    for factory in factories.values():
        factory.close()


@pytest.fixture(params=DATABASE_KINDS)
def database_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


def _fresh(factories: dict[str, DatabaseFactory], kind: str, content: str) -> Iterator[str]:
    factory = factories[kind]
    url = factory.new(content)
    yield url
    factory.drop(url)


@pytest.fixture
def database_url(
    database_factories: dict[str, DatabaseFactory], database_kind: str
) -> Iterator[str]:
    """An empty, migrated database of each kind."""
    yield from _fresh(database_factories, database_kind, "empty")


@pytest.fixture
def demo_database_url(
    database_factories: dict[str, DatabaseFactory], database_kind: str
) -> Iterator[str]:
    """A migrated database of each kind holding the demo content."""
    yield from _fresh(database_factories, database_kind, "demo")


@pytest.fixture
def sqlite_url(database_factories: dict[str, DatabaseFactory]) -> Iterator[str]:
    """An empty, migrated SQLite database (for tests that need only one kind)."""
    yield from _fresh(database_factories, "sqlite", "empty")


def _engine(url: str) -> Iterator[Engine]:
    engine = open_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    yield from _engine(database_url)


@pytest.fixture
def demo_engine(demo_database_url: str) -> Iterator[Engine]:
    yield from _engine(demo_database_url)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class LiveServer:
    """The real app under uvicorn on a loopback port, in a background thread."""

    def __init__(self, settings: Settings, app: ASGIApp | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = server_config(
            app or create_app(settings),
            settings,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=10)


def settings_for(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "public_url": "https://blog.example.test",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def demo_server(demo_database_url: str) -> Iterator[LiveServer]:
    """A live server over the demo content, on each kind of database."""
    with LiveServer(settings_for(demo_database_url)) as server:
        yield server


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def api(demo_database_url: str) -> Iterator[object]:
    """A live server over the demo content with an edge secret and staff of every role."""
    from tests.api_support import api_world

    yield from api_world(demo_database_url)
