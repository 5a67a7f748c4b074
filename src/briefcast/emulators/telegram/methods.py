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
import contextlib
import importlib.util
import itertools
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from briefcast.testing._server import FakeServer, RecordedRequest, UploadedFile, read_body
from briefcast.testing.limits import Clock, Fault, FaultPlan, Limiter, SlidingWindow

__all__ = [
    "FakeTelegram",
    "SentDocument",
    "SentMessage",
    "TelegramLimits",
    "parse_entities",
]

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
# Entity parsing
# --------------------------------------------------------------------------------------------


class EntityParseError(ValueError):
    """The text is not valid for the parse mode; ``str(exc)`` is TDLib's message."""


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_TD_TYPES: dict[str, str] = {
    "textEntityTypeMention": "mention",
    "textEntityTypeHashtag": "hashtag",
    "textEntityTypeCashtag": "cashtag",
    "textEntityTypeBotCommand": "bot_command",
    "textEntityTypeUrl": "url",
    "textEntityTypeEmailAddress": "email",
    "textEntityTypePhoneNumber": "phone_number",
    "textEntityTypeBold": "bold",
    "textEntityTypeItalic": "italic",
    "textEntityTypeUnderline": "underline",
    "textEntityTypeStrikethrough": "strikethrough",
    "textEntityTypeSpoiler": "spoiler",
    "textEntityTypeCode": "code",
    "textEntityTypePre": "pre",
    "textEntityTypePreCode": "pre",
    "textEntityTypeBlockQuote": "blockquote",
    "textEntityTypeExpandableBlockQuote": "expandable_blockquote",
    "textEntityTypeTextUrl": "text_link",
    "textEntityTypeMentionName": "text_mention",
    "textEntityTypeCustomEmoji": "custom_emoji",
}


class _TdJson:
    """TDLib's offline parser via :mod:`briefcast.testing.tdlib`; ``available`` is False without tdjson."""

    def __init__(self) -> None:
        self._available: bool | None = None

    @property
    def available(self) -> bool:
        if self._available is None:
            self._available = importlib.util.find_spec("tdjson") is not None
        return self._available

    def call(self, request: Mapping[str, Any]) -> dict[str, Any]:
        from briefcast.testing.tdlib import td_execute

        return td_execute(request)


_TD = _TdJson()


def _convert_td_entity(entity: Mapping[str, Any]) -> dict[str, Any] | None:
    td_type = entity["type"]
    kind = _TD_TYPES.get(td_type["@type"])
    if kind is None:
        return None
    out: dict[str, Any] = {"offset": entity["offset"], "length": entity["length"], "type": kind}
    if td_type["@type"] == "textEntityTypePreCode" and td_type.get("language"):
        out["language"] = td_type["language"]
    elif kind == "text_link":
        out["url"] = td_type["url"]
    elif kind == "text_mention":
        out["user"] = {"id": td_type.get("user_id", 0), "is_bot": False, "first_name": ""}
    elif kind == "custom_emoji":
        out["custom_emoji_id"] = str(td_type.get("custom_emoji_id", ""))
    return out


def _td_parse(text: str, parse_mode: str) -> tuple[str, list[dict[str, Any]]]:
    mode: dict[str, Any]
    if parse_mode == "html":
        mode = {"@type": "textParseModeHTML"}
    else:
        mode = {"@type": "textParseModeMarkdown", "version": 2 if parse_mode == "markdownv2" else 1}
    result = _TD.call({"@type": "parseTextEntities", "text": text, "parse_mode": mode})
    if result.get("@type") == "error":
        message = str(result.get("message", "Can't parse entities"))
        raise EntityParseError(message.removeprefix("Can't parse entities: "))
    entities = [e for e in map(_convert_td_entity, result.get("entities", [])) if e is not None]
    return str(result["text"]), entities


