"""The publishing API: ``GET``/``POST /api/issues``, ``GET /api/issues/{id}`` and its ``/preview``.

:func:`issue_routes` returns Starlette routes that ``briefcast.web`` mounts.

Authentication: ``Authorization: Bearer <BRIEFCAST_API_TOKEN>`` on every
route, compared in constant time. Without a configured token the API is
*disabled* and every route answers **503** with a message saying how to
enable it (not 401: no token could ever succeed, and the operator needs to
know that configuration, not the client, is at fault).

``POST /api/issues`` bodies:

* ``Content-Type: text/markdown`` (or ``text/x-markdown``), ``text/html``
  (or ``application/xhtml+xml``), ``text/plain`` (Markdown/HTML sniffed) —
  the raw issue, UTF-8 unless a ``charset`` says otherwise;
* ``application/json`` — ``{"markdown": "..."}`` or ``{"html": "..."}``,
  optionally ``"publish": false`` and ``"source": "label"``.

Query parameters: ``publish=false`` stores a draft (not delivered, no
on-publish hook); ``source=label`` names the origin in the issue and audit
trail. Answers:

* 201 ``{"id", "revision", "status", "sectors", "title", "date", "published", "fidelity"}``
  for a new issue (``status = "new"``) or a new revision (``"revision"``); ``date`` is
  ``null`` when the issue states none; ``fidelity`` is the report of what readers receive
  of the source (items and links kept per platform, losses with line and reason, warnings;
  see ``briefcast.render.fidelity``);
* 200 with the same fields and ``status = "duplicate"`` when identical content
  was stored before (nothing changes);
* 401 bad/missing token, 413 over the size cap (``Content-Length`` checked
  first, then the streamed size), 415 unsupported media type, 400 malformed
  JSON, 422 ``{"error": reason}`` for content that is not a briefing (empty,
  undecodable, no sector sections) — every error is ``{"error": "..."}``.

``GET /api/issues`` lists stored issues, newest first: ``{"issues": [...]}`` with ``id``,
``revision``, ``title``, ``date``, ``status`` (``published`` | ``draft``), ``sectors``,
``created_at``, ``published_at``. ``?limit=N`` (1..100, default 20) and ``?status=published``
or ``?status=draft`` narrow it. Any other method on an API path answers a JSON **405** with an
``Allow`` header, like every other error here.

Example::

    curl -X POST -H "Authorization: Bearer $BRIEFCAST_API_TOKEN" \\
         -H "Content-Type: text/markdown" --data-binary @issue.md \\
         http://127.0.0.1:8080/api/issues
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from briefcast.config import Secret
from briefcast.ingest.preview import build_preview
from briefcast.ingest.service import IngestOutcome, IngestService, Kind, charset_of
from briefcast.store.records import StoredIssue

API_ORIGIN = "api"
_TYPES: dict[str, Kind | None] = {
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": None,
    "": None,  # no Content-Type: sniff
}
_FALSE = ("0", "false", "no", "off")


ANY = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
DEFAULT_LIST = 20
MAX_LIST = 100
Endpoint = Callable[[Request], Awaitable[Response]]


def _methods(**handlers: Endpoint) -> Endpoint:
    """One endpoint dispatching on the HTTP method; others get a JSON 405 (Starlette's is plain text)."""
    allow = ", ".join(sorted({*handlers, *(["HEAD"] if "GET" in handlers else [])}))

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        handler = handlers.get(method)
        if handler is None:
            return _error(405, f"{request.method} is not allowed here; use {allow}", Allow=allow)
        return await handler(request)

    return endpoint


def _label(name: str) -> str:
    """The issue source / audit label of an API ingest: ``api`` or ``api:<name>``."""
    name = " ".join(name.split())[:100]
    return f"{API_ORIGIN}:{name}" if name else API_ORIGIN


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


class _TooLarge(Exception):
    pass


class IssueApi:
    """The route handlers, bound to one service, token and size cap."""

    def __init__(
        self, service: IngestService, *, api_token: Secret | str, max_bytes: int | None = None
    ) -> None:
        self.service = service
        self._token = (api_token.get() if isinstance(api_token, Secret) else api_token).encode("utf-8")
        self.max_bytes = max_bytes if max_bytes is not None else service.max_bytes

    def routes(self) -> list[Route]:
        return [
            Route("/api/issues", _methods(GET=self.list_issues, POST=self.post_issue), methods=ANY),
            Route("/api/issues/{issue_id:int}", _methods(GET=self.get_issue), methods=ANY),
            Route("/api/issues/{issue_id:int}/preview", _methods(GET=self.get_preview), methods=ANY),
        ]

    async def list_issues(self, request: Request) -> Response:
        """Stored issues, newest first (drafts included unless ``?status=published``)."""
        denied = self._deny(request)
        if denied is not None:
            return denied
        raw = request.query_params.get("limit", str(DEFAULT_LIST)).strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIST:
            return _error(422, f"limit must be a whole number from 1 to {MAX_LIST}")
        status = request.query_params.get("status", "").strip().lower() or None
        if status not in (None, "published", "draft"):
            return _error(422, "status must be published or draft")
        limit = int(raw)
        # drafts are few; read a little more so a status filter still fills the page
        found = self.service.store.list_issues(limit if status is None else limit * 5)
        rows = [i for i in found if status is None or i.status == status][:limit]
        return JSONResponse({"issues": [issue_summary(i) for i in rows]})

    # -- auth and body

    def _deny(self, request: Request) -> Response | None:
        """None if the request carries the API token; else the 503/401 answer."""
        if not self._token:
            return _error(503, "the issue API is disabled: set BRIEFCAST_API_TOKEN to enable it")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("utf-8"), self._token):
            return _error(
                401,
                "missing or wrong API token: send 'Authorization: Bearer <BRIEFCAST_API_TOKEN>'",
                **{"WWW-Authenticate": 'Bearer realm="briefcast"'},
            )
        return None

    async def _body(self, request: Request) -> bytes:
        """The body; ``_TooLarge`` from ``Content-Length`` or as soon as the stream passes the cap."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _TooLarge
        buf = bytearray()
        async for chunk in request.stream():
            buf += chunk
            if len(buf) > self.max_bytes:
                raise _TooLarge
        return bytes(buf)

    # -- handlers

    async def post_issue(self, request: Request) -> Response:
        """Ingest one issue from the body (see the module docstring for formats and answers)."""
        denied = self._deny(request)
        if denied is not None:
            return denied
        content_type = request.headers.get("content-type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        if media != "application/json" and media not in _TYPES:
            return _error(
                415,
                f"unsupported Content-Type {media!r}: send text/markdown, text/html, text/plain or "
                "application/json with a 'markdown' or 'html' field",
            )
        try:
            body = await self._body(request)
        except _TooLarge:
            return _error(413, f"the issue is larger than the {self.max_bytes:,}-byte limit")
        publish = request.query_params.get("publish", "true").strip().lower() not in _FALSE
        source = _label(request.query_params.get("source", ""))
        if media == "application/json":
            return await self._post_json(body, publish=publish, source=source)
        outcome = await self.service.ingest_bytes(
            body,
            origin=API_ORIGIN,
            source=source,
            kind=_TYPES[media],
            charset=charset_of(content_type),
            name="the posted issue",
            publish=publish,
        )
        return self._answer(outcome)

    async def _post_json(self, body: bytes, *, publish: bool, source: str) -> Response:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            return _error(400, f"the body is not valid JSON ({e})")
        if not isinstance(data, dict):
            return _error(422, 'expected a JSON object such as {"markdown": "..."}')
        kind: Kind
        if isinstance(data.get("markdown"), str):
            text, kind = data["markdown"], "markdown"
        elif isinstance(data.get("html"), str):
            text, kind = data["html"], "html"
        else:
            return _error(422, 'the JSON object needs a "markdown" or an "html" string field')
        if "publish" in data:
            if not isinstance(data["publish"], bool):
                return _error(422, '"publish" must be true or false')
            publish = data["publish"]
        if isinstance(data.get("source"), str) and data["source"].strip():
            source = _label(data["source"])
        outcome = await self.service.ingest_text(
            text, origin=API_ORIGIN, source=source, kind=kind, name="the posted issue", publish=publish
        )
        return self._answer(outcome)

    @staticmethod
    def _answer(outcome: IngestOutcome) -> Response:
        if not outcome.ok:
            return _error(422, outcome.reason)
        payload = {
            "id": outcome.issue_id,
            "revision": outcome.revision,
            "status": outcome.status,
            "sectors": list(outcome.sectors),
            "title": outcome.title,
            "date": outcome.date.isoformat() if outcome.date else None,
            "published": outcome.published,
            "fidelity": dict(outcome.fidelity) if outcome.fidelity else None,
        }
        status = 200 if outcome.status == "duplicate" else 201
        return JSONResponse(
            payload, status_code=status, headers={"Location": f"/api/issues/{outcome.issue_id}"}
        )

    def _issue(self, request: Request) -> StoredIssue | Response:
        denied = self._deny(request)
        if denied is not None:
            return denied
        issue_id: int = request.path_params["issue_id"]
        issue = self.service.store.get_issue(issue_id)
        if issue is None:
            return _error(404, f"there is no issue {issue_id}")
        return issue

    async def get_issue(self, request: Request) -> Response:
        """The parsed model (``Briefing.to_dict()``) plus the stored issue's id, revision and timestamps."""
        issue = self._issue(request)
        if isinstance(issue, Response):
            return issue
        return JSONResponse(issue_json(issue))

    async def get_preview(self, request: Request) -> Response:
        """Every sector rendered per platform (``?lang=en``, ``?compact=true``, ``?platform=telegram``)."""
        issue = self._issue(request)
        if isinstance(issue, Response):
            return issue
        lang = request.query_params.get("lang") or None
        compact = request.query_params.get("compact", "false").strip().lower() not in (*_FALSE, "")
        platforms = request.query_params.getlist("platform") or ["telegram", "slack"]
        try:
            preview = build_preview(issue.briefing, platforms=platforms, lang=lang, compact=compact)
        except ValueError as e:
            return _error(422, str(e))
        return JSONResponse({"id": issue.id, **preview.to_dict()})


