"""Opening databases: SQLite writers in one process take turns instead of racing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from masthead.domain.staff import Tag
from masthead.store.engine import open_engine, reading, writing
from masthead.store.schema import tags
from masthead.store.tags import save_tag
from masthead.store.turns import write_turns


def test_every_writer_of_an_engine_takes_the_same_turns(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    try:
        assert write_turns(engine) is write_turns(engine)
        assert write_turns(engine).sqlite
    finally:
        engine.dispose()
    assert not write_turns(open_engine("postgresql://nobody@127.0.0.1:1/none")).sqlite


def test_many_threads_writing_at_once_all_succeed(database_url: str) -> None:
    engine = open_engine(database_url)
    failures: list[BaseException] = []

    def write(thread: int) -> None:
        try:
            for number in range(15):
                with writing(engine) as connection:
                    tag = Tag(slug=f"t{thread}-{number}", name=f"Tag {thread} {number}")
                    save_tag(connection, tag, datetime.now(UTC))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        with reading(engine) as connection:
            count = connection.execute(select(func.count()).select_from(tags)).scalar_one()
        assert count == 20 * 15
    finally:
        engine.dispose()
