"""An ASGI entry point for servers started from the command line.

`uvicorn --factory masthead.web.asgi:application` or
`granian --interface asgi --factory masthead.web.asgi:application`; settings come from
the environment and `masthead.toml`. Started this way, the server's own options apply:
the bounds on a request's head (`MASTHEAD_MAX_HEADER_BYTES`,
`MASTHEAD_HEADER_TIMEOUT_SECONDS`) are `masthead serve`'s (`masthead.web.server`).
"""

from __future__ import annotations

from starlette.types import ASGIApp

from masthead.settings import load_settings
from masthead.web.app import create_app

__all__ = ["application"]


def application() -> ASGIApp:
    return create_app(load_settings())
