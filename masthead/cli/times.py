"""The one parser of every time an operator types on the command line."""

from __future__ import annotations

from datetime import datetime

import typer

from masthead.domain.dates import parse_moment

__all__ = ["moment_option"]


def moment_option(text: str) -> datetime:
    """A date (midnight UTC) or a time with its zone; anything else is bad usage (exit 2)."""
    try:
        return parse_moment(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
