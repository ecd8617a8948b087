"""What every request handler needs, held once on the app."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.requests import Request

from masthead.settings import Settings
from masthead.site.pages import SiteInfo
from masthead.site.render import Renderer

__all__ = ["SiteState", "site_info", "site_state"]


@dataclass(frozen=True)
class SiteState:
    settings: Settings
    engine: Engine
    site: SiteInfo
    renderer: Renderer


def site_info(settings: Settings) -> SiteInfo:
    return SiteInfo(
        title=settings.site_title,
        kicker=settings.site_kicker,
        headline=settings.site_headline,
        intro=settings.site_intro,
        public_url=settings.public_url,
        zone=settings.zone,
        page_size=settings.page_size,
    )


def site_state(request: Request) -> SiteState:
    state: SiteState = request.app.state.masthead
    return state
