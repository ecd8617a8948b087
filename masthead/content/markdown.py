"""Markdown (CommonMark + GFM) to sanitised HTML, with highlighted code and heading ids.

The renderer is cmark-gfm, GitHub's own GFM implementation, from the library that
`cmarkgfm` compiles; but we call its C API ourselves (`_CmarkGfm`) rather than through
`cmarkgfm.github_flavored_markdown_to_html`. That wrapper frees the parser and never the
document `cmark_parser_finish` hands over nor the string `cmark_render_html` returns, and
cmarkgfm's cffi `lib` declares neither `cmark_node_free` nor the allocator's `free`, so no
caller of cmarkgfm can free them: a render of a 400 KB body kept 2–17 MB for good, by
its markup. Here each of the three is freed, always, and the output is the same byte for
byte (docs/benchmarks.md has the figures; tests/test_markdown_memory.py holds the line).

cmark-gfm over the other renderers measured (docs/benchmarks.md): pyromark is faster but
turns no bare URLs into links (a GFM extension we promise); markdown-it-py and mistune,
pure Python, free their memory but are 20–40x slower or more, and mistune links no
`www.` addresses. The renderer is a small share of this pipeline's time anyway (Pygments and the
sanitiser dominate), and bodies are rendered on save, not per view.

Two of cmark-gfm's outputs are rewritten: a task-list item's `<input type="checkbox">`
becomes a static marker that screen readers name ("done", "not done"), so the sanitiser
allows no `<input>` at all; and heading ids carry `HEADING_ID_PREFIX`, so a heading can
never take an id the page itself uses (such as the skip link's target).
"""

from __future__ import annotations

import functools
import html
import re
import threading
from dataclasses import dataclass
from typing import Any, cast

import cmarkgfm
from cffi import FFI
from cmarkgfm.cmark import Options
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from masthead.content.sanitize import HEADING_ID_PREFIX, removed_parts, sanitize_html
from masthead.domain.reading import count_words, reading_minutes
from masthead.domain.slugs import slugify, unique_slug

__all__ = ["RenderedBody", "gfm_to_html", "html_to_text", "inspect_markdown", "render_markdown"]

