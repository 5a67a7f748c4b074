"""Operator dashboard pages: server-rendered Jinja2 with autoescaping, no JavaScript required.

Pages (all under ``/dashboard``): overview, issues, one issue with its per-platform preview,
subscriptions, deliveries, sources, publish. Every page reads through the Store API or
:mod:`briefcast.dashboard.queries`; database work runs in a thread so the event loop (bots,
delivery) never waits on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from briefcast.archive.urls import prefix as archive_prefix
from briefcast.config import Settings
from briefcast.dashboard.auth import COOKIE, COOKIE_MAX_AGE, DashboardAuth
from briefcast.i18n import counted, days_text
from briefcast.store import Store
from briefcast.store import read_models as queries
from briefcast.store.base import is_id
from briefcast.store.outbox import liveness, senders

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
MAX_FORM_BYTES = 30_000_000  # urlencoded Markdown is up to 3x its size; the ingest cap applies after
STATUSES = ("pending", "claimed", "sent", "failed", "skipped")
Handler = Callable[[Request], Awaitable[Response]]


def environment(templates: Path = HERE / "templates") -> Environment:
    """Jinja2 for server-rendered pages: autoescaped (HTML and XML), ``when`` filter for timestamps."""
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else "—"
    env.filters["counted"] = counted
    env.filters["days"] = lambda mask: days_text("en", int(mask))  # "Mon, Wed, Fri" / "daily"
    return env


def telegram_preview_html(payload: dict[str, Any]) -> tuple[Markup, str]:
    """A Telegram sendMessage payload as Telegram would show it, plus TDLib's error if it would fail."""
    from briefcast.render.preview import telegram_html
    from briefcast.render.telegram_entities import EntityParseError, parse_entities

    try:
        plain, entities = parse_entities(str(payload.get("text", "")), payload.get("parse_mode"))
    except EntityParseError as e:
        return Markup(""), f"Telegram would reject this message: can't parse entities: {e}"
    return Markup(telegram_html(plain, entities)), ""


def slack_preview_html(payload: dict[str, Any]) -> Markup:
    from briefcast.render.preview import slack_html

    html, rows = slack_html(payload.get("blocks"), str(payload.get("text", "")))
    buttons = "".join(
        f'<span class="btn-preview">{Markup.escape(b.get("text", ""))}</span>' for row in rows for b in row
    )
    return Markup(html + (f'<div class="buttons">{buttons}</div>' if buttons else ""))


