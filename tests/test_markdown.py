"""Markdown rendering: CommonMark + GFM, highlighted code, heading ids, word counts."""

from __future__ import annotations

from pathlib import Path

import cmarkgfm
from cmarkgfm.cmark import Options
from selectolax.lexbor import LexborHTMLParser

from masthead.content.markdown import gfm_to_html, render_markdown
from masthead.content.sanitize import sanitize_html

DEMO_POSTS = Path(__file__).resolve().parent.parent / "masthead" / "demo" / "content" / "posts"


def _tree(source: str) -> LexborHTMLParser:
    return LexborHTMLParser(render_markdown(source).html)


def test_our_cmark_gfm_calls_render_what_cmarkgfms_wrapper_renders() -> None:
    """Same library, options and extensions as the wrapper: only the freeing differs.

    The wrapper leaks, so it renders only these few bodies here.
    """
    sources = [path.read_text(encoding="utf-8") for path in sorted(DEMO_POSTS.glob("*.md"))]
    sources.append("- [x] done\n\n<h2 id=x>raw</h2> <input> www.example.com ~~s~~ | a |\n|-|\n")
    for source in sources:
        wrapped = cmarkgfm.github_flavored_markdown_to_html(
            source, options=Options.CMARK_OPT_UNSAFE
        )
        assert gfm_to_html(source) == wrapped


def test_gfm_tables_render_as_tables() -> None:
    tree = _tree("| a | b |\n|---|:-:|\n| 1 | 2 |\n")
    assert [cell.text() for cell in tree.css("th")] == ["a", "b"]
    assert [cell.text() for cell in tree.css("td")] == ["1", "2"]


def test_strikethrough_and_autolinks() -> None:
    tree = _tree("~~gone~~ and www.example.com and https://example.org/x\n")
    assert tree.css_first("del").text() == "gone"
    hrefs = [link.attributes["href"] for link in tree.css("a")]
    assert hrefs == ["http://www.example.com", "https://example.org/x"]


def _task_markers(tree: LexborHTMLParser) -> list[tuple[str | None, str | None, str]]:
    return [
        (marker.attributes.get("role"), marker.attributes.get("aria-label"), marker.text())
        for marker in tree.css("li span.task")
    ]


def test_task_lists_show_done_and_not_done_as_named_markers() -> None:
    tree = _tree("- [x] done\n- [ ] open\n\n1. [X] loose\n\n2. [ ] items\n")
    assert tree.css("input") == []
    done, not_done = ("img", "done", "☑"), ("img", "not done", "☐")
    assert _task_markers(tree) == [done, not_done, done, not_done]
    assert [item.text().strip() for item in tree.css("li")] == [
        "☑ done",
        "☐ open",
        "☑ loose",
        "☐ items",
    ]
    assert len(tree.css("li > p > span.task")) == 2, "a loose item's marker opens its text"


def test_fenced_code_is_highlighted_with_its_language() -> None:
    tree = _tree("```python\ndef greet():\n    return 'hi'\n```\n")
    code = tree.css_first("pre.code code.language-python")
    assert code is not None
    assert code.css_first("span.k") is not None
    assert code.text() == "def greet():\n    return 'hi'\n"


def test_unknown_languages_stay_plain_and_escaped() -> None:
    tree = _tree("```nolanguage\n<b>x</b> & y\n```\n")
    code = tree.css_first("pre.code code")
    assert code.text() == "<b>x</b> & y\n"
    assert code.css_first("b") is None


def test_headings_get_unique_ids() -> None:
    tree = _tree("# Intro\n\n## Set-up steps\n\n## Set-up steps\n\n### Ünïcode heading\n")
    ids = [node.attributes["id"] for node in tree.css("h1, h2, h3")]
    assert ids == ["h-intro", "h-set-up-steps", "h-set-up-steps-2", "h-unicode-heading"]


def test_heading_ids_never_take_the_pages_own_ids() -> None:
    """`site-main` is the page's `<main>` (the skip link's target): no heading may take it."""
    source = (
        '# Site main\n\n## site-main\n\n<h2 id="site-main">Raw</h2>\n\n'
        "<H3 ID=site-main>Shouting</H3>\n\n<h4 class=x\nid='site-main'>Two lines</h4>\n\n"
        '<h2 id="h-intro">Taken early</h2>\n\n# Intro\n'
    )
    ids = [node.attributes.get("id") for node in _tree(source).css("h1, h2, h3, h4")]
    assert ids == [
        "h-site-main",
        "h-site-main-2",
        "h-raw",
        "h-shouting",
        "h-two-lines",
        "h-taken-early",
        "h-intro",
    ]


def test_the_sanitiser_keeps_only_prefixed_heading_ids() -> None:
    cleaned = sanitize_html('<h2 id="site-main">a</h2><h2 id="h-b">b</h2><p id="h-c">c</p>')
    assert cleaned == '<h2>a</h2><h2 id="h-b">b</h2><p>c</p>'


def test_long_repeated_headings_keep_their_ids_through_the_sanitiser() -> None:
    title = " ".join(["longword"] * 12)
    rendered = render_markdown(f"## {title}\n\n## {title}\n").html
    ids = [node.attributes["id"] for node in LexborHTMLParser(rendered).css("h2")]
    slug = "-".join(["longword"] * 8)
    assert ids == [f"h-{slug}", f"h-{slug}-2"]
    assert sanitize_html(rendered) == rendered


def test_reading_time_counts_code_words_but_not_markup() -> None:
    prose = " ".join(["word"] * 200)
    code = "\n".join(["token"] * 40)
    rendered = render_markdown(f"**{prose}**\n\n```text\n{code}\n```\n")
    assert rendered.word_count == 240
    assert rendered.reading_time == 2


def test_an_empty_body_reads_in_one_minute() -> None:
    rendered = render_markdown("")
    assert (rendered.html, rendered.word_count, rendered.reading_time) == ("", 0, 1)


def test_links_open_safely_and_keep_relative_targets() -> None:
    tree = _tree("[other post](/posts/other/) and [site](https://example.org/)")
    links = tree.css("a")
    assert [link.attributes["href"] for link in links] == ["/posts/other/", "https://example.org/"]
    assert all("noopener" in (link.attributes.get("rel") or "") for link in links)
