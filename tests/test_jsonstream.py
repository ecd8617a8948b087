"""A Ghost export's rows read a piece at a time: the same rows as parsing it whole, the
line of what is wrong, and memory that does not grow with the file."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from masthead.content import jsonstream
from masthead.content.foreign import SourceError
from masthead.content.jsonstream import table_rows

TRICKY = {
    "db": [
        {
            "meta": {"exported_on": 1700000000000, "version": "5.0"},
            "data": {
                "posts": [
                    {"id": "1", "title": 'Braces } ] { [ and "quotes"', "html": "<p>a\\nb</p>"},
                    {"id": "2", "title": "Ünïcode ✓ \u2028", "n": 12345678901234567890},
                    {"id": "3", "nested": {"deep": [1, 2.5e-3, True, False, None]}},
                ],
                "tags": [],
                "settings": {"not": "a table"},
                "users": [{"id": "u1", "name": "Ada"}],
                "posts_tags": [{"post_id": "1", "tag_id": "t1", "sort_order": 0}],
            },
        },
        {"data": {"posts": [{"id": "ignored"}]}},
    ]
}


def _expected(document: dict) -> list[tuple[str, int, object]]:
    data = document["db"][0]["data"]
    return [
        (table, index, row)
        for table, rows in data.items()
        if isinstance(rows, list)
        for index, row in enumerate(rows)
    ]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
def test_rows_are_the_same_whatever_the_size_of_each_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_CHARACTERS", chunk)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(TRICKY, indent=2, ensure_ascii=False), encoding="utf-8")
    assert list(table_rows(export)) == _expected(TRICKY)


def test_an_export_without_db_is_read_from_its_data(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"meta": {}, "data": {"posts": [{"id": "a"}]}}), "utf-8")
    assert list(table_rows(export)) == [("posts", 0, {"id": "a"})]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{"db": [\n  {"data": ', 2),
        ('{"db": [{"data": {\n"posts": [\n{"id": 1},\n{"id": 2,,}]}}]}', 4),
        ("[1, 2]", 1),
        ('{"db": [{"meta": {}}]}', 1),
        ("", 1),
    ],
)
def test_what_is_not_an_export_is_refused_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, line: int
) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_CHARACTERS", 5)
    export = tmp_path / "broken.json"
    export.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as refused:
        list(table_rows(export))
    assert refused.value.line == line
    assert refused.value.message.startswith("not a Ghost export")


def test_memory_stays_near_one_read_however_long_the_export(tmp_path: Path) -> None:
    body = "<p>" + "Words of a post, long enough to weigh something. " * 80 + "</p>"
    posts = [{"id": str(n), "title": f"Post {n}", "html": body} for n in range(4000)]
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"db": [{"data": {"posts": posts}}]}), encoding="utf-8")
    del posts
    size = export.stat().st_size
    tracemalloc.start()
    try:
        count = sum(1 for table, _index, _row in table_rows(export) if table == "posts")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 4000
    assert size > 15_000_000
    assert peak < 12_000_000  # about two reads' worth of text and one row, not the file