class Dashboard:
    """The page handlers for one settings/store pair."""

    def __init__(
        self, settings: Settings, store: Store, *, ingest: Any | None = None, home: bool = True
    ) -> None:
        self.settings = settings
        self.store = store
        self.ingest = ingest
        self.home = home
        self.auth = DashboardAuth(settings)
        self.env = environment()
        # The public archive's path prefix when it is served (BRIEFCAST_PUBLIC_URL), else None.
        self.archive = archive_prefix(settings.public_url) if settings.public_url else None

    # -- plumbing -------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        guarded: list[tuple[str, Handler, list[str]]] = [
            ("/dashboard", self.overview, ["GET"]),
            ("/dashboard/issues", self.issues, ["GET"]),
            ("/dashboard/issues/{issue_id:int}", self.issue, ["GET"]),
            ("/dashboard/subscriptions", self.subscriptions, ["GET"]),
            ("/dashboard/deliveries", self.deliveries, ["GET"]),
            ("/dashboard/sources", self.sources, ["GET"]),
            ("/dashboard/publish", self.publish_form, ["GET"]),
            ("/dashboard/publish", self.publish, ["POST"]),
        ]
        routes: list[BaseRoute] = [Route(p, self._guard(h), methods=m) for p, h, m in guarded]
        routes += [
            favicon_route(),
            Route("/dashboard/login", self.login_form, methods=["GET"]),
            Route("/dashboard/login", self.login, methods=["POST"]),
            Route("/dashboard/logout", self.logout, methods=["POST"]),
            Mount(
                "/static/dashboard", app=StaticFiles(directory=str(HERE / "static")), name="dashboard-static"
            ),
        ]
        if self.home:
            routes.insert(0, Route("/", self._guard(self.overview), methods=["GET"]))
        return routes

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            if not self.auth.configured:
                return self._render(
                    "message.html",
                    status=503,
                    title="Dashboard closed",
                    message="This server listens on a public address and BRIEFCAST_API_TOKEN is not set, so "
                    "the dashboard is closed. Set BRIEFCAST_API_TOKEN and restart to open it with a login.",
                )
            if not self.auth.allowed(request):
                if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                    return RedirectResponse("/dashboard/login", status_code=303)
                return self._render(
                    "message.html", status=401, title="Login required", message="Log in with the API token."
                )
            return await handler(request)

        return guarded

    def _render(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(
            csrf=self.auth.csrf_token(),
            open_access=self.auth.open,
            home=self.home,
            archive=self.archive,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    async def _form(self, request: Request) -> dict[str, str]:
        """An ``application/x-www-form-urlencoded`` body (the only kind our forms send)."""
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            return {}
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise ValueError("the form is too large")
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}

    # -- pages ----------------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        def load() -> dict[str, Any]:
            from briefcast.ingest import sources_status

            subs = self.store.active_subscriptions()
            return {
                "latest": self.store.latest_issue(),
                "issues": self.store.list_issues(5),
                "sub_count": len(subs),
                "by_platform": _count_by(s.chat.platform for s in subs),
                "counts": queries.delivery_counts(self.store),
                "sources": sources_status(self.store),
                "senders": senders.holders(self.store.engine),
                "workers": _workers(self.store),
                "now": datetime.now(UTC),
            }

        return self._render(
            "overview.html", page="overview", statuses=STATUSES, **await asyncio.to_thread(load)
        )

    async def issues(self, request: Request) -> Response:
        issues = await asyncio.to_thread(self.store.list_issues, 100)
        return self._render("issues.html", page="issues", issues=issues)

    async def issue(self, request: Request) -> Response:
        from briefcast.ingest.preview import build_preview

        issue_id: int = request.path_params["issue_id"]
        issue = await asyncio.to_thread(self.store.get_issue, issue_id)
        if issue is None:
            return self._render(
                "message.html", status=404, title="Not found", message=f"There is no issue {issue_id}."
            )
        lang = request.query_params.get("lang") or None
        if lang not in (None, "zh", "en"):
            lang = None
        compact = request.query_params.get("compact") == "1"
        preview = await asyncio.to_thread(build_preview, issue.briefing, lang=lang, compact=compact)
        sectors = []
        for s in preview.sectors:
            tg = [telegram_preview_html(p) for p in s.payloads.get("telegram", ())]
            sl = [slack_preview_html(p) for p in s.payloads.get("slack", ())]
            sectors.append({"key": s.key, "title": s.title, "known": s.known, "telegram": tg, "slack": sl})
        counts = await asyncio.to_thread(queries.delivery_counts, self.store, issue_id=issue_id)
        return self._render(
            "issue.html",
            page="issues",
            issue=issue,
            preview=preview,
            sectors=sectors,
            counts=counts,
            statuses=STATUSES,
            lang=lang or issue.briefing.language,
            compact=compact,
        )

    async def subscriptions(self, request: Request) -> Response:
        platform = request.query_params.get("platform") or None
        sector = request.query_params.get("sector") or None

        def load() -> dict[str, Any]:
            subs = self.store.active_subscriptions()
            by_sector = queries.sector_counts([(s.chat.platform, s.sectors) for s in subs])
            shown = [
                s
                for s in subs
                if (platform is None or s.chat.platform == platform)
                and (sector is None or sector in s.sectors)
            ]
            watchers = self.store.watchers(platform, active_only=False)
            return {
                "subs": shown,
                "total": len(subs),
                "by_platform": _count_by(s.chat.platform for s in subs),
                "by_sector": by_sector,
                "inactive": queries.inactive_subscriptions(self.store),
                "watchers": watchers,
                "watch_count": sum(len(w.words) for w in watchers),
            }

        data = await asyncio.to_thread(load)
        return self._render(
            "subscriptions.html", page="subscriptions", platform=platform, sector=sector, **data
        )

    async def deliveries(self, request: Request) -> Response:
        status = request.query_params.get("status") or None
        if status not in (None, *STATUSES):
            status = None
        platform = request.query_params.get("platform") or None
        raw_issue = request.query_params.get("issue", "")
        issue_id = int(raw_issue) if raw_issue.isascii() and raw_issue.isdigit() else None
        if issue_id is not None and not is_id(issue_id):
            issue_id = 0  # no issue has it: an empty list, not a database error

        def load() -> dict[str, Any]:
            return {
                "rows": queries.deliveries(self.store, status=status, issue_id=issue_id, platform=platform),
                "counts": queries.delivery_counts(self.store, issue_id=issue_id),
                "reasons": queries.failure_reasons(self.store),
            }

        data = await asyncio.to_thread(load)
        return self._render(
            "deliveries.html",
            page="deliveries",
            status_filter=status,
            platform=platform,
            issue_id=issue_id,
            statuses=STATUSES,
            **data,
        )

    async def sources(self, request: Request) -> Response:
        from briefcast.ingest import recent_events, sources_status

        def load() -> dict[str, Any]:
            return {"sources": sources_status(self.store), "events": recent_events(self.store, limit=30)}

        return self._render("sources.html", page="sources", **await asyncio.to_thread(load))

    async def publish_form(self, request: Request) -> Response:
        return self._render(
            "publish.html", page="publish", enabled=self.ingest is not None, outcome=None, text=""
        )

    async def publish(self, request: Request) -> Response:
        try:
            form = await self._form(request)
        except ValueError as e:
            return self._render("message.html", status=413, title="Too large", message=str(e))
        if not self.auth.csrf_ok(request, form.get("csrf", "")):
            return self._render(
                "message.html",
                status=403,
                title="Refused",
                message="The form expired or came from another site.",
            )
        if self.ingest is None:
            return self._render(
                "publish.html", page="publish", status=503, enabled=False, outcome=None, text=""
            )
        text = form.get("markdown", "")
        kind = form.get("kind") if form.get("kind") in ("markdown", "html") else None
        publish = form.get("publish", "") == "1"
        name = form.get("name", "").strip()[:100]
        source = f"dashboard:{name}" if name else "dashboard"
        outcome = await self.ingest.ingest_text(
            text,
            origin="dashboard",
            source=source,
            kind=kind,
            name=name or "the pasted issue",
            publish=publish,
        )
        status = 200 if outcome.ok else 422
        return self._render(
            "publish.html",
            page="publish",
            status=status,
            enabled=True,
            outcome=outcome,
            text="" if outcome.ok else text,
        )

    # -- login ----------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        return self._render("login.html", page="login", error="", configured=self.auth.configured)

    async def login(self, request: Request) -> Response:
        try:
            form = await self._form(request)
        except ValueError:
            form = {}
        if not self.auth.check_token(form.get("token", "")):
            return self._render(
                "login.html",
                page="login",
                status=401,
                error="That is not the API token.",
                configured=self.auth.configured,
            )
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(
            COOKIE,
            self.auth.session_value(),
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse("/dashboard/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response


FAVICON = HERE / "static" / "favicon.ico"


async def favicon(request: Request) -> Response:
    """``/favicon.ico``: browsers ask for it on every page; no login needed (it is public art)."""
    return Response(
        FAVICON.read_bytes(),
        media_type="image/vnd.microsoft.icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def favicon_route() -> Route:
    """The ``/favicon.ico`` route, shared by the dashboard and the playground."""
    return Route("/favicon.ico", favicon, methods=["GET", "HEAD"])


def _count_by(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))


def _workers(store: Any) -> list[liveness.Worker]:
    """The delivery workers and their liveness (empty on a database without the worker table)."""
    try:
        return liveness.workers(store.engine)
    except Exception:
        return []
