"""Moving in from another platform: `masthead import PATH --from jekyll|hugo|ghost|wordpress`.

The source is read twice and never held whole: the first pass checks every post (its
file, its slug, its tags and authors, its old addresses) keeping only what the checks
need; only when nothing is wrong does the second pass read each post again and write
it, through the same write path as the Masthead format (`save_post_record`: the use
cases, their audit entries and events). All or nothing: the caller's unit of work is
rolled back on any problem (and always on a dry run).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection

from masthead.actions.context import Call
from masthead.actions.gates import check_gates
from masthead.actions.importing import (
    SaveOutcome,
    gate_warnings_of,
    in_batches,
    post_batch,
    reserved_slugs,
    save_post_record,
)
from masthead.actions.redirects import checked_old_path, save_imported_redirect
from masthead.actions.staff import save_profile
from masthead.actions.tags import save_tag
from masthead.content.bundle import PostRecord
from masthead.content.foreign import Entry, Person, Source, SourceError
from masthead.content.ghost import GhostExport
from masthead.content.hugo import HugoSite
from masthead.content.jekyll import JekyllSite
from masthead.content.wordpress import WordPressExport
from masthead.domain.staff import StaffKind, StaffMember, Tag
from masthead.errors import ImportFailed, ImportProblem, MastheadError
from masthead.store.path_redirects import path_redirects_of
from masthead.store.posts import get_post_id
from masthead.store.staff import staff_ids
from masthead.store.tags import tag_ids

__all__ = [
    "FORMATS",
    "WITH_PAGES",
    "MigrationReport",
    "check_pages_wanted",
    "import_from",
    "open_source",
]

FORMATS: dict[str, Callable[[Path], Source]] = {
    "jekyll": JekyllSite,
    "hugo": HugoSite,
    "ghost": GhostExport,
    "wordpress": WordPressExport,
}
WITH_PAGES: dict[str, Callable[[Path], Source]] = {
    "ghost": lambda path: GhostExport(path, include_pages=True),
    "wordpress": lambda path: WordPressExport(path, include_pages=True),
}
"""The formats whose pages can be imported as posts (`--include-pages`), opened so."""
Progress = Callable[[int, int], None]


@dataclass
class MigrationReport:
    format: str
    posts: Counter[str] = field(default_factory=Counter)
    skipped: list[dict[str, object]] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    created_staff: list[str] = field(default_factory=list)
    created_tags: list[str] = field(default_factory=list)
    redirects_made: int = 0
    redirects_unchanged: int = 0
    gate_warnings: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "posts": {outcome.value: self.posts[outcome.value] for outcome in SaveOutcome},
            "skipped": self.skipped,
            "warnings": [
                {"path": w.path, "line": w.line, "message": w.message} for w in self.warnings
            ],
            "created_staff": self.created_staff,
            "created_tags": self.created_tags,
            "redirects": {"made": self.redirects_made, "unchanged": self.redirects_unchanged},
            "gate_warnings": self.gate_warnings,
        }


@dataclass(frozen=True)
class _Checked:
    """What the first pass keeps of a post: enough for the checks, never its body."""

    path: str
    line: int
    slug: str
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    redirects: tuple[str, ...]


def check_pages_wanted(format_name: str, path: Path) -> None:
    """Refuse `--include-pages` for a format without pages (`ImportFailed`)."""
    if format_name not in WITH_PAGES:
        known = " or ".join(WITH_PAGES)
        message = f"--include-pages: only {known} exports have pages to import"
        raise ImportFailed([ImportProblem(str(path), 0, message)])


def open_source(format_name: str, path: Path, *, include_pages: bool = False) -> Source:
    """The source at `path`; with `include_pages`, its pages are imported as posts."""
    if include_pages:
        check_pages_wanted(format_name, path)
    if not path.exists():
        raise ImportFailed([ImportProblem(str(path), 0, "no such file or folder")])
    try:
        return (WITH_PAGES if include_pages else FORMATS)[format_name](path)
    except SourceError as error:
        raise ImportFailed([ImportProblem(str(path), error.line, error.message)]) from None


def import_from(
    connection: Connection,
    call: Call,
    source: Source,
    *,
    create_missing: bool = False,
    progress: Progress | None = None,
) -> MigrationReport:
    """Check everything, then write; a problem anywhere raises `ImportFailed`."""
    report = MigrationReport(source.format)
    people = source.people()
    checked, tag_names, problems = _first_pass(source, report, people)
    tag_names = {**source.tag_names(), **tag_names}
    problems += reserved_slugs(connection, ((post.path, post.line, post.slug) for post in checked))
    targets, redirect_problems = _old_paths(connection, checked)
    problems += redirect_problems
    missing_people, missing_tags, reference_problems = _references(
        connection, checked, create_missing
    )
    problems += reference_problems
    if problems:
        raise ImportFailed(sorted(problems, key=lambda problem: (problem.path, problem.line)))
    for slug in sorted(missing_people):
        person = people.get(slug) or Person(slug, slug.replace("-", " ").title())
        member = StaffMember(
            slug=slug, name=person.name, role_title="", department="",
            kind=StaffKind.PERSON, bio=person.bio,
        )  # fmt: skip
        save_profile(connection, call, member)
        report.created_staff.append(slug)
    for slug in sorted(missing_tags):
        save_tag(connection, call, Tag(slug=slug, name=tag_names.get(slug) or slug))
        report.created_tags.append(slug)
    _second_pass(connection, call, source, report, targets, len(checked), progress)
    return report


def _first_pass(
    source: Source, report: MigrationReport, people: dict[str, Person]
) -> tuple[list[_Checked], dict[str, str], list[ImportProblem]]:
    checked: list[_Checked] = []
    tag_names: dict[str, str] = {}
    problems: list[ImportProblem] = []
    for entry in source.entries():
        problems += entry.problems
        report.warnings += entry.warnings
        if entry.skipped is not None:
            report.skipped.append({"path": entry.path, "reason": entry.skipped})
            continue
        record = entry.record
        if record is None or entry.problems:
            continue
        for slug, name in entry.tag_names.items():
            tag_names.setdefault(slug, name)
        for slug, name in entry.author_names.items():
            people.setdefault(slug, Person(slug, name))
        content = record.content
        checked.append(
            _Checked(
                record.path, record.meta.line(), content.slug, content.tags,
                content.authors, record.redirects,
            )
        )  # fmt: skip
    return checked, tag_names, problems


def _old_paths(
    connection: Connection, checked: list[_Checked]
) -> tuple[dict[str, str], list[ImportProblem]]:
    """Each usable old path and the slug it will lead to. An old path that is an address
    of the site's pages, or that two posts claim, or that leads to another post already,
    is a problem."""
    targets: dict[str, str] = {}
    problems: list[ImportProblem] = []
    for post in checked:
        for text in post.redirects:
            try:
                path = checked_old_path(text)
            except ValueError as error:
                problems.append(ImportProblem(post.path, post.line, f"old address: {error}"))
                continue
            other = targets.get(path)
            if other is not None and other != post.slug:
                message = f"old address {path} is also claimed by the post {other!r}"
                problems.append(ImportProblem(post.path, post.line, message))
            targets[path] = post.slug
    existing = path_redirects_of(connection, targets)
    slugs = {post.slug: post for post in checked}
    for path, post_id in existing.items():
        slug = targets[path]
        if get_post_id(connection, slug) != post_id:
            message = f"old address {path} already leads to another post"
            problems.append(ImportProblem(slugs[slug].path, slugs[slug].line, message))
    return targets, problems


def _references(
    connection: Connection, checked: list[_Checked], create_missing: bool
) -> tuple[set[str], set[str], list[ImportProblem]]:
    wanted_tags = {slug for post in checked for slug in post.tags}
    wanted_people = {slug for post in checked for slug in post.authors}
    missing_tags = wanted_tags - set(tag_ids(connection, wanted_tags))
    missing_people = wanted_people - set(staff_ids(connection, wanted_people))
    problems: list[ImportProblem] = []
    if not create_missing:
        for post in checked:
            for kind, slugs, missing in (
                ("tag", post.tags, missing_tags),
                ("author", post.authors, missing_people),
            ):
                for slug in slugs:
                    if slug in missing:
                        message = f"unknown {kind} {slug!r} (add it, or use --create-missing)"
                        problems.append(ImportProblem(post.path, post.line, message))
    return missing_people, missing_tags, problems


def _second_pass(
    connection: Connection,
    call: Call,
    source: Source,
    report: MigrationReport,
    targets: dict[str, str],
    total: int,
    progress: Progress | None,
) -> None:
    by_slug: dict[str, list[str]] = {}
    for path, slug in targets.items():
        by_slug.setdefault(slug, []).append(path)
    problems: list[ImportProblem] = []
    done = 0
    records = (record for entry in source.entries() if (record := _writable(entry)) is not None)
    for batch in in_batches(records):
        with post_batch(connection, call, batch):
            for record in batch:
                try:
                    outcome, post, gates = save_post_record(connection, call, record)
                except MastheadError as refused:
                    problems.append(ImportProblem(record.path, record.meta.line(), str(refused)))
                    continue
                report.posts[outcome.value] += 1
                if outcome is not SaveOutcome.UNCHANGED:
                    found = check_gates(connection, call, post) if gates is None else gates
                    report.gate_warnings += gate_warnings_of(record, post, found)
                for path in by_slug.get(post.content.slug, ()):
                    if save_imported_redirect(connection, call, path, post.id):
                        report.redirects_made += 1
                    else:
                        report.redirects_unchanged += 1
                done += 1
                if progress:
                    progress(done, total)
    if problems:
        raise ImportFailed(problems)


def _writable(entry: Entry) -> PostRecord | None:
    if entry.skipped is not None or entry.problems or entry.record is None:
        return None
    return entry.record
