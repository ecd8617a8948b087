"""Importing a folder of posts: everything is checked first, then written all at once.

The folder is read twice: the first pass checks every file and keeps only an outline of
each post (its slug, tags, authors and their lines); the second reads each file again
and writes it. Memory stays bounded however many posts the folder holds.

The import writes through the same use cases as the API (creating and editing drafts,
publishing, unpublishing, adding tags and staff), with the caller as actor and
`import` as the source: every write has its audit entry and its lifecycle event. It
runs in the caller's unit of work and commits nothing: a problem anywhere raises
`ImportFailed`, and the caller rolls the whole import back (a dry run always does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection

from masthead.actions.context import Call
from masthead.actions.drafts import PostFields, create_post, edit_post
from masthead.actions.gates import GateResult, check_gates
from masthead.actions.lifecycle import PublicBatch, public_batch
from masthead.actions.publishing import publish_post, unpublish_post
from masthead.actions.staff import save_profile
from masthead.actions.tags import save_tag
from masthead.content.bundle import PostRecord, StaffRecord, read_post, read_staff, read_tags
from masthead.domain.posts import Post, PostStatus
from masthead.domain.staff import StaffKind, StaffMember, Tag
from masthead.errors import ImportFailed, ImportProblem, MastheadError
from masthead.site.changes import Scope
from masthead.store.posts import get_post, get_post_id, post_ids_of
from masthead.store.slugs import slug_owner
from masthead.store.staff import staff_ids
from masthead.store.tags import tag_ids

__all__ = [
    "BATCH_POSTS",
    "STAFF_FILE",
    "TAGS_FILE",
    "ImportBundle",
    "ImportSummary",
    "PostOutline",
    "SaveOutcome",
    "gate_warnings_of",
    "import_folder",
    "in_batches",
    "post_batch",
    "read_folder",
    "save_post_record",
]

POST_SUFFIXES = (".md", ".markdown")
STAFF_FILE = "staff.yaml"
TAGS_FILE = "tags.yaml"
Progress = Callable[[int, int], None]
Entry = TypeVar("Entry", StaffRecord, Tag)
Item = TypeVar("Item")
BATCH_POSTS = 200
"""Posts written under one public batch: their public state is read once before them and
once after them (not twice per post), and memory holds the facts of this many only."""


class SaveOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class PostOutline:
    """What the checks need of one post file, kept for every file of the folder while its
    records are not (a large folder is read twice, never held whole): its slug, tags and
    authors, and the line of each."""

    path: str
    slug: str
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    line: int
    slug_line: int
    tag_lines: tuple[int, ...]
    author_lines: tuple[int, ...]

    @classmethod
    def of(cls, record: PostRecord) -> PostOutline:
        content, meta = record.content, record.meta
        author_field = "authors" if "authors" in meta.data else "author"
        return cls(
            path=record.path,
            slug=content.slug,
            tags=content.tags,
            authors=content.authors,
            line=meta.line(),
            slug_line=meta.line("slug") if "slug" in meta.data else meta.line(),
            tag_lines=tuple(meta.line("tags", index) for index in range(len(content.tags))),
            author_lines=tuple(
                meta.line(author_field, index) for index in range(len(content.authors))
            ),
        )


@dataclass(frozen=True)
class ImportBundle:
    """What a folder holds: the outline of each post that read, and every problem found."""

    staff: list[StaffRecord]
    tags: list[Tag]
    posts: list[PostOutline]
    problems: list[ImportProblem]


@dataclass
class ImportSummary:
    posts: Counter[str] = field(default_factory=Counter)
    staff_written: int = 0
    tags_written: int = 0
    created_staff: list[str] = field(default_factory=list)
    created_tags: list[str] = field(default_factory=list)
    gate_warnings: list[dict[str, object]] = field(default_factory=list)
    """The gates' results for each post created or updated: a report, never a refusal."""

    def as_dict(self) -> dict[str, object]:
        return {
            "posts": {outcome.value: self.posts[outcome.value] for outcome in SaveOutcome},
            "staff_written": self.staff_written,
            "tags_written": self.tags_written,
            "created_staff": self.created_staff,
            "created_tags": self.created_tags,
            "gate_warnings": self.gate_warnings,
        }

    def warnings_by_code(self) -> Counter[str]:
        return Counter(str(warning["code"]) for warning in self.gate_warnings)


