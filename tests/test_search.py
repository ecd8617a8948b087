"""Search: a reader's text becomes a safe query, and the indexes follow the write path, on
SQLite (FTS5) and on PostgreSQL (tsvector): title over dek over body, live text only."""

from __future__ import annotations

import random
import string

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine

from masthead.actions.drafts import PostFields, create_post, edit_post
from masthead.actions.publishing import archive_post, publish_post, unpublish_post
from masthead.domain.posts import PostQuery
from masthead.domain.search import (
    MAX_CLAUSES,
    Clause,
    Segment,
    excerpt,
    fts5_match,
    mark,
    parse_query,
    query_echo,
    tsquery,
)
from masthead.store import search
from masthead.store.engine import reading, writing
from masthead.store.posts import list_posts
from tests.operators import call_as

# --- the query, as pure rules ---------------------------------------------------------------


def test_words_phrases_and_prefixes_are_read_from_the_text() -> None:
    query = parse_query('Edge "Secret  rotation" rot* a*')
    assert query.clauses == (
        Clause(("edge",)),
        Clause(("secret", "rotation")),
        Clause(("rot",), prefix=True),
        Clause(("a",)),
    )
    assert fts5_match(query) == '"edge" AND "secret rotation" AND "rot"* AND "a"'
    assert tsquery(query) == "'edge' & ('secret' <-> 'rotation') & 'rot':* & 'a'"


def test_operators_parentheses_and_stray_quotes_are_only_words() -> None:
    query = parse_query('deploy) AND (NOT "x OR NEAR(y z, 3) "unclosed')
    words = [clause.words for clause in query.clauses]
    assert ("deploy",) in words
    assert ("and",) in words
    assert ("unclosed",) in words
    assert set(fts5_match(query)) <= set(string.ascii_lowercase + string.digits + '" *AND')


def test_a_long_query_is_read_up_to_its_bound_and_nothing_is_left_to_search() -> None:
    assert len(parse_query("word " * 2_000 + "x" * 10_000).clauses) == 1
    many = " ".join(f"w{number}" for number in range(100))
    assert len(parse_query(many).clauses) == MAX_CLAUSES
    for nothing in ("", "   ", "***", '"""', "\x00\x01\x1f", "()", "-+-"):
        assert parse_query(nothing).empty


@given(st.text())
def test_any_text_gives_a_query_of_quoted_words_only(text: str) -> None:
    query = parse_query(text)
    for clause in query.clauses:
        assert all(word.isalnum() for word in clause.words)
    assert "'" not in "".join(word for clause in query.clauses for word in clause.words)
    assert '"' not in "".join(word for clause in query.clauses for word in clause.words)


def test_matched_words_are_marked_in_their_own_case() -> None:
    query = parse_query("deploy secret*")
    segments = mark("We Deployed <b>secrets</b> & deploys.", query)
    assert [segment.text for segment in segments if segment.marked] == [
        "Deployed",
        "secrets",
        "deploys",
    ]
    assert "".join(segment.text for segment in segments) == "We Deployed <b>secrets</b> & deploys."


def test_an_excerpt_is_a_window_around_the_first_match() -> None:
    body = " ".join(f"w{number}" for number in range(200)) + " needle " + "tail " * 50
    segments = excerpt(body, parse_query("needle"))
    assert segments[0] == Segment("… ")
    assert segments[-1] == Segment(" …")
    assert Segment("needle", marked=True) in segments
    assert len("".join(segment.text for segment in segments).split()) < 40
    assert excerpt(body, parse_query("absent")) == ()


def test_the_echo_of_a_query_is_one_short_printable_line() -> None:
    assert query_echo("a\x00b\n\t c") == "a b c"
    assert len(query_echo("x" * 10_000)) <= 80


# --- the indexes, on both databases ---------------------------------------------------------

RARE = "quillwort"


def _post(connection: Connection, title: str, dek: str = "", body: str = "Plain words.") -> int:
    fields = PostFields(
        title=title, dek=dek, body=body, tags=("operations",), authors=("marcus-bell",)
    )
    return create_post(connection, call_as(), fields).id


def _live(connection: Connection, query: str) -> list[int]:
    return [found.post_id for found in search.find_live(connection, parse_query(query), limit=50)]


def _staff(connection: Connection, query: str) -> list[int]:
    return [post.id for post in list_posts(connection, PostQuery(text=query))]


