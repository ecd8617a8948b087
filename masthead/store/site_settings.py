"""Site settings changed at run time: stored values win over the configured defaults."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from masthead.store.schema import site_settings

__all__ = ["load_overrides", "reset_overrides", "save_overrides"]


def load_overrides(connection: Connection) -> dict[str, Any]:
    rows = connection.execute(select(site_settings.c.key, site_settings.c.value))
    return {row.key: json.loads(row.value) for row in rows}


def save_overrides(connection: Connection, values: Mapping[str, Any], at: datetime) -> None:
    for key, value in values.items():
        connection.execute(delete(site_settings).where(site_settings.c.key == key))
        connection.execute(
            insert(site_settings).values(key=key, value=json.dumps(value), updated_at=at)
        )


def reset_overrides(connection: Connection, keys: Iterable[str]) -> None:
    """Forget stored values: these settings are back to their configured defaults."""
    wanted = list(keys)
    if wanted:
        connection.execute(delete(site_settings).where(site_settings.c.key.in_(wanted)))
