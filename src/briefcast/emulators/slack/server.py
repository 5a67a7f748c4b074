"""A fake Slack Web API (plus response_url endpoint) that slack-sdk and bolt talk to unchanged.

Use it in async tests::

    async with FakeSlack() as sl:
        sl.add_channel("C1", "energy")
        client = AsyncWebClient(token=sl.token, base_url=sl.api_url)
        await client.chat_postMessage(channel="C1", text="hi")
        assert sl.messages_in("C1")[0].text == "hi"

or ``with FakeSlack.in_thread() as sl:`` for the synchronous ``WebClient`` and bolt's ``respond()``.

What it models (https://api.slack.com/methods):

* ``/api/{method}`` with form or JSON bodies and ``Authorization: Bearer`` (or a ``token`` field);
  errors are HTTP 200 ``{"ok": false, "error": ...}`` like Slack: ``not_authed``, ``invalid_auth``,
  ``account_inactive``, ``channel_not_found``, ``not_in_channel``, ``is_archived``, ``no_text``,
  ``invalid_blocks`` (with an ``errors`` list), ``unknown_method``;
* Block Kit limits: 50 blocks per message (100 in views), section text 3,000, header 150 plain
  text, context 10 elements, unique ``block_id`` and ``action_id``; text over 40,000 characters is
  truncated with the ``message_truncated`` warning;
* ``chat.postMessage`` flood control: a token bucket per channel (1/s, small burst; see
  :class:`SlackLimits`), optional workspace limit, HTTP 429 + ``Retry-After``;
* ``response_url`` endpoints for bolt's ``respond()`` (five uses each, as Slack allows);
* the OAuth v2 code exchange: :meth:`FakeSlack.add_oauth_app` registers an app,
  :meth:`FakeSlack.approve_install` plays the user pressing "Allow" on slack.com and returns the
  one-time ``code``; ``oauth.v2.access`` (client credentials as HTTP Basic auth, as slack-sdk
  sends them, or form fields) answers ``invalid_client_id`` / ``bad_client_secret`` /
  ``invalid_code`` (unknown, reused or older than 10 minutes) / ``bad_redirect_uri``, or mints a
  bot token for the fake's team;
* helpers that build signed requests for bolt HTTP mode (:func:`sign`, :func:`slash_command_body`,
  :func:`event_callback`, :func:`block_actions_payload`, ...).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from briefcast.emulators._http import FakeServer, RecordedRequest, read_body
from briefcast.emulators.slack.methods import _SlackMethods
from briefcast.emulators.slack.payloads import (
    block_actions_payload,
    event_callback,
    form_body,
    slash_command_body,
)
from briefcast.emulators.slack.state import (
    DEFAULT_TOKEN,
    RESPONSE_URL_USES,
    SlackLimits,
    SlackResponse,
    _decode_form,
    _SlackError,
)


class FakeSlack(_SlackMethods):
    """The fake Slack Web API. All public methods are thread-safe.

    ``clock`` drives flood control and request timestamps (inject a
    :class:`~briefcast.emulators.limits.ManualClock` to test limits without waiting).
    """

    server_name = "fake-slack"

    # ---------------------------------------------------------------------------------------
    # URLs
    # ---------------------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """What to pass as ``WebClient(base_url=...)`` (ends with a slash, as slack-sdk expects)."""
        return f"{self.url}/api/"

    base_url = api_url

    def _routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/response/{key}", self._response)
        app.router.add_get("/files-pri/{team_file}/{name}", self._download)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._download)

    # ---------------------------------------------------------------------------------------
    # Builders bound to this fake (fill in team, bot and a fresh response_url)
    # ---------------------------------------------------------------------------------------
    def slash_command(
        self, command: str, text: str = "", *, user_id: str = "U0USER", channel_id: str = "C0CHAN"
    ) -> tuple[str, str]:
        """``(form body, response_url)`` for a slash command whose response_url points here."""
        response_url = self.new_response_url()
        channel = self._channels.get(channel_id)
        body = slash_command_body(
            command,
            text,
            user_id=user_id,
            channel_id=channel_id,
            channel_name=channel.name if channel else "channel",
            team_id=self.team_id,
            response_url=response_url,
        )
        return body, response_url

    def block_actions(
        self, action_id: str, value: str = "", *, user_id: str = "U0USER", channel_id: str = "C0CHAN"
    ) -> tuple[str, str]:
        """``(form body, response_url)`` for a button press, response_url pointing here."""
        response_url = self.new_response_url()
        payload = block_actions_payload(
            action_id,
            value,
            user_id=user_id,
            channel_id=channel_id,
            team_id=self.team_id,
            response_url=response_url,
        )
        return form_body(payload), response_url

    def event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Wrap ``event`` in an event_callback envelope for this workspace and bot."""
        return event_callback(event, team_id=self.team_id, bot_user_id=self.bot_user_id)

    # ---------------------------------------------------------------------------------------
    # HTTP
    # ---------------------------------------------------------------------------------------
    @staticmethod
    def _error(error: _SlackError) -> web.Response:
        return web.json_response(
            {"ok": False, "error": error.error, **error.extra}, status=error.status, headers=error.headers
        )

    def _auth(self, request: web.Request, params: Mapping[str, Any]) -> str:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else str(params.get("token") or "")
        if not token:
            raise _SlackError("not_authed")
        if token not in self._tokens:
            raise _SlackError("invalid_auth")
        if token in self._inactive:
            raise _SlackError("account_inactive")
        return token

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            body = await read_body(request)
            params = _decode_form(body.params) if body.form else dict(body.params)
        except ValueError:
            return self._error(_SlackError("invalid_json"))
        except _SlackError as error:
            return self._error(error)
        if method == "api.test":
            return web.json_response({"ok": True, "args": params})
        if method == "oauth.v2.access":  # authenticated by client credentials, not a token
            try:
                with self._lock:
                    self.requests.append(RecordedRequest(method, params, self.clock()))
                    result = self._oauth_v2_access(request, params)
            except _SlackError as error:
                return self._error(error)
            finally:
                self._notifier.notify()
            return web.json_response({"ok": True, **result})
        try:
            with self._lock:
                token = self._auth(request, params)
                self.requests.append(RecordedRequest(method, params, self.clock()))
        except _SlackError as error:
            return self._error(error)
        self._notifier.notify()
        channel = params.get("channel")
        fault = self.faults.take(method, None if channel is None else str(channel))
        if fault is not None:
            if fault.delay > 0:
                await asyncio.sleep(fault.delay)
            if not fault.passthrough:
                if fault.status == 429:
                    with self._lock:
                        self.rate_limited += 1
                return web.json_response(dict(fault.body), status=fault.status, headers=dict(fault.headers))
        handler = self._methods.get(method)
        if handler is None:
            return self._error(_SlackError("unknown_method", req_method=method))
        try:
            with self._lock:
                result = handler(params, token)
        except _SlackError as error:
            if error.status == 429:
                with self._lock:
                    self.rate_limited += 1
            return self._error(error)
        finally:
            self._notifier.notify()
        return web.json_response({"ok": True, **result})

    async def _response(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        with self._lock:
            state = self._response_urls.get(key)
            if state is None:
                return web.Response(status=404, text="no_active_hooks")
            if state.uses >= RESPONSE_URL_USES:
                return web.Response(status=404, text="used_url")
            state.uses += 1
            self.responses.append(SlackResponse(f"{self.url}/response/{key}", payload, self.clock()))
        self._notifier.notify()
        return web.Response(text="ok")

    async def _download(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        file_id = request.match_info["team_file"].split("-", 1)[-1]
        with self._lock:
            authorised = token in self._tokens and token not in self._inactive
            found = self._files.get(file_id)
        if not authorised:
            # Slack answers a missing/bad token with its sign-in page, not an error status.
            return web.Response(
                text="<!DOCTYPE html><html><body>Sign in to Slack</body></html>", content_type="text/html"
            )
        if found is None:
            return web.Response(status=404, text="file not found")
        return web.Response(body=found.data, content_type=found.mimetype)


def main(argv: list[str] | None = None) -> None:
    """``python -m briefcast.emulators.slack --port 8082 --channel C1:energy``."""
    import argparse

    from briefcast.emulators._http import serve_until_interrupted

    parser = argparse.ArgumentParser(
        prog="python -m briefcast.emulators.slack",
        description="Run the fake Slack Web API (local playground).",
    )
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument("--no-limits", action="store_true", help="disable flood control")
    parser.add_argument("--channel", action="append", default=[], help="ID:NAME, e.g. C1:energy")
    args = parser.parse_args(argv)
    fake = FakeSlack(
        token=args.token, port=args.port, latency=args.latency, limits=SlackLimits(enabled=not args.no_limits)
    )
    for spec in args.channel:
        channel_id, _, name = spec.partition(":")
        fake.add_channel(channel_id, name or channel_id.lower())

    def banner(server: FakeServer) -> str:
        return f"fake Slack at {fake.api_url} (token {fake.token}); Ctrl-C to stop"

    serve_until_interrupted(fake, banner)
