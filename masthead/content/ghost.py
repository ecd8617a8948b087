"""Reading a Ghost JSON export (Labs → Export): posts with their status, HTML (or Lexical
or Mobiledoc) as Markdown, tags in order (primary first), authors with name, slug and bio."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

from masthead.content.foreign import (
    PAGE_AS_POST,
    Entry,
    Person,
    PostDraft,
    SourceError,
    parse_loose_date,
    text_of,
)
from masthead.content.htmltext import html_to_markdown
from masthead.content.jsonstream import table_rows
from masthead.domain.posts import PostStatus
from masthead.domain.slugs import slugify
from masthead.errors import ImportProblem

__all__ = ["GhostExport", "lexical_to_markdown"]

FALLBACK_AUTHOR = Person("archive", "Archive")


def _lexical_node(node: dict[str, Any]) -> str:  # noqa: C901 - one branch per node type
    kind = node.get("type")
    children = "".join(_lexical_node(child) for child in node.get("children") or [])
    if kind == "text":
        text = str(node.get("text", ""))
        style = int(node.get("format") or 0)
        if style & 16:
            return f"`{text}`"
        if style & 1:
            text = f"**{text}**"
        if style & 2:
            text = f"*{text}*"
        return text
    if kind == "linebreak":
        return "  \n"
    if kind == "link":
        return f"[{children}]({node.get('url', '')})"
    if kind == "heading":
        level = int(str(node.get("tag", "h2"))[1:] or 2)
        return "#" * level + f" {children}\n\n"
    if kind == "quote":
        return "> " + children + "\n\n"
    if kind == "list":
        marker = "1." if node.get("listType") == "number" else "-"
        items = [_lexical_node(child).strip() for child in node.get("children") or []]
        return "".join(f"{marker} {item}\n" for item in items) + "\n"
    if kind in ("codeblock", "code"):
        return f"```{node.get('language') or ''}\n{node.get('code', children)}\n```\n\n"
    if kind == "image":
        image = f"![{node.get('alt', '')}]({node.get('src', '')})"
        caption = text_of(node.get("caption"))
        return image + (f"\n\n*{caption}*" if caption else "") + "\n\n"
    if kind in ("html", "markdown"):
        source = str(node.get("html") or node.get("markdown") or "")
        return (html_to_markdown(source) if kind == "html" else source) + "\n\n"
    if kind == "horizontalrule":
        return "---\n\n"
    if kind in ("paragraph", "listitem", None, "root"):
        return children + ("\n\n" if kind == "paragraph" else "")
    return children


def lexical_to_markdown(document: str) -> str:
    """Ghost's Lexical JSON (the editor's document) as Markdown."""
    root = json.loads(document).get("root") or {}
    return _lexical_node(root).strip() + "\n"


def _mobiledoc_markdown(document: str) -> str:
    """The Markdown cards of a Mobiledoc document (older Ghost), joined."""
    cards = json.loads(document).get("cards") or []
    return "\n\n".join(
        str(payload.get("markdown") or payload.get("cardName") or "")
        for name, payload in cards
        if name in ("markdown", "card-markdown")
    )


def _link(found: dict[str, list[tuple[int, str]]], row: object, key: str) -> None:
    """A `posts_tags` or `posts_authors` row into post id → [(sort order, id)]; odd rows
    skipped."""
    if isinstance(row, dict) and row.get("post_id") and row.get(key):
        order = row.get("sort_order")
        number = int(order) if isinstance(order, int | float) else 0
        found.setdefault(str(row["post_id"]), []).append((number, str(row[key])))


def _is_page(post: dict[str, Any]) -> bool:
    """A page among the posts: `type: page` (Ghost 1+) or `page: 1` (Ghost 0.x)."""
    return post.get("type") == "page" or post.get("page") in (1, True, "1")


class GhostExport:
    format = "ghost"

    def __init__(self, path: Path, *, include_pages: bool = False) -> None:
        self.path = path
        self.name = path.name
        self.include_pages = include_pages
        if not path.is_file():
            raise SourceError(0, "not a Ghost export: give the JSON file")
        self.users: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, Any]] = {}
        self.post_tags: dict[str, list[tuple[int, str]]] = {}
        self.post_authors: dict[str, list[tuple[int, str]]] = {}
        for table, _index, row in table_rows(path):  # all but the posts, in a first pass
            if table in ("users", "tags") and isinstance(row, dict):
                kept = self.users if table == "users" else self.tags
                kept[str(row.get("id"))] = row
            elif table == "posts_tags":
                _link(self.post_tags, row, "tag_id")
            elif table == "posts_authors":
                _link(self.post_authors, row, "author_id")

    def people(self) -> dict[str, Person]:
        found = {FALLBACK_AUTHOR.slug: FALLBACK_AUTHOR}
        for user in self.users.values():
            slug = slugify(text_of(user.get("slug")) or text_of(user.get("name")), "author")
            found[slug] = Person(slug, text_of(user.get("name")) or slug, text_of(user.get("bio")))
        return found

    def tag_names(self) -> dict[str, str]:
        return {
            slugify(text_of(t.get("slug")), "tag"): text_of(t.get("name"))
            for t in self.tags.values()
        }

    def entries(self) -> Iterator[Entry]:
        taken: dict[str, str] = {}
        post_tags, post_authors = self.post_tags, self.post_authors
        for table, index, post in table_rows(self.path):  # older exports: a pages table too
            if table not in ("posts", "pages"):
                continue
            where = f"{self.name}#{table}[{index}]"
            if isinstance(post, dict):
                page = table == "pages" or _is_page(post)
                yield self._entry(where, page, post, post_tags, post_authors, taken)
            else:
                yield Entry(where, problems=[ImportProblem(where, 1, "not a post object")])

    def _entry(  # noqa: C901 - one step per field of the source
        self,
        where: str,
        page: bool,
        post: dict[str, Any],
        post_tags: dict[str, list[tuple[int, str]]],
        post_authors: dict[str, list[tuple[int, str]]],
        taken: dict[str, str],
    ) -> Entry:
        entry = Entry(where)
        if page and not self.include_pages:
            entry.skipped = "a page, not a post"
            return entry
        if page:
            entry.warnings.append(ImportProblem(where, 1, PAGE_AS_POST))
        status = text_of(post.get("status"))
        post_id = str(post.get("id"))
        draft = PostDraft(where, 1, text_of(post.get("title")), self._body(entry, post), data=post)
        draft.slug, draft.slug_given = text_of(post.get("slug")), bool(post.get("slug"))
        draft.dek = text_of(post.get("custom_excerpt"))
        moment = post.get("published_at")
        if moment not in (None, "", "None"):
            try:
                draft.published_at, _note = parse_loose_date(str(moment), UTC)
            except ValueError as error:
                entry.problems.append(ImportProblem(where, 1, f"bad published_at: {error}"))
                return entry
        tag_ids = [tag for _order, tag in sorted(post_tags.get(post_id, []))]
        for tag_id in tag_ids:
            tag = self.tags.get(tag_id)
            if tag is None or text_of(tag.get("name")).startswith("#"):
                continue  # an internal tag (#…), not shown on a Ghost site
            slug = slugify(text_of(tag.get("slug")) or text_of(tag.get("name")), "tag")
            draft.tags.append(slug)
            entry.tag_names[slug] = text_of(tag.get("name")) or slug
        author_ids = [author for _order, author in sorted(post_authors.get(post_id, []))]
        if not author_ids and post.get("author_id"):
            author_ids = [str(post["author_id"])]
        for author_id in author_ids:
            user = self.users.get(author_id)
            if user is not None:
                draft.authors.append(
                    slugify(text_of(user.get("slug")) or text_of(user.get("name")), "author")
                )
        if not draft.authors:
            draft.authors = [FALLBACK_AUTHOR.slug]
            entry.warnings.append(ImportProblem(where, 1, "no author: credited to 'Archive'"))
        if status != "published" or text_of(post.get("visibility")) not in ("public", ""):
            draft.status = PostStatus.DRAFT
            why = status if status != "published" else f"visibility {post.get('visibility')}"
            entry.warnings.append(ImportProblem(where, 1, f"imported as a draft ({why})"))
        if text_of(post.get("feature_image")) not in ("", "None"):
            message = f"feature image not carried over: {post['feature_image']}"
            entry.warnings.append(ImportProblem(where, 1, message))
        if draft.slug:
            draft.redirects.append(f"/{draft.slug}/")
        return draft.entry(entry, taken)

    def _body(self, entry: Entry, post: dict[str, Any]) -> str:
        html = post.get("html")
        if isinstance(html, str) and html.strip():
            return html_to_markdown(html)
        for key, convert in (("lexical", lexical_to_markdown), ("mobiledoc", _mobiledoc_markdown)):
            document = post.get(key)
            if isinstance(document, str) and document.strip() and document != "None":
                try:
                    return convert(document)
                except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
                    entry.warnings.append(ImportProblem(entry.path, 1, f"unreadable {key}"))
        return text_of(post.get("plaintext"))