def test_a_match_in_the_title_ranks_above_the_dek_above_the_body(demo_engine: Engine) -> None:
    with writing(demo_engine) as connection:
        in_body = _post(connection, "Notes on gardens", "A dek.", f"We grew {RARE} last year.")
        in_dek = _post(connection, "More garden notes", f"About {RARE}.", "Nothing else here.")
        in_title = _post(connection, f"The {RARE} season", "A dek.", "Nothing else here.")
        for post_id in (in_body, in_dek, in_title):
            publish_post(connection, call_as(), post_id)
    with reading(demo_engine) as connection:
        assert _live(connection, RARE) == [in_title, in_dek, in_body]
        assert search.count_live(connection, parse_query(RARE)) == 3
        assert _live(connection, f"{RARE[:5]}*") == [in_title, in_dek, in_body]
        assert _live(connection, f'"{RARE} season"') == [in_title]
        assert _live(connection, f'"season {RARE}"') == []


def test_drafts_and_old_revisions_are_never_found_publicly(demo_engine: Engine) -> None:
    with writing(demo_engine) as connection:
        draft = _post(connection, "Unseen draft", body="The word marigold is here.")
        live = _post(connection, "First words", body="The word snapdragon was live.")
        publish_post(connection, call_as(), live)
        edit_post(connection, call_as(), live, PostFields(body="Now it says foxglove."))
    with reading(demo_engine) as connection:
        assert _live(connection, "marigold") == []
        assert _live(connection, "foxglove") == []  # the working copy is not live yet
        assert _live(connection, "snapdragon") == [live]
        assert _staff(connection, "marigold") == [draft]
        assert _staff(connection, "foxglove") == [live]
        assert _staff(connection, "snapdragon") == []
    with writing(demo_engine) as connection:
        publish_post(connection, call_as(), live)
    with reading(demo_engine) as connection:
        assert _live(connection, "snapdragon") == []
        assert _live(connection, "foxglove") == [live]


def test_unpublished_and_archived_posts_leave_the_public_index(demo_engine: Engine) -> None:
    with writing(demo_engine) as connection:
        first = _post(connection, f"{RARE} one")
        second = _post(connection, f"{RARE} two")
        publish_post(connection, call_as(), first)
        publish_post(connection, call_as(), second)
    with writing(demo_engine) as connection:
        unpublish_post(connection, call_as(), first)
        archive_post(connection, call_as(), second)
    with reading(demo_engine) as connection:
        assert _live(connection, RARE) == []
        assert search.indexed_text(connection, "public_search", first) is None
        assert sorted(_staff(connection, RARE)) == [first, second]


def test_the_staff_index_finds_words_of_the_dek_and_the_body(demo_engine: Engine) -> None:
    with writing(demo_engine) as connection:
        by_dek = _post(connection, "Alpha", dek="Mentions hollyhock once.")
        by_body = _post(connection, "Beta", body="# Heading\n\nA **hollyhock** in `code`.")
    with reading(demo_engine) as connection:
        assert sorted(_staff(connection, "hollyhock")) == [by_dek, by_body]
        text = search.indexed_text(connection, "staff_search", by_body)
        assert text is not None
        assert text[2] == "Heading A hollyhock in code."


HOSTILE = [
    '"',
    '""',
    '"unbalanced',
    "a AND",
    "OR OR OR",
    "NOT",
    "NEAR(a b, 2)",
    "a NEAR/3 b",
    "(((",
    ")))",
    "*",
    "a**",
    "^start",
    "col:word",
    "title:x",
    "{title dek}: x",
    "x' OR '1'='1",
    "'; DROP TABLE posts; --",
    "\\",
    "a & b | !c",
    "a <-> b",
    "a:*",
    "\x00",
    "\x1b[31m",
    "\ud800",
    "é" * 500,
    "x" * 10_000,
    "word " * 2_000,
    "🙂 日本語 العربية",
    "the a an of",
]


def test_hostile_queries_never_raise(demo_engine: Engine) -> None:
    chaos = random.Random(16)
    alphabet = string.printable + '"*()^:-+&|!<>\x00\x7f\u00e9\u200b'
    texts = HOSTILE + ["".join(chaos.choices(alphabet, k=chaos.randint(1, 80))) for _ in range(70)]
    with reading(demo_engine) as connection:
        for text in texts:
            query = parse_query(text)
            search.count_live(connection, query)
            search.find_live(connection, query, limit=9)
            list_posts(connection, PostQuery(text=text, limit=5))
