"""What every reader of another platform's files shares (Jekyll, Hugo, Ghost, WordPress).

A reader turns a site or an export into the same `PostRecord`s the Masthead format gives,
plus the people and tags it names (with their names), what it skipped and why, and
warnings. Readers are pure: they read files and return records, and may be iterated
again (each pass reads the files afresh, so a large site is never held in memory).
Fatal are only what would lose data: an unparsable date, an unreadable file, two posts
with the same slug given explicitly; everything else is a warning in the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from masthead.content.bundle import PostRecord
from masthead.content.frontmatter import FrontMatterError, YamlDocument
from masthead.content.sitefiles import SiteFile, read_site_file, read_text
from masthead.domain.posts import PostContent, PostStatus
from masthead.domain.slugs import MAX_SLUG_LENGTH, slugify
from masthead.domain.text import MAX_NAME, MAX_TITLE, first_control_character
from masthead.errors import ImportProblem

__all__ = [
    "PAGE_AS_POST",
    "Entry",
    "Person",
    "PostDraft",
    "Source",
    "SourceError",
    "first_sentences",
    "open_entry_file",
    "parse_loose_date",
    "site_zone",
    "slug_list",
    "text_of",
]

MAX_DEK = 400
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


PAGE_AS_POST = "a page: imported as a post (--include-pages)"
"""The warning on each page a source imports as a post when asked to."""


class SourceError(ValueError):
    """A source that cannot be read at all (not a folder, not JSON, not WXR)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


@dataclass(frozen=True)
class Person:
    slug: str
    name: str
    bio: str = ""


@dataclass
class Entry:
    """One post of the source (or one thing skipped), read on its own."""

    path: str
    line: int = 1
    record: PostRecord | None = None
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    skipped: str | None = None
    """Why it is not imported (a page, an attachment…); None for a post."""
    tag_names: dict[str, str] = field(default_factory=dict)
    """The tags' names as the source writes them, by slug."""
    author_names: dict[str, str] = field(default_factory=dict)
    """Authors named by the post itself (not in the source's list of people), by slug."""


class Source(Protocol):
    """A site or an export: its people and tags by slug, and its entries, in a fixed order."""

    format: str

    def people(self) -> dict[str, Person]: ...

    def tag_names(self) -> dict[str, str]: ...

    def entries(self) -> Iterator[Entry]: ...


@dataclass
class PostDraft:
    """A post as a reader gathers it, before it becomes a record (checked here, once)."""

    path: str
    line: int
    title: str
    body: str
    slug: str = ""
    slug_given: bool = False
    dek: str = ""
    tags: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    status: PostStatus = PostStatus.PUBLISHED
    published_at: datetime | None = None
    redirects: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    meta: YamlDocument | None = None

    def entry(self, entry: Entry, taken: dict[str, str]) -> Entry:
        """Check the draft and add its record (or its problems) to `entry`. A slug that is
        taken already gets `-2`, `-3`… (a warning), unless it was given explicitly and the
        two posts also had the same old address: then they are one post twice (a problem).
        `taken`: the slugs so far, each with its post's first old address."""
        meta = self.meta or YamlDocument(self.data, None, first_line=self.line)
        title = self.title.strip()
        if len(title) > MAX_TITLE:
            entry.warnings.append(self._at(f"title cut to {MAX_TITLE} characters"))
            title = title[:MAX_TITLE].rstrip()
        slug = slugify(self.slug or title, fallback="post")[:MAX_SLUG_LENGTH].strip("-")
        if not title:
            title = slug.replace("-", " ").capitalize()
            entry.warnings.append(self._at(f"empty title: shown as {title!r}"))
        slug = self._unique(entry, slug, taken)
        dek = " ".join(self.dek.split())
        if len(dek) > MAX_DEK:
            dek = dek[: MAX_DEK - 1].rsplit(" ", 1)[0] + "…"
            entry.warnings.append(self._at(f"dek cut to {MAX_DEK} characters"))
        body = self.body.strip("\n")
        index = first_control_character(body)
        if index is not None:
            number = body.count("\n", 0, index) + 1
            entry.warnings.append(self._at(f"body line {number}: control characters removed"))
            body = _CONTROL.sub("", body)
        content = PostContent(
            slug=slug,
            title=title,
            dek=dek,
            body=body,
            tags=tuple(dict.fromkeys(self.tags)),
            authors=tuple(dict.fromkeys(self.authors)),
        )
        entry.record = PostRecord(
            self.path,
            content,
            self.status,
            self.published_at,
            meta,
            redirects=tuple(dict.fromkeys(self.redirects)),
        )
        return entry

    def _unique(self, entry: Entry, slug: str, taken: dict[str, str]) -> str:
        """`slug`, or `slug-2`… when taken. The same slug given explicitly, with the same
        first old address and day, is the same post twice: a problem. A first old address
        the earlier post has already (a guessed one) is not redirected (a warning)."""
        day = self.published_at.date().isoformat() if self.published_at else ""
        address = self.redirects[0] if self.redirects else self.path
        if slug in taken:
            earlier_address, _space, earlier_day = taken[slug].rpartition(" ")
            if self.slug_given and earlier_address == address and earlier_day == day:
                entry.problems.append(self._at(f"slug {slug!r} is used by another post"))
                return slug
            if earlier_address == address and self.redirects:
                entry.warnings.append(self._at(f"old address {address} is another post's"))
                self.redirects = self.redirects[1:]
            base, number = slug[: MAX_SLUG_LENGTH - 4].rstrip("-"), 2
            while f"{base}-{number}" in taken:
                number += 1
            entry.warnings.append(self._at(f"slug {slug!r} is taken: {base}-{number}"))
            slug = f"{base}-{number}"
        taken[slug] = f"{address} {day}"
        return slug

    def _at(self, message: str) -> ImportProblem:
        return ImportProblem(self.path, self.line, message)


