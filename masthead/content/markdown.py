"""Markdown (CommonMark + GFM) to sanitised HTML, with highlighted code and heading ids.

The renderer is cmark-gfm (through `cmarkgfm`), GitHub's own GFM implementation. On the
bench corpus (`make bench`, docs/benchmarks.md) pyromark renders about 7x faster and
markdown-it-py about 28x slower; we keep cmark-gfm because pyromark turns no bare URLs
into links (a GFM extension we promise) and cmark-gfm is only ~7 % of this pipeline's
time (Pygments and the sanitiser dominate). Bodies are rendered on save, not per view.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import cmarkgfm
from cmarkgfm.cmark import Options
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from masthead.content.sanitize import sanitize_html
from masthead.domain.reading import count_words, reading_minutes
from masthead.domain.slugs import slugify, unique_slug

__all__ = ["RenderedBody", "html_to_text", "render_markdown"]

_CODE_BLOCK = re.compile(r'<pre lang="([^"]*)"><code>(.*?)</code></pre>', re.DOTALL)
_HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_FORMATTER = HtmlFormatter(nowrap=True)


@dataclass(frozen=True)
class RenderedBody:
    html: str
    word_count: int
    reading_time: int


def render_markdown(source: str) -> RenderedBody:
    """Render, highlight, give headings ids, sanitise; then count the words shown."""
    raw = cmarkgfm.github_flavored_markdown_to_html(source, options=Options.CMARK_OPT_UNSAFE)
    safe = sanitize_html(_add_heading_ids(_highlight_code(raw)))
    words = count_words(html_to_text(safe))
    return RenderedBody(html=safe, word_count=words, reading_time=reading_minutes(words))


def html_to_text(fragment: str) -> str:
    """The text a reader sees: tags dropped (as spaces), entities decoded."""
    return html.unescape(_TAG.sub(" ", fragment))


def _highlight_code(rendered: str) -> str:
    return _CODE_BLOCK.sub(_highlight_block, rendered)


def _highlight_block(match: re.Match[str]) -> str:
    language = match.group(1).split()[0].lower() if match.group(1).strip() else ""
    code = html.unescape(match.group(2))
    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        return f'<pre class="code"><code>{html.escape(code, quote=False)}</code></pre>'
    language_class = slugify(language, fallback="text")
    body = highlight(code, lexer, _FORMATTER)
    return f'<pre class="code"><code class="language-{language_class}">{body}</code></pre>'


def _add_heading_ids(rendered: str) -> str:
    taken: set[str] = set()

    def add_id(match: re.Match[str]) -> str:
        level, inner = match.group(1), match.group(2)
        anchor = unique_slug(slugify(html_to_text(inner), fallback="section"), taken)
        taken.add(anchor)
        return f'<h{level} id="{anchor}">{inner}</h{level}>'

    return _HEADING.sub(add_id, rendered)
