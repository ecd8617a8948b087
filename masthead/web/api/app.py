"""The internal API application, mounted at /api/v1 behind the edge guard."""

from __future__ import annotations

from fastapi import FastAPI

from masthead.web.api import (
    audit,
    metrics,
    people,
    posts,
    receipts,
    redirects,
    site,
    tasks,
    webhooks,
)
from masthead.web.api.openapi import install_openapi
from masthead.web.problems import install_problem_handlers
from masthead.web.state import AppState

__all__ = ["API_PREFIX", "create_api"]

API_PREFIX = "/api/v1"

DESCRIPTION = """\
Masthead's internal API. Every request needs the edge secret header and a staff token
(`Authorization: Bearer …`). Errors are `application/problem+json` with a stable `code`.
Lists answer `{"items": [...], "next_cursor": ...}`.
"""


def create_api(state: AppState) -> FastAPI:
    api = FastAPI(
        title="Masthead internal API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served by `install_openapi`, to staff only
        swagger_ui_oauth2_redirect_url=None,
    )
    api.state.masthead = state
    for module in (posts, receipts, people, site, audit, tasks, metrics, webhooks, redirects):
        api.include_router(module.router)
    install_problem_handlers(api)
    install_openapi(api)
    return api
