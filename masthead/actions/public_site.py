"""The public site as the faces serve it: the page table, read with the site's settings.

Live serving routes every kind of page here and gets back its bytes or a redirect;
static export and site-wide checks will list every URL here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from masthead.actions.site_info import configured_site, current_site
from masthead.domain.pages import Page, Redirect
from masthead.settings import Settings
from masthead.site import pagetable
from masthead.site.render import Renderer

__all__ = ["PublicSite"]


class PublicSite:
    """Holds the templates, loaded once; each answer reads the site's settings afresh."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._renderer = Renderer()

    @property
    def routes(self) -> list[tuple[str, str]]:
        """(name, URL pattern) of every kind of page that has an address."""
        return [(kind.name, kind.pattern) for kind in pagetable.PAGES if kind.routed]

    @property
    def dynamic(self) -> frozenset[str]:
        """The kinds of page answered afresh per request (search): never cached or exported."""
        return frozenset(kind.name for kind in pagetable.PAGES if kind.dynamic)

    def answer(
        self, connection: Connection, name: str, params: Mapping[str, Any]
    ) -> Page | Redirect:
        """The page of kind `name` with these parameters; raises `NotFound`."""
        kind = next(kind for kind in pagetable.PAGES if kind.name == name)
        return kind.build(self._context(connection), params)

    def every_url(self, connection: Connection) -> list[str]:
        return pagetable.every_url(self._context(connection))

    def redirects(self, connection: Connection) -> dict[str, str]:
        return pagetable.old_slug_redirects(self._context(connection))

    def not_found(self, connection: Connection | None) -> Page:
        """The page any unknown address answers with; without a database, as configured."""
        if connection is None:
            site = configured_site(self.settings)
        else:
            site = current_site(connection, self.settings)
        return pagetable.not_found_page(self._renderer, site)

    def unavailable(self) -> Page:
        """What every page answers while the database is away."""
        body = self._renderer.unavailable(configured_site(self.settings))
        return Page(body, pagetable.HTML, found=False)

    def _context(self, connection: Connection) -> pagetable.PageContext:
        site = current_site(connection, self.settings)
        return pagetable.PageContext(connection, site, self._renderer)
