"""Search over real HTTP, on SQLite and on PostgreSQL: `/search` on the public site (cards,
marked words, pages, a dynamic page that is never exported) and `q=` on the API."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from sqlalchemy import Engine

from masthead.actions.drafts import PostFields, create_post
from masthead.actions.public_site import PublicSite
from masthead.actions.publishing import publish_post
from masthead.domain.text import first_control_character
from masthead.store.engine import open_engine, reading, writing
from tests.api_support import ApiWorld
from tests.conftest import LiveServer, settings_for
from tests.operators import call_as
from tests.test_public_site import _cards, _text
from tests.test_search import HOSTILE

WORD = "zinnia"


@dataclass
class Site:
    server: LiveServer
    engine: Engine

    def add(self, title: str, dek: str = "", body: str = "Plain words.", live: bool = True) -> int:
        fields = PostFields(
            title=title, dek=dek, body=body, tags=("operations",), authors=("marcus-bell",)
        )
        with writing(self.engine) as connection:
            post_id = create_post(connection, call_as(), fields).id
            if live:
                publish_post(connection, call_as(), post_id)
        return post_id

    def get(self, path: str, **params: str) -> tuple[int, str, dict[str, str]]:
        with self.server.client() as client:
            response = client.get(path, params=params)
        return response.status_code, response.text, dict(response.headers)


@pytest.fixture
def site(demo_database_url: str) -> Iterator[Site]:
    engine = open_engine(demo_database_url)
    with LiveServer(settings_for(demo_database_url)) as server:
        yield Site(server, engine)
    engine.dispose()


def test_results_are_cards_best_first_with_the_words_marked(site: Site) -> None:
    site.add(f"Notes from the {WORD} bed", dek="Seedlings <script>alert(1)</script> first.")
    site.add("Garden diary", dek="A dek without it.", body=f"Late in May the {WORD}s flowered.")
    site.add(f"A {WORD} draft", dek=f"{WORD} unseen", live=False)
    status, html, headers = site.get("/search", q=WORD.upper())
    assert status == 200
    assert headers["cache-control"] == "no-store"
    assert _text(html, ".count") == f"2 posts found for \u201c{WORD.upper()}\u201d"
    cards = _cards(html)
    assert [_text(card.html or "", ".card-title") for card in cards] == [
        f"Notes from the {WORD} bed",
        "Garden diary",
    ]
    assert "<script>alert(1)</script>" not in html
    assert "Seedlings &lt;script&gt;alert(1)&lt;/script&gt; first." in html
    body_excerpt = cards[1].css_first(".dek")
    assert body_excerpt is not None
    assert [mark.text() for mark in body_excerpt.css("mark")] == [f"{WORD}s"]
    assert "draft" not in html.lower().split("</header>", 2)[-1]
    form = HTMLParser(html).css_first("form[role=search]")
    assert form is not None
    assert form.attributes["action"] == "/search"
    field = form.css_first("input[name=q]")
    assert field is not None
    assert field.attributes["value"] == WORD.upper()


def test_a_marked_dek_is_escaped_around_its_marks(site: Site) -> None:
    site.add("Escaping", dek=f'<b onclick="x()">{WORD}</b> & "quotes"')
    status, html, _headers = site.get("/search", q=WORD)
    assert status == 200
    dek = _cards(html)[0].css_first(".dek")
    assert dek is not None
    assert dek.text() == f'<b onclick="x()">{WORD}</b> & "quotes"'
    assert [mark.text() for mark in dek.css("mark")] == [WORD]
    assert "<b onclick" not in html


def test_results_page_like_a_listing_and_a_page_past_the_end_is_not_found(site: Site) -> None:
    for number in range(11):
        site.add(f"Paged {WORD} {number}")
    status, first, _headers = site.get("/search", q=WORD)
    assert status == 200
    assert len(_cards(first)) == 9
    next_link = HTMLParser(first).css_first("a[rel=next]")
    assert next_link is not None
    assert next_link.attributes["href"] == f"/search?q={WORD}&page=2"
    status, second, _headers = site.get("/search", q=WORD, page="2")
    assert status == 200
    assert len(_cards(second)) == 2
    assert _text(second, ".count") == f"11 posts found for \u201c{WORD}\u201d"
    for page in ("3", "0", "-1", "abc", "9" * 5000):
        assert site.get("/search", q=WORD, page=page)[0] == 404


def test_an_empty_search_says_what_to_do_and_a_miss_says_none_found(site: Site) -> None:
    status, html, _headers = site.get("/search")
    assert status == 200
    assert "Type words in the search box" in _text(html, ".empty")
    assert HTMLParser(html).css_first(".count") is None
    status, html, _headers = site.get("/search", q="xylophone-quagmire")
    assert status == 200
    assert _text(html, ".count") == "0 posts found for \u201cxylophone-quagmire\u201d"
    assert "No published post matches" in _text(html, ".empty")


def test_every_page_has_the_search_form_in_its_header(site: Site) -> None:
    for path in ("/", "/tag/operations/", "/posts/tokens-and-roles/", "/no-such-page/"):
        _status, html, _headers = site.get(path)
        form = HTMLParser(html).css_first("header.site-header form[role=search]")
        assert form is not None, path
        label = form.css_first("label[for=site-search-q]")
        assert label is not None
        assert label.text(strip=True) == "Search posts"


def test_the_search_page_is_dynamic_and_never_listed_for_export(site: Site) -> None:
    public = PublicSite(settings_for("sqlite://"))
    assert "search" in public.dynamic
    with reading(site.engine) as connection:
        every = public.every_url(connection)
    assert not any(address.startswith("/search") for address in every)


def _hostile_queries() -> list[str]:
    chaos = random.Random(1616)
    alphabet = string.printable + '"*()^:-+&|!<>\u00e9\u00df\u200b\u202e\U0001f642'
    made = ["".join(chaos.choices(alphabet, k=chaos.randint(1, 60))) for _ in range(70)]
    return [*HOSTILE, *made][:100]


def _query(text: str, **more: str) -> str:
    """`q=TEXT` percent-encoded as UTF-8, a lone surrogate as its (invalid) bytes."""
    pairs = {"q": text, **more}
    return "&".join(f"{k}={quote(v, safe='', errors='surrogatepass')}" for k, v in pairs.items())


def test_a_hundred_hostile_queries_never_give_a_server_error(site: Site) -> None:
    queries = _hostile_queries()
    assert len(queries) == 100
    with site.server.client() as client:
        for text in queries:
            response = client.get(f"/search?{_query(text, page='1')}")
            expected = 404 if first_control_character(text) is not None else 200
            assert response.status_code == expected, (text[:40], response.text[:200])


# --- the API's q= ---------------------------------------------------------------------------


def test_api_q_finds_working_copies_by_dek_and_body(api: ApiWorld) -> None:
    by_dek = api.create_post("writer", title="Alpha", dek=f"Talks of {WORD}s.")
    by_body = api.create_post("writer", title="Beta", body=f"# Plan\n\nPlant **{WORD}**.")
    api.create_post("writer", title="Gamma", body="Nothing to find.")
    with api.client("editor") as editor:
        found = editor.get("/posts", params={"q": WORD}).json()["items"]
        phrase = editor.get("/posts", params={"q": f'"plant {WORD}"'}).json()["items"]
        prefix = editor.get("/posts", params={"q": f"{WORD[:4]}*"}).json()["items"]
    assert [post["id"] for post in found] == [by_body["id"], by_dek["id"]]
    assert [post["id"] for post in phrase] == [by_body["id"]]
    assert {by_dek["id"], by_body["id"]} <= {post["id"] for post in prefix}


def test_api_q_answers_hostile_text_without_a_server_error(api: ApiWorld) -> None:
    with api.client("editor") as editor:
        for text in _hostile_queries():
            response = editor.get(f"/posts?{_query(text, limit='5')}")
            if first_control_character(text) is not None or len(text) > 200:
                assert response.status_code == 422, text[:40]
            else:
                assert response.status_code == 200, (text[:40], response.text[:200])
