"""The archive's pages and feeds: server-rendered Jinja2 (the dashboard's environment), no JavaScript.

Every response is built in full, then :func:`conditional` answers it: the ETag is a hash of the
body (so it changes exactly when the page does: a new issue, a correction, another language), the
Last-Modified is the newest publication shown, and a matching ``If-None-Match`` (or, without one,
``If-Modified-Since``) gets a 304 with no body. Database work runs in a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from briefcast.archive import urls
from briefcast.archive.html import blocks_html, section_body_html, unique_links
from briefcast.briefing.model import Briefing, Section
from briefcast.briefing.sectors import Sector, SectorCatalogue
from briefcast.config import Settings
from briefcast.dashboard.views import environment
from briefcast.i18n import negotiate, t
from briefcast.render.compose import section_title, source_name
from briefcast.store import Store
from briefcast.store.records import StoredIssue

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 20  # issues per index page
FEED_ENTRIES = 20  # newest issues per feed
PAGE_MAX_AGE = 60  # seconds a page may be reused without asking (a correction shows within a minute)
FEED_MAX_AGE = 300
HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # atom:updated of a feed with no entry yet
# No script, no third-party anything: issue content is untrusted, and the pages need none.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
# Characters XML 1.0 forbids even escaped; a newsletter may carry them, a feed must not.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_safe(value: Any) -> Any:
    if isinstance(value, Markup):
        return Markup(_XML_INVALID.sub("", str(value)))
    if isinstance(value, str):
        return _XML_INVALID.sub("", value)
    return value


def archive_environment() -> Environment:
    env = environment(HERE / "templates")
    env.finalize = _xml_safe  # set before any template is compiled: applies to every {{ }} output
    env.filters["rfc3339"] = lambda d: d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    env.globals["t"] = t
    return env


# ------------------------------------------------------------------- conditional GET


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC).replace(microsecond=0), usegmt=True)


def not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 §13.1: If-None-Match (weak comparison, ``*``) wins; else If-Modified-Since."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = {tag.strip().removeprefix("W/") for tag in inm.split(",")}
        return "*" in tags or etag in tags
    ims = request.headers.get("if-modified-since")
    if ims and last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


def conditional(
    request: Request,
    body: str,
    *,
    media_type: str,
    max_age: int,
    last_modified: datetime | None = None,
    vary: str = "",
    status: int = 200,
    extra: dict[str, str] | None = None,
) -> Response:
    """``body`` with ETag, Last-Modified, Cache-Control (and Vary), or a bodiless 304 when the
    client's copy is current. Errors (``status`` != 200) are never cached and never 304."""
    data = body.encode("utf-8")
    headers = {"X-Content-Type-Options": "nosniff", **(extra or {})}
    if vary:
        headers["Vary"] = vary
    if status != 200:
        headers["Cache-Control"] = "no-store"
        return Response(data, status_code=status, media_type=media_type, headers=headers)
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers["ETag"] = etag
    headers["Cache-Control"] = f"public, max-age={max_age}"
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    if not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    return Response(data, status_code=200, media_type=media_type, headers=headers)


# ----------------------------------------------------------------------- view models


@dataclass(frozen=True)
class SectionView:
    section: Section
    title: str

    @property
    def key(self) -> str:
        return self.section.key

    @property
    def anchor(self) -> str:
        return urls.anchor(self.section.key)

    @cached_property
    def body(self) -> Markup:
        return section_body_html(self.section)


@dataclass(frozen=True)
class IssueView:
    """One issue as the templates show it (strings unescaped: templates escape). The HTML of the
    content is made on first use: the index shows titles only."""

    issue: StoredIssue
    ref: str
    path: str
    url: str
    sections: tuple[SectionView, ...]

    @property
    def briefing(self) -> Briefing:
        return self.issue.briefing

    @property
    def updated(self) -> datetime:
        return self.issue.published_at or self.issue.created_at

    @property
    def language(self) -> str:
        return urls.lang_tag(self.briefing.language)

    @property
    def attribution(self) -> str:
        return self.briefing.attribution.strip()

    @property
    def source(self) -> str:
        return source_name(self.attribution) if self.attribution else ""

    @cached_property
    def preamble(self) -> Markup:
        return blocks_html(self.briefing.preamble)

    @cached_property
    def links(self) -> tuple[tuple[str, str], ...]:
        """(text, url) of every link of the issue: safe targets only, each URL once."""
        return tuple((link.text, link.url) for link in unique_links(self.briefing.links))


