"""Moving in from Jekyll, Hugo, Ghost and WordPress: small fixtures written here, and the
real sites in ../shared/samples/migration (read from there, never copied)."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select

from masthead.actions.context import OPERATOR
from masthead.actions.migrating import MigrationReport, import_from, open_source
from masthead.actions.redirects import (
    add_path_redirect,
    list_redirects,
    old_addresses,
    remove_path_redirect,
)
from masthead.actions.setup import migrate_database
from masthead.content.foreign import PAGE_AS_POST
from masthead.content.htmltext import html_to_markdown
from masthead.content.markdown import render_markdown
from masthead.domain.posts import PostStatus, RevisionSource
from masthead.errors import ImportFailed, InvalidInput
from masthead.store.engine import reading, writing
from masthead.store.posts import list_posts
from masthead.store.schema import audit_log, path_redirects
from masthead.store.staff import list_staff
from tests.cli_support import assert_no_traceback, masthead
from tests.conftest import LiveServer, settings_for
from tests.operators import call_as

SAMPLES = (
    Path(os.environ.get("MASTHEAD_SAMPLES_DIR", Path(__file__).resolve().parents[2] / "shared"))
    / "samples"
    / "migration"
)
"""Beside the checkout, as `../shared/samples/`; elsewhere, `MASTHEAD_SAMPLES_DIR` names the
folder that holds `samples/`."""
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"the migration corpora are not at {SAMPLES}"
)


def _import(
    engine: Engine,
    fmt: str,
    path: Path,
    *,
    dry_run: bool = False,
    create_missing: bool = True,
    include_pages: bool = False,
) -> MigrationReport:
    call = call_as(source=RevisionSource.IMPORT)
    source = open_source(fmt, path, include_pages=include_pages)
    with writing(engine, commit=not dry_run) as connection:
        return import_from(connection, call, source, create_missing=create_missing)


def _writes(engine: Engine) -> int:
    with reading(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(audit_log)).scalar_one())


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = create_engine(sqlite_url)
    migrate_database(engine)
    yield engine
    engine.dispose()


def _export(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


JEKYLL = {
    "_config.yml": "permalink: /blog/:year/:month/:day/:title.html\ntimezone: America/New_York\n",
    "_data/authors.yml": "ada:\n  name: Ada Stone\n  bio: Writes things.\n",
    "_posts/2024-01-02-First-Post.md": """\
        ---
        title: First post
        date: 2024-01-02 01:30:00 +0000
        author: ada
        categories: news updates
        tags: [Big Tag, small]
        redirect_from:
          - /old/First/
        ---
        Hello {{ "/about/" | relative_url }}, the first post here.
        {% raw %}{{ kept }}{% endraw %} {% include x.html %}
        """,
    "_posts/2024-02-03-second.markdown": """\

        ---
        title: Second
        published: false
        author: Someone Else
        description: The dek.
        ---
        Body.
        """,
}


def test_a_jekyll_site_imports_with_its_permalinks_authors_tags_and_drafts(
    engine: Engine, tmp_path: Path
) -> None:
    site = _write(tmp_path, JEKYLL)
    report = _import(engine, "jekyll", site)
    assert report.posts["created"] == 2
    with reading(engine) as connection:
        posts = {post.content.slug: post for post in list_posts(connection)}
        staff = {member.slug: member for member in list_staff(connection)}
        paths = {row.old_path: row.post_id for row in connection.execute(select(path_redirects))}
    first, second = posts["first-post"], posts["second"]
    assert first.content.tags == ("news", "updates", "big-tag", "small")
    assert first.content.authors == ("ada",)
    assert staff["ada"].name == "Ada Stone"
    assert staff["ada"].bio == "Writes things."
    assert staff["someone-else"].name == "Someone Else"
    assert "Hello /about/, the first post here.\n{{ kept }}" in first.content.body
    assert second.status is PostStatus.DRAFT
    assert second.content.dek == "The dek."
    # The URL's date is the site's (New York): 01:30 UTC on the 2nd is the 1st there.
    assert paths["/blog/2024/01/01/First-Post.html"] == first.id
    assert paths["/old/First/"] == first.id
    messages = [warning.message for warning in report.warnings]
    assert any("Liquid left as text" in message for message in messages)
    assert any("first sentences" in message for message in messages)
    before = _writes(engine)
    again = _import(engine, "jekyll", site)
    assert again.posts["unchanged"] == 2
    assert again.redirects_made == 0
    assert _writes(engine) == before


def test_malformed_files_are_path_line_problems_and_nothing_is_written(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    site = _write(
        tmp_path,
        {
            "_posts/2024-01-02-a.md": "---\ntitle: A\ndate: 2026-02-30\n---\nBody.\n",
            "_posts/2024-01-03-b.md": "---\ntitle: [unclosed\n---\nBody.\n",
            "_posts/2024-01-04-c.md": "---\ntitle: C\nauthor: x\n---\nBody.\n",
        },
    )
    with pytest.raises(ImportFailed) as failed:
        _import(sqlite_engine, "jekyll", site)
    shown = [str(problem) for problem in failed.value.problems]
    assert "_posts/2024-01-02-a.md:3: bad date: not a date: '2026-02-30' " in shown[0]
    assert shown[1].startswith("_posts/2024-01-03-b.md:3: malformed YAML")
    assert len(shown) == 2
    with reading(sqlite_engine) as connection:
        assert list_posts(connection) == []


def test_without_create_missing_unknown_authors_and_tags_are_problems(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    site = _write(tmp_path, JEKYLL)
    with pytest.raises(ImportFailed) as failed:
        _import(sqlite_engine, "jekyll", site, create_missing=False)
    assert any("unknown author 'ada'" in str(problem) for problem in failed.value.problems)


HUGO = {
    "post/_index.md": "---\ntitle: Posts\naliases: [/blog/]\n---\n",
    "post/toml-post.md": """\
        +++
        title = "TOML post"
        date = 2020-05-01T10:00:00Z
        tags = ["go", "Static Sites"]
        author = "Jane Roe, Editor"
        aliases = ["old-toml"]
        summary = "A summary."
        +++
        {{< figure src="/img/a.png" alt="An image" >}}
        See {{< ref "other.md" >}} and {{< youtube abc >}}.
        {{< highlight go >}}
        fmt.Println("hi")
        {{< /highlight >}}
        """,
    "post/bundle/index.md": (
        '\n\n{"title": "JSON bundle", "draft": true, "date": "2020-06-01"}\nBody.\n'
    ),
    "post/bundle/notes.md": "---\ntitle: a resource\n---\n",
}


def test_a_hugo_section_imports_toml_json_bundles_aliases_and_shortcodes(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    report = _import(sqlite_engine, "hugo", _write(tmp_path, HUGO) / "post")
    assert report.posts["created"] == 2
    assert {item["path"] for item in report.skipped} == {"_index.md", "bundle/notes.md"}
    with reading(sqlite_engine) as connection:
        posts = {post.content.slug: post for post in list_posts(connection)}
        paths = {row.old_path: row.post_id for row in connection.execute(select(path_redirects))}
    toml, bundle = posts["toml-post"], posts["bundle"]
    assert toml.content.tags == ("go", "static-sites")
    assert toml.content.authors == ("jane-roe",)
    assert toml.content.dek == "A summary."
    assert "![An image](/img/a.png)" in toml.content.body
    assert "See /posts/other/" in toml.content.body
    assert "```go\nfmt.Println" in toml.content.body
    assert bundle.status is PostStatus.DRAFT
    assert paths["/post/old-toml"] == toml.id
    assert paths["/post/toml-post/"] == toml.id
    assert any("youtube" in warning.message for warning in report.warnings)


GHOST = {
    "db": [
        {
            "data": {
                "posts": [
                    {"id": "1", "title": "Hello", "slug": "hello", "type": "post",
                     "status": "published", "visibility": "public",
                     "html": "<p>Hi <a href='https://x.test/'>there</a></p><ul><li>one</li></ul>",
                     "published_at": "2021-01-01T00:00:00.000Z", "custom_excerpt": "Dek.",
                     "feature_image": "https://x.test/i.png"},
                    {"id": "2", "title": "Later", "slug": "later", "type": "post",
                     "status": "scheduled", "html": "<p>Soon</p>", "published_at": None},
                    {"id": "3", "title": "About", "slug": "about", "type": "page",
                     "status": "published", "html": "<p>Page</p>"},
                ],
                "tags": [{"id": "t1", "name": "News", "slug": "news"},
                         {"id": "t2", "name": "Primary", "slug": "primary"},
                         {"id": "t3", "name": "#internal", "slug": "hash-internal"}],
                "users": [{"id": "u1", "name": "Gina Host", "slug": "gina", "bio": "Hosts."}],
                "posts_tags": [{"post_id": "1", "tag_id": "t1", "sort_order": 1},
                               {"post_id": "1", "tag_id": "t2", "sort_order": 0},
                               {"post_id": "1", "tag_id": "t3", "sort_order": 2}],
                "posts_authors": [{"post_id": "1", "author_id": "u1", "sort_order": 0},
                                  {"post_id": "2", "author_id": "u1", "sort_order": 0}],
            }
        }
    ]
}  # fmt: skip


def test_a_ghost_export_imports_statuses_tag_order_and_authors(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    export = tmp_path / "ghost.json"
    export.write_text(json.dumps(GHOST), encoding="utf-8")
    report = _import(sqlite_engine, "ghost", export)
    assert report.posts["created"] == 2
    assert report.skipped[0]["reason"] == "a page, not a post"
    with reading(sqlite_engine) as connection:
        posts = {post.content.slug: post for post in list_posts(connection)}
        staff = {member.slug: member for member in list_staff(connection)}
    assert posts["hello"].content.tags == ("primary", "news")
    assert posts["later"].status is PostStatus.DRAFT
    assert staff["gina"].name == "Gina Host"
    assert staff["gina"].bio == "Hosts."
    assert "[there](https://x.test/)" in posts["hello"].content.body
    assert any("feature image" in warning.message for warning in report.warnings)


WXR = """\
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<wp:author><wp:author_login>wpuser</wp:author_login>
<wp:author_display_name>WP User</wp:author_display_name></wp:author>
<item><title>Classic</title><link>https://old.test/2019/01/02/Classic-Post/</link>
<dc:creator>wpuser</dc:creator>
<content:encoded><![CDATA[First paragraph
with a break.

<!-- wp:paragraph --><p>Second <img src="/a.png" alt="Alt text"></p><!-- /wp:paragraph -->
]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_date_gmt>2019-01-02 10:00:00</wp:post_date_gmt><wp:post_name>classic-post</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<category domain="category" nicename="news"><![CDATA[News]]></category>
<category domain="post_tag" nicename="tips"><![CDATA[Tips]]></category>
</item>
<item><title>Draft</title><dc:creator>wpuser</dc:creator><content:encoded><![CDATA[x]]></content:encoded>
<wp:status>draft</wp:status><wp:post_type>post</wp:post_type></item>
<item><title>A page</title><wp:status>publish</wp:status><wp:post_type>page</wp:post_type></item>
</channel></rss>
"""


def test_a_wordpress_export_imports_posts_with_paragraphs_terms_and_permalinks(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    export = _export(tmp_path / "wp.xml", WXR)
    report = _import(sqlite_engine, "wordpress", export)
    assert report.posts["created"] == 2
    assert report.skipped[0]["reason"] == "a page, not a post"
    with reading(sqlite_engine) as connection:
        posts = {post.content.slug: post for post in list_posts(connection)}
        paths = {row.old_path: row.post_id for row in connection.execute(select(path_redirects))}
    classic = posts["classic-post"]
    assert classic.content.tags == ("news", "tips")
    assert classic.content.authors == ("wpuser",)
    assert "First paragraph  \nwith a break." in classic.content.body
    assert "![Alt text](/a.png)" in classic.content.body
    assert "wp:paragraph" not in classic.content.body
    assert posts["draft"].status is PostStatus.DRAFT
    assert paths["/2019/01/02/Classic-Post/"] == classic.id


WXR_PAGES = """\
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<wp:author><wp:author_login>wpuser</wp:author_login>
<wp:author_display_name>WP User</wp:author_display_name></wp:author>
<item><title>A post</title><link>https://old.test/2019/01/02/a-post/</link>
<dc:creator>wpuser</dc:creator><content:encoded><![CDATA[<p>Post body</p>]]></content:encoded>
<wp:post_date_gmt>2019-01-02 10:00:00</wp:post_date_gmt><wp:post_name>a-post</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>
<item><title>About us</title><link>https://old.test/company/About/</link>
<dc:creator>wpuser</dc:creator><content:encoded><![CDATA[<p>Who we are</p>]]></content:encoded>
<wp:post_date_gmt>2018-05-01 09:00:00</wp:post_date_gmt><wp:post_name>about</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>page</wp:post_type></item>
<item><title>Draft page</title><dc:creator>wpuser</dc:creator>
<content:encoded><![CDATA[<p>Not yet</p>]]></content:encoded><wp:post_name>later</wp:post_name>
<wp:status>draft</wp:status><wp:post_type>page</wp:post_type></item>
<item><title>photo.png</title><link>https://old.test/photo/</link>
<wp:post_name>photo</wp:post_name><wp:status>inherit</wp:status>
<wp:post_type>attachment</wp:post_type></item>
</channel></rss>
"""


def test_include_pages_imports_wordpress_pages_as_posts_and_still_skips_attachments(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    export = _export(tmp_path / "wp.xml", WXR_PAGES)
    dry = _import(sqlite_engine, "wordpress", export, dry_run=True)
    assert dry.posts["created"] == 1
    assert sorted(str(item["reason"]) for item in dry.skipped) == [
        "a page, not a post", "a page, not a post", "an attachment, not a post",
    ]  # fmt: skip
    report = _import(sqlite_engine, "wordpress", export, include_pages=True)
    assert report.posts["created"] == 3
    assert [item["reason"] for item in report.skipped] == ["an attachment, not a post"]
    pages = [w.path for w in report.warnings if w.message == PAGE_AS_POST]
    assert pages == ["wp.xml#item[1]", "wp.xml#item[2]"]
    with reading(sqlite_engine) as connection:
        posts = {post.content.slug: post for post in list_posts(connection)}
        paths = {row.old_path: row.post_id for row in connection.execute(select(path_redirects))}
    assert posts["about"].status is PostStatus.PUBLISHED
    assert posts["about"].content.authors == ("wpuser",)
    assert "Who we are" in posts["about"].content.body
    assert posts["later"].status is PostStatus.DRAFT
    assert paths["/company/About/"] == posts["about"].id
    assert "photo" not in posts
    after = _writes(sqlite_engine)
    again = _import(sqlite_engine, "wordpress", export, include_pages=True)
    assert again.posts["unchanged"] == 3
    assert _writes(sqlite_engine) == after


def test_include_pages_imports_ghost_pages_of_the_posts_and_of_an_older_pages_table(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    data = json.loads(json.dumps(GHOST))
    data["db"][0]["data"]["pages"] = [
        {"id": "9", "title": "Contact", "slug": "contact", "status": "published",
         "html": "<p>Write to us</p>", "published_at": "2020-03-01T00:00:00.000Z"},
    ]  # fmt: skip
    data["db"][0]["data"]["posts_authors"].append({"post_id": "9", "author_id": "u1"})
    export = _export(tmp_path / "ghost.json", json.dumps(data))
    skipped = _import(sqlite_engine, "ghost", export, dry_run=True).skipped
    assert [item["path"] for item in skipped] == ["ghost.json#posts[2]", "ghost.json#pages[0]"]
    report = _import(sqlite_engine, "ghost", export, include_pages=True)
    assert report.posts["created"] == 4
    assert report.skipped == []
    with reading(sqlite_engine) as connection:
        posts = {post.content.slug: post for post in list_posts(connection)}
        paths = {row.old_path: row.post_id for row in connection.execute(select(path_redirects))}
    assert posts["about"].status is PostStatus.PUBLISHED
    assert posts["contact"].content.authors == ("gina",)
    assert paths["/contact/"] == posts["contact"].id
    assert paths["/about/"] == posts["about"].id


def test_include_pages_is_refused_for_formats_without_pages(tmp_path: Path) -> None:
    for fmt in ("jekyll", "hugo", "masthead"):
        with pytest.raises(ImportFailed) as refused:
            open_source(fmt, tmp_path, include_pages=True)
        assert "only ghost or wordpress" in refused.value.problems[0].message


def test_old_paths_redirect_and_an_admin_manages_them(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    _import(sqlite_engine, "jekyll", _write(tmp_path, JEKYLL))
    call = call_as()
    with writing(sqlite_engine) as connection:
        add_path_redirect(connection, call, "https://old.test/Some/Thing.html", "first-post")
        with pytest.raises(InvalidInput):
            add_path_redirect(connection, call, "/posts/second/", "first-post")
        remove_path_redirect(connection, call, "/old/First/")
        listed = {item.old_path: item.location for item in list_redirects(connection, OPERATOR)}
        served = old_addresses(connection)  # what static export writes as redirects
    assert listed["/Some/Thing.html"] == "/posts/first-post/"
    assert "/old/First/" not in listed
    assert served == {path: to for path, to in listed.items() if to != "/posts/second/"}
    url = sqlite_engine.url.render_as_string(hide_password=False)
    with LiveServer(settings_for(url)) as server, server.client() as client:
        moved = client.get("/blog/2024/01/01/First-Post.html")
        assert (moved.status_code, moved.headers["location"]) == (301, "/posts/first-post/")
        assert client.get("/Some/Thing.html").headers["location"] == "/posts/first-post/"
        assert client.get("/old/First/").status_code == 404
        assert client.get("/posts/first-post/").status_code == 200


HTML = """\
<h2>Title</h2><p>Some <strong>bold</strong> text and <a href="https://a.test/x">a link</a>.</p>
<ul><li>one</li><li>two</li></ul><ol><li>first</li></ol>
<p><img src="https://a.test/i.png" alt="An alt"></p>
<pre><code class="language-python">print("hi")
</code></pre>
<table><thead><tr><th>A</th><th>B</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>
"""


def _text_and_links(html: str) -> tuple[list[str], set[str]]:
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    tree = HTMLParser(html)
    words = (tree.body.text(separator=" ") if tree.body else "").split()
    links = {node.attributes.get("href") or "" for node in tree.css("a[href]")}
    links |= {f"{n.attributes.get('src')}|{n.attributes.get('alt') or ''}" for n in tree.css("img")}
    return words, links


def test_html_to_markdown_and_back_keeps_text_links_images_lists_code_and_tables() -> None:
    back = render_markdown(html_to_markdown(HTML)).html
    assert _text_and_links(back) == _text_and_links(HTML)
    for element in ("<ul>", "<ol>", "<table>", "<pre", "<h2"):
        assert element in back


def _sample_bodies() -> list[tuple[str, str, bool]]:
    """(where, HTML, from WordPress) of every Ghost and WordPress sample body."""
    import xml.etree.ElementTree as ET

    bodies = []
    for name in ("ghost/v4_export.json", "ghost/v2_export.json"):
        data = json.loads((SAMPLES / name).read_text(encoding="utf-8"))["db"][0]["data"]
        bodies += [(f"{name} {p['slug']}", p["html"], False) for p in data["posts"] if p["html"]]
    wxr = SAMPLES / "wordpress/themeunittestdata.wordpress.xml"
    for _event, element in ET.iterparse(wxr):
        if element.tag == "{http://purl.org/rss/1.0/modules/content/}encoded" and element.text:
            bodies.append((f"{wxr.name} body", element.text, True))
    return bodies


@needs_samples
def test_sample_bodies_keep_their_text_links_and_images_through_markdown() -> None:
    """HTML → Markdown → HTML of every Ghost and WordPress sample body: every link and
    every image (with its alt text) is kept; the words are the same for nearly all (a
    few lose only the markup of superscripts and the like)."""
    from masthead.content.htmltext import auto_paragraphs

    bodies = _sample_bodies()
    same_words = 0
    for where, html, wordpress in bodies:
        source = auto_paragraphs(html) if wordpress else html
        back = render_markdown(html_to_markdown(html, wordpress=wordpress)).html
        (words, links), (back_words, back_links) = _text_and_links(source), _text_and_links(back)
        assert links - {"", "None|None"} <= back_links, where
        same_words += set(words) == set(back_words)
    assert len(bodies) > 100
    assert same_words >= 0.9 * len(bodies)


SAMPLE_RUNS = [
    ("jekyll", "jekyll/docs", 102, "/news/2013/05/05/jekyll-1-0-0-released/", True),
    ("jekyll", "jekyll-18f", 504, "/2015/05/21/TockingTime/", False),
    ("hugo", "hugo/content/en/news", 172, "/0-20-1/", False),
    ("hugo", "hugo-basic/content/post", 5, "/post/migrate-from-jekyl", True),
    ("hugo", "hugo-letsencrypt/content/en/post", 119, "/2022/05/19/database-to-app-tls.html",
     False),
    ("ghost", "ghost/v4_export.json", 6, "/welcome/", True),
    ("ghost", "ghost/v2_export.json", 7, "/welcome/", False),
    ("ghost", "ghost/migrate-ghost-lexical.json", 3, "/post-3-lexical/", False),
    ("wordpress", "wordpress/themeunittestdata.wordpress.xml", 48,
     "/2018/11/02/block-category-formatting/", False),
    ("wordpress", "wordpress/small-export.xml", 5, None, True),
    ("wordpress", "wordpress/valid-wxr-1.1.xml", 1, None, False),
]  # fmt: skip
"""(format, corpus, published posts at least, an old URL, whether to dry-run it first: one
corpus a format, to keep the suite's cost down)."""


@needs_samples
@pytest.mark.parametrize(("fmt", "corpus", "published", "old_url", "dry_first"), SAMPLE_RUNS)
def test_a_real_site_imports_every_published_post_and_its_old_urls_answer_301(
    sqlite_engine: Engine,
    fmt: str,
    corpus: str,
    published: int,
    old_url: str | None,
    dry_first: bool,
) -> None:
    if dry_first:
        before = _writes(sqlite_engine)
        dry = _import(sqlite_engine, fmt, SAMPLES / corpus, dry_run=True)
        assert _writes(sqlite_engine) == before
        with reading(sqlite_engine) as connection:
            assert list_posts(connection) == []
    report = _import(sqlite_engine, fmt, SAMPLES / corpus)
    if dry_first:
        assert dry.posts == report.posts
    with reading(sqlite_engine) as connection:
        posts = list_posts(connection)
        staff = {member.slug: member for member in list_staff(connection)}
    live = [post for post in posts if post.status is PostStatus.PUBLISHED]
    assert len(live) >= published
    assert all(post.content.authors for post in posts)
    assert all(staff[slug].name for post in posts for slug in post.content.authors)
    after = _writes(sqlite_engine)
    again = _import(sqlite_engine, fmt, SAMPLES / corpus)
    assert again.posts["created"] == again.posts["updated"] == 0
    assert _writes(sqlite_engine) == after
    if old_url is not None:
        url = sqlite_engine.url.render_as_string(hide_password=False)
        with LiveServer(settings_for(url)) as server, server.client() as client:
            moved = client.get(old_url)
            assert moved.status_code == 301, old_url
            assert client.get(moved.headers["location"]).status_code == 200


@needs_samples
def test_the_samples_drafts_stay_drafts_and_authors_and_tags_are_right(
    sqlite_engine: Engine,
) -> None:
    _import(sqlite_engine, "wordpress", SAMPLES / "wordpress/themeunittestdata.wordpress.xml")
    _import(sqlite_engine, "ghost", SAMPLES / "ghost/v4_export.json")
    with reading(sqlite_engine) as connection:
        posts = {post.content.slug: post for post in list_posts(connection)}
        staff = {member.slug: member for member in list_staff(connection)}
    assert posts["draft"].status is PostStatus.DRAFT
    assert posts["scheduled"].status is PostStatus.DRAFT
    assert posts["edge-case-no-title"].content.title
    assert len(posts["edge-case-many-tags"].content.tags) >= 45
    assert staff["themedemos"].name == "Theme Buster"
    assert staff["ghost"].bio
    assert posts["welcome"].content.tags == ("getting-started",)


def test_the_cli_reports_as_json_and_a_dry_run_writes_nothing(
    sqlite_url: str, tmp_path: Path
) -> None:
    site = _write(tmp_path / "site", JEKYLL)
    assert masthead("init", database_url=sqlite_url).returncode == 0
    dry = masthead("import", str(site), "--from", "jekyll", "--create-missing", "--dry-run",
                   "--json", database_url=sqlite_url)  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["posts"]["created"] == 2
    assert json.loads(masthead("posts", "list", "--json", database_url=sqlite_url).stdout) == []
    bad = _write(
        tmp_path / "bad", {"_posts/2024-01-01-x.md": "---\ntitle: X\ndate: 2026-02-30\n---\n"}
    )
    failed = masthead("import", str(bad), "--from", "jekyll", "--json", database_url=sqlite_url)
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["problems"][0]["line"] == 3
    assert "_posts/2024-01-01-x.md:3: bad date" in failed.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"db": [\n  {"data": ', encoding="utf-8")
    not_json = masthead("import", str(broken), "--from", "ghost", database_url=sqlite_url)
    assert not_json.returncode == 1
    assert f"{broken}:2: not a Ghost export" in not_json.stderr
    unknown = masthead("import", str(site), "--from", "blogger", database_url=sqlite_url)
    assert unknown.returncode == 2
    assert "unknown format" in unknown.stderr
    pages = masthead("import", str(site), "--from", "jekyll", "--include-pages",
                     database_url=sqlite_url)  # fmt: skip
    assert pages.returncode == 1
    assert "--include-pages: only ghost or wordpress exports have pages" in pages.stderr
    wxr = tmp_path / "wp.xml"
    wxr.write_text(WXR_PAGES, encoding="utf-8")
    flags = ("--include-pages", "--create-missing", "--dry-run", "--json")
    with_pages = masthead(
        "import", str(wxr), "--from", "wordpress", *flags, database_url=sqlite_url
    )
    assert with_pages.returncode == 0, with_pages.stderr
    assert json.loads(with_pages.stdout)["posts"]["created"] == 3
    listed = masthead("redirects", "list", "--json", database_url=sqlite_url)
    assert listed.returncode == 0
    assert json.loads(listed.stdout) == []
    for result in (dry, failed, not_json, unknown, pages, with_pages, listed):
        assert_no_traceback(result)


@needs_samples
@pytest.mark.parametrize(
    ("fmt", "corpus", "old_url"),
    [
        ("wordpress", "wordpress/themeunittestdata.wordpress.xml", "/level-1/level-2/level-3/"),
        ("ghost", "ghost/v4_export.json", "/contact/"),
    ],
)
def test_a_real_export_with_include_pages_imports_its_pages_and_their_old_urls_answer_301(
    sqlite_engine: Engine, fmt: str, corpus: str, old_url: str
) -> None:
    without = _import(sqlite_engine, fmt, SAMPLES / corpus, dry_run=True)
    pages = [item for item in without.skipped if item["reason"] == "a page, not a post"]
    assert pages
    report = _import(sqlite_engine, fmt, SAMPLES / corpus, include_pages=True)
    assert report.posts["created"] == without.posts["created"] + len(pages)
    assert not [item for item in report.skipped if item["reason"] == "a page, not a post"]
    assert len([w for w in report.warnings if w.message == PAGE_AS_POST]) == len(pages)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    with LiveServer(settings_for(url)) as server, server.client() as client:
        moved = client.get(old_url)
        assert moved.status_code == 301, old_url
        assert client.get(moved.headers["location"]).status_code == 200
