"""The public archive: every published issue as a web page, and Atom feeds of them.

With ``BRIEFCAST_PUBLIC_URL`` set, :func:`archive_routes` serves (read-only, no login)::

    GET /issues                   index, newest first, 20 a page (?page=N, ?sector=KEY, ?lang=zh|en)
    GET /issues/{date-or-id}      one whole issue (?lang=zh|en, else Accept-Language, else the issue's)
    GET /feeds/all.xml            Atom: one entry per issue, the whole issue as content
    GET /feeds/{sector}.xml       Atom: one entry per issue that has the sector, that section as content

and each push ends with a "read the whole issue" button linking to the issue's page
(:func:`briefcast.render.compose.with_issue_link`). Only the newest published revision of an issue
is ever shown; drafts never are, whatever the URL. Pages and feeds answer conditional GETs
(ETag / Last-Modified → 304) and say how long they may be cached.

This module stays import-light (the URL helpers in :mod:`briefcast.archive.urls` are used by the
core renderers); the web parts load when the routes are built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from briefcast.briefing.sectors import SectorCatalogue
    from briefcast.config import Settings
    from briefcast.store import Store

__all__ = ["archive_routes"]


def archive_routes(
    settings: Settings, store: Store, *, catalogue: SectorCatalogue | None = None
) -> list[BaseRoute]:
    """The archive's routes, or none when ``settings.public_url`` is empty (the archive is off)."""
    if not settings.public_url:
        return []
    from briefcast.archive.views import Archive

    return Archive(settings, store, catalogue=catalogue).routes()
