"""An ASGI entry point for servers started from the command line.

`uvicorn --factory masthead.web.asgi:application` or
`granian --interface asgi --factory masthead.web.asgi:application`; settings come from
the environment and `masthead.toml`.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from masthead.settings import load_settings
from masthead.web.app import create_app

__all__ = ["application"]


def application() -> ASGIApp:
    return create_app(load_settings())
