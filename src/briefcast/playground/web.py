"""The playground page and its small JSON API.

* ``GET /`` — the chat page (Telegram private chat, Telegram group, Slack channel);
* ``GET /playground/api/messages?after=N`` — feed items newer than ``N`` and the forum's open
  topics (the page polls it);
* ``POST /playground/api/send`` ``{"room", "text", "lang"?, "topic"?}`` — the local user types
  something (``topic``: a forum topic's thread id in the forum room);
* ``POST /playground/api/press`` ``{"room", "id", "data"}`` (Telegram) or
  ``{"room", "id", "action_id", "value"}`` (Slack) — a button press;
* ``POST /playground/api/advance`` — run the schedule forward to the next owed slot.

POSTs must be ``application/json``: a browser cannot send that cross-origin without a CORS
preflight (which we never grant), so another web page cannot drive the playground.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from briefcast.dashboard.auth import DashboardAuth
from briefcast.dashboard.views import favicon_route
from briefcast.playground.platform import BOT_USERNAME, ROOMS, LocalPlatform
from briefcast.playground.schedule import PlaygroundDelivery

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
MAX_TEXT = 4000
SLACK_EVENTS_PATH = "/slack/events"
SLACK_COMMAND = "/briefing"

Endpoint = Callable[[Request], Awaitable[Response]]


def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any] | JSONResponse:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        return _error(415, "send application/json")
    try:
        data = await request.json()
    except ValueError:
        return _error(400, "the body is not valid JSON")
    if not isinstance(data, dict):
        return _error(400, "expected a JSON object")
    return data


def _own_base_url(request: Request) -> str:
    """This server's own address as bound (0.0.0.0 / :: reached through loopback)."""
    server = request.scope.get("server") or ("127.0.0.1", 80)
    host, port = str(server[0]), int(server[1])
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class PlaygroundWeb:
    """Route handlers bound to the local platform and the playground's delivery component."""

    def __init__(
        self,
        platform: LocalPlatform,
        delivery: PlaygroundDelivery | None,
        *,
        slack: bool,
        auth: DashboardAuth | None = None,
        archive: bool = False,
    ) -> None:
        self.platform = platform
        self.archive = archive  # the public archive is served (/issues): link it from the page
        self.delivery = delivery
        self.slack_enabled = slack
        self.auth = auth
        self.env = _env()

    def routes(self) -> list[BaseRoute]:
        guard = self._guard
        return [
            Route("/", guard(self.page), methods=["GET"]),
            Route("/playground", guard(self.page), methods=["GET"]),
            Route("/playground/api/messages", guard(self.messages), methods=["GET"]),
            Route("/playground/api/send", guard(self.send), methods=["POST"]),
            Route("/playground/api/press", guard(self.press), methods=["POST"]),
            Route("/playground/api/advance", guard(self.advance), methods=["POST"]),
            favicon_route(),
            Mount(
                "/static/playground",
                app=StaticFiles(directory=str(HERE / "static")),
                name="playground-static",
            ),
        ]

    def _guard(self, handler: Endpoint) -> Endpoint:
        """Same access rule as the dashboard: open on loopback, else the API token (login or bearer)."""

        async def guarded(request: Request) -> Response:
            if self.auth is None or self.auth.allowed(request):
                return await handler(request)
            if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                return RedirectResponse("/dashboard/login", status_code=303)
            return _error(401, "log in at /dashboard/login first")

        return guarded

    async def page(self, request: Request) -> Response:
        rooms = [
            {"key": k, **v, "enabled": v["platform"] == "telegram" or self.slack_enabled}
            for k, v in ROOMS.items()
        ]
        html = self.env.get_template("playground.html").render(
            rooms=rooms,
            bot_username=BOT_USERNAME,
            language=self.platform.language,
            slack_enabled=self.slack_enabled,
            archive=self.archive,
        )
        return HTMLResponse(html)

    async def messages(self, request: Request) -> Response:
        try:
            after = int(request.query_params.get("after", "0") or 0)
        except ValueError:
            return _error(400, "after must be a number")
        items, last = self.platform.messages(after)
        return JSONResponse({"ok": True, "messages": items, "last": last, "topics": self.platform.topics()})

    async def send(self, request: Request) -> Response:
        data = await _json_body(request)
        if isinstance(data, JSONResponse):
            return data
        room = str(data.get("room", ""))
        text = str(data.get("text", "")).strip()
        if room not in ROOMS:
            return _error(400, f"unknown room {room!r}")
        if not text:
            return _error(400, "type something first")
        if len(text) > MAX_TEXT:
            return _error(400, f"messages are limited to {MAX_TEXT} characters here")
        if ROOMS[room]["platform"] == "telegram":
            lang = str(data.get("lang") or "") or None
            topic = data.get("topic")
            thread = int(topic) if isinstance(topic, int | str) and str(topic).isdigit() else None
            if thread is not None and thread not in {t["id"] for t in self.platform.topics()}:
                return _error(400, "that topic does not exist (any more)")
            self.platform.telegram_text(room, text, language_code=lang, thread_id=thread)
            return JSONResponse({"ok": True})
        return await self._slack_text(request, text)

    async def _slack_text(self, request: Request, text: str) -> Response:
        if not self.slack_enabled:
            return _error(503, "the Slack app is not running in this playground")
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0].lower()
            if command != SLACK_COMMAND:
                return _error(
                    400,
                    f"{command} is not a Slack command of this app: try {SLACK_COMMAND} "
                    f"{command.lstrip('/')} (Telegram-style /commands work in the Telegram chats)",
                )
            body, headers = self.platform.slack_slash(text)
        else:
            body, headers = self.platform.slack_mention(text)
        return await self._post_slack(request, body, headers)

    async def _post_slack(self, request: Request, body: str, headers: dict[str, str]) -> Response:
        """Deliver a signed request to the app's own /slack/events, as Slack's servers would."""
        url = _own_base_url(request) + SLACK_EVENTS_PATH
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                answer = await client.post(url, content=body.encode("utf-8"), headers=headers)
        except httpx.HTTPError as e:
            log.warning("playground: posting to %s failed: %s", url, e)
            return _error(502, "the Slack app did not answer")
        if answer.status_code >= 400:
            return _error(502, f"the Slack app answered HTTP {answer.status_code}")
        return JSONResponse({"ok": True})

    async def press(self, request: Request) -> Response:
        data = await _json_body(request)
        if isinstance(data, JSONResponse):
            return data
        room, item_id = str(data.get("room", "")), str(data.get("id", ""))
        if room not in ROOMS:
            return _error(400, f"unknown room {room!r}")
        if ROOMS[room]["platform"] == "telegram":
            parts = item_id.split(":")
            if len(parts) != 3 or parts[0] != "tg" or not parts[2].isdigit() or not data.get("data"):
                return _error(400, "not a Telegram button")
            try:
                self.platform.telegram_button(room, int(parts[2]), str(data["data"]))
            except ValueError as e:
                return _error(400, str(e))
            return JSONResponse({"ok": True})
        if not self.slack_enabled:
            return _error(503, "the Slack app is not running in this playground")
        action_id = str(data.get("action_id", ""))
        if not action_id:
            return _error(400, "not a Slack button")
        body, headers = self.platform.slack_button(item_id, action_id, str(data.get("value", "")))
        return await self._post_slack(request, body, headers)

    async def advance(self, request: Request) -> Response:
        data = await _json_body(request)
        if isinstance(data, JSONResponse):
            return data
        if self.delivery is None:
            return _error(503, "scheduled delivery is not running in this playground")
        result = await self.delivery.advance()
        return JSONResponse({"ok": True, **result.to_json()})
