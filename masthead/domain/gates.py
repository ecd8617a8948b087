"""Gates: what a post must pass before it goes live, as pure functions over plain facts.

Each gate has a stable code an agent can act on, a message, where the problem is (a
field, and a line of the body where it applies), and a severity a site chooses: `block`
stops a publish, `warn` is reported and lets it through. `GATES` is the table of every
code with its default severity; docs/publishing.md shows the same table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any

from masthead.domain.staff import StaffKind

__all__ = [
    "BODY_MIN_WORDS",
    "DEK_MAX",
    "GATES",
    "TITLE_MAX",
    "Approval",
    "Gate",
    "GateResult",
    "LinkTarget",
    "Severity",
    "Subject",
    "Surroundings",
    "blocking",
    "internal_links",
    "run_gates",
]

TITLE_MAX = 100
DEK_MAX = 300
BODY_MIN_WORDS = 50
INTERNAL_PREFIXES = ("/posts/", "/tag/", "/author/")


class Severity(StrEnum):
    BLOCK = "block"
    WARN = "warn"


@dataclass(frozen=True)
class Gate:
    code: str
    severity: Severity  # the default; a site may choose the other
    meaning: str


GATES: tuple[Gate, ...] = (
    Gate("missing_title", Severity.BLOCK, "the post has no title"),
    Gate("title_too_long", Severity.WARN, f"the title is longer than {TITLE_MAX} characters"),
    Gate("missing_dek", Severity.WARN, "the post has no dek, the summary under its title"),
    Gate("dek_too_long", Severity.WARN, f"the dek is longer than {DEK_MAX} characters"),
    Gate("no_tags", Severity.WARN, "the post has no tag, so it is on no tag page"),
    Gate("unknown_tag", Severity.BLOCK, "a tag the site does not have"),
    Gate("no_author", Severity.BLOCK, "the post has no author"),
    Gate("body_too_short", Severity.WARN, f"the body has fewer than {BODY_MIN_WORDS} words"),
    Gate(
        "placeholder_text",
        Severity.BLOCK,
        "the text holds a placeholder: TODO, TK, XXX, lorem ipsum, [citation needed]",
    ),
    Gate(
        "broken_internal_link",
        Severity.BLOCK,
        "a link to a post, tag or author page that is not published (a post scheduled to go "
        "live later is a warning)",
    ),
    Gate("image_missing_alt", Severity.BLOCK, "an image has no alt text"),
    Gate("unsafe_html_removed", Severity.WARN, "the sanitiser removed markup from the body"),
    Gate("slug_taken", Severity.BLOCK, "the slug belongs to another post"),
    Gate("render_failed", Severity.BLOCK, "the body could not be rendered"),
    Gate(
        "not_approved",
        Severity.WARN,
        "no editor approved this revision; when blocking, a post any agent wrote needs a "
        "person's approval",
    ),
)
_DEFAULTS = {gate.code: gate.severity for gate in GATES}


@dataclass(frozen=True)
class GateResult:
    code: str
    severity: Severity
    message: str
    field: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "field": self.field,
            "line": self.line,
        }


@dataclass(frozen=True)
class Subject:
    """The post's working copy, as the gates see it."""

    slug: str
    title: str
    dek: str
    body: str  # the Markdown source
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    revision: int
    body_html: str | None  # None when rendering failed
    word_count: int = 0
    render_error: str | None = None
    removed_markup: tuple[str, ...] = ()  # what the sanitiser took out, e.g. ("script",)


@dataclass(frozen=True)
class LinkTarget:
    live: bool
    scheduled_for: datetime | None = None


@dataclass(frozen=True)
class Approval:
    staff: str
    kind: StaffKind
    revision: int
    at: datetime


@dataclass(frozen=True)
class Surroundings:
    """What the gates need to know of the rest of the site."""

    known_tags: frozenset[str]
    author_kinds: Mapping[str, StaffKind]
    slug_owner: int | None = None  # another post that holds the slug
    links: Mapping[str, LinkTarget] = field(default_factory=dict)  # by internal path
    approval: Approval | None = None
    site_url: str = ""  # the public base URL: absolute links under it are the site's own


