"""Reading a Hugo `content/` folder or one section of it: YAML, TOML or JSON front matter,
page bundles (`index.md` in a folder), aliases, and the common shortcodes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from masthead.content.foreign import (
    Entry,
    Person,
    PostDraft,
    SourceError,
    first_sentences,
    open_entry_file,
    parse_loose_date,
    slug_list,
    text_of,
)
from masthead.domain.posts import PostStatus
from masthead.domain.slugs import slugify
from masthead.errors import ImportProblem

__all__ = ["HugoSite", "convert_shortcodes"]

SUFFIXES = (".md", ".markdown")
SKIPPED_SUFFIXES = (".html", ".htm")
KNOWN = {
    "title", "date", "publishDate", "draft", "slug", "summary", "description", "excerpt",
    "aliases", "tags", "categories", "author", "authors", "url", "lastmod",
}  # fmt: skip
FALLBACK_AUTHOR = Person("archive", "Archive")
_SHORTCODE = re.compile(r"\{\{([<%])\s*(/?)\s*([\w./-]+)(.*?)\s*[>%]\}\}", re.S)
_ARGUMENT = re.compile(r"(\w+)\s*=\s*(?:\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|(\S+))|\"([^\"]*)\"|(\S+)")
_HIGHLIGHT = re.compile(
    r"\{\{[<%]\s*highlight\s+([\w+#-]*)[^>%]*[>%]\}\}\n?(.*?)\n?\{\{[<%]\s*/highlight\s*[>%]\}\}",
    re.S,
)


def _arguments(text: str) -> tuple[dict[str, str], list[str]]:
    named: dict[str, str] = {}
    positional: list[str] = []
    for found in _ARGUMENT.finditer(text):
        key, double, single, bare, quoted, word = found.groups()
        if key:
            named[key] = next(v for v in (double, single, bare) if v is not None)
        else:
            positional.append(quoted if quoted is not None else word)
    return named, positional


def _ref(target: str) -> str:
    """Where a `ref`/`relref` leads on Masthead: the post named by the file (or bundle)."""
    path = target.split("#", 1)[0].rstrip("/")
    anchor = "#" + target.split("#", 1)[1] if "#" in target else ""
    name = path.rsplit("/", 1)[-1]
    if name in ("index.md", "_index.md") and "/" in path:
        name = path.rsplit("/", 2)[-2]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return (f"/posts/{slugify(stem)}/" if stem else "") + anchor


def convert_shortcodes(body: str) -> tuple[str, list[str]]:
    """`figure`, `highlight`, `ref` and `relref` as Markdown; the names of the others
    (left as they are)."""
    body = _HIGHLIGHT.sub(lambda found: f"```{found.group(1)}\n{found.group(2)}\n```", body)
    left: list[str] = []

    def replace(found: re.Match[str]) -> str:
        closing, name, rest = found.group(2), found.group(3), found.group(4)
        named, positional = _arguments(rest)
        if name == "figure" and not closing:
            src = named.get("src", "")
            alt = named.get("alt") or named.get("title") or named.get("caption", "")
            caption = named.get("caption") or named.get("title")
            image = f"![{alt}]({src})"
            return f"{image}\n\n*{caption}*" if caption and caption != alt else image
        if name in ("ref", "relref") and not closing and positional:
            return _ref(positional[0])
        left.append(name)
        return found.group(0)

    return _SHORTCODE.sub(replace, body), left


class HugoSite:
    format = "hugo"

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise SourceError(0, "not a Hugo content folder")
        self.root = root
        self.section_of_root = "" if root.name == "content" else root.name

    def people(self) -> dict[str, Person]:
        return {FALLBACK_AUTHOR.slug: FALLBACK_AUTHOR}

    def tag_names(self) -> dict[str, str]:
        return {}

    def entries(self) -> Iterator[Entry]:
        taken: dict[str, str] = {}
        candidates = sorted(
            path
            for path in self.root.rglob("*")
            if path.is_file() and path.suffix in SUFFIXES + SKIPPED_SUFFIXES
        )
        bundles = {path.parent for path in candidates if path.stem == "index"}
        for path in candidates:
            relative = path.relative_to(self.root).as_posix()
            if path.stem == "_index":
                yield Entry(relative, skipped="a section page (_index), not a post")
            elif path.stem != "index" and any(p in bundles for p in path.parents):
                yield Entry(relative, skipped="a resource of a page bundle, not a post")
            elif path.suffix in SKIPPED_SUFFIXES:
                yield Entry(relative, skipped="an HTML page: only Markdown posts are imported")
            else:
                yield self._entry(path, relative, taken)

    def _section_and_name(self, path: Path) -> tuple[str, str]:
        parts = path.relative_to(self.root).parts
        name = parts[-2] if path.stem == "index" and len(parts) > 1 else path.stem
        section = self.section_of_root or (parts[0] if len(parts) > 1 else "")
        return section, name

    def _entry(self, path: Path, relative: str, taken: dict[str, str]) -> Entry:  # noqa: C901 - one step per field of the source
        entry = Entry(relative)
        source = open_entry_file(entry, path)
        if source is None:
            return entry
        data, line = source.meta.data, source.meta.line()
        if source.kind == "none":
            entry.warnings.append(ImportProblem(relative, 1, "no front matter"))
        section, name = self._section_and_name(path)
        draft = PostDraft(relative, line, text_of(data.get("title")), "", meta=source.meta)
        given = text_of(data.get("slug"))
        draft.slug, draft.slug_given = given or name, bool(given)
        draft.published_at = self._date(entry, data, source.meta.line("date"))
        if "date" in data and draft.published_at is None and entry.problems:
            return entry
        body, left = convert_shortcodes(source.body)
        if left:
            shown = ", ".join(dict.fromkeys(left))
            message = f"shortcodes left as text ({len(left)}): {shown}"
            entry.warnings.append(ImportProblem(relative, line, message))
        draft.body = body
        tags = slug_list(data.get("tags"), split_spaces=False)
        tags += slug_list(data.get("categories"), split_spaces=False)
        draft.tags = [slug for slug, _name in tags]
        entry.tag_names.update(dict(tags))
        draft.authors = self._authors(entry, data, line)
        draft.dek = (
            text_of(data.get("summary"))
            or text_of(data.get("description"))
            or text_of(data.get("excerpt"))
        )
        if not draft.dek:
            draft.dek = first_sentences(body)
            if draft.dek:
                message = "no summary or description: the dek is the body's first sentences"
                entry.warnings.append(ImportProblem(relative, line, message))
        if data.get("draft") is True or text_of(data.get("draft")).lower() == "true":
            draft.status = PostStatus.DRAFT
        page_slug = given or name
        draft.redirects.append(
            text_of(data.get("url")) or "/" + "/".join(p for p in (section, page_slug) if p) + "/"
        )
        aliases = data.get("aliases") or []
        for alias in aliases if isinstance(aliases, list) else [aliases]:
            text = text_of(alias)
            if text:
                relative_alias = not text.startswith("/") and "://" not in text
                draft.redirects.append(f"/{section}/{text}" if relative_alias and section else text)
        other = sorted(str(key) for key in data if key not in KNOWN)
        if other:
            message = f"fields not carried over: {', '.join(other)}"
            entry.warnings.append(ImportProblem(relative, line, message))
        return draft.entry(entry, taken)

    def _date(self, entry: Entry, data: dict[str, Any], line: int) -> datetime | None:
        value = data.get("date") or data.get("publishDate")
        if value is None or value == "":
            return None
        try:
            moment, note = parse_loose_date(value, UTC)
        except ValueError as error:
            entry.problems.append(ImportProblem(entry.path, line, f"bad date: {error}"))
            return None
        if note:
            entry.warnings.append(ImportProblem(entry.path, line, note))
        return moment

    def _authors(self, entry: Entry, data: dict[str, Any], line: int) -> list[str]:
        value = data.get("authors") or data.get("author")
        names: list[str] = []
        for item in value if isinstance(value, list) else [value]:
            text = text_of(item.get("name") if isinstance(item, dict) else item)
            for part in re.split(r"\s+and\s+|\s*&\s*", text):
                name = part.split(",", 1)[0].strip()
                if name:
                    names.append(name)
        if not names:
            message = f"no author: credited to {FALLBACK_AUTHOR.name!r}"
            entry.warnings.append(ImportProblem(entry.path, line, message))
            return [FALLBACK_AUTHOR.slug]
        slugs = [slugify(name, "author") for name in names]
        entry.author_names.update(zip(slugs, names, strict=True))
        return slugs