def _auto_entities(text: str, explicit: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entities Telegram detects by itself (URLs, mentions, commands) that explicit ones don't cover."""
    if not _TD.available or not text:
        return []
    result = _TD.call({"@type": "getTextEntities", "text": text})
    blocked = [(e["offset"], e["offset"] + e["length"]) for e in explicit if e["type"] in _OPAQUE]
    found = []
    for raw in result.get("entities", []):
        entity = _convert_td_entity(raw)
        if entity is None:
            continue
        start, end = entity["offset"], entity["offset"] + entity["length"]
        if any(start < b_end and b_start < end for b_start, b_end in blocked):
            continue
        found.append(entity)
    return found


_OPAQUE = frozenset({"code", "pre", "text_link", "url", "text_mention", "custom_emoji"})

# --- fallback HTML parser (only used when tdjson is not importable) ---------------------------
_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _html_fallback(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A small HTML checker with TDLib's error wording for the common mistakes."""
    out: list[str] = []
    pos = 0
    stack: list[tuple[str, int, dict[str, Any]]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            match = _TAG.match(text, i)
            if match is None:
                raise EntityParseError(f'Unsupported start tag "" at byte offset {_byte_offset(text, i)}')
            closing, name = match.group(1) == "/", match.group(2).lower()
            if closing:
                if not stack:
                    raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
                open_name, start, extra = stack.pop()
                if open_name != name:
                    raise EntityParseError(
                        f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                if pos > start and extra.get("type"):
                    entities.append({"offset": start, "length": pos - start, **extra})
            else:
                stack.append((name, pos, _open_tag(text, i, name, match.group(3))))
            i = match.end()
            continue
        if char == "&" and (entity := _HTML_ENTITY.match(text, i)):
            name = entity.group(1)
            if name.startswith("#x"):
                char = chr(int(name[2:], 16))
            elif name.startswith("#"):
                char = chr(int(name[1:]))
            else:
                char = _NAMED[name]
            i = entity.end()
        else:
            i += 1
        out.append(char)
        pos += _utf16_len(char)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _open_tag(text: str, index: int, name: str, raw_attrs: str) -> dict[str, Any]:
    kind = _HTML_TAGS.get(name)
    if kind is None:
        raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, index)}')
    attrs = {
        m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _ATTR.finditer(raw_attrs)
    }
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, index)}'
        )
    extra: dict[str, Any] = {"type": kind}
    if name == "a":
        if not attrs.get("href"):
            return {}
        extra["url"] = attrs["href"]
    if name == "blockquote" and "expandable" in attrs:
        extra["type"] = "expandable_blockquote"
    return extra