_CODE_BLOCK = re.compile(r'<pre lang="([^"]*)"><code>(.*?)</code></pre>', re.DOTALL)
# A heading as the sanitiser writes it: `<hN>` or `<hN id="…">`, never nested.
_HEADING = re.compile(r'<h([1-6])(?: id="[^"]*")?>(.*?)</h\1>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_FORMATTER = HtmlFormatter(nowrap=True)
# cmark-gfm's task-list checkbox; a loose item's text follows in a paragraph.
_TASK_BOX = re.compile(r'<li><input type="checkbox" (checked="" )?disabled="" /> (\n<p>)?')
_TASK_DONE = '<span class="task task-done" role="img" aria-label="done">☑</span>'
_TASK_OPEN = '<span class="task task-open" role="img" aria-label="not done">☐</span>'

_GFM_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG
_GFM_EXTENSIONS = ("table", "autolink", "tagfilter", "strikethrough", "tasklist")
_CMARK_API = """
typedef struct cmark_node cmark_node;
typedef struct cmark_parser cmark_parser;
typedef struct cmark_llist cmark_llist;
typedef struct cmark_syntax_extension cmark_syntax_extension;
typedef struct cmark_mem {
  void *(*calloc)(size_t, size_t);
  void *(*realloc)(void *, size_t);
  void (*free)(void *);
} cmark_mem;
cmark_mem *cmark_get_default_mem_allocator(void);
void cmark_gfm_core_extensions_ensure_registered(void);
cmark_syntax_extension *cmark_find_syntax_extension(const char *name);
cmark_parser *cmark_parser_new(int options);
int cmark_parser_attach_syntax_extension(cmark_parser *parser, cmark_syntax_extension *ext);
void cmark_parser_feed(cmark_parser *parser, const char *buffer, size_t len);
cmark_node *cmark_parser_finish(cmark_parser *parser);
cmark_llist *cmark_parser_get_syntax_extensions(cmark_parser *parser);
char *cmark_render_html(cmark_node *root, int options, cmark_llist *extensions);
void cmark_node_free(cmark_node *node);
void cmark_parser_free(cmark_parser *parser);
"""
_OPENING = threading.Lock()


@dataclass(frozen=True)
class RenderedBody:
    html: str
    word_count: int
    reading_time: int


@dataclass(frozen=True)
class _CmarkGfm:
    """cmark-gfm's C API with the GFM extensions looked up; every render frees its memory.

    cffi builds the C functions at run time, so `lib` and `free` have no static types.
    """

    ffi: FFI
    lib: Any
    extensions: tuple[FFI.CData, ...]
    free: Any

    def to_html(self, source: str) -> str:
        data = source.encode()
        lib = self.lib
        parser = lib.cmark_parser_new(_GFM_OPTIONS)
        try:
            for extension in self.extensions:
                lib.cmark_parser_attach_syntax_extension(parser, extension)
            lib.cmark_parser_feed(parser, data, len(data))
            document = lib.cmark_parser_finish(parser)
            try:
                return self._render(document, lib.cmark_parser_get_syntax_extensions(parser))
            finally:
                lib.cmark_node_free(document)
        finally:
            lib.cmark_parser_free(parser)

    def _render(self, document: FFI.CData, extensions: FFI.CData) -> str:
        rendered = self.lib.cmark_render_html(document, _GFM_OPTIONS, extensions)
        try:
            return cast(bytes, self.ffi.string(rendered)).decode()  # a char *: bytes
        finally:
            self.free(rendered)


@functools.cache
def _open_cmark_gfm() -> _CmarkGfm:
    """The library cmarkgfm compiled, opened again (the same, already loaded copy)."""
    ffi = FFI()
    ffi.cdef(_CMARK_API)
    lib: Any = ffi.dlopen(cmarkgfm._cmark.__file__)
    lib.cmark_gfm_core_extensions_ensure_registered()
    extensions = tuple(lib.cmark_find_syntax_extension(name.encode()) for name in _GFM_EXTENSIONS)
    if ffi.NULL in extensions:
        raise RuntimeError(f"cmark-gfm lacks one of the extensions {_GFM_EXTENSIONS}")
    return _CmarkGfm(ffi, lib, extensions, lib.cmark_get_default_mem_allocator().free)


def gfm_to_html(source: str) -> str:
    """CommonMark + GFM to HTML, raw HTML kept and nothing sanitised: cmark-gfm's output."""
    with _OPENING:
        cmark_gfm = _open_cmark_gfm()
    return cmark_gfm.to_html(source)


def render_markdown(source: str) -> RenderedBody:
    """Render, highlight, mark tasks, sanitise, give headings ids; then count the words shown.

    Heading ids come after the sanitiser, which writes every heading one way, so any
    heading (a raw `<H2 ID=x>` too) gets an id of ours, and ours only. The sanitiser
    keeps such ids as they are: the result is still a fixed point of `sanitize_html`.
    """
    return _finish(_unsanitised(source))


def inspect_markdown(source: str) -> tuple[RenderedBody, tuple[str, ...]]:
    """The rendered body, and what the sanitiser removed from it (for the gates)."""
    unsanitised = _unsanitised(source)
    return _finish(unsanitised), removed_parts(unsanitised)


@functools.lru_cache(maxsize=8)
def _unsanitised(source: str) -> str:
    """Pure, and kept for the last few sources: a post rendered when it is saved is
    rendered again by the gates that check it (an import does both for each post)."""
    return _mark_tasks(_highlight_code(gfm_to_html(source)))


@functools.lru_cache(maxsize=8)
def _finish(unsanitised: str) -> RenderedBody:
    safe = _add_heading_ids(sanitize_html(unsanitised))
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


def _mark_tasks(rendered: str) -> str:
    return _TASK_BOX.sub(_task_marker, rendered)


def _task_marker(match: re.Match[str]) -> str:
    marker = _TASK_DONE if match.group(1) else _TASK_OPEN
    return f"<li>{match.group(2) or ''}{marker} "


def _add_heading_ids(sanitised: str) -> str:
    taken: set[str] = set()

    def add_id(match: re.Match[str]) -> str:
        level, inner = match.group(1), match.group(2)
        slug = unique_slug(slugify(html_to_text(inner), fallback="section"), taken)
        taken.add(slug)
        return f'<h{level} id="{HEADING_ID_PREFIX}{slug}">{inner}</h{level}>'

    return _HEADING.sub(add_id, sanitised)
