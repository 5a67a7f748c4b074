"""A fake Telegram Bot API server that the real python-telegram-bot client can talk to unchanged.

Use it in async tests::

    async with FakeTelegram() as tg:
        tg.add_chat(42, "private", username="alice")
        bot = telegram.Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url)
        await bot.send_message(42, "<b>hi</b>", parse_mode="HTML")
        assert tg.messages_to(42)[0].plain == "hi"

or, for synchronous code and subprocesses, ``with FakeTelegram.in_thread() as tg: ...``.

What it models (https://core.telegram.org/bots/api):

* routes ``/bot{token}/{method}`` (case-insensitive method names; JSON, urlencoded and multipart
  bodies) and file downloads at ``/file/bot{token}/{path}``;
* text validation as Telegram does it: entity parsing by TDLib's ``parseTextEntities`` (through the
  ``tdjson`` package when importable, otherwise a small HTML checker), 1..4096 UTF-16 code units
  after parsing, callback_data 1..64 bytes;
* chat states: unknown chats, users who blocked the bot, groups the bot was kicked from or left,
  channels where the bot is not an administrator, groups upgraded to supergroups;
* flood limits with honest ``retry_after`` (sliding windows, see :class:`TelegramLimits`);
* long polling (``getUpdates``) fed by :meth:`FakeTelegram.push_update`, and optional webhook
  delivery when ``setWebhook`` was called with a URL.

* forum topics: ``createForumTopic`` / ``closeForumTopic`` / ``reopenForumTopic`` /
  ``deleteForumTopic`` with the Bot API's rules (a forum supergroup; the bot an administrator with
  ``can_manage_topics``, which :meth:`FakeTelegram.set_bot_rights` grants; closing and reopening
  need no right in topics the bot created) and errors (``the chat is not a forum``, ``not enough
  rights to create a topic``, ``TOPIC_ID_INVALID``, ``TOPIC_NOT_MODIFIED``, ``TOPIC_CLOSED`` for a
  bot without the right posting into a closed topic).

Simplifications (documented, deliberate): message text is not trimmed; edits are not rate
limited; only ``sendMessage`` and ``sendDocument`` count against flood limits; topic names are
checked for 1..128 characters with errors worded after MTProto's (``TOPIC_TITLE_EMPTY``,
``TOPIC_TITLE_TOO_LONG``), and ``icon_color`` against the six colours the Bot API documents.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from briefcast.emulators._http import FakeServer, RecordedRequest, read_body
from briefcast.emulators.telegram.methods import _TelegramMethods
from briefcast.emulators.telegram.state import (
    _BOT_COMMAND,
    DEFAULT_TOKEN,
    TelegramLimits,
    _ApiError,
    _bad,
    _Chat,
    _decode_form,
    _member_json,
)


class FakeTelegram(_TelegramMethods):
    """The fake Bot API. All public methods are thread-safe.

    ``clock`` drives flood limits and request timestamps (inject a
    :class:`~briefcast.emulators.limits.ManualClock` to test limits without waiting).
    """

    server_name = "fake-telegram"

    # ---------------------------------------------------------------------------------------
    # URLs
    # ---------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What to pass as ``Bot(base_url=...)`` / ``ApplicationBuilder().base_url(...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass as ``Bot(base_file_url=...)`` / ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.url}/file/bot"

    @property
    def api_url(self) -> str:
        """``base_url`` with this bot's token, e.g. for raw HTTP calls: ``{api_url}/getMe``."""
        return f"{self.base_url}{self.token}"

    def _routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)

    async def close(self) -> None:
        await super().close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---------------------------------------------------------------------------------------
    # Updates
    # ---------------------------------------------------------------------------------------
    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update (assigning ``update_id``) for getUpdates or the webhook; returns the id."""
        with self._lock:
            self._next_update_id += 1
            stored = {
                "update_id": self._next_update_id,
                **{k: v for k, v in update.items() if k != "update_id"},
            }
            self._updates.append(stored)
            webhook = bool(self._webhook.get("url"))
        self._notifier.notify()
        if webhook:
            self._spawn(self._deliver_webhook())
        return int(stored["update_id"])

    def push_updates(self, updates: Iterable[Mapping[str, Any]]) -> list[int]:
        """Queue several updates in order."""
        return [self.push_update(update) for update in updates]

    def _store_incoming(self, chat: _Chat, message: dict[str, Any]) -> dict[str, Any]:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        full = {"message_id": message_id, **message, "chat": chat.to_json(), "date": int(time.time())}
        self._messages[(chat.id, message_id)] = full
        return json.loads(json.dumps(full))  # type: ignore[no-any-return]

    def make_message_update(
        self,
        chat: int | Mapping[str, Any] | None,
        user: int | Mapping[str, Any],
        text: str,
        *,
        thread_id: int | None = None,
        language_code: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """A ``message`` update from ``user`` in ``chat`` (None = the user's private chat).

        A leading ``/command`` or ``/command@botname`` gets its bot_command entity, as Telegram adds.
        """
        with self._lock:
            sender = self._user(user, language_code)
            room = self._chat(chat if chat is not None else sender["id"])
            message: dict[str, Any] = {"from": sender, "text": text}
            if entities is None:
                match = _BOT_COMMAND.match(text)
                entities = [{"offset": 0, "length": match.end(), "type": "bot_command"}] if match else []
            if entities:
                message["entities"] = entities
            if thread_id is not None:
                message["message_thread_id"] = thread_id
                if room.is_forum:
                    message["is_topic_message"] = True
            if reply_to_message_id is not None:
                replied = self._messages.get((room.id, reply_to_message_id))
                if replied:
                    message["reply_to_message"] = replied
            return {"message": self._store_incoming(room, message)}

    def make_callback_query(
        self,
        chat: int | Mapping[str, Any],
        user: int | Mapping[str, Any],
        data: str,
        *,
        message_id: int | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """A ``callback_query`` update pressing a button on a bot message (default: the latest)."""
        with self._lock:
            sender = self._user(user, language_code)
            room = self._chat(chat)
            if message_id is None:
                ours = sorted(mid for cid, mid in self._bot_messages if cid == room.id)
                if not ours:
                    raise ValueError(f"the bot has sent no message to chat {room.id} yet")
                message_id = ours[-1]
            message = self._messages.get((room.id, message_id))
            if message is None:
                raise ValueError(f"no message {message_id} in chat {room.id}")
            query_id = f"{next(self._callback_ids):019d}"
            query = {
                "id": query_id,
                "from": sender,
                "chat_instance": str(abs(hash((room.id, self.bot_user["id"])))),
                "data": data,
                "message": json.loads(json.dumps(message)),
            }
            self._callbacks[query_id] = query
            return {"callback_query": query}

    def make_my_chat_member(
        self,
        chat: int | Mapping[str, Any],
        old_status: str,
        new_status: str,
        *,
        user: int | Mapping[str, Any] | None = None,
        apply: bool = True,
    ) -> dict[str, Any]:
        """A ``my_chat_member`` update (bot added/removed/promoted; private: blocked = "kicked").

        With ``apply`` the bot's status in the fake changes too, so later sends behave accordingly.
        """
        with self._lock:
            room = self._chat(chat)
            actor = self._user(user if user is not None else (room.id if room.type == "private" else 1))
            channel = room.type == "channel"
            if apply:
                room.bot_status = new_status
            return {
                "my_chat_member": {
                    "chat": room.to_json(),
                    "from": actor,
                    "date": int(time.time()),
                    "old_chat_member": _member_json(self.bot_user, old_status, channel=channel),
                    "new_chat_member": _member_json(
                        self.bot_user, new_status, channel=channel, rights=room.bot_rights
                    ),
                }
            }

    def make_channel_post(
        self, chat: int | Mapping[str, Any], text: str, *, author_signature: str | None = None
    ) -> dict[str, Any]:
        """A ``channel_post`` update."""
        with self._lock:
            room = self._chat(chat)
            message: dict[str, Any] = {"sender_chat": room.to_json(), "text": text}
            if author_signature:
                message["author_signature"] = author_signature
            return {"channel_post": self._store_incoming(room, message)}

    def make_migration(
        self, old_chat_id: int, new_chat_id: int, *, user: int | Mapping[str, Any] = 1, apply: bool = True
    ) -> list[dict[str, Any]]:
        """The two updates Telegram sends when a group becomes a supergroup (old chat, then new)."""
        with self._lock:
            sender = self._user(user)
            old = self._chat(old_chat_id)
            if apply:
                self.migrate(old_chat_id, new_chat_id)
            elif new_chat_id not in self._chats:
                self.add_chat(new_chat_id, "supergroup", title=old.title)
            new = self._chats[new_chat_id]
            return [
                {"message": self._store_incoming(old, {"from": sender, "migrate_to_chat_id": new_chat_id})},
                {"message": self._store_incoming(new, {"from": sender, "migrate_from_chat_id": old_chat_id})},
            ]

    def make_document_message(
        self,
        chat: int | Mapping[str, Any] | None,
        user: int | Mapping[str, Any],
        *,
        content: bytes = b"",
        file_name: str = "issue.md",
        mime_type: str = "text/markdown",
        file_id: str | None = None,
        caption: str | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """A ``message`` update carrying a document; the file is registered for getFile/download."""
        with self._lock:
            sender = self._user(user)
            room = self._chat(chat if chat is not None else sender["id"])
            if file_id is None:
                file_id = f"BQACAgIAAxkBAAI{next(self._file_ids):08d}"
            document = self.add_file(file_id, content, file_name, mime_type)
            message: dict[str, Any] = {"from": sender, "document": document}
            if caption is not None:
                message["caption"] = caption
            if thread_id is not None:
                message["message_thread_id"] = thread_id
            return {"message": self._store_incoming(room, message)}

    # ---------------------------------------------------------------------------------------
    # HTTP
    # ---------------------------------------------------------------------------------------
    def _error(self, error: _ApiError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
        headers: dict[str, str] = {}
        if error.parameters:
            body["parameters"] = error.parameters
            if "retry_after" in error.parameters:
                headers["Retry-After"] = str(error.parameters["retry_after"])
        return web.json_response(body, status=error.status, headers=headers)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(_ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        try:
            body = await read_body(request)
        except ValueError as exc:
            return self._error(_bad(str(exc)))
        params = _decode_form(body.params) if body.form else dict(body.params)
        with self._lock:
            self.requests.append(RecordedRequest(method, params, self.clock()))
        self._notifier.notify()
        fault = self.faults.take(method.lower(), None if "chat_id" not in params else str(params["chat_id"]))
        if fault is not None:
            if fault.delay > 0:
                await asyncio.sleep(fault.delay)
            if not fault.passthrough:
                return web.json_response(dict(fault.body), status=fault.status, headers=dict(fault.headers))
        handler = self._methods.get(method.lower())
        if handler is None and method.lower() != "getupdates":
            return self._error(_ApiError(404, "Not Found"))
        try:
            if handler is None:  # getUpdates: the one method that awaits (long polling)
                result = await self._get_updates(params)
            else:
                with self._lock:
                    result = handler(params, body.files)
        except _ApiError as error:
            if error.status == 429:
                with self._lock:
                    self.rate_limited += 1
            return self._error(error)
        finally:
            self._notifier.notify()
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(_ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        with self._lock:
            found = next((f for f in self._files.values() if f.path == path), None)
        if found is None:
            return self._error(_ApiError(404, "Not Found"))
        return web.Response(body=found.data, content_type=found.mime_type)


def main(argv: list[str] | None = None) -> None:
    """``python -m briefcast.emulators.telegram --port 8081 --chat 42:private --chat -100:group``."""
    import argparse

    from briefcast.emulators._http import serve_until_interrupted

    parser = argparse.ArgumentParser(
        prog="python -m briefcast.emulators.telegram",
        description="Run the fake Telegram Bot API (local playground).",
    )
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument("--no-limits", action="store_true", help="disable flood limits")
    parser.add_argument("--chat", action="append", default=[], help="ID:TYPE, e.g. 42:private, -100:group")
    args = parser.parse_args(argv)
    fake = FakeTelegram(
        token=args.token,
        port=args.port,
        latency=args.latency,
        limits=TelegramLimits(enabled=not args.no_limits),
    )
    for spec in args.chat:
        chat_id, _, kind = spec.partition(":")
        fake.add_chat(int(chat_id), kind or "private")

    def banner(server: FakeServer) -> str:
        return f"fake Telegram at {fake.base_url} (token {fake.token}); Ctrl-C to stop"

    serve_until_interrupted(fake, banner)
