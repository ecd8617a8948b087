"""What every request handler needs, held once on the app."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.requests import Request

from masthead.settings import Settings
from masthead.site.render import Renderer

__all__ = ["AppState", "app_state"]


@dataclass(frozen=True)
class AppState:
    settings: Settings
    engine: Engine
    renderer: Renderer


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.masthead
    return state
