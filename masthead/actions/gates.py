"""Running the gates on a post's working copy: one action, no side effect.

It gathers what the pure gates (`masthead.domain.gates`) need — the body rendered afresh,
the tags and staff the site has, where each internal link leads, the approval of this
revision — and the severities the site chose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from masthead.actions.context import Call
from masthead.content.markdown import inspect_markdown
from masthead.domain.gates import (
    GATES,
    LinkTarget,
    Severity,
    Subject,
    Surroundings,
    blocking,
    internal_links,
    run_gates,
)
from masthead.domain.gates import GateResult as GateResult
from masthead.domain.posts import Post, PostStatus
from masthead.errors import FieldProblem, InvalidInput, MastheadError
from masthead.store import public
from masthead.store.approvals import latest_approval
from masthead.store.posts import get_post, get_post_id
from masthead.store.site_settings import load_overrides
from masthead.store.slugs import redirect_target, slug_owner
from masthead.store.staff import staff_kinds
from masthead.store.tags import tag_ids

__all__ = [
    "GATES_SETTING",
    "GateResult",
    "GatesFailed",
    "check_gates",
    "gate_severities",
    "valid_severities",
]

GATES_SETTING = "gates"
"""The site setting holding the severities a site chose, by gate code."""


class GatesFailed(MastheadError):
    """A gate blocks the publish; `results` lists every gate's result, blocking or not."""

    code = "gates_failed"

    def __init__(self, results: list[GateResult]) -> None:
        stopped = ", ".join(sorted({result.code for result in blocking(results)}))
        super().__init__(
            f"the gates block this publish ({stopped}); fix the post and try again",
            results=[result.as_dict() for result in results],
        )
        self.results = results


def check_gates(connection: Connection, call: Call, post: Post) -> list[GateResult]:
    """Every gate's results for the post's working copy, with the site's severities."""
    content = post.content
    try:
        rendered, removed = inspect_markdown(content.body)
        body_html: str | None = rendered.html
        words, error = rendered.word_count, None
    except Exception as failure:
        body_html, words, removed, error = None, 0, (), f"{type(failure).__name__}: {failure}"
    subject = Subject(
        slug=content.slug,
        title=content.title,
        dek=content.dek,
        body=content.body,
        tags=content.tags,
        authors=content.authors,
        revision=post.revision,
        body_html=body_html,
        word_count=words,
        render_error=error,
        removed_markup=removed,
    )
    owner = slug_owner(connection, content.slug)
    around = Surroundings(
        known_tags=frozenset(tag_ids(connection, content.tags)),
        author_kinds=staff_kinds(connection, content.authors),
        slug_owner=owner if owner not in (None, post.id) else None,
        links=_link_targets(connection, body_html, call.settings.public_url),
        approval=latest_approval(connection, post.id, post.revision),
        site_url=call.settings.public_url,
    )
    return run_gates(subject, around, gate_severities(connection))


def gate_severities(connection: Connection) -> dict[str, Severity]:
    """The severities the site chose (each gate's default where it chose none)."""
    chosen = load_overrides(connection).get(GATES_SETTING) or {}
    return {gate.code: Severity(chosen.get(gate.code, gate.severity)) for gate in GATES}


def valid_severities(value: Any) -> Mapping[str, str]:
    """A `gates` setting as an admin sends it: {code: "block" | "warn"}; refused otherwise."""
    known = {gate.code for gate in GATES}
    if not isinstance(value, Mapping):
        raise InvalidInput([FieldProblem(GATES_SETTING, "give {code: block or warn}")])
    problems = [
        FieldProblem(f"{GATES_SETTING}.{code}", "not a gate", "unknown_field")
        for code in value
        if code not in known
    ] + [
        FieldProblem(f"{GATES_SETTING}.{code}", "block or warn", "invalid")
        for code, severity in value.items()
        if code in known and severity not in {item.value for item in Severity}
    ]
    if problems:
        raise InvalidInput(problems)
    return dict(value)


def _link_targets(
    connection: Connection, body_html: str | None, site_url: str
) -> dict[str, LinkTarget]:
    if body_html is None:
        return {}
    return {path: _target(connection, path) for path in internal_links(body_html, site_url)}


def _target(connection: Connection, path: str) -> LinkTarget:
    """Whether a post, tag or author path answers with a page now (or will, scheduled)."""
    kind, _, rest = path.strip("/").partition("/")
    slug = rest.split("/", 1)[0]
    if kind == "tag":
        return LinkTarget(public.listed_tag(connection, slug) is not None)
    if kind == "author":
        return LinkTarget(public.listed_author(connection, slug) is not None)
    if public.is_live_slug(connection, slug) or _live_redirect(connection, slug):
        return LinkTarget(True)
    post_id = get_post_id(connection, slug)
    post = get_post(connection, post_id) if post_id is not None else None
    if post is not None and post.status is PostStatus.SCHEDULED:
        return LinkTarget(False, post.published_at)
    return LinkTarget(False)


def _live_redirect(connection: Connection, slug: str) -> bool:
    """An old slug of a live post: the link answers a redirect to its page."""
    post_id = redirect_target(connection, slug)
    return post_id is not None and public.find_published_slug(connection, post_id) is not None
