"""Reading a WordPress export (WXR): posts with their HTML as Markdown, authors, categories
and tags, status, slug, and their old permalinks. Pages are reported, not imported, unless
asked for (`include_pages`: then imported as posts); attachments and menu items always
are. The file is read item by item (never whole)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from urllib.parse import urlsplit

from masthead.content.foreign import (
    PAGE_AS_POST,
    Entry,
    Person,
    PostDraft,
    SourceError,
    parse_loose_date,
)
from masthead.content.htmltext import html_to_markdown
from masthead.domain.posts import PostStatus
from masthead.domain.slugs import slugify
from masthead.errors import ImportProblem

__all__ = ["WordPressExport"]

FALLBACK_AUTHOR = Person("archive", "Archive")
DRAFT_STATUSES = {"draft", "pending", "future", "private", "auto-draft"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> str:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip() if name != "encoded" else (child.text or "")
    return ""


def _encoded(element: ET.Element, namespace_hint: str) -> str:
    for child in element:
        if _local(child.tag) == "encoded" and namespace_hint in child.tag:
            return child.text or ""
    return ""


class WordPressExport:
    format = "wordpress"

    def __init__(self, path: Path, *, include_pages: bool = False) -> None:
        if not path.is_file():
            raise SourceError(0, "not a WordPress export: give the WXR (.xml) file")
        self.path, self.name = path, path.name
        self.include_pages = include_pages
        self._people: dict[str, Person] = {}
        self._tags: dict[str, str] = {}
        self._logins: dict[str, str] = {}
        for element in self._elements(("author", "category", "tag")):
            self._remember(element)

    def _elements(self, names: tuple[str, ...]) -> Iterator[ET.Element]:
        try:
            # expat refuses entity bombs and never fetches external entities
            parser = ET.iterparse(self.path, events=("end",))  # noqa: S314
            for _event, element in parser:
                name = _local(element.tag)
                ours = name == "item" or "wordpress.org/export/" in element.tag
                if name in names and ours:
                    yield element
                    element.clear()
        except ET.ParseError as error:
            raise SourceError(error.position[0], f"not a WordPress export: {error}") from None

    def _remember(self, element: ET.Element) -> None:
        kind = _local(element.tag)
        if kind == "author":
            login = _child(element, "author_login")
            name = _child(element, "author_display_name") or login
            slug = slugify(login or name, "author")
            self._logins[login] = slug
            self._people[slug] = Person(slug, name)
        elif kind == "category":
            slug = slugify(
                _child(element, "category_nicename") or _child(element, "cat_name"), "tag"
            )
            self._tags[slug] = _child(element, "cat_name") or slug
        elif kind == "tag":
            slug = slugify(_child(element, "tag_slug") or _child(element, "tag_name"), "tag")
            self._tags[slug] = _child(element, "tag_name") or slug

    def people(self) -> dict[str, Person]:
        return {FALLBACK_AUTHOR.slug: FALLBACK_AUTHOR, **self._people}

    def tag_names(self) -> dict[str, str]:
        return dict(self._tags)

    def entries(self) -> Iterator[Entry]:
        taken: dict[str, str] = {}
        for index, item in enumerate(self._elements(("item",))):
            yield self._entry(index, item, taken)

    def _entry(self, index: int, item: ET.Element, taken: dict[str, str]) -> Entry:
        title = _child(item, "title")
        where = f"{self.name}#item[{index}]"
        entry = Entry(where)
        kind = _child(item, "post_type") or "post"
        status = _child(item, "status") or "publish"
        as_page = kind == "page" and self.include_pages
        if kind != "post" and not as_page:
            name = kind.replace("_", " ")
            entry.skipped = f"{'an' if name[:1] in 'aeiou' else 'a'} {name}, not a post"
            return entry
        if status == "trash":
            entry.skipped = "in the trash"
            return entry
        html = _encoded(item, "purl.org/rss/1.0/modules/content")
        draft = PostDraft(where, 1, title, html_to_markdown(html, wordpress=True))
        name = _child(item, "post_name")
        draft.slug, draft.slug_given = name, bool(name)
        excerpt = _encoded(item, "/excerpt/")
        draft.dek = " ".join(html_to_markdown(excerpt).split()) if excerpt.strip() else ""
        date = _child(item, "post_date_gmt")
        if not date or date.startswith("0000"):
            date = _child(item, "post_date")
        if date and not date.startswith("0000"):
            try:
                draft.published_at, _note = parse_loose_date(date, UTC)
            except ValueError as error:
                entry.problems.append(ImportProblem(where, 1, f"bad post_date: {error}"))
                return entry
        self._terms(entry, draft, item)
        creator = _child(item, "creator")

        author = self._logins.get(creator)
        if author is None and creator:
            author = slugify(creator, "author")
            entry.author_names[author] = creator
            entry.warnings.append(ImportProblem(where, 1, f"author {creator!r} is no wp:author"))
        draft.authors = [author or FALLBACK_AUTHOR.slug]
        if status != "publish" or _child(item, "post_password"):
            draft.status = PostStatus.DRAFT
            why = status if status != "publish" else "password-protected"
            entry.warnings.append(ImportProblem(where, 1, f"imported as a draft ({why})"))
        self._old_address(entry, draft, _child(item, "link"))
        if as_page:
            entry.warnings.append(ImportProblem(where, 1, PAGE_AS_POST))
        return draft.entry(entry, taken)

    def _terms(self, entry: Entry, draft: PostDraft, item: ET.Element) -> None:
        for child in item:
            if _local(child.tag) == "category" and child.get("domain") in ("category", "post_tag"):
                slug = slugify(child.get("nicename") or child.text or "", "tag")
                draft.tags.append(slug)
                entry.tag_names.setdefault(slug, (child.text or slug).strip())

    def _old_address(self, entry: Entry, draft: PostDraft, link: str) -> None:
        where = entry.path
        if link:
            parts = urlsplit(link)
            if parts.query:
                entry.warnings.append(
                    ImportProblem(where, 1, f"old address {link} has a query: not redirected")
                )
            elif parts.path not in ("", "/"):
                draft.redirects.append(parts.path)
