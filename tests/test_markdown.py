"""Markdown rendering: CommonMark + GFM, highlighted code, heading ids, word counts."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from masthead.content.markdown import render_markdown


def _tree(source: str) -> LexborHTMLParser:
    return LexborHTMLParser(render_markdown(source).html)


def test_gfm_tables_render_as_tables() -> None:
    tree = _tree("| a | b |\n|---|:-:|\n| 1 | 2 |\n")
    assert [cell.text() for cell in tree.css("th")] == ["a", "b"]
    assert [cell.text() for cell in tree.css("td")] == ["1", "2"]


def test_strikethrough_autolinks_and_task_lists() -> None:
    tree = _tree("~~gone~~ and www.example.com\n\n- [x] done\n- [ ] open\n")
    assert tree.css_first("del").text() == "gone"
    assert tree.css_first("a").attributes["href"] == "http://www.example.com"
    boxes = tree.css("input")
    assert [box.attributes.get("type") for box in boxes] == ["checkbox", "checkbox"]
    assert "checked" in boxes[0].attributes
    assert "checked" not in boxes[1].attributes


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
    assert ids == ["intro", "set-up-steps", "set-up-steps-2", "unicode-heading"]


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