def blocking(results: Iterable[GateResult]) -> list[GateResult]:
    return [result for result in results if result.severity is Severity.BLOCK]


def run_gates(
    subject: Subject, around: Surroundings, severities: Mapping[str, Severity] | None = None
) -> list[GateResult]:
    """Every gate's results for this post, in the table's order."""
    chosen = {**_DEFAULTS, **(severities or {})}
    found: list[GateResult] = []
    for check in _CHECKS:
        found += check(subject, around, chosen)
    return found


# --- the checks ------------------------------------------------------------------------

Chosen = Mapping[str, Severity]


def _result(chosen: Chosen, code: str, message: str, **where: Any) -> GateResult:
    return GateResult(code, chosen[code], message, **where)


def _title(subject: Subject, _around: Surroundings, chosen: Chosen) -> Iterator[GateResult]:
    title = subject.title.strip()
    if not title:
        yield _result(chosen, "missing_title", "give the post a title", field="title")
    elif len(title) > TITLE_MAX:
        message = f"the title has {len(title)} characters; keep it to {TITLE_MAX}"
        yield _result(chosen, "title_too_long", message, field="title")


def _dek(subject: Subject, _around: Surroundings, chosen: Chosen) -> Iterator[GateResult]:
    dek = subject.dek.strip()
    if not dek:
        message = "write a dek: one or two sentences on what the post says"
        yield _result(chosen, "missing_dek", message, field="dek")
    elif len(dek) > DEK_MAX:
        message = f"the dek has {len(dek)} characters; keep it to {DEK_MAX}"
        yield _result(chosen, "dek_too_long", message, field="dek")


def _tags(subject: Subject, around: Surroundings, chosen: Chosen) -> Iterator[GateResult]:
    if not subject.tags:
        yield _result(chosen, "no_tags", "give the post at least one tag", field="tags")
    for tag in subject.tags:
        if tag not in around.known_tags:
            yield _result(chosen, "unknown_tag", f"there is no tag {tag!r}", field="tags")


def _authors(subject: Subject, _around: Surroundings, chosen: Chosen) -> Iterator[GateResult]:
    if not subject.authors:
        yield _result(chosen, "no_author", "name at least one author", field="authors")


def _body(subject: Subject, _around: Surroundings, chosen: Chosen) -> Iterator[GateResult]:
    if subject.body_html is None:
        reason = subject.render_error or "the renderer failed"
        yield _result(chosen, "render_failed", f"the body could not be rendered: {reason}")
        return
    if subject.word_count < BODY_MIN_WORDS:
        message = f"the body has {subject.word_count} words; write at least {BODY_MIN_WORDS}"
        yield _result(chosen, "body_too_short", message, field="body")
    for removed in subject.removed_markup:
        message = f"the sanitiser removed {removed} from the body; it will not be shown"
        yield _result(chosen, "unsafe_html_removed", message, field="body")


_PLACEHOLDERS = re.compile(
    r"\bTODO\b|\bTK\b|\bXXX\b|\blorem ipsum\b|\[citation needed\]", re.IGNORECASE
)
_CASE_MATTERS = {"tk", "xxx"}  # "tk" and "xxx" in lower case are ordinary text


def _placeholders(subject: Subject, _around: Surroundings, chosen: Chosen) -> Iterator[GateResult]:
    for name in ("title", "dek"):
        for match in _placeholder_matches(getattr(subject, name)):
            message = f"the {name} holds the placeholder {match!r}"
            yield _result(chosen, "placeholder_text", message, field=name)
    for number, line in _prose_lines(subject.body):
        for match in _placeholder_matches(line):
            message = f"line {number} holds the placeholder {match!r}"
            yield _result(chosen, "placeholder_text", message, field="body", line=number)


def _placeholder_matches(text: str) -> list[str]:
    found = []
    for match in _PLACEHOLDERS.finditer(_without_inline_code(text)):
        word = match.group(0)
        if word.lower() in _CASE_MATTERS and not word.isupper():
            continue
        found.append(word)
    return found


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+\1")


