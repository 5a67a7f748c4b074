"""The fake Bot API's records and state (chats, users, messages, files, limits) and its configuration API."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from briefcast.emulators._http import FakeServer, RecordedRequest
from briefcast.emulators.limits import Clock, Fault, FaultPlan, Limiter, SlidingWindow

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
DEFAULT_TOKEN = "123456789:AAFakeTokenForBriefcastTests_0123456"

_BOT_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Parameters that are strings on the wire even when they look like JSON ("123", "true").
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "language_code",
        "file_id",
        "inline_message_id",
        "action",
        "title",
        "description",
        "short_description",
        "name",
        "ip_address",
        "custom_title",
        "business_connection_id",
        "emoji",
        "document",
        "icon_custom_emoji_id",
    }
)
# createForumTopic icon colours (https://core.telegram.org/bots/api#createforumtopic)
TOPIC_ICON_COLORS = frozenset({0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F})
MAX_TOPIC_NAME = 128
_UPDATE_TYPES_NOT_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class _ApiError(Exception):
    """An error answer: HTTP status, Bot API description and optional ResponseParameters."""

    def __init__(self, status: int, description: str, parameters: Mapping[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = dict(parameters) if parameters else None


def _bad(description: str, parameters: Mapping[str, Any] | None = None) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}", parameters)


# --------------------------------------------------------------------------------------------
# Records and configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramLimits:
    """Flood limits, on by default with Telegram's published values.

    Each is a sliding window ("at most N sends in any W seconds"); rejected sends cost nothing.
    Telegram tolerates short bursts in private chats that this model does not: it is stricter,
    never looser. Only sends (``sendMessage``, ``sendDocument``) count.
    """

    enabled: bool = True
    per_bot: int = 30
    per_bot_window: float = 1.0
    paid_per_bot: int = 1000
    per_private_chat: int = 1
    private_window: float = 1.0
    per_group: int = 20
    group_window: float = 60.0


@dataclass(frozen=True)
class SentMessage:
    """An accepted sendMessage call. ``text`` is as sent; ``plain`` is after entity parsing; ``t``
    is when the call arrived (the instant the flood limits judged it)."""

    chat_id: int
    text: str
    parse_mode: str | None
    message_thread_id: int | None
    reply_markup: dict[str, Any] | None
    message_id: int
    t: float
    plain: str
    entities: list[dict[str, Any]]
    params: dict[str, Any]


@dataclass(frozen=True)
class SentDocument:
    """An accepted sendDocument call."""

    chat_id: int
    file_id: str
    file_name: str
    data: bytes
    caption: str | None
    message_id: int
    t: float


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    bot_status: str = "member"
    migrated_to: int | None = None
    topics: set[int] = field(default_factory=set)
    next_message_id: int = 1
    # the bot's administrator rights that differ from _member_json's defaults (set_bot_rights)
    bot_rights: dict[str, bool] = field(default_factory=dict)
    # topics created through the API: thread id -> {"name", "icon_color", "closed", "by_bot"}
    topic_info: dict[int, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.is_forum:
            data["is_forum"] = True
        return data

    @property
    def kind(self) -> str:
        """The wording Telegram uses in errors: "group chat", "supergroup chat", "channel chat"."""
        return f"{self.type} chat"


@dataclass
class _File:
    file_id: str
    unique_id: str
    data: bytes
    name: str
    mime_type: str
    path: str


def _member_json(
    user: Mapping[str, Any], status: str, *, channel: bool = False, rights: Mapping[str, bool] | None = None
) -> dict[str, Any]:
    """A ChatMember object with every field python-telegram-bot requires for that status.

    ``rights`` override an administrator's ``can_*`` flags (e.g. ``can_manage_topics``).
    """
    member: dict[str, Any] = {"status": status, "user": dict(user)}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_pin_messages=True,
            can_manage_topics=False,
        )
        if channel:
            member.update(can_post_messages=True, can_edit_messages=True)
        member.update(rights or {})
    elif status == "restricted":
        member.update(
            is_member=True,
            until_date=0,
            **{
                key: False
                for key in (
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_send_messages",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_manage_topics",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_edit_tag",
                )
            },
        )
    elif status == "kicked":
        member["until_date"] = 0
    return member


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _bad(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise _bad(f"invalid {name} specified") from None


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _decode_form(params: Mapping[str, Any]) -> dict[str, Any]:
    """Form values arrive as strings with JSON for non-strings (python-telegram-bot's convention)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str) and key not in _STRING_PARAMS:
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
        else:
            out[key] = value
    return out


def _update_type(update: Mapping[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


class _TelegramState(FakeServer):
    """State, configuration API and observations of :class:`~briefcast.emulators.telegram.FakeTelegram`."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "briefcast_test_bot",
        bot_name: str = "Briefcast",
        limits: TelegramLimits | None = None,
        latency: float = 0.0,
        clock: Clock = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host=host, port=port, latency=latency)
        self.token = token
        self.clock = clock
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456789
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.limits = limits or TelegramLimits()
        self.limiter = Limiter(clock)
        self._configure_limits(self.limits)
        self.faults = FaultPlan()
        # Recorded traffic
        self.requests: list[RecordedRequest] = []
        self.sent_messages: list[SentMessage] = []
        self.sent_documents: list[SentDocument] = []
        self.edits: list[dict[str, Any]] = []
        self.deleted: list[tuple[int, int]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.rate_limited = 0
        self.webhook_deliveries: list[tuple[int, int]] = []
        # State
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._bot_messages: set[tuple[int, int]] = set()
        self._locked: set[tuple[int, int]] = set()  # lock_message: no longer editable
        self._files: dict[str, _File] = {}
        self._file_ids = itertools.count(1)
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._callback_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 100_000
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._webhook: dict[str, Any] = {}
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._webhook_lock: asyncio.Lock | None = None
        self._session: aiohttp.ClientSession | None = None

    # ---------------------------------------------------------------------------------------
    # Configuration API (tests)
    # ---------------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.clock()

    def _configure_limits(self, limits: TelegramLimits) -> None:
        self.limiter.enabled = limits.enabled
        self.limiter.add_rule("bot", SlidingWindow(limits.per_bot, limits.per_bot_window))
        self.limiter.add_rule("paid", SlidingWindow(limits.paid_per_bot, limits.per_bot_window))
        self.limiter.add_rule("private", SlidingWindow(limits.per_private_chat, limits.private_window))
        self.limiter.add_rule("group", SlidingWindow(limits.per_group, limits.group_window))

    def set_limits(self, limits: TelegramLimits) -> None:
        """Replace the flood limits (resets their history)."""
        with self._lock:
            self.limits = limits
            self._configure_limits(limits)

    @property
    def limits_enabled(self) -> bool:
        """Switch all flood limits on or off."""
        return self.limiter.enabled

    @limits_enabled.setter
    def limits_enabled(self, value: bool) -> None:
        self.limiter.enabled = value

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        is_bot: bool = False,
    ) -> dict[str, Any]:
        """Register (or replace) a user; returns the User JSON."""
        user: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name or f"User{user_id}"}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        with self._lock:
            self._users[user_id] = user
        return dict(user)

    def add_chat(
        self,
        chat_id: int,
        type: str = "private",
        *,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        is_forum: bool = False,
        bot_status: str | None = None,
    ) -> dict[str, Any]:
        """Register a chat. Private chats default to a user of the same id; channels to bot = admin."""
        if type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        with self._lock:
            chat = _Chat(chat_id, type, username=username, is_forum=is_forum and type == "supergroup")
            if type == "private":
                user = self._users.get(chat_id) or self.add_user(
                    chat_id, first_name, username=username, language_code=None
                )
                chat.first_name = first_name or user["first_name"]
                chat.username = username or user.get("username")
            else:
                chat.title = title or f"Chat {chat_id}"
            chat.bot_status = bot_status or ("administrator" if type == "channel" else "member")
            self._chats[chat_id] = chat
            return chat.to_json()

    def add_topic(self, chat_id: int, thread_id: int) -> None:
        """Declare a forum topic; once a forum has topics, sends to other threads fail."""
        with self._lock:
            self._chat(chat_id).topics.add(thread_id)

    def set_bot_status(self, chat_id: int, status: str) -> None:
        """The bot's own membership: "member", "administrator", "left", "kicked", ..."""
        with self._lock:
            self._chat(chat_id).bot_status = status

    def set_bot_rights(self, chat_id: int, **rights: bool) -> None:
        """Make the bot an administrator with these rights, e.g. ``can_manage_topics=True``."""
        with self._lock:
            chat = self._chat(chat_id)
            chat.bot_status = "administrator"
            chat.bot_rights.update(rights)

    def topic(self, chat_id: int, thread_id: int) -> dict[str, Any] | None:
        """A topic created through the API, ``{"name", "icon_color", "closed", "by_bot"}``, or None."""
        with self._lock:
            found = self._chat(chat_id).topic_info.get(thread_id)
            return dict(found) if found is not None else None

    def topics_of(self, chat_id: int) -> dict[int, dict[str, Any]]:
        """Every topic created through the API in a chat (deleted ones are gone), by thread id."""
        with self._lock:
            return {k: dict(v) for k, v in self._chat(chat_id).topic_info.items()}

    def block(self, chat_id: int) -> None:
        """The user of a private chat blocks the bot (sends fail with 403)."""
        self.set_bot_status(chat_id, "kicked")

    def unblock(self, chat_id: int) -> None:
        """Undo :meth:`block` (or re-add the bot to a group)."""
        self.set_bot_status(chat_id, "member")

    def kick(self, chat_id: int) -> None:
        """The bot is removed from a group/supergroup/channel."""
        self.set_bot_status(chat_id, "kicked")

    def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """Upgrade a group to a supergroup: sends to the old id fail with migrate_to_chat_id."""
        with self._lock:
            old = self._chat(old_chat_id)
            old.migrated_to = new_chat_id
            if new_chat_id not in self._chats:
                self.add_chat(new_chat_id, "supergroup", title=old.title, bot_status=old.bot_status)

    def set_member(self, chat_id: int, user_id: int, status: str = "member") -> None:
        """Set a user's status in a chat ("creator", "administrator", "member", "restricted", ...)."""
        with self._lock:
            if user_id not in self._users:
                self.add_user(user_id)
            self._members[(chat_id, user_id)] = status

    def add_file(
        self, file_id: str, data: bytes, name: str = "file.bin", mime_type: str = "application/octet-stream"
    ) -> dict[str, Any]:
        """Make a file downloadable via getFile + ``/file/bot{token}/{path}``; returns Document JSON."""
        with self._lock:
            number = next(self._file_ids)
            suffix = name.rsplit(".", 1)[-1] if "." in name else "bin"
            self._files[file_id] = _File(
                file_id, f"AgAD{number:06d}", data, name, mime_type, f"documents/file_{number}.{suffix}"
            )
            return self._document_json(self._files[file_id])

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        parameters: Mapping[str, Any] | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` ("*" = any) with this error."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = dict(parameters)
        target = None if chat_id is None else str(chat_id)
        self.faults.add(Fault(method.lower(), status, body, count, target))

    def set_timeout_next(
        self, method: str, delay: float = 30.0, count: int = 1, chat_id: int | str | None = None
    ) -> None:
        """Hold the next ``count`` answers to ``method`` for ``delay`` seconds (provokes client timeouts).

        The request is then handled normally, like a slow server that did the work anyway.
        """
        target = None if chat_id is None else str(chat_id)
        self.faults.add(Fault(method.lower(), 200, {}, count, target, delay=delay, passthrough=True))

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """The command menu currently set for ``scope`` (default scope) and language."""
        with self._lock:
            return list(self._commands.get((self._scope_key(scope), language_code), []))

    # ---------------------------------------------------------------------------------------
    # Observations (tests)
    # ---------------------------------------------------------------------------------------
    def messages_to(self, chat_id: int, thread_id: int | None = None) -> list[SentMessage]:
        """Accepted sendMessage calls to ``chat_id`` (optionally one forum topic), oldest first."""
        with self._lock:
            return [
                m
                for m in self.sent_messages
                if m.chat_id == chat_id and (thread_id is None or m.message_thread_id == thread_id)
            ]

    def calls(self, method: str) -> list[RecordedRequest]:
        """Recorded requests of one method (case-insensitive)."""
        with self._lock:
            return [r for r in self.requests if r.method.lower() == method.lower()]

    def lock_message(self, chat_id: int, message_id: int) -> None:
        """The message can no longer be edited (editMessageText: "message can't be edited")."""
        self._locked.add((chat_id, message_id))

    def forget_message(self, chat_id: int, message_id: int) -> None:
        """A user deleted the message (editMessageText: "message to edit not found")."""
        self._messages.pop((chat_id, message_id), None)
        self._bot_messages.discard((chat_id, message_id))

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The current state of a stored message (after edits), or None if unknown/deleted."""
        with self._lock:
            found = self._messages.get((chat_id, message_id))
            return json.loads(json.dumps(found)) if found else None

    @property
    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by getUpdates (or delivered to the webhook)."""
        with self._lock:
            return len(self._updates)

    def _user(self, user: int | Mapping[str, Any], language_code: str | None = None) -> dict[str, Any]:
        if isinstance(user, Mapping):
            found = dict(user)
            self._users.setdefault(int(found["id"]), found)
        else:
            found = dict(self._users.get(user) or self.add_user(user))
        if language_code is not None:
            found["language_code"] = language_code
        return found

    def _chat(self, chat: int | Mapping[str, Any]) -> _Chat:
        chat_id = int(chat["id"]) if isinstance(chat, Mapping) else chat
        found = self._chats.get(chat_id)
        if found is None:
            if isinstance(chat, Mapping):
                self.add_chat(
                    chat_id,
                    str(chat.get("type", "private")),
                    title=chat.get("title"),
                    username=chat.get("username"),
                    is_forum=bool(chat.get("is_forum")),
                )
            elif chat_id > 0:
                self.add_chat(chat_id, "private")
            else:
                raise KeyError(f"unknown chat {chat_id}; register it with add_chat() first")
            found = self._chats[chat_id]
        return found

    def _document_json(self, found: _File) -> dict[str, Any]:
        return {
            "file_name": found.name,
            "mime_type": found.mime_type,
            "file_id": found.file_id,
            "file_unique_id": found.unique_id,
            "file_size": len(found.data),
        }

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not scope:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad("can't parse BotCommandScope JSON object")
        return json.dumps(scope, sort_keys=True)
