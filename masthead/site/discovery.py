"""Pages for readers, crawlers and models besides the listings and posts: the tags
index, `llms.txt` and `llms-full.txt`, each post's Markdown twin, the web manifest and
the favicon. Data read from the published tables, written as text here.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from masthead.domain.posts import PublishedPost
from masthead.domain.staff import Tag
from masthead.errors import NotFound
from masthead.site import urls
from masthead.site.pages import SiteInfo
from masthead.store import placements, public, surroundings

__all__ = [
    "LLMS_FULL_BODY_CHARS",
    "LLMS_FULL_POSTS",
    "MarkdownTwin",
    "TagCount",
    "favicon",
    "favicon_initial",
    "llms_full_text",
    "llms_text",
    "manifest",
    "markdown_twin",
    "tag_counts",
    "twin_text",
]

LLMS_FULL_POSTS = 20
"""Posts in `llms-full.txt`: the newest, as in the feeds."""
LLMS_FULL_BODY_CHARS = 50_000
"""A longer body is cut there in `llms-full.txt` (its twin has all of it): the file stays
under about a megabyte."""
BACKGROUND = "#fdfcf9"


@dataclass(frozen=True)
class TagCount:
    tag: Tag
    count: int


def tag_counts(connection: Connection) -> list[TagCount]:
    """Every tag with a live post, by slug, with how many it has."""
    totals = placements.listing_totals(connection, tag_slugs=None, author_slugs=[])
    return [
        TagCount(tag, totals[("tag", tag.slug)])
        for tag in public.listed_tags(connection)
        if totals.get(("tag", tag.slug), 0) > 0
    ]


# --- Markdown twins -----------------------------------------------------------------------


@dataclass(frozen=True)
class MarkdownTwin:
    post: PublishedPost
    markdown: str


def markdown_twin(connection: Connection, slug: str) -> MarkdownTwin:
    post = public.find_published(connection, slug)
    if post is None:
        raise NotFound(f"no published post {slug!r}")
    return MarkdownTwin(post, surroundings.markdown_bodies(connection, [post.id])[post.id])


def _quoted(text: str) -> str:
    """A YAML scalar that reads back as `text` (JSON's strings are YAML's too)."""
    return json.dumps(text, ensure_ascii=False)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def twin_text(site: SiteInfo, twin: MarkdownTwin) -> str:
    """Front matter (title, date, authors, tags, canonical URL, revision), then the
    published revision's Markdown exactly as written."""
    post = twin.post
    names = ", ".join(_quoted(author.name) for author in post.authors)
    agents = ", ".join(_quoted(a.name) for a in post.authors if a.kind.value == "agent")
    lines = [
        "---",
        f"title: {_quoted(post.title)}",
        f"date: {_iso(post.published_at)}",
        f"authors: [{names}]",
        *([f"agents: [{agents}]"] if agents else []),
        f"tags: [{', '.join(_quoted(tag.name) for tag in post.tags)}]",
        f"canonical: {site.absolute(urls.post_url(post.slug))}",
        f"revision: {post.revision}",
        "---",
        "",
    ]
    return "\n".join(lines) + twin.markdown


# --- llms.txt -------------------------------------------------------------------------------


def _link_text(text: str) -> str:
    return " ".join(text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]").split())


def _line(text: str) -> str:
    return " ".join(text.split())


def llms_text(connection: Connection, site: SiteInfo) -> str:
    """The llms.txt convention: `# title`, `> intro`, then sections of links with notes."""
    parts = [f"# {_line(site.title)}", "", f"> {_line(site.intro)}", ""]
    parts += [
        f"Each post has a Markdown twin (the links below); the newest {LLMS_FULL_POSTS} "
        f"in full: {site.absolute(urls.LLMS_FULL)}",
        "",
        "## Posts",
        "",
    ]
    for entry in surroundings.llms_entries(connection):
        note = f": {_line(entry.dek)}" if entry.dek.strip() else ""
        url = site.absolute(urls.post_markdown_url(entry.slug))
        parts.append(f"- [{_link_text(entry.title)}]({url}){note}")
    parts += ["", "## Optional", "", f"- [Atom feed]({site.absolute(urls.FEED)})"]
    parts.append(f"- [Tags]({site.absolute(urls.TAGS)})")
    return "\n".join(parts) + "\n"


def llms_full_text(connection: Connection, site: SiteInfo) -> str:
    """The newest posts in full, newest first, each body at most LLMS_FULL_BODY_CHARS."""
    posts = public.list_published(connection, limit=LLMS_FULL_POSTS)
    bodies = surroundings.markdown_bodies(connection, [post.id for post in posts])
    parts = [f"# {_line(site.title)}", "", f"> {_line(site.intro)}", ""]
    for post in posts:
        body = bodies.get(post.id, "")
        twin = site.absolute(urls.post_markdown_url(post.slug))
        if len(body) > LLMS_FULL_BODY_CHARS:
            body = body[:LLMS_FULL_BODY_CHARS] + f"\n\n[… the rest: {twin}]"
        authors = ", ".join(author.name for author in post.authors)
        parts += [
            f"## {_line(post.title)}",
            "",
            f"URL: {site.absolute(urls.post_url(post.slug))}",
            f"Date: {_iso(post.published_at)}",
            f"Authors: {authors}",
            *([f"Summary: {_line(post.dek)}"] if post.dek.strip() else []),
            "",
            body.rstrip("\n"),
            "",
        ]
    return "\n".join(parts)


# --- manifest and favicon -------------------------------------------------------------------


def manifest(site: SiteInfo) -> str:
    return json.dumps(
        {
            "name": site.title,
            "short_name": site.title[:12],
            "description": site.intro,
            "start_url": urls.INDEX,
            "scope": urls.INDEX,
            "display": "browser",
            "theme_color": site.theme_color,
            "background_color": BACKGROUND,
            "icons": [{"src": urls.FAVICON, "sizes": "any", "type": "image/svg+xml"}],
        },
        ensure_ascii=False,
        indent=2,
    )


def favicon_initial(title: str) -> str:
    return (title.strip() or "M")[0].upper()


def favicon(site: SiteInfo) -> str:
    """A square of the theme colour with the title's first letter."""
    initial = html.escape(favicon_initial(site.title))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="12" fill="{html.escape(site.theme_color)}"/>'
        '<text x="32" y="44" font-family="system-ui,sans-serif" font-size="36" '
        f'font-weight="700" text-anchor="middle" fill="#fff">{initial}</text></svg>\n'
    )
