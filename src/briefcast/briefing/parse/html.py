"""HTML briefings: the article body through markdownify into the Markdown pipeline, plus page hints."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bs4 import BeautifulSoup, Tag

from briefcast.briefing.dates import as_date
from briefcast.briefing.model import Briefing
from briefcast.briefing.parse.document import _parse
from briefcast.briefing.parse.markdown import _safe_html, html_to_markdown
from briefcast.briefing.parse.metadata import ParseOptions, _Hints
from briefcast.briefing.sectors import SectorCatalogue
from briefcast.errors import BriefingError

# ----------------------------------------------------------------------- HTML

_DATE_META = ("date", "dc.date", "article:published_time", "pubdate", "publish_date")


def parse_html(
    html: str,
    *,
    source: str = "",
    catalogue: SectorCatalogue | None = None,
    default_date: date | None = None,
    options: ParseOptions | None = None,
) -> Briefing:
    """Parse an HTML briefing: ``<article>``, else ``<main>``, else ``<body>``, through markdownify."""
    if not html.strip():
        raise BriefingError("the issue is empty")
    soup = BeautifulSoup(_safe_html(html), "html.parser")
    for junk in soup(["script", "style", "noscript", "template"]):
        junk.decompose()
    hints = _Hints(date=_html_date(soup), title=_html_title(soup))
    root = soup.find("article") or soup.find("main") or soup.find("body")
    if not isinstance(root, Tag):
        for head in soup(["head", "title"]):
            head.decompose()
    fragment = str(root) if isinstance(root, Tag) else str(soup)
    md = html_to_markdown(fragment)
    briefing = _parse(
        md, source=source, catalogue=catalogue, default_date=default_date, hints=hints, options=options
    )
    return replace(briefing, meta={**briefing.meta, "format": "html"})


def _html_title(soup: BeautifulSoup) -> str:
    tag = soup.find("title")
    return " ".join(tag.get_text().split()) if isinstance(tag, Tag) else ""


def _html_date(soup: BeautifulSoup) -> date | None:
    for meta in soup.find_all("meta"):
        name = str(meta.get("name") or meta.get("property") or "").lower()
        if name in _DATE_META:
            d = as_date(str(meta.get("content") or ""))
            if d is not None:
                return d
    tag = soup.find("time")
    if isinstance(tag, Tag):
        return as_date(str(tag.get("datetime") or tag.get_text()))
    return None
