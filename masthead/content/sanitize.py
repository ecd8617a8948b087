"""The one gate every piece of author HTML passes before a page shows it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

__all__ = ["HEADING_ID_PREFIX", "removed_parts", "sanitize_html"]

# Every heading id starts so, and no id of the page templates does: a heading cannot
# take over the page's own ids (such as `site-main`, the skip link's target).
HEADING_ID_PREFIX = "h-"

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "var",
}  # fmt: skip
_HEADING_ATTRIBUTES = {"id"}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "pre": {"class"},
    "span": {"class", "role", "aria-label"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
    **{f"h{level}": _HEADING_ATTRIBUTES for level in range(1, 7)},
}
_URL_SCHEMES = {"http", "https", "mailto"}
_SAFE_TOKEN = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,80}$")
# A heading's slug (at most 80 characters) and its uniqueness suffix, after the prefix.
_HEADING_ID = re.compile(f"^{re.escape(HEADING_ID_PREFIX)}[a-z0-9][a-z0-9-]{{0,99}}$")
_LABEL = re.compile(r"^\w[\w ,.'-]{0,80}$")
_MAX_EXTRA_PASSES = 3
_PRE_LEADING_NEWLINE = re.compile(r'<pre(?: class="[^"<>]*")?>\n')
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Drop attribute values that could steer the page: unprefixed ids, odd classes, roles.

    `role="img"` with an `aria-label` names a symbol for screen readers (the task-list
    markers, an emoji); no other role, which could make text pose as a control.
    """
    if attribute == "id":
        return value if _HEADING_ID.match(value) else None
    if attribute == "class":
        return value if _SAFE_TOKEN.match(value) else None
    if attribute == "role":
        return value if value == "img" else None
    if attribute == "aria-label":
        return value if _LABEL.match(value) else None
    return value


def _clean(html: str) -> str:
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        attribute_filter=_keep_attribute,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    # A parser drops the newline that opens a <pre>; the serialiser must add one to keep a
    # leading newline of the text (HTML standard, "Serialising HTML fragments"). nh3 does
    # not, so every pass would eat one more: add it back.
    cleaned = _PRE_LEADING_NEWLINE.sub("\\g<0>\n", cleaned)
    # Control characters (raw, or decoded from `&#1;`) survive nh3 but are not allowed in
    # XML: one in a body made every Atom feed holding it malformed. Markup is escaped by
    # now, so dropping them cannot create a tag or an attribute.
    return _NOT_XML.sub("", cleaned)


def sanitize_html(html: str) -> str:
    """Keep only a known set of tags, attributes and URL schemes.

    One pass is not always stable: when a dropped element changed how its neighbours were
    parsed (`<p><select><p>x`, `<a><table><a>x`), the output holds nestings such as
    `<p><p>` or `<a><a>` that a browser re-parses into a different tree than the one that
    was checked — the precondition of mutation XSS. So clean until the output is a fixed
    point: then what a browser builds from it is exactly the tree the sanitiser kept.
    """
    cleaned = _clean(html)
    for _ in range(_MAX_EXTRA_PASSES):
        again = _clean(cleaned)
        if again == cleaned:
            break
        cleaned = again
    return cleaned


class _Inventory(HTMLParser):
    """Notes what of some HTML the sanitiser does not allow."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.removed: list[str] = []

    def _note(self, part: str) -> None:
        if part not in self.removed:
            self.removed.append(part)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            self._note(f"<{tag}>")
            return
        allowed = _ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            if name.startswith("on") or (name not in allowed and name in {"style", "srcdoc"}):
                self._note(f"the {name} attribute of <{tag}>")
            elif name in {"href", "src"} and value and ":" in value.split("/", 1)[0]:
                scheme = value.split(":", 1)[0].strip().lower()
                if scheme not in _URL_SCHEMES:
                    self._note(f"a {scheme}: address")


def removed_parts(html: str) -> tuple[str, ...]:
    """What the sanitiser takes out of `html` that an author may have meant to show:
    elements it does not allow, event and style attributes, addresses with schemes it
    does not allow. Each is named once, in order, e.g. `<script>`, `a javascript: address`.
    """
    inventory = _Inventory()
    inventory.feed(html)
    inventory.close()
    return tuple(inventory.removed)
