"""Which variant of a post page a request asks for: its HTML, or its Markdown twin.

A post answers `Accept: text/markdown` with its twin (the bytes of `/posts/SLUG.md`),
and says so to caches with `Vary: Accept`. The Markdown wins when the request names
`text/markdown` with a weight at least that of any `text/html` it names: a browser's
`text/html,…,*/*;q=0.8` gets HTML, a model's `text/markdown` (or `text/markdown,
text/html`) the twin.
"""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["HTML_VARIANT", "MARKDOWN_VARIANT", "page_variant", "wants_markdown"]

HTML_VARIANT = "html"
MARKDOWN_VARIANT = "markdown"


def _weights(accept: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for item in accept.split(",")[:64]:
        media, *parameters = (part.strip() for part in item.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        media = media.lower()
        weights[media] = max(weight, weights.get(media, 0.0))
    return weights


def wants_markdown(accept: str | None) -> bool:
    if not accept or "markdown" not in accept.lower():
        return False
    weights = _weights(accept)
    markdown = weights.get("text/markdown", 0.0)
    return markdown > 0 and markdown >= weights.get("text/html", 0.0)


def page_variant(request: Request) -> str:
    """`markdown` when the request asks for the Markdown twin, else `html`."""
    return MARKDOWN_VARIANT if wants_markdown(request.headers.get("accept")) else HTML_VARIANT