def issue_json(issue: StoredIssue) -> dict[str, Any]:
    """``Briefing.to_dict()`` with the stored issue's fields added (``Briefing.from_dict`` ignores them)."""
    return {
        **issue.briefing.to_dict(),
        "id": issue.id,
        "identity": issue.identity,
        "revision": issue.revision,
        "content_hash": issue.content_hash,
        "status": issue.status,
        "created_at": issue.created_at.isoformat(),
        "published_at": issue.published_at.isoformat() if issue.published_at else None,
    }


def issue_summary(issue: StoredIssue) -> dict[str, Any]:
    """One line of ``GET /api/issues``."""
    return {
        "id": issue.id,
        "revision": issue.revision,
        "title": issue.title,
        "date": issue.date.isoformat() if issue.date else None,
        "status": issue.status,
        "sectors": list(issue.sectors),
        "created_at": issue.created_at.isoformat(),
        "published_at": issue.published_at.isoformat() if issue.published_at else None,
    }


def issue_routes(
    service: IngestService, *, api_token: Secret | str, max_bytes: int | None = None
) -> list[Route]:
    """Routes for ``briefcast.web``: ``Starlette(routes=[..., *issue_routes(service, api_token=...)])``."""
    return IssueApi(service, api_token=api_token, max_bytes=max_bytes).routes()
