"""What the tests of `masthead ops …` share: every table's row count, to compare a
database before and after a command."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from masthead.store.engine import reading
from masthead.store.schema import metadata


def row_counts(engine: Engine) -> dict[str, int]:
    with reading(engine) as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }
