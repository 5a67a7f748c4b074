"""The guard in front of bolt on ``POST /slack/events``: body cap, signature, JSON shape, Slack's retries."""

from __future__ import annotations

import json

from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, Response

from briefcast.bot.inbound import BodyTooLarge, read_capped

SEEN_EVENTS = 10_000  # event ids remembered to answer Slack's retries once


class EventsGuard:
    """Checks one ``POST /slack/events`` before bolt parses it, and remembers the event ids seen.

    The body is capped (413) before it is read whole, the signature is checked on the raw bytes
    (401) before anything is parsed, a body that is not UTF-8 or not valid JSON is a 400, and a
    retry of an event already received (``X-Slack-Retry-Num``, same ``event_id``) is acknowledged
    without handling it twice.
    """

    def __init__(self, signing_secret: str) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._seen_events: dict[str, None] = {}  # insertion-ordered: the oldest is dropped first

    async def refuse(self, request: HttpRequest) -> Response | None:
        """The answer for a request bolt must not handle (413, 401, 400, a retry's 200), else None."""
        try:
            body = await read_capped(request)
        except BodyTooLarge:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            signed = self._verifier.is_valid_request(body, dict(request.headers))
        except ValueError:  # X-Slack-Request-Timestamp: abc
            signed = False
        if not signed:
            return JSONResponse({"error": "invalid request"}, status_code=401)
        try:
            text = body.decode("utf-8")
            data = json.loads(text) if "json" in request.headers.get("content-type", "") else None
        except (UnicodeDecodeError, ValueError):
            return JSONResponse({"error": "bad request"}, status_code=400)
        if data is not None and not isinstance(data, dict):
            return JSONResponse({"error": "bad request"}, status_code=400)
        event_id = str(data.get("event_id") or "") if data else ""
        if event_id:
            if event_id in self._seen_events:
                return Response(status_code=200, headers={"X-Slack-No-Retry": "1"})
            self._seen_events[event_id] = None
            while len(self._seen_events) > SEEN_EVENTS:
                self._seen_events.pop(next(iter(self._seen_events)))
        return None