def _prose_lines(body: str) -> Iterator[tuple[int, str]]:
    """The body's lines outside fenced code, numbered from 1 (code may say TODO)."""
    fence: str | None = None
    for number, line in enumerate(body.splitlines(), start=1):
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)[0]
        elif fence is not None and opened and opened.group(1)[0] == fence:
            fence = None
        elif fence is None:
            yield number, line


def _without_inline_code(line: str) -> str:
    return _INLINE_CODE.sub(" ", line)


def _links(subject: Subject, around: Surroundings, chosen: Chosen) -> Iterator[GateResult]:
    if subject.body_html is None:
        return
    for path in internal_links(subject.body_html, around.site_url):
        target = around.links.get(path, LinkTarget(live=False))
        if target.live:
            continue
        line = _line_of(subject.body, path)
        if target.scheduled_for is not None:
            when = target.scheduled_for.isoformat()
            message = f"{path} is scheduled to go live at {when}; until then the link is broken"
            yield GateResult("broken_internal_link", Severity.WARN, message, "body", line)
        else:
            message = f"{path} is not a published page"
            yield _result(chosen, "broken_internal_link", message, field="body", line=line)


def _images(subject: Subject, _around: Surroundings, chosen: Chosen) -> Iterator[GateResult]:
    if subject.body_html is None:
        return
    for source in _images_without_alt(subject.body_html):
        message = f"the image {source} has no alt text: describe it for readers who cannot see it"
        line = _line_of(subject.body, source)
        yield _result(chosen, "image_missing_alt", message, field="body", line=line)


def _slug(subject: Subject, around: Surroundings, chosen: Chosen) -> Iterator[GateResult]:
    if around.slug_owner is not None:
        message = f"the slug {subject.slug!r} belongs to post {around.slug_owner}"
        yield _result(chosen, "slug_taken", message, field="slug")


def _approval(subject: Subject, around: Surroundings, chosen: Chosen) -> Iterator[GateResult]:
    """When blocking, what an agent wrote needs a person's approval of this very revision;
    a post only people wrote is then only warned about."""
    approval = around.approval
    current = approval is not None and approval.revision == subject.revision
    by_agent = any(around.author_kinds.get(a) is StaffKind.AGENT for a in subject.authors)
    if chosen["not_approved"] is Severity.BLOCK and by_agent:
        if not (current and approval is not None and approval.kind is StaffKind.PERSON):
            message = f"an agent wrote this post: a person must approve revision {subject.revision}"
            yield _result(chosen, "not_approved", message)
        return
    if not current:
        message = f"no one approved revision {subject.revision}"
        yield GateResult("not_approved", Severity.WARN, message)


_CHECKS = (
    _title,
    _dek,
    _tags,
    _authors,
    _body,
    _placeholders,
    _links,
    _images,
    _slug,
    _approval,
)


# --- reading the rendered body -----------------------------------------------------------


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.images: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and "href" in values:
            self.hrefs.append(values["href"])
        elif tag == "img":
            self.images.append((values.get("src", ""), values.get("alt", "")))


def _parsed(body_html: str) -> _Anchors:
    parser = _Anchors()
    parser.feed(body_html)
    parser.close()
    return parser


def internal_links(body_html: str, site_url: str = "") -> list[str]:
    """The paths of the site's own post, tag and author pages that a body links to,
    each once, in order: relative ones, and absolute ones under `site_url` (a
    `#fragment` or `?query` dropped)."""
    found: list[str] = []
    for href in _parsed(body_html).hrefs:
        if site_url and href.startswith(site_url):
            href = href[len(site_url) :]
        path = href.split("#", 1)[0].split("?", 1)[0]
        if path.startswith(INTERNAL_PREFIXES) and path not in found:
            found.append(path if path.endswith("/") or "." in path else f"{path}/")
    return found


def _images_without_alt(body_html: str) -> list[str]:
    return [source for source, alt in _parsed(body_html).images if not alt.strip()]


def _line_of(body: str, needle: str) -> int | None:
    for number, line in enumerate(body.splitlines(), start=1):
        if needle.rstrip("/") in line:
            return number
    return None
