"""HTML of another platform (Ghost, WordPress) as Markdown: text, links, images with their
alt text, lists, code blocks and tables kept; WordPress's block comments dropped and its
auto-paragraphs (`wpautop`: blank lines are paragraphs) applied first."""

from __future__ import annotations

import re

from markdownify import markdownify

__all__ = ["auto_paragraphs", "html_to_markdown"]

_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:.*?-->", re.S)
_BLOCK_START = re.compile(
    r"^\s*</?(p|div|h[1-6]|ul|ol|li|pre|blockquote|table|thead|tbody|tr|td|th|figure|"
    r"figcaption|hr|dl|dt|dd|section|iframe|form|address|style|script)\b",
    re.I,
)
_PRE = re.compile(r"(<pre\b.*?</pre>)", re.S | re.I)


def auto_paragraphs(html: str) -> str:
    """WordPress's rule for classic content: text separated by a blank line is a paragraph,
    a single newline a line break; block elements and `<pre>` are left alone."""
    pieces = _PRE.split(html.replace("\r\n", "\n"))
    out: list[str] = []
    for index, piece in enumerate(pieces):
        if index % 2:
            out.append(piece)
            continue
        for chunk in re.split(r"\n\s*\n", piece):
            text = chunk.strip("\n")
            if not text.strip():
                continue
            if _BLOCK_START.match(text):
                out.append(text)
            else:
                out.append("<p>" + text.replace("\n", "<br />\n") + "</p>")
    return "\n\n".join(out)


def html_to_markdown(html: str, *, wordpress: bool = False) -> str:
    if wordpress:
        html = _BLOCK_COMMENT.sub("", html)
        html = auto_paragraphs(html)
    markdown = markdownify(
        html,
        heading_style="ATX",
        bullets="-",
        code_language_callback=_language,
        strip=["script", "style"],
        escape_underscores=False,
    )
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"


def _language(element: object) -> str | None:
    classes = getattr(element, "get", lambda _key, _default=None: None)("class", None) or []
    for name in classes:
        if name.startswith(("language-", "lang-")):
            return str(name.split("-", 1)[1])
    return None