def read_folder(folder: Path) -> ImportBundle:
    """Read and check every file on its own; references are checked against the database.
    The records of files with problems are kept, so their references are checked too."""
    if not folder.is_dir():
        raise ImportFailed([ImportProblem(str(folder), 0, "not a folder")])
    problems: list[ImportProblem] = []
    staff, staff_problems = _read_optional(folder, STAFF_FILE, read_staff)
    tags, tag_problems = _read_optional(folder, TAGS_FILE, read_tags)
    problems += staff_problems + tag_problems
    outlines: list[PostOutline] = []
    for record, found in _post_files(folder):
        problems += found
        if record is not None:
            outlines.append(PostOutline.of(record))
    problems += _duplicate_slugs(outlines)
    return ImportBundle(staff, tags, outlines, problems)


def _post_files(folder: Path) -> Iterator[tuple[PostRecord | None, list[ImportProblem]]]:
    """Each post file of the folder, read and checked, in a fixed order."""
    for path in sorted(path for suffix in POST_SUFFIXES for path in folder.rglob(f"*{suffix}")):
        relative = path.relative_to(folder).as_posix()
        yield read_post(relative, path.read_text(encoding="utf-8"))


def import_folder(
    connection: Connection,
    call: Call,
    folder: Path,
    *,
    create_missing: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """All or nothing: a problem anywhere raises `ImportFailed` (roll back the unit)."""
    bundle = read_folder(folder)
    summary = ImportSummary()
    _resolve_references(connection, bundle, create_missing, summary)
    _write_people(connection, call, bundle, summary)
    problems: list[ImportProblem] = []
    records = (record for record, _found in _post_files(folder) if record is not None)
    done = 0
    for batch in in_batches(records):
        with post_batch(connection, call, batch):
            for record in batch:
                try:
                    outcome, post, gates = save_post_record(connection, call, record)
                    summary.posts[outcome.value] += 1
                    if outcome is not SaveOutcome.UNCHANGED:
                        found = check_gates(connection, call, post) if gates is None else gates
                        summary.gate_warnings += gate_warnings_of(record, post, found)
                except MastheadError as refused:
                    problems.append(ImportProblem(record.path, record.meta.line(), str(refused)))
                done += 1
                if progress:
                    progress(done, len(bundle.posts))
    if problems:
        raise ImportFailed(problems)
    return summary


def in_batches(items: Iterable[Item], size: int = BATCH_POSTS) -> Iterator[list[Item]]:
    """The items in lists of `size` (the last one shorter)."""
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def post_batch(
    connection: Connection, call: Call, records: list[PostRecord]
) -> AbstractContextManager[PublicBatch]:
    """Write these records' posts as one public batch: what they can reach (their posts,
    and the listings of their tags and authors, now and in the files) is read once."""
    contents = [record.content for record in records]
    ids = post_ids_of(connection, [content.slug for content in contents])
    scope = Scope.of(
        ids.values(),
        {slug for content in contents for slug in content.tags},
        {slug for content in contents for slug in content.authors},
        headers=False,
    )
    return public_batch(connection, call, scope)


def gate_warnings_of(
    record: PostRecord, post: Post, results: list[GateResult]
) -> list[dict[str, object]]:
    return [
        {"file": record.path, "slug": post.content.slug, **result.as_dict()} for result in results
    ]


def save_post_record(
    connection: Connection, call: Call, record: PostRecord
) -> tuple[SaveOutcome, Post, list[GateResult] | None]:
    """Create the post with this slug or bring it up to date; publish or unpublish to match.
    Also the gates' results, when a publish ran them."""
    content = record.content
    fields = PostFields.of(content)
    post_id = get_post_id(connection, content.slug)
    existing = None if post_id is None else get_post(connection, post_id)
    edited = existing is not None and existing.content != content
    if existing is None:
        post = create_post(connection, call, fields)
    elif edited:
        post = edit_post(connection, call, existing.id, fields)
    else:
        post = existing
    moved, gates = _reach_status(connection, call, post, record)
    if existing is None:
        return SaveOutcome.CREATED, post, gates
    return (SaveOutcome.UPDATED if edited or moved else SaveOutcome.UNCHANGED), post, gates


def _reach_status(
    connection: Connection, call: Call, post: Post, record: PostRecord
) -> tuple[bool, list[GateResult] | None]:
    """Publish the post when its file says so and its live version differs (its revision
    or its date); take it off the site when the file says draft. Whether it moved, and
    the gates' results when it was published."""
    live = post.status is PostStatus.PUBLISHED
    if record.status is PostStatus.PUBLISHED:
        current = live and post.published_revision == post.revision
        dated = record.published_at is None or record.published_at == post.published_at
        if current and dated:
            return False, None
        done = publish_post(connection, call, post.id, published_at=record.published_at)
        return True, done.gates
    if live:
        unpublish_post(connection, call, post.id)
        return True, None
    return False, None


def _read_optional(
    folder: Path,
    name: str,
    reader: Callable[[str, str], tuple[list[Entry], list[ImportProblem]]],
) -> tuple[list[Entry], list[ImportProblem]]:
    path = folder / name
    return reader(name, path.read_text(encoding="utf-8")) if path.is_file() else ([], [])


def _duplicate_slugs(outlines: list[PostOutline]) -> list[ImportProblem]:
    first_seen: dict[str, str] = {}
    problems: list[ImportProblem] = []
    for post in outlines:
        if post.slug in first_seen:
            message = f"slug {post.slug!r} is also used by {first_seen[post.slug]}"
            problems.append(ImportProblem(post.path, post.slug_line, message))
        else:
            first_seen[post.slug] = post.path
    return problems


_DECLARED_IN = {"tag": TAGS_FILE, "author": STAFF_FILE}


def _resolve_references(
    connection: Connection, bundle: ImportBundle, create_missing: bool, summary: ImportSummary
) -> None:
    """Unknown tags and authors are problems, unless `create_missing` asks to add them.

    Raises ImportFailed with these and every problem found while reading the folder.
    """
    known = {
        "tag": {tag.slug for tag in bundle.tags}
        | set(tag_ids(connection, {slug for post in bundle.posts for slug in post.tags})),
        "author": {member.slug for member in bundle.staff}
        | set(staff_ids(connection, {s for post in bundle.posts for s in post.authors})),
    }
    wanted = ((post.path, post.slug_line, post.slug) for post in bundle.posts)
    problems = list(bundle.problems) + reserved_slugs(connection, wanted)
    for post, kind, line, slug in _references(bundle.posts):
        if slug in known[kind]:
            continue
        if create_missing:
            known[kind].add(slug)
            _add_missing(bundle, summary, kind, slug)
            continue
        message = (
            f"unknown {kind} {slug!r} (declare it in {_DECLARED_IN[kind]}, or use --create-missing)"
        )
        problems.append(ImportProblem(post.path, line, message))
    if problems:
        raise ImportFailed(sorted(problems, key=lambda problem: (problem.path, problem.line)))


def reserved_slugs(
    connection: Connection, wanted: Iterable[tuple[str, int, str]]
) -> list[ImportProblem]:
    """A slug held by another post (its live slug or an old one) is not free to import to.

    `wanted`: (path, line, slug) of each post an import is about to write, in any format.
    """
    problems = []
    for path, line, slug in wanted:
        owner = slug_owner(connection, slug)
        if owner is not None and owner != get_post_id(connection, slug):
            message = f"slug {slug!r} belongs to another post (post {owner}'s address)"
            problems.append(ImportProblem(path, line, message))
    return problems


def _references(outlines: list[PostOutline]) -> Iterator[tuple[PostOutline, str, int, str]]:
    """Each tag and author slug a post names: (post, kind, line, slug)."""
    for post in outlines:
        for slug, line in zip(post.tags, post.tag_lines, strict=True):
            yield post, "tag", line, slug
        for slug, line in zip(post.authors, post.author_lines, strict=True):
            yield post, "author", line, slug


def _add_missing(bundle: ImportBundle, summary: ImportSummary, kind: str, slug: str) -> None:
    name = slug.replace("-", " ").title()
    if kind == "tag":
        bundle.tags.append(Tag(slug=slug, name=name))
        summary.created_tags.append(slug)
    else:
        summary.created_staff.append(slug)
        bundle.staff.append(
            StaffRecord(
                StaffMember(
                    slug=slug, name=name, role_title="", department="", kind=StaffKind.PERSON
                )
            )
        )


def _write_people(
    connection: Connection, call: Call, bundle: ImportBundle, summary: ImportSummary
) -> None:
    for entry in bundle.staff:
        summary.staff_written += save_profile(
            connection, call, entry.member, role=entry.role, active=entry.active
        )
    for tag in bundle.tags:
        summary.tags_written += save_tag(connection, call, tag)
