"""What a page says of itself to machines: JSON-LD (schema.org), ready to sit in a
`<script type="application/ld+json">` block.

The JSON is escaped for HTML: `<`, `>` and `&` are written as `\\u003c` … so no title
can close the script element or open a comment, and the text still parses as the same
JSON. An author of kind agent is a `SoftwareApplication` (with `"additionalType":
"agent"`), never a `Person`; the person who reviewed the live revision is its `editor`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from masthead.site import urls
from masthead.site.pages import AuthorBox, ListingPage, PostPage, SiteInfo

__all__ = ["json_for_html", "listing_graph", "post_graph", "tags_graph"]

CONTEXT = "https://schema.org"
_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def json_for_html(data: Any) -> str:
    """JSON that is safe inside a script element: the same value, no markup characters."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return text.translate(_ESCAPES).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _blog(site: SiteInfo) -> dict[str, Any]:
    return {"@type": "Blog", "name": site.title, "url": site.absolute(urls.INDEX)}


def _crumbs(site: SiteInfo, trail: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": number, "name": name, "item": site.absolute(path)}
            for number, (name, path) in enumerate(trail, start=1)
        ],
    }


def _author(site: SiteInfo, box: AuthorBox) -> dict[str, Any]:
    if box.agent:
        return {
            "@type": "SoftwareApplication",
            "additionalType": "agent",
            "name": box.name,
            "url": site.absolute(box.url),
        }
    return {"@type": "Person", "name": box.name, "url": site.absolute(box.url)}


def post_graph(site: SiteInfo, page: PostPage) -> str:
    post = page.post
    url = site.absolute(page.path)
    article: dict[str, Any] = {
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.dek,
        "url": url,
        "datePublished": _iso(post.published_at),
        "dateModified": _iso(post.updated_at),
        "author": [_author(site, box) for box in page.boxes],
        "keywords": [tag.name for tag in post.tags],
        "isPartOf": _blog(site),
    }
    if page.around.reviewer:
        article["editor"] = {"@type": "Person", "name": page.around.reviewer}
    trail = [(site.title, urls.INDEX)]
    if post.tags:
        trail.append((post.tags[0].name, urls.tag_url(post.tags[0].slug)))
    trail.append((post.title, page.path))
    return json_for_html({"@context": CONTEXT, "@graph": [article, _crumbs(site, trail)]})


def listing_graph(site: SiteInfo, page: ListingPage) -> str:
    url = site.absolute(page.path)
    if page.kind == "index":
        description = site.intro
        kind = "Blog" if page.window.number == 1 else "CollectionPage"
        trail = [(site.title, urls.INDEX)]
    else:
        description = page.description
        kind = "CollectionPage"
        first = page.page_path(1)
        trail = [(site.title, urls.INDEX), (page.name, first)]
    listing: dict[str, Any] = {
        "@type": kind,
        "name": page.name,
        "description": description,
        "url": url,
    }
    if kind != "Blog":
        listing["isPartOf"] = _blog(site)
    return json_for_html({"@context": CONTEXT, "@graph": [listing, _crumbs(site, trail)]})


def tags_graph(site: SiteInfo, count: int) -> str:
    listing = {
        "@type": "CollectionPage",
        "name": "Tags",
        "description": f"Every tag of {site.title} with a published post ({count}).",
        "url": site.absolute(urls.TAGS),
        "isPartOf": _blog(site),
    }
    trail = [(site.title, urls.INDEX), ("Tags", urls.TAGS)]
    return json_for_html({"@context": CONTEXT, "@graph": [listing, _crumbs(site, trail)]})


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