def parse_entities(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Parse ``text`` like the Bot API: return (plain text, Bot API entities) or raise EntityParseError.

    Uses TDLib (tdjson) when importable — the same parser Telegram runs — else a small HTML checker
    (MarkdownV2/Markdown are then accepted unparsed).
    """
    mode = (parse_mode or "").lower()
    if mode and mode not in ("html", "markdown", "markdownv2"):
        raise ValueError(parse_mode)
    if not mode:
        return text, _auto_entities(text, [])
    if _TD.available:
        plain, entities = _td_parse(text, mode)
    elif mode == "html":
        plain, entities = _html_fallback(text)
    else:
        plain, entities = text, []
    merged = entities + _auto_entities(plain, entities)
    merged.sort(key=lambda e: (e["offset"], -e["length"]))
    return plain, merged


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
    """An accepted sendMessage call. ``text`` is as sent; ``plain`` is after entity parsing."""

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


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------

_Handler = Callable[[dict[str, Any], dict[str, UploadedFile]], Any]


class FakeTelegram(FakeServer):
    """The fake Bot API. All public methods are thread-safe.

    ``clock`` drives flood limits and request timestamps (inject a
    :class:`~briefcast.testing.limits.ManualClock` to test limits without waiting).
    """

    server_name = "fake-telegram"

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
        self._methods: dict[str, _Handler] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setMyDescription": self._true,
                "setMyShortDescription": self._true,
                "setMyName": self._true,
                "setChatMenuButton": self._true,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "deleteMessage": self._delete_message,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "sendDocument": self._send_document,
                "getFile": self._get_file,
                "sendChatAction": self._send_chat_action,
                "leaveChat": self._leave_chat,
                "createForumTopic": self._create_forum_topic,
                "closeForumTopic": self._close_forum_topic,
                "reopenForumTopic": self._reopen_forum_topic,
                "deleteForumTopic": self._delete_forum_topic,
            }.items()
        }

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

    # ---------------------------------------------------------------------------------------
    # Methods (called with the lock held, except getUpdates)
    # ---------------------------------------------------------------------------------------
    def _true(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return True

    def _get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _resolve_chat(self, params: Mapping[str, Any]) -> _Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            found = next((c for c in self._chats.values() if c.username and f"@{c.username}" == raw), None)
        else:
            found = self._chats.get(_as_int(raw, "chat_id"))
        if found is None:
            raise _bad("chat not found")
        return found

    def _check_access(self, chat: _Chat, *, posting: bool = True) -> None:
        """Raise the error Telegram gives when the bot may not act in ``chat``."""
        if chat.migrated_to is not None:
            raise _bad(
                "group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": chat.migrated_to}
            )
        status = chat.bot_status
        if chat.type == "private":
            if status == "kicked" and posting:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            return
        if status == "kicked":
            raise _ApiError(403, f"Forbidden: bot was kicked from the {chat.kind}")
        if status == "left":
            raise _ApiError(403, f"Forbidden: bot is not a member of the {chat.kind}")
        if chat.type == "channel" and posting and status not in ("administrator", "creator"):
            raise _bad("need administrator rights in the channel chat")

    def _parse_text(
        self, params: Mapping[str, Any], key: str, limit: int
    ) -> tuple[str, list[dict[str, Any]]]:
        raw = params.get(key)
        text = "" if raw is None else str(raw)
        parse_mode = params.get("parse_mode") or None
        try:
            plain, entities = parse_entities(text, parse_mode)
        except EntityParseError as exc:
            raise _bad(f"can't parse entities: {exc}") from None
        except ValueError:
            raise _bad("unsupported parse_mode") from None
        explicit = params.get("caption_entities" if key == "caption" else "entities")
        if parse_mode is None and isinstance(explicit, list):
            entities = list(explicit)
        if key == "text" and not plain.strip():
            raise _bad("message text is empty")
        if _utf16_len(plain) > limit:
            raise _bad("message is too long" if key == "text" else "message caption is too long")
        return plain, entities

    def _check_markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not str(button.get("text", "")):
                    raise _bad("can't parse inline keyboard button: Text must be non-empty")
                data = button.get("callback_data")
                if data is not None:
                    size = len(str(data).encode("utf-8"))
                    if not 1 <= size <= MAX_CALLBACK_DATA:
                        raise _bad("BUTTON_DATA_INVALID")
                elif "url" in button:
                    if not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                        raise _bad("BUTTON_URL_INVALID")
                elif not any(k in button for k in ("web_app", "login_url", "switch_inline_query", "pay")):
                    raise _bad(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
        return markup

    def _check_thread(self, chat: _Chat, params: Mapping[str, Any]) -> int | None:
        raw = params.get("message_thread_id")
        if raw is None or raw == "":
            return None
        thread_id = _as_int(raw, "message_thread_id")
        if chat.is_forum and chat.topics and thread_id != 1 and thread_id not in chat.topics:
            raise _bad("message thread not found")
        info = chat.topic_info.get(thread_id)
        if info is not None and info["closed"] and not self._bot_right(chat, "can_manage_topics"):
            raise _bad("TOPIC_CLOSED")
        return thread_id

    def _charge(self, chat: _Chat, params: Mapping[str, Any]) -> None:
        paid = _as_bool(params.get("allow_paid_broadcast", False))
        keys: list[tuple[str, Any]] = [("paid" if paid else "bot", "bot")]
        keys.append(("private", chat.id) if chat.type == "private" else ("group", chat.id))
        check = self.limiter.acquire(keys)
        if not check.allowed:
            raise _ApiError(
                429,
                f"Too Many Requests: retry after {check.retry_after}",
                {"retry_after": check.retry_after},
            )

    def _new_bot_message(self, chat: _Chat, content: dict[str, Any], thread_id: int | None) -> dict[str, Any]:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: dict[str, Any] = {"message_id": message_id}
        if chat.type == "channel":
            message["sender_chat"] = chat.to_json()
        else:
            message["from"] = dict(self.bot_user)
        message.update(chat=chat.to_json(), date=int(time.time()))
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.is_forum:
                message["is_topic_message"] = True
        message.update(content)
        self._messages[(chat.id, message_id)] = message
        self._bot_messages.add((chat.id, message_id))
        return json.loads(json.dumps(message))  # type: ignore[no-any-return]

    def _send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        self._check_access(chat)
        thread_id = self._check_thread(chat, params)
        plain, entities = self._parse_text(params, "text", MAX_TEXT)
        markup = self._check_markup(params.get("reply_markup"))
        self._charge(chat, params)
        content: dict[str, Any] = {"text": plain}
        if entities:
            content["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        if markup and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        message = self._new_bot_message(chat, content, thread_id)
        self.sent_messages.append(
            SentMessage(
                chat_id=chat.id,
                text=str(params.get("text", "")),
                parse_mode=params.get("parse_mode") or None,
                message_thread_id=thread_id,
                reply_markup=markup,
                message_id=message["message_id"],
                t=self.clock(),
                plain=plain,
                entities=entities,
                params=dict(params),
            )
        )
        return message

    def _find_own_message(self, params: Mapping[str, Any], missing: str) -> tuple[_Chat, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params)
        self._check_access(chat, posting=False)
        message_id = _as_int(params.get("message_id"), "message_id") if params.get("message_id") else 0
        message = self._messages.get((chat.id, message_id))
        if message is None:
            raise _bad(missing)
        if (chat.id, message_id) not in self._bot_messages or (chat.id, message_id) in self._locked:
            raise _bad("message can't be edited")
        return chat, message

    def _edit_message_text(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat, message = self._find_own_message(params, "message to edit not found")
        plain, entities = self._parse_text(params, "text", MAX_TEXT)
        markup = self._check_markup(params.get("reply_markup"))
        new_markup = markup if markup and "inline_keyboard" in markup else None
        if (
            message.get("text") == plain
            and message.get("entities", []) == entities
            and message.get("reply_markup") == new_markup
        ):
            raise _bad(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        message["text"] = plain
        message.pop("entities", None)
        message.pop("reply_markup", None)
        if entities:
            message["entities"] = entities
        if new_markup:
            message["reply_markup"] = new_markup
        message["edit_date"] = int(time.time())
        self.edits.append({"method": "editMessageText", "chat_id": chat.id, **params, "t": self.clock()})
        return json.loads(json.dumps(message))  # type: ignore[no-any-return]

    def _edit_message_reply_markup(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat, message = self._find_own_message(params, "message to edit not found")
        markup = self._check_markup(params.get("reply_markup"))
        new_markup = markup if markup and "inline_keyboard" in markup and markup["inline_keyboard"] else None
        if message.get("reply_markup") == new_markup:
            raise _bad(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        message.pop("reply_markup", None)
        if new_markup:
            message["reply_markup"] = new_markup
        message["edit_date"] = int(time.time())
        self.edits.append(
            {"method": "editMessageReplyMarkup", "chat_id": chat.id, **params, "t": self.clock()}
        )
        return json.loads(json.dumps(message))

    def _answer_callback_query(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._callbacks:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        del self._callbacks[query_id]
        self.callback_answers.append({**params, "t": self.clock()})
        return True

    def _delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params)
        self._check_access(chat, posting=False)
        message_id = _as_int(params.get("message_id", 0), "message_id")
        if self._messages.pop((chat.id, message_id), None) is None:
            raise _bad("message to delete not found")
        self._bot_messages.discard((chat.id, message_id))
        self.deleted.append((chat.id, message_id))
        return True

    def _get_chat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        if chat.type != "private":
            self._check_access(chat, posting=False)
        return {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _status_of(self, chat: _Chat, user_id: int) -> str | None:
        if user_id == self.bot_user["id"]:
            return chat.bot_status
        status = self._members.get((chat.id, user_id))
        if status is None and chat.type == "private" and user_id == chat.id:
            return "member"
        return status

    def _get_chat_member(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        self._check_access(chat, posting=False)
        user_id = _as_int(params.get("user_id"), "user_id")
        status = self._status_of(chat, user_id)
        if user_id == self.bot_user["id"]:
            user = self.bot_user
        elif user_id in self._users:
            user = self._users[user_id]
        else:
            raise _bad("user not found")
        rights = chat.bot_rights if user_id == self.bot_user["id"] else None
        return _member_json(user, status or "left", channel=chat.type == "channel", rights=rights)

    def _get_chat_administrators(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> list[dict[str, Any]]:
        chat = self._resolve_chat(params)
        if chat.type == "private":
            raise _bad("there are no administrators in the private chat")
        self._check_access(chat, posting=False)
        admins = [
            _member_json(self._users[user_id], status, channel=chat.type == "channel")
            for (chat_id, user_id), status in self._members.items()
            if chat_id == chat.id and status in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(
                _member_json(
                    self.bot_user, "administrator", channel=chat.type == "channel", rights=chat.bot_rights
                )
            )
        return admins

    # -- forum topics ---------------------------------------------------------------------
    def _bot_right(self, chat: _Chat, right: str) -> bool:
        """Whether the bot holds an administrator right in ``chat`` (the creator holds them all)."""
        if chat.bot_status == "creator":
            return True
        if chat.bot_status != "administrator":
            return False
        return bool(_member_json(self.bot_user, "administrator", rights=chat.bot_rights).get(right))

    def _forum(self, params: Mapping[str, Any]) -> _Chat:
        chat = self._resolve_chat(params)
        self._check_access(chat, posting=False)
        if chat.type != "supergroup" or not chat.is_forum:
            raise _bad("the chat is not a forum")
        return chat

    def _topic_of(self, chat: _Chat, params: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        raw = params.get("message_thread_id")
        thread_id = _as_int(raw, "message_thread_id") if raw not in (None, "") else 0
        info = chat.topic_info.get(thread_id)
        if info is None:
            raise _bad("TOPIC_ID_INVALID")
        return thread_id, info

    def _create_forum_topic(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._forum(params)
        if not self._bot_right(chat, "can_manage_topics"):
            raise _bad("not enough rights to create a topic")
        name = str(params.get("name") or "")
        if not name.strip():
            raise _bad("TOPIC_TITLE_EMPTY")
        if len(name) > MAX_TOPIC_NAME:
            raise _bad("TOPIC_TITLE_TOO_LONG")
        color = _as_int(params.get("icon_color", 0x6FB9F0), "icon_color")
        if color not in TOPIC_ICON_COLORS:
            raise _bad("invalid icon_color specified")
        created = {"name": name, "icon_color": color}
        service = self._new_bot_message(chat, {"forum_topic_created": dict(created)}, None)
        thread_id = int(service["message_id"])
        service["message_thread_id"] = thread_id
        service["is_topic_message"] = True
        self._messages[(chat.id, thread_id)] = service
        chat.topics.add(thread_id)
        chat.topic_info[thread_id] = {**created, "closed": False, "by_bot": True}
        topic: dict[str, Any] = {"message_thread_id": thread_id, **created}
        if params.get("icon_custom_emoji_id"):
            topic["icon_custom_emoji_id"] = str(params["icon_custom_emoji_id"])
        return topic

    def _set_topic_closed(self, params: dict[str, Any], closed: bool) -> bool:
        chat = self._forum(params)
        thread_id, info = self._topic_of(chat, params)
        if chat.bot_status not in ("administrator", "creator") or not (
            info["by_bot"] or self._bot_right(chat, "can_manage_topics")
        ):
            raise _bad("not enough rights to manage topics")
        if info["closed"] == closed:
            raise _bad("TOPIC_NOT_MODIFIED")
        info["closed"] = closed
        event = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._new_bot_message(chat, {event: {}}, thread_id)
        return True

    def _close_forum_topic(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return self._set_topic_closed(params, True)

    def _reopen_forum_topic(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return self._set_topic_closed(params, False)

    def _delete_forum_topic(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._forum(params)
        thread_id, info = self._topic_of(chat, params)
        if chat.bot_status not in ("administrator", "creator") or not (
            info["by_bot"] or self._bot_right(chat, "can_delete_messages")
        ):
            raise _bad("not enough rights to delete a topic")
        del chat.topic_info[thread_id]
        chat.topics.discard(thread_id)
        for key in [
            k
            for k, m in self._messages.items()
            if k[0] == chat.id and m.get("message_thread_id") == thread_id
        ]:
            self._messages.pop(key, None)
            self._bot_messages.discard(key)
        return True

    def _document_json(self, found: _File) -> dict[str, Any]:
        return {
            "file_name": found.name,
            "mime_type": found.mime_type,
            "file_id": found.file_id,
            "file_unique_id": found.unique_id,
            "file_size": len(found.data),
        }

    def _send_document(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        self._check_access(chat)
        thread_id = self._check_thread(chat, params)
        upload = files.get("document")
        if upload is not None:
            if not upload.data:
                raise _bad("file must be non-empty")
            file_id = f"BQACAgIAAxkDAAI{next(self._file_ids):08d}"
            self.add_file(file_id, upload.data, upload.filename or "document", upload.content_type)
        else:
            file_id = str(params.get("document") or "")
            if not file_id:
                raise _bad("there is no document in the request")
            if file_id not in self._files:
                raise _bad("wrong file identifier/HTTP URL specified")
        caption, caption_entities = (
            self._parse_text(params, "caption", MAX_CAPTION) if params.get("caption") else ("", [])
        )
        markup = self._check_markup(params.get("reply_markup"))
        self._charge(chat, params)
        found = self._files[file_id]
        content: dict[str, Any] = {"document": self._document_json(found)}
        if caption:
            content["caption"] = caption
        if caption_entities:
            content["caption_entities"] = caption_entities
        if markup and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        message = self._new_bot_message(chat, content, thread_id)
        self.sent_documents.append(
            SentDocument(
                chat.id, file_id, found.name, found.data, caption or None, message["message_id"], self.clock()
            )
        )
        return message

    def _get_file(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        found = self._files.get(str(params.get("file_id", "")))
        if found is None:
            raise _bad("invalid file_id")
        if len(found.data) > 20 * 1024 * 1024:
            raise _bad("file is too big")
        return {
            "file_id": found.file_id,
            "file_unique_id": found.unique_id,
            "file_size": len(found.data),
            "file_path": found.path,
        }

    def _send_chat_action(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params)
        self._check_access(chat)
        action = str(params.get("action", ""))
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        return True

    def _leave_chat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params)
        if chat.type == "private":
            raise _bad("chat member status can't be changed in private chats")
        self._check_access(chat, posting=False)
        chat.bot_status = "left"
        return True

    # --- commands ------------------------------------------------------------------------------
    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not scope:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad("can't parse BotCommandScope JSON object")
        return json.dumps(scope, sort_keys=True)

    def _set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")
        cleaned: list[dict[str, str]] = []
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            description = str(command.get("description", "")) if isinstance(command, dict) else ""
            if not _COMMAND_NAME.match(name.lower()):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name.lower(), "description": description})
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands[key] = cleaned
        return True

    def _get_my_commands(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> list[dict[str, str]]:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return list(self._commands.get(key, []))

    def _delete_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    # --- updates and webhooks ----------------------------------------------------------------
    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        allowed = set(self._allowed_updates)
        kept = []
        for update in self._updates:
            kind = _update_type(update)
            if (kind in allowed) if allowed else (kind not in _UPDATE_TYPES_NOT_DEFAULT):
                kept.append(update)
        self._updates = kept  # updates of unwanted types are dropped, as Telegram never queues them
        return [json.loads(json.dumps(u)) for u in kept[:limit]]

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            if self._webhook.get("url"):
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            self._confirm(_as_int(params.get("offset") or 0, "offset"))
            limit = min(max(_as_int(params.get("limit") or 100, "limit"), 1), 100)
            timeout = max(0.0, float(params.get("timeout") or 0))
            if isinstance(params.get("allowed_updates"), list):
                self._allowed_updates = [str(x) for x in params["allowed_updates"]]
            self._poll_generation += 1
            generation = self._poll_generation
        self._notifier.notify()  # wakes (and so terminates) an older poll

        def ready() -> bool:
            return self._closing or self._poll_generation != generation or bool(self._deliverable(limit))

        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await self._notifier.wait_for(ready, timeout)
        with self._lock:
            if self._poll_generation != generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            return [] if self._closing else self._deliverable(limit)

    def _set_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        url = str(params.get("url") or "")
        if url and not re.match(r"^https?://", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if _as_bool(params.get("drop_pending_updates", False)):
            self._updates.clear()
        if not url:
            self._webhook = {}
            return True
        self._webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": int(params.get("max_connections") or 40),
        }
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = [str(x) for x in params["allowed_updates"]]
        self._spawn(self._deliver_webhook())
        return True

    def _delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        self._webhook = {}
        if _as_bool(params.get("drop_pending_updates", False)):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook.get("url"):
            info["max_connections"] = self._webhook["max_connections"]
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
            for key in ("last_error_date", "last_error_message"):
                if key in self._webhook:
                    info[key] = self._webhook[key]
        return info

    async def _deliver_webhook(self) -> None:
        """POST pending updates to the webhook in order; a failure leaves them pending."""
        if self._webhook_lock is None:
            self._webhook_lock = asyncio.Lock()
        async with self._webhook_lock:
            if self._session is None:
                self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
            while True:
                with self._lock:
                    url = self._webhook.get("url")
                    batch = self._deliverable(1) if url else []
                    secret = self._webhook.get("secret_token")
                if not url or not batch:
                    return
                update = batch[0]
                headers = {"X-Telegram-Bot-Api-Secret-Token": str(secret)} if secret else {}
                try:
                    async with self._session.post(str(url), json=update, headers=headers) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, error = 0, f"Connection failed: {exc}"
                else:
                    error = f"Wrong response from the webhook: {status}"
                with self._lock:
                    self.webhook_deliveries.append((int(update["update_id"]), status))
                    if 200 <= status < 300:
                        self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
                    else:
                        self._webhook["last_error_date"] = int(time.time())
                        self._webhook["last_error_message"] = error
                self._notifier.notify()
                if not 200 <= status < 300:
                    return


def main(argv: list[str] | None = None) -> None:
    """``python -m briefcast.testing.fake_telegram --port 8081 --chat 42:private --chat -100:group``."""
    import argparse

    from briefcast.testing._server import serve_until_interrupted

    parser = argparse.ArgumentParser(description="Run the fake Telegram Bot API (local playground).")
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


if __name__ == "__main__":
    main()