class Archive:
    """The archive's handlers for one settings/store pair."""

    def __init__(self, settings: Settings, store: Store, *, catalogue: SectorCatalogue | None = None) -> None:
        self.store = store
        self.public_url = settings.public_url
        self.prefix = urls.prefix(settings.public_url)
        self.default_language = settings.default_language
        self.catalogue = catalogue or store.catalogue
        self.env = archive_environment()

    def routes(self) -> list[BaseRoute]:
        return [
            Route(urls.INDEX, self.index, methods=["GET"]),
            Route(urls.INDEX + "/{ref}", self.issue, methods=["GET"]),
            Route(urls.FEEDS + "/{name}.xml", self.feed, methods=["GET"]),
            Mount("/static/archive", app=StaticFiles(directory=str(HERE / "static")), name="archive-static"),
        ]

    # -- helpers --------------------------------------------------------------------

    def _lang(self, request: Request, fallback: str | None = None) -> str:
        return negotiate(
            request.query_params.get("lang"),
            request.headers.get("accept-language"),
            fallback or self.default_language,
        )

    def _path(self, path: str) -> str:
        return self.prefix + path

    def _sector(self, name: str) -> Sector | None:
        return self.catalogue.get(name) or self.catalogue.lookup(name)

    def sector_label(self, key: str, lang: str) -> str:
        s = self.catalogue.get(key)
        return f"{s.emoji} {s.name(lang)}".strip() if s is not None else key

    def _render(self, template: str, request: Request, lang: str, **context: Any) -> str:
        chosen = request.query_params.get("lang", "")
        return self.env.get_template(template).render(
            lang=lang,
            q=f"?lang={lang}" if chosen == lang else "",  # links keep a language the reader picked
            html_lang="zh-CN" if lang == "zh" else "en",
            other_lang="en" if lang == "zh" else "zh",
            css=self._path("/static/archive/archive.css"),
            home=self._path(urls.index_path()),
            feeds=[(t(lang, "feed_all"), self._path(urls.feed_path()))]
            + [(self.sector_label(s.key, lang), self._path(urls.feed_path(s.key))) for s in self.catalogue],
            sector_label=self.sector_label,
            **context,
        )

    def _page(
        self, request: Request, body: str, last_modified: datetime | None, *, status: int = 200
    ) -> Response:
        return conditional(
            request,
            body,
            media_type=HTML,
            max_age=PAGE_MAX_AGE,
            last_modified=last_modified,
            vary="Accept-Language",
            status=status,
            extra={"Content-Security-Policy": CSP, "Referrer-Policy": "no-referrer"},
        )

    def not_found(self, request: Request, lang: str, message: str) -> Response:
        """The 404 page, in the reader's language."""
        body = self._render("not_found.html", request, lang, message=message, switch=None)
        return self._page(request, body, None, status=404)

    def _ref(self, issue: StoredIssue, owners: dict[date, str]) -> str:
        """The issue's address: its date when it owns that date, else its id."""
        if issue.date is not None and owners.get(issue.date) == issue.identity:
            return issue.date.isoformat()
        return str(issue.id)

    def _view(self, issue: StoredIssue, owners: dict[date, str]) -> IssueView:
        b = issue.briefing
        ref = self._ref(issue, owners)
        return IssueView(
            issue=issue,
            ref=ref,
            path=self._path(urls.issue_path(ref)),
            url=urls.absolute(self.public_url, urls.issue_path(ref)),
            sections=tuple(SectionView(s, section_title(b, s)) for s in b.sections),
        )

    # -- pages ----------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        lang = self._lang(request)
        chosen = lang if request.query_params.get("lang") == lang else ""  # the reader picked it
        sector: Sector | None = None
        wanted = request.query_params.get("sector") or ""
        if wanted:
            sector = self._sector(wanted)
            if sector is None:
                return self.not_found(request, lang, t(lang, "no_such_sector", ref=wanted))
            if sector.key != wanted:
                return RedirectResponse(self._path(urls.index_path(sector=sector.key, lang=chosen)), 301)
        raw_page = request.query_params.get("page", "1")
        page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() else 0
        if page < 1:
            return self.not_found(request, lang, t(lang, "no_such_page", ref=raw_page))
        key = sector.key if sector else None

        def load() -> tuple[int, list[StoredIssue], dict[date, str]]:
            total = self.store.count_published_issues(sector=key)
            shown = self.store.published_issues(PAGE_SIZE, (page - 1) * PAGE_SIZE, sector=key)
            owners = self.store.issue_date_owners([i.date for i in shown if i.date is not None])
            return total, shown, owners

        total, shown, owners = await asyncio.to_thread(load)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        if page > pages:
            return self.not_found(request, lang, t(lang, "no_such_page", ref=page))
        views = [self._view(i, owners) for i in shown]

        def at(n: int, language: str = "") -> str:
            return self._path(urls.index_path(page=n, sector=key, lang=language))

        body = self._render(
            "index.html",
            request,
            lang,
            issues=views,
            sector=sector,
            page=page,
            pages=pages,
            newer=at(page - 1, chosen) if page > 1 else "",
            older=at(page + 1, chosen) if page < pages else "",
            switch=at(page, "en" if lang == "zh" else "zh"),
            sectors=[(s.key, self._path(urls.index_path(sector=s.key, lang=chosen))) for s in self.catalogue],
            feed=self._path(urls.feed_path(key)),
        )
        return self._page(request, body, max((v.updated for v in views), default=None))

    async def issue(self, request: Request) -> Response:
        ref = str(request.path_params["ref"])

        def load() -> tuple[StoredIssue | None, dict[date, str]]:
            found = self.store.published_issue(ref)
            if found is None or found.date is None:
                return found, {}
            return found, self.store.issue_date_owners([found.date])

        issue, owners = await asyncio.to_thread(load)
        if issue is None:
            lang = self._lang(request)
            return self.not_found(request, lang, t(lang, "no_such_issue", ref=ref))
        view = self._view(issue, owners)
        lang = self._lang(request, issue.briefing.language)
        other = "en" if lang == "zh" else "zh"
        body = self._render(
            "issue.html",
            request,
            lang,
            view=view,
            switch=self._path(urls.issue_path(view.ref, lang=other)),
            feed=self._path(urls.feed_path()),
        )
        return self._page(request, body, view.updated)

    # -- feeds ----------------------------------------------------------------------

    async def feed(self, request: Request) -> Response:
        name = str(request.path_params["name"])
        sector: Sector | None = None
        if name != urls.ALL_FEED:
            sector = self._sector(name)
            if sector is None:
                lang = self._lang(request)
                return self.not_found(request, lang, t(lang, "no_such_sector", ref=name))
            if sector.key != name:
                return RedirectResponse(self._path(urls.feed_path(sector.key)), 301)
        key = sector.key if sector else None

        def load() -> tuple[list[StoredIssue], dict[date, str]]:
            shown = self.store.published_issues(FEED_ENTRIES, sector=key)
            return shown, self.store.issue_date_owners([i.date for i in shown if i.date is not None])

        shown, owners = await asyncio.to_thread(load)
        lang = urls.lang_tag(self.default_language)
        entries = [self._entry(self._view(i, owners), key) for i in shown]
        updated = max((e["updated"] for e in entries), default=EPOCH)
        self_url = urls.absolute(self.public_url, urls.feed_path(key))
        label = self.sector_label(key, lang) if key else t(lang, "feed_all")
        body = self.env.get_template("feed.xml").render(
            lang=lang,
            id=self_url,
            self_url=self_url,
            alternate=urls.absolute(self.public_url, urls.index_path(sector=key)),
            title=t(lang, "feed_title", sector=label),
            subtitle=t(lang, "archive"),
            updated=updated,
            entries=entries,
        )
        return conditional(request, body, media_type=ATOM, max_age=FEED_MAX_AGE, last_modified=updated)

    def _entry(self, view: IssueView, sector: str | None) -> dict[str, Any]:
        """One Atom entry: the whole issue, or (``sector``) that section of it.

        ``atom:id`` is derived from the issue's identity (date + title), not from a database id,
        so a correction updates the entry a reader already has instead of adding another."""
        identity = view.issue.identity
        entry: dict[str, Any] = {
            "updated": view.updated,
            "lang": view.language,
            "author": view.source,
            "view": view,
        }
        if sector is None:
            entry |= {
                "id": _urn(self.public_url, identity),
                "title": view.briefing.title,
                "link": view.url,
                "summary": " · ".join(s.title for s in view.sections),
                "categories": [s.key for s in view.sections],
                "section": None,
            }
            return entry
        section = next(s for s in view.sections if s.key == sector)
        entry |= {
            "id": _urn(self.public_url, f"{identity}#{sector}"),
            "title": f"{section.title} · {view.briefing.title}",
            "link": urls.absolute(self.public_url, urls.issue_path(view.ref, section=sector)),
            "summary": section.title,
            "categories": [sector],
            "section": section,
        }
        return entry


def _urn(public_url: str, name: str) -> str:
    """A permanent ``urn:uuid:`` for an issue (or issue section) of this archive."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{public_url}/issues#{name}").urn
