"""The import/export format: Markdown posts with front matter, `staff.yaml`, `tags.yaml`.

Reading turns text into records plus a list of every problem found (never the first
only); writing turns records back into the same text, so a round trip is lossless.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import yaml

from masthead.content.frontmatter import (
    FrontMatterError,
    YamlDocument,
    parse_front_matter,
    parse_yaml,
)
from masthead.domain.dates import parse_publish_date
from masthead.domain.posts import PostContent, PostStatus
from masthead.domain.slugs import is_valid_slug, slugify
from masthead.domain.staff import Role, StaffKind, StaffMember, Tag
from masthead.domain.text import FIELD_LIMITS, first_control_character
from masthead.errors import ImportProblem

__all__ = [
    "IMPORTABLE_STATUSES",
    "PostRecord",
    "StaffRecord",
    "read_post",
    "read_staff",
    "read_tags",
    "write_post",
    "write_staff",
    "write_tags",
]

IMPORTABLE_STATUSES = (PostStatus.PUBLISHED, PostStatus.DRAFT)
POST_FIELDS = ("title", "slug", "date", "tags", "author", "authors", "dek", "status")
STAFF_FIELDS = ("slug", "name", "role_title", "department", "kind", "bio", "role", "active")
TAG_FIELDS = ("slug", "name", "description")
Record = TypeVar("Record")


@dataclass(frozen=True)
class StaffRecord:
    """One entry of `staff.yaml`: the member, and their role and standing where it gives
    them (None: keep a known member's; a new one is an active writer)."""

    member: StaffMember
    role: Role | None = None
    active: bool | None = None

    @property
    def slug(self) -> str:
        return self.member.slug


@dataclass(frozen=True)
class PostRecord:
    """One post file, read and checked on its own (references are checked later)."""

    path: str
    content: PostContent
    status: PostStatus
    published_at: datetime | None
    meta: YamlDocument
    redirects: tuple[str, ...] = ()
    """Old addresses (paths) of the post on the site it comes from (other formats)."""


class _Problems:
    """Collects every problem of one file, with its line."""

    def __init__(self, path: str, meta: YamlDocument) -> None:
        self.path, self.meta, self.found = path, meta, list[ImportProblem]()

    def add(self, message: str, *where: str | int) -> None:
        self.found.append(ImportProblem(self.path, self.meta.line(*where), message))

    def text(
        self, data: dict[str, Any], key: str, *where: str | int, required: bool = False
    ) -> str:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(f"missing {key}", *where)
            return ""
        if not isinstance(value, str | int | float):
            self.add(f"{key} must be text", *where, key)
            return ""
        text = str(value).strip()
        limit = FIELD_LIMITS.get(key)
        if limit is not None and len(text) > limit:
            self.add(f"{key} is longer than {limit} characters", *where, key)
        index = first_control_character(text)
        if index is not None:
            self.add(f"{key} holds control character U+{ord(text[index]):04X}", *where, key)
        return text

    def unknown_fields(self, data: dict[str, Any], known: Sequence[str], *where: str | int) -> None:
        for key in data:
            if key not in known:
                self.add(f"unknown field {key!r} (known: {', '.join(known)})", *where, str(key))


def _control_character(path: str, text: str) -> list[ImportProblem]:
    """A problem for every line that holds a control character (its first one)."""
    problems = []
    for line, content in enumerate(text.split("\n"), start=1):
        index = first_control_character(content)
        if index is not None:
            code = f"U+{ord(content[index]):04X}"
            problems.append(ImportProblem(path, line, f"control character {code}: remove it"))
    return problems


def read_post(path: str, text: str) -> tuple[PostRecord | None, list[ImportProblem]]:
    """The post and every problem of its file, at once. With problems the record is only
    for checking its references (so they are reported in the same round), never to write;
    None when the front matter cannot be read at all."""
    if refused := _control_character(path, text):
        return None, refused
    try:
        source = parse_front_matter(text)
    except FrontMatterError as error:
        return None, [ImportProblem(path, error.line, error.message)]
    data, problems = source.meta.data, _Problems(path, source.meta)
    problems.unknown_fields(data, POST_FIELDS)
    title = problems.text(data, "title", required=True)
    slug = problems.text(data, "slug") or slugify(title)
    if not is_valid_slug(slug):
        problems.add(f"slug {slug!r} must be lowercase letters, digits and hyphens", "slug")
    content = PostContent(
        slug=slug,
        title=title,
        dek=problems.text(data, "dek"),
        body=source.body,
        tags=_slug_list(problems, data, "tags"),
        authors=_authors(problems, data),
    )
    status = _status(problems, data)
    published_at = _date(problems, data)
    return PostRecord(path, content, status, published_at, source.meta), problems.found


def _slug_list(problems: _Problems, data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        problems.add(f"{key} must be a list of slugs", key)
        return ()
    slugs: list[str] = []
    for index, item in enumerate(items):
        where = (key, index) if not isinstance(value, str) else (key,)
        if not isinstance(item, str) or not is_valid_slug(item):
            problems.add(f"{key}: {item!r} is not a slug", *where)
        elif item in slugs:
            problems.add(f"{key}: {item!r} is listed twice", *where)
        else:
            slugs.append(item)
    return tuple(slugs)


def _authors(problems: _Problems, data: dict[str, Any]) -> tuple[str, ...]:
    if "author" in data and "authors" in data:
        problems.add("give author or authors, not both", "authors")
        return ()
    authors = _slug_list(problems, data, "authors" if "authors" in data else "author")
    if not authors and not any(data.get(key) for key in ("author", "authors")):
        problems.add("missing author: give author (a staff slug) or authors (a list)")
    return authors


def _status(problems: _Problems, data: dict[str, Any]) -> PostStatus:
    value = data.get("status", PostStatus.PUBLISHED.value)
    allowed = [status.value for status in IMPORTABLE_STATUSES]
    if value not in allowed:
        problems.add(f"status {value!r} must be one of: {', '.join(allowed)}", "status")
        return PostStatus.DRAFT
    return PostStatus(value)


def _date(problems: _Problems, data: dict[str, Any]) -> datetime | None:
    if data.get("date") is None:
        return None
    try:
        return parse_publish_date(data["date"])
    except ValueError as error:
        problems.add(f"bad date: {error}", "date")
        return None


def _read_list(
    path: str,
    text: str,
    known: Sequence[str],
    build: Callable[[_Problems, dict[str, Any], int], Record],
) -> tuple[list[Record], list[ImportProblem]]:
    if refused := _control_character(path, text):
        return [], refused
    try:
        meta = parse_yaml(text)
    except FrontMatterError as error:
        return [], [ImportProblem(path, error.line, error.message)]
    problems = _Problems(path, meta)
    if meta.data is None:
        return [], []
    if not isinstance(meta.data, list):
        problems.add("must be a list of entries")
        return [], problems.found
    records: list[Record] = []
    for index, entry in enumerate(meta.data):
        if not isinstance(entry, dict):
            problems.add("each entry must be a mapping", index)
            continue
        problems.unknown_fields(entry, known, index)
        before = len(problems.found)
        record = build(problems, entry, index)
        if len(problems.found) == before:
            records.append(record)
    seen: set[str] = set()
    for index, record in enumerate(records):
        slug = getattr(record, "slug")  # noqa: B009 - both record types have a slug
        if slug in seen:
            problems.add(f"slug {slug!r} appears twice", index, "slug")
        seen.add(slug)
    return records, problems.found


def _staff_entry(problems: _Problems, entry: dict[str, Any], index: int) -> StaffRecord:
    slug = problems.text(entry, "slug", index, required=True)
    if slug and not is_valid_slug(slug):
        problems.add(f"slug {slug!r} must be lowercase letters, digits and hyphens", index, "slug")
    kind = _choice(problems, entry, index, "kind", StaffKind, None) or StaffKind.PERSON
    role = _choice(problems, entry, index, "role", Role, None)
    active = entry.get("active")
    if active is not None and not isinstance(active, bool):
        problems.add(f"active {active!r} must be true or false", index, "active")
        active = None
    member = StaffMember(
        slug=slug,
        name=problems.text(entry, "name", index, required=True),
        role_title=problems.text(entry, "role_title", index),
        department=problems.text(entry, "department", index),
        kind=kind,
        bio=problems.text(entry, "bio", index),
        role=role or Role.WRITER,
        active=True if active is None else active,
    )
    return StaffRecord(member, role, active)


Choice = TypeVar("Choice", StaffKind, Role)


def _choice(
    problems: _Problems,
    entry: dict[str, Any],
    index: int,
    key: str,
    choices: type[Choice],
    default: Choice | None,
) -> Choice | None:
    value = entry.get(key)
    if value is None:
        return default
    allowed = [choice.value for choice in choices]
    if value not in allowed:
        problems.add(f"{key} {value!r} must be one of: {', '.join(allowed)}", index, key)
        return default
    return choices(value)


def _tag_entry(problems: _Problems, entry: dict[str, Any], index: int) -> Tag:
    slug = problems.text(entry, "slug", index, required=True)
    if slug and not is_valid_slug(slug):
        problems.add(f"slug {slug!r} must be lowercase letters, digits and hyphens", index, "slug")
    return Tag(
        slug=slug,
        name=problems.text(entry, "name", index, required=True),
        description=problems.text(entry, "description", index),
    )


def read_staff(path: str, text: str) -> tuple[list[StaffRecord], list[ImportProblem]]:
    return _read_list(path, text, STAFF_FIELDS, _staff_entry)


def read_tags(path: str, text: str) -> tuple[list[Tag], list[ImportProblem]]:
    return _read_list(path, text, TAG_FIELDS, _tag_entry)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def write_post(content: PostContent, status: PostStatus, published_at: datetime | None) -> str:
    meta: dict[str, Any] = {"title": content.title, "slug": content.slug}
    if published_at is not None:
        meta["date"] = _iso(published_at)
    meta["tags"] = list(content.tags)
    if len(content.authors) == 1:
        meta["author"] = content.authors[0]
    else:
        meta["authors"] = list(content.authors)
    meta["dek"] = content.dek
    meta["status"] = status.value if status in IMPORTABLE_STATUSES else PostStatus.DRAFT.value
    return f"---\n{_dump(meta)}---\n\n{content.body}\n"


def write_staff(members: Sequence[StaffMember]) -> str:
    return _dump(
        [
            {
                "slug": member.slug,
                "name": member.name,
                "role_title": member.role_title,
                "department": member.department,
                "kind": member.kind.value,
                "bio": member.bio,
                "role": member.role.value,
                "active": member.active,
            }
            for member in members
        ]
    )


def write_tags(all_tags: Sequence[Tag]) -> str:
    return _dump(
        [{"slug": tag.slug, "name": tag.name, "description": tag.description} for tag in all_tags]
    )
