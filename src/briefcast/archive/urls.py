"""Addresses of the public archive, in one place: its pages, its feeds, and the link pushes end with.

Paths are what the routes serve (``/issues``, ``/issues/{ref}``, ``/feeds/{sector}.xml``). Pages
link with *paths* below the public URL's own path (so a reverse proxy may mount the archive under
``https://example.com/briefing``); feeds and pushes need *absolute* URLs and use :func:`absolute`.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

INDEX = "/issues"
FEEDS = "/feeds"
ALL_FEED = "all"


def lang_tag(lang: str) -> str:
    """``zh`` for any Chinese tag, else ``en``: the two languages the archive speaks."""
    return "zh" if lang.lower().startswith("zh") else "en"


def prefix(public_url: str) -> str:
    """The path part of the public URL (``""`` or ``/briefing``), which every page link starts with."""
    return urlsplit(public_url).path.rstrip("/") if public_url else ""


def absolute(public_url: str, path: str) -> str:
    """``path`` (from the functions below) as an absolute URL below ``public_url``."""
    return public_url.rstrip("/") + path


def _query(**params: str | int | None) -> str:
    kept = {k: str(v) for k, v in params.items() if v not in (None, "") and not (k == "page" and v == 1)}
    return ("?" + urlencode(kept)) if kept else ""


def index_path(*, page: int = 1, sector: str | None = None, lang: str = "") -> str:
    """``/issues`` (``?sector=energy&page=2&lang=en`` as given; page 1 is implicit)."""
    return INDEX + _query(sector=sector, page=page, lang=lang)


def anchor(section_key: str) -> str:
    """The page element id of a section: its key (``energy``, or a slug of an unknown heading)."""
    return section_key


def issue_path(ref: int | str, *, lang: str = "", section: str = "") -> str:
    """``/issues/{ref}`` with an optional ``?lang=`` and ``#section``."""
    path = f"{INDEX}/{quote(str(ref), safe='')}" + _query(lang=lang)
    return path + (f"#{quote(anchor(section), safe='')}" if section else "")


def feed_path(sector: str | None = None) -> str:
    """``/feeds/all.xml`` (whole issues) or ``/feeds/{sector}.xml``."""
    return f"{FEEDS}/{quote(sector or ALL_FEED, safe='')}.xml"


def issue_url(public_url: str, ref: int | str, *, lang: str = "", section: str = "") -> str:
    """The absolute address of an issue's page; ``""`` when no public URL is configured."""
    if not public_url:
        return ""
    return absolute(public_url, issue_path(ref, lang=lang_tag(lang) if lang else "", section=section))