def open_entry_file(entry: Entry, path: Path) -> SiteFile | None:
    """The file of a site's post, split; None (its problem added to `entry`) when it cannot
    be read. A note on how it was read becomes a warning."""
    try:
        source = read_site_file(read_text(path))
    except FrontMatterError as error:
        entry.problems.append(ImportProblem(entry.path, error.line, error.message))
        return None
    if source.note:
        entry.warnings.append(ImportProblem(entry.path, source.meta.line(), source.note))
    return source


def text_of(value: object) -> str:
    """A front-matter value as plain text ('' for nothing, lists joined)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(text_of(item) for item in value)
    return str(value).strip()


def slug_list(value: object, *, split_spaces: bool) -> list[tuple[str, str]]:
    """Tags or categories as (slug, name): a list, or a string of comma-separated (or,
    for Jekyll, space-separated) words."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = value.split(",") if "," in value or not split_spaces else value.split()
    elif isinstance(value, list):
        parts = [text_of(item) for item in value]
    else:
        parts = [text_of(value)]
    found: dict[str, str] = {}
    for part in parts:
        name = part.strip()[:MAX_NAME]
        if name:
            found.setdefault(slugify(name, fallback="tag"), name)
    return list(found.items())


_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_MARKUP = re.compile(r"!\[[^\]]*\]\([^)]*\)|<[^>]+>|[#*_`>]+|\{[{%][^}]*[}%]\}")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")


def first_sentences(body: str, limit: int = 200) -> str:
    """The first sentences of a Markdown body, as plain text, up to about `limit` characters."""
    for paragraph in re.split(r"\n\s*\n", body):
        text = paragraph.strip()
        if not text or text.startswith(("```", "    ", "|", "{{", "{%", "<!--", "---")):
            continue
        plain = " ".join(_MARKUP.sub("", _LINK.sub(r"\1\2", text)).split())
        if len(plain) < 20:
            continue
        sentences, kept = _SENTENCE.split(plain), ""
        for sentence in sentences:
            if kept and len(kept) + len(sentence) > limit:
                break
            kept = f"{kept} {sentence}".strip()
        return kept[: MAX_DEK - 1]
    return ""


def site_zone(name: object) -> tzinfo:
    """A site's time zone by its IANA name; UTC when none (or an unknown one) is given."""
    if isinstance(name, str) and name.strip():
        try:
            return ZoneInfo(name.strip())
        except (ZoneInfoNotFoundError, ValueError):
            return UTC
    return UTC


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_ZONES = {
    "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
    "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}  # fmt: skip
_NUMERIC = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|[A-Z]{3})?(.*)$"
)
_WORDY = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})(.*)$")


def parse_loose_date(value: object, zone: tzinfo) -> tuple[datetime, str | None]:
    """A date as sites write them: ISO 8601, `2013-05-06 02:12:52 +0200`, `2016-03-23 09:00
    EDT`, `May 11, 2021`. A time without a zone is in the site's `zone`. Also a warning when
    text after the date was ignored. Raises ValueError (`2026-02-30` is no date)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)), None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone), None
    text = str(value).strip()
    found = _NUMERIC.match(text)
    if found:
        year, month, day, hour, minute, second, offset, rest = found.groups()
        parts = (int(year), int(month), int(day))
        clock = (int(hour or 0), int(minute or 0), int(second or 0))
    else:
        wordy = _WORDY.match(text)
        month_number = _MONTHS.get(wordy.group(1).lower()) if wordy else None
        if wordy is None or month_number is None:
            raise ValueError(f"not a date: {text!r}")
        parts = (int(wordy.group(3)), month_number, int(wordy.group(2)))
        clock, offset, rest = (0, 0, 0), None, wordy.group(4)
    try:
        moment = datetime(*parts, *clock)
    except ValueError as error:
        raise ValueError(f"not a date: {text!r} ({error})") from None
    moment = moment.replace(tzinfo=_zone_of(offset, zone))
    note = f"date {text!r}: {rest.strip()!r} ignored" if rest and rest.strip() else None
    return moment, note


def _zone_of(offset: str | None, zone: tzinfo) -> tzinfo:
    if offset is None:
        return zone
    if offset.isalpha():
        return timezone(timedelta(hours=_ZONES[offset])) if offset in _ZONES else zone
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
