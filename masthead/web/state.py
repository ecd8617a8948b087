"""What every request handler needs, held once on the app."""

from __future__ import annotations

from dataclasses import dataclass, field

from anyio import CapacityLimiter
from starlette.requests import Request

from masthead.actions.public_site import PublicSite
from masthead.settings import Settings
from masthead.web.metrics import RequestMetrics
from masthead.web.render_cache import RenderCache

__all__ = ["AppState", "app_state"]


@dataclass(frozen=True)
class AppState:
    settings: Settings
    site: PublicSite
    metrics: RequestMetrics = field(default_factory=RequestMetrics)
    cache: RenderCache = field(default_factory=lambda: RenderCache(0))
    page_threads: CapacityLimiter = field(init=False)
    """The threads public pages are rendered on (`Settings.page_threads` of them)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "page_threads", CapacityLimiter(self.settings.page_threads))


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.masthead
    return state
