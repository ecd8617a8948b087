"""What the tests of `masthead ops …` share: every table's row count, to compare a
database before and after a command, and how many times the kill loops kill."""

from __future__ import annotations

import os

from sqlalchemy import Engine, func, select

from masthead.store.engine import reading
from masthead.store.schema import metadata


def kill_rounds(default: int) -> int:
    """How many kills a kill loop makes: `default` in `make test`; `make bench` sets
    `MASTHEAD_KILL_ROUNDS` for the long version."""
    return int(os.environ.get("MASTHEAD_KILL_ROUNDS", default))


def row_counts(engine: Engine) -> dict[str, int]:
    with reading(engine) as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }
