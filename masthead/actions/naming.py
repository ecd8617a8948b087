"""The two fields everything staff create must have right: a slug and a name."""

from __future__ import annotations

from masthead.domain.slugs import is_valid_slug
from masthead.errors import FieldProblem, InvalidInput

__all__ = ["SLUG_RULE", "require_slug_and_name"]

SLUG_RULE = "use lowercase letters, digits and hyphens"


def require_slug_and_name(slug: str, name: str, what: str) -> None:
    """Refuse a malformed slug or an empty name, naming each field."""
    problems = []
    if not is_valid_slug(slug):
        problems.append(FieldProblem("slug", SLUG_RULE, "invalid_slug"))
    if not name.strip():
        problems.append(FieldProblem("name", f"{what} needs a name", "required"))
    if problems:
        raise InvalidInput(problems)
