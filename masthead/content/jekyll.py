"""Reading a Jekyll site: `_posts/` (`.md`, `.markdown`), `_config.yml` for the permalink
and the time zone, `_data/authors.yml` or `_authors/` for the authors' names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, tzinfo
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
    site_zone,
    slug_list,
    text_of,
)
from masthead.content.frontmatter import FrontMatterError
from masthead.content.sitefiles import read_site_file, read_text, read_yaml_mapping
from masthead.domain.posts import PostStatus
from masthead.domain.slugs import slugify
from masthead.errors import ImportProblem

__all__ = ["JekyllSite", "jekyll_permalink"]

SUFFIXES = (".md", ".markdown")
KNOWN = {
    "title", "date", "author", "authors", "categories", "category", "tags", "tag",
    "description", "excerpt", "published", "permalink", "redirect_from", "slug", "layout",
}  # fmt: skip
STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
_FILE_NAME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.+)$")
_RAW = re.compile(r"\{%-?\s*(?:end)?raw\s*-?%\}")
_RELATIVE = re.compile(
    r"\{\{-?\s*['\"]([^'\"]*)['\"]\s*\|\s*(?:relative_url|absolute_url)\s*-?\}\}"
)
_BASEURL = re.compile(r"\{\{-?\s*site\.(?:baseurl|url)\s*-?\}\}")
_LIQUID = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
_PRETTY = re.compile(r"[^\w.~!$&'()+,;=@]+|_+")
FALLBACK_AUTHOR = Person("archive", "Archive")


def jekyll_permalink(pattern: str, title: str, moment: datetime, categories: list[str]) -> str:
    """The URL Jekyll gives a post (`moment` already in the site's zone)."""
    template = STYLES.get(pattern, pattern)
    values = {
        "year": f"{moment.year:04d}",
        "month": f"{moment.month:02d}",
        "i_month": str(moment.month),
        "day": f"{moment.day:02d}",
        "i_day": str(moment.day),
        "short_year": f"{moment.year % 100:02d}",
        "hour": f"{moment.hour:02d}",
        "minute": f"{moment.minute:02d}",
        "second": f"{moment.second:02d}",
        "y_day": f"{moment.timetuple().tm_yday:03d}",
        "week": f"{moment.isocalendar()[1]:02d}",
        "short_day": moment.strftime("%a"),
        "title": title,
        "slug": title,
        "categories": "/".join(categories),
        "output_ext": ".html",
    }
    names = sorted(values, key=len, reverse=True)
    url = re.sub(":(" + "|".join(names) + ")", lambda found: values[found.group(1)], template)
    url = re.sub("/+", "/", url)
    return url if url.startswith("/") else "/" + url


class JekyllSite:
    format = "jekyll"

    def __init__(self, root: Path) -> None:
        if (root / "_posts").is_dir():
            self.site, self.posts = root, root / "_posts"
        elif root.is_dir() and root.name == "_posts":
            self.site, self.posts = root.parent, root
        else:
            raise SourceError(0, "not a Jekyll site: no _posts folder")
        self.config = self._config()
        posts_config = (self.config.get("collections") or {}).get("posts") or {}
        self.permalink = str(
            (posts_config.get("permalink") if isinstance(posts_config, dict) else None)
            or self.config.get("permalink")
            or "date"
        )
        self.zone: tzinfo = site_zone(self.config.get("timezone"))

    def _config(self) -> dict[str, Any]:
        path = self.site / "_config.yml"
        if not path.is_file():
            return {}
        try:
            return read_yaml_mapping(path)
        except FrontMatterError as error:
            raise SourceError(error.line, f"_config.yml: {error.message}") from None

    def people(self) -> dict[str, Person]:
        found: dict[str, Person] = {FALLBACK_AUTHOR.slug: FALLBACK_AUTHOR}
        data_file = self.site / "_data" / "authors.yml"
        if data_file.is_file():
            try:
                data = read_yaml_mapping(data_file)
            except FrontMatterError:
                data = {}
            for key, value in data.items():
                info = value if isinstance(value, dict) else {}
                name = text_of(info.get("name") or info.get("full_name")) or str(key)
                found[slugify(str(key), "author")] = Person(
                    slugify(str(key), "author"), name, text_of(info.get("bio"))
                )
        folder = self.site / "_authors"
        if folder.is_dir():
            for path in sorted(folder.glob("*.md")):
                try:
                    meta = read_site_file(read_text(path)).meta.data
                except FrontMatterError:
                    continue
                key = text_of(meta.get("name")) or path.stem
                name = text_of(meta.get("full_name")) or key
                for alias in {key, path.stem}:
                    slug = slugify(alias, "author")
                    found[slug] = Person(slug, name, text_of(meta.get("bio")))
        return found

    def tag_names(self) -> dict[str, str]:
        return {}

    def entries(self) -> Iterator[Entry]:
        taken: dict[str, str] = {}
        files = sorted(p for p in self.posts.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        for path in files:
            yield self._entry(path, taken)

    def _entry(self, path: Path, taken: dict[str, str]) -> Entry:
        relative = path.relative_to(self.site).as_posix()
        entry = Entry(relative)
        source = open_entry_file(entry, path)
        if source is None:
            return entry
        data, line = source.meta.data, source.meta.line()
        named = _FILE_NAME.match(path.stem)
        if named is None:
            entry.skipped = "the file name does not start with a date (YYYY-MM-DD-title)"
            return entry
        moment = self._date(entry, data, named, source.meta.line("date"))
        if moment is None:
            return entry
        title_part = _PRETTY.sub("-", text_of(data.get("slug")) or named.group(4)).strip("-")
        draft = PostDraft(relative, line, text_of(data.get("title")), "", meta=source.meta)
        draft.slug = title_part
        draft.published_at = moment
        draft.body = self._body(entry, source.body)
        categories = slug_list(data.get("categories") or data.get("category"), split_spaces=True)
        tags = categories + slug_list(data.get("tags") or data.get("tag"), split_spaces=False)
        draft.tags = [slug for slug, _name in tags]
        entry.tag_names.update(dict(tags))
        draft.authors = self._authors(entry, data, line)
        self._dek(entry, draft, data)
        if data.get("published") is False:
            draft.status = PostStatus.DRAFT
        raw_categories = [name.lower() for _slug, name in categories]
        local = moment.astimezone(self.zone)
        pattern = text_of(data.get("permalink")) or self.permalink
        draft.redirects.append(jekyll_permalink(pattern, title_part, local, raw_categories))
        draft.redirects += [text for text in _strings(data.get("redirect_from"))]
        other = sorted(str(key) for key in data if key not in KNOWN)
        if other:
            entry.warnings.append(
                ImportProblem(relative, line, f"fields not carried over: {', '.join(other)}")
            )
        return draft.entry(entry, taken)

    def _date(
        self, entry: Entry, data: dict[str, Any], named: re.Match[str], line: int
    ) -> datetime | None:
        value = data.get("date")
        try:
            if value is None or value == "":
                year, month, day = (int(part) for part in named.groups()[:3])
                return datetime(year, month, day, tzinfo=self.zone)
            moment, note = parse_loose_date(value, self.zone)
        except ValueError as error:
            entry.problems.append(ImportProblem(entry.path, line, f"bad date: {error}"))
            return None
        if note:
            entry.warnings.append(ImportProblem(entry.path, line, note))
        return moment

    def _body(self, entry: Entry, body: str) -> str:
        body = _RELATIVE.sub(lambda found: found.group(1), body)
        body = _BASEURL.sub("", body)
        pieces = _RAW.split(body)
        # Odd pieces were inside {% raw %} … {% endraw %}: kept exactly.
        other = [found.group(0) for piece in pieces[::2] for found in _LIQUID.finditer(piece)]
        if other:
            shown = ", ".join(dict.fromkeys(" ".join(tag.split())[:40] for tag in other[:5]))
            entry.warnings.append(
                ImportProblem(entry.path, 1, f"Liquid left as text ({len(other)}): {shown}")
            )
        return "".join(pieces)

    def _authors(self, entry: Entry, data: dict[str, Any], line: int) -> list[str]:
        names = _strings(data.get("authors")) or _strings(data.get("author"))
        if not names:
            entry.warnings.append(
                ImportProblem(entry.path, line, f"no author: credited to {FALLBACK_AUTHOR.name!r}")
            )
            return [FALLBACK_AUTHOR.slug]
        slugs = [slugify(name, "author") for name in names]
        entry.author_names.update(zip(slugs, names, strict=True))
        return slugs

    def _dek(self, entry: Entry, draft: PostDraft, data: dict[str, Any]) -> None:
        draft.dek = text_of(data.get("description")) or text_of(data.get("excerpt"))
        if not draft.dek:
            draft.dek = first_sentences(draft.body)
            if draft.dek:
                message = "no description or excerpt: the dek is the body's first sentences"
                entry.warnings.append(ImportProblem(entry.path, draft.line, message))


def _strings(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [text_of(item) for item in value if text_of(item)]
    return [text_of(value)]
