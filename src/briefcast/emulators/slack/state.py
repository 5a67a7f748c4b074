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
import base64
import itertools
import json
import time
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from briefcast.testing._server import FakeServer, RecordedRequest, read_body
from briefcast.testing.limits import Clock, Fault, FaultPlan, Limiter, SlidingWindow, TokenBucket

__all__ = [
    "FakeSlack",
    "SlackLimits",
    "SlackMessage",
    "SlackResponse",
    "app_home_opened_event",
    "app_mention_event",
    "block_actions_payload",
    "event_callback",
    "form_body",
    "message_im_event",
    "sign",
    "slash_command_body",
    "url_verification",
    "validate_blocks",
]

DEFAULT_TOKEN = "xoxb-0000000000-0000000000000-FakeBriefcastToken"
MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
RESPONSE_URL_USES = 5
_JSON_PARAMS = frozenset({"blocks", "attachments", "view", "metadata"})
_BLOCK_TYPES = frozenset(
    {
        "section",
        "header",
        "divider",
        "context",
        "actions",
        "image",
        "rich_text",
        "input",
        "file",
        "video",
        "markdown",
        "table",
        "context_actions",
    }
)


class _SlackError(Exception):
    """An error answer: Slack's error code, extra body fields, HTTP status and headers."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = dict(headers or {})
        self.extra = extra


# --------------------------------------------------------------------------------------------
# Block Kit validation
# --------------------------------------------------------------------------------------------


def _text_errors(obj: Any, pointer: str, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [f"must provide an object [json-pointer:{pointer}]"]
    errors = []
    kind = obj.get("type")
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if kind not in allowed:
        errors.append(f"must be a valid enum value [json-pointer:{pointer}/type]")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
    elif len(text) > limit:
        errors.append(f"must be less than {limit + 1} characters [json-pointer:{pointer}/text]")
    return errors


def _element_errors(element: Any, pointer: str, action_ids: dict[str, str]) -> list[str]:
    if not isinstance(element, dict):
        return [f"must provide an object [json-pointer:{pointer}]"]
    errors = []
    action_id = element.get("action_id")
    if action_id is not None:
        if not isinstance(action_id, str) or not 1 <= len(action_id) <= 255:
            errors.append(f"must be less than 256 characters [json-pointer:{pointer}/action_id]")
        elif action_id in action_ids:
            errors.append(f"duplicate action_id: {action_id} [json-pointer:{pointer}/action_id]")
        else:
            action_ids[action_id] = pointer
    if element.get("type") == "button":
        errors += _text_errors(element.get("text"), f"{pointer}/text", 75, plain_only=True)
        if len(str(element.get("value", ""))) > 2000:
            errors.append(f"must be less than 2001 characters [json-pointer:{pointer}/value]")
        if len(str(element.get("url", ""))) > 3000:
            errors.append(f"must be less than 3001 characters [json-pointer:{pointer}/url]")
    return errors


def _block_errors(block: Any, pointer: str, action_ids: dict[str, str], block_ids: set[str]) -> list[str]:
    if not isinstance(block, dict):
        return [f"must provide an object [json-pointer:{pointer}]"]
    kind = block.get("type")
    if kind not in _BLOCK_TYPES:
        return [f"unsupported type: {kind} [json-pointer:{pointer}/type]"]
    errors: list[str] = []
    block_id = block.get("block_id")
    if block_id is not None:
        if not isinstance(block_id, str) or not 1 <= len(block_id) <= 255:
            errors.append(f"must be less than 256 characters [json-pointer:{pointer}/block_id]")
        elif block_id in block_ids:
            errors.append(f"duplicate block_id: {block_id} [json-pointer:{pointer}/block_id]")
        else:
            block_ids.add(block_id)
    if kind == "header":
        errors += _text_errors(block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, plain_only=True)
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(f"must provide text or fields [json-pointer:{pointer}]")
        if "text" in block:
            errors += _text_errors(block["text"], f"{pointer}/text", MAX_SECTION_TEXT)
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > 10:
                errors.append(f"no more than 10 items allowed [json-pointer:{pointer}/fields]")
            else:
                for i, item in enumerate(fields):
                    errors += _text_errors(item, f"{pointer}/fields/{i}", 2000)
        if "accessory" in block:
            errors += _element_errors(block["accessory"], f"{pointer}/accessory", action_ids)
    elif kind in ("context", "actions"):
        elements = block.get("elements")
        limit = MAX_CONTEXT_ELEMENTS if kind == "context" else 25
        if not isinstance(elements, list) or not elements:
            errors.append(f"must provide an array [json-pointer:{pointer}/elements]")
        elif len(elements) > limit:
            errors.append(f"no more than {limit} items allowed [json-pointer:{pointer}/elements]")
        else:
            for i, element in enumerate(elements):
                element_pointer = f"{pointer}/elements/{i}"
                if kind == "context" and isinstance(element, dict) and element.get("type") != "image":
                    errors += _text_errors(element, element_pointer, MAX_SECTION_TEXT)
                else:
                    errors += _element_errors(element, element_pointer, action_ids)
    elif kind == "image":
        if not block.get("image_url") and not block.get("slack_file"):
            errors.append(f"must provide image_url or slack_file [json-pointer:{pointer}]")
        if not isinstance(block.get("alt_text"), str) or len(block["alt_text"]) > 2000:
            errors.append(f"must be less than 2001 characters [json-pointer:{pointer}/alt_text]")
    elif kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= 12_000:
            errors.append(f"must be less than 12001 characters [json-pointer:{pointer}/text]")
    return errors


def validate_blocks(blocks: Any, *, max_blocks: int = MAX_BLOCKS) -> list[str]:
    """Slack's ``errors`` list for a ``blocks`` array (empty when valid)."""
    if not isinstance(blocks, list):
        return ["must provide an array [json-pointer:/blocks]"]
    if len(blocks) > max_blocks:
        return [f"no more than {max_blocks} items allowed [json-pointer:/blocks]"]
    errors: list[str] = []
    action_ids: dict[str, str] = {}
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        errors += _block_errors(block, f"/blocks/{i}", action_ids, block_ids)
    return errors


# --------------------------------------------------------------------------------------------
# Signed requests and payload builders for bolt (HTTP mode)
# --------------------------------------------------------------------------------------------


def sign(body: str | bytes, signing_secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with ``body``: X-Slack-Request-Timestamp and X-Slack-Signature (v0)."""
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    if signature is None:  # only when the secret is empty
        raise ValueError("signing_secret must not be empty")
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def form_body(payload: Mapping[str, Any]) -> str:
    """An interactivity request body: ``payload=<url-encoded JSON>``."""
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def slash_command_body(
    command: str,
    text: str = "",
    *,
    user_id: str = "U0USER",
    user_name: str = "alice",
    channel_id: str = "C0CHAN",
    channel_name: str = "general",
    team_id: str = "T0FAKE",
    team_domain: str = "fake",
    response_url: str = "",
    trigger_id: str = "",
    api_app_id: str = "A0FAKE",
) -> str:
    """The form body Slack posts for a slash command."""
    return urllib.parse.urlencode(
        {
            "token": "verification-token-unused",
            "team_id": team_id,
            "team_domain": team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
        }
    )


def event_callback(
    event: Mapping[str, Any],
    *,
    team_id: str = "T0FAKE",
    api_app_id: str = "A0FAKE",
    event_id: str | None = None,
    bot_user_id: str = "U0BOT",
) -> dict[str, Any]:
    """Wrap an event in the Events API envelope."""
    return {
        "token": "verification-token-unused",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": team_id, "user_id": bot_user_id, "is_bot": True, "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
    }


def _event_ts() -> str:
    now = time.time()
    return f"{int(now)}.{int((now % 1) * 1_000_000):06d}"


def app_mention_event(
    user: str, channel: str, text: str, *, ts: str | None = None, thread_ts: str | None = None
) -> dict[str, Any]:
    """An ``app_mention`` event (text usually starts with ``<@BOTID>``)."""
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts or _event_ts(),
        "channel": channel,
        "event_ts": ts or _event_ts(),
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message_im_event(user: str, channel: str, text: str, *, ts: str | None = None) -> dict[str, Any]:
    """A ``message`` event in a direct message with the app (``message.im``)."""
    stamp = ts or _event_ts()
    return {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": stamp,
        "event_ts": stamp,
        "channel": channel,
    }


def member_joined_channel_event(
    user: str, channel: str, *, inviter: str | None = None, team: str = "T0FAKE", private: bool = False
) -> dict[str, Any]:
    """A ``member_joined_channel`` event (https://api.slack.com/events/member_joined_channel).

    ``channel_type`` is ``C`` for public and ``G`` for private channels; ``inviter`` is absent
    when the member joined on their own.
    """
    event: dict[str, Any] = {
        "type": "member_joined_channel",
        "user": user,
        "channel": channel,
        "channel_type": "G" if private else "C",
        "team": team,
        "event_ts": _event_ts(),
    }
    if inviter:
        event["inviter"] = inviter
    return event


def app_home_opened_event(user: str, *, channel: str = "D0HOME", tab: str = "home") -> dict[str, Any]:
    """An ``app_home_opened`` event."""
    return {"type": "app_home_opened", "user": user, "channel": channel, "tab": tab, "event_ts": _event_ts()}


def block_actions_payload(
    action_id: str,
    value: str = "",
    *,
    user_id: str = "U0USER",
    channel_id: str = "C0CHAN",
    message_ts: str = "",
    response_url: str = "",
    trigger_id: str = "",
    block_id: str = "actions",
    team_id: str = "T0FAKE",
    api_app_id: str = "A0FAKE",
) -> dict[str, Any]:
    """A ``block_actions`` interactivity payload for a button press (send with :func:`form_body`)."""
    ts = message_ts or _event_ts()
    return {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "fake"},
        "user": {"id": user_id, "username": "alice", "name": "alice", "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "verification-token-unused",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel_id, "is_ephemeral": False},
        "trigger_id": trigger_id or f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
        "channel": {"id": channel_id, "name": "channel"},
        "message": {"type": "message", "ts": ts, "text": ""},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": action_id},
                "action_ts": _event_ts(),
            }
        ],
    }


def url_verification(challenge: str = "challenge-token") -> dict[str, Any]:
    """The Events API handshake body."""
    return {"token": "verification-token-unused", "challenge": challenge, "type": "url_verification"}


# --------------------------------------------------------------------------------------------
# Records and configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlackLimits:
    """Flood control; on by default.

    ``chat.postMessage`` per channel is a token bucket: ``post_per_second`` on average and
    ``post_burst`` extra posts back to back (Slack documents "1 per second, short bursts allowed";
    the default tolerates one extra). ``workspace_per_minute`` optionally caps all posts (post
    and ephemeral) across the workspace as a sliding 60 s window.
    """

    enabled: bool = True
    post_per_second: float = 1.0
    post_burst: int = 1
    workspace_per_minute: int | None = None


@dataclass(frozen=True)
class SlackMessage:
    """A message as posted (``chat.postMessage``) — ``text`` after truncation."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    t: float
    params: dict[str, Any]


@dataclass(frozen=True)
class SlackResponse:
    """A POST to a response_url (bolt's ``respond()``)."""

    url: str
    payload: dict[str, Any]
    t: float


@dataclass
class _Channel:
    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_archived: bool = False
    bot_member: bool = True
    is_private: bool = False
    is_im: bool = False
    user: str | None = None
    created: int = field(default_factory=lambda: int(time.time()))

    def to_json(self, *, num_members: bool = False) -> dict[str, Any]:
        if self.is_im:
            return {"id": self.id, "is_im": True, "user": self.user, "created": self.created, "is_open": True}
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "is_member": self.bot_member,
            "created": self.created,
            "name_normalized": self.name,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        if num_members:
            data["num_members"] = len(self.members)
        return data


@dataclass
class _File:
    id: str
    name: str
    data: bytes
    mimetype: str
    title: str


@dataclass
class _ResponseUrl:
    uses: int = 0


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _decode_form(params: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(params)
    for key in _JSON_PARAMS & out.keys():
        value = out[key]
        if isinstance(value, str) and value:
            try:
                out[key] = json.loads(value)
            except ValueError:
                raise _SlackError(
                    f"invalid_{key}_format" if key == "blocks" else "invalid_arguments"
                ) from None
    return out


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(str(cursor)).decode().split(":", 1)[1])
    except (ValueError, IndexError):
        raise _SlackError("invalid_cursor") from None


_Handler = Callable[[dict[str, Any], str], dict[str, Any]]


class FakeSlack(FakeServer):
    """The fake Slack Web API. All public methods are thread-safe.

    ``clock`` drives flood control and request timestamps (inject a
    :class:`~briefcast.testing.limits.ManualClock` to test limits without waiting).
    """

    server_name = "fake-slack"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        team_id: str = "T0FAKE",
        team_name: str = "Briefcast Test",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        bot_name: str = "briefcast",
        limits: SlackLimits | None = None,
        latency: float = 0.0,
        clock: Clock = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host=host, port=port, latency=latency)
        self.token = token
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.clock = clock
        self.limits = limits or SlackLimits()
        self.limiter = Limiter(clock)
        self._configure_limits(self.limits)
        self.faults = FaultPlan()
        # Recorded traffic
        self.requests: list[RecordedRequest] = []
        self.posted: list[SlackMessage] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.responses: list[SlackResponse] = []
        self.rate_limited = 0
        # State
        self._tokens: dict[str, str] = {token: bot_user_id}
        self._inactive: set[str] = set()
        self._channels: dict[str, _Channel] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._locked: dict[tuple[str, str], str] = {}  # lock_message: chat.update's error
        self._files: dict[str, _File] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._home: dict[str, dict[str, Any]] = {}
        self._oauth_apps: dict[str, tuple[str, str]] = {}  # client id -> (secret, app id)
        self._oauth_codes: dict[str, tuple[str, str, float]] = {}  # code -> (client id, redirect, issued)
        self.installed_tokens: list[str] = []
        self._last_ts = 0
        self._ids = itertools.count(1)
        self.add_user(bot_user_id, bot_name, is_bot=True)
        self._methods: dict[str, _Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.join": self._conversations_join,
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "users.conversations": self._users_conversations,
            "team.info": self._team_info,
            "files.info": self._files_info,
        }

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
    # Configuration API (tests)
    # ---------------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.clock()

    def _configure_limits(self, limits: SlackLimits) -> None:
        self.limiter.enabled = limits.enabled
        self.limiter.add_rule("channel", TokenBucket(limits.post_per_second, limits.post_burst))
        if limits.workspace_per_minute:
            self.limiter.add_rule("workspace", SlidingWindow(limits.workspace_per_minute, 60.0))

    def set_limits(self, limits: SlackLimits) -> None:
        """Replace flood control (resets its history)."""
        with self._lock:
            self.limits = limits
            self.limiter = Limiter(self.clock)
            self._configure_limits(limits)

    @property
    def limits_enabled(self) -> bool:
        """Switch flood control on or off."""
        return self.limiter.enabled

    @limits_enabled.setter
    def limits_enabled(self, value: bool) -> None:
        self.limiter.enabled = value

    def add_token(self, token: str, user_id: str | None = None) -> None:
        """Accept another token (e.g. a second workspace's bot or a user token)."""
        with self._lock:
            self._tokens[token] = user_id or self.bot_user_id

    def deactivate_token(self, token: str | None = None) -> None:
        """Calls with this token (default: the bot's) now fail with ``account_inactive``."""
        with self._lock:
            self._inactive.add(token or self.token)

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        real_name: str | None = None,
        locale: str = "en-US",
        tz: str = "Asia/Shanghai",
        tz_offset: int = 8 * 3600,
        is_bot: bool = False,
        deleted: bool = False,
        is_admin: bool = False,
        is_owner: bool = False,
    ) -> dict[str, Any]:
        """Register a user; returns the users.info ``user`` object (with locale)."""
        name = name or user_id.lower()
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real_name or name,
            "deleted": deleted,
            "tz": tz,
            "tz_offset": tz_offset,
            "is_bot": is_bot,
            "is_admin": is_admin or is_owner,  # Slack: owners are admins too
            "is_owner": is_owner,
            "is_primary_owner": False,
            "profile": {"real_name": real_name or name, "display_name": name},
            "locale": locale,
        }
        with self._lock:
            self._users[user_id] = user
        return dict(user)

    def add_channel(
        self,
        channel_id: str,
        name: str,
        members: Sequence[str] = (),
        *,
        is_archived: bool = False,
        bot_member: bool = True,
        is_private: bool = False,
    ) -> dict[str, Any]:
        """Register a channel; ``bot_member=False`` makes posts fail with ``not_in_channel``."""
        with self._lock:
            for member in members:
                if member not in self._users:
                    self.add_user(member)
            channel = _Channel(channel_id, name, list(members), is_archived, bot_member, is_private)
            if bot_member and self.bot_user_id not in channel.members:
                channel.members.append(self.bot_user_id)
            self._channels[channel_id] = channel
            return channel.to_json()

    def archive(self, channel_id: str) -> None:
        """Archive a channel (posts fail with ``is_archived``)."""
        with self._lock:
            self._channels[channel_id].is_archived = True

    def invite_bot(self, channel_id: str, inviter: str | None = None) -> dict[str, Any]:
        """Someone adds the app to a channel: it becomes a member; returns the ``member_joined_channel``
        event Slack sends for it (wrap it with :meth:`event` and post it to the app)."""
        with self._lock:
            channel = self._channels[channel_id]
            channel.bot_member = True
            if self.bot_user_id not in channel.members:
                channel.members.append(self.bot_user_id)
            return member_joined_channel_event(
                self.bot_user_id, channel_id, inviter=inviter, team=self.team_id, private=channel.is_private
            )

    def remove_bot(self, channel_id: str) -> None:
        """The bot is removed from a channel."""
        with self._lock:
            channel = self._channels[channel_id]
            channel.bot_member = False
            channel.members = [m for m in channel.members if m != self.bot_user_id]

    def add_file(
        self, file_id: str, data: bytes, name: str = "file.txt", mimetype: str = "text/plain", title: str = ""
    ) -> dict[str, Any]:
        """Register a file for files.info and download via its url_private (bearer token required)."""
        with self._lock:
            self._files[file_id] = _File(file_id, name, data, mimetype, title or name)
            return self._file_json(self._files[file_id])

    def new_response_url(self) -> str:
        """A fresh response_url on this fake; POSTs to it are recorded in :attr:`responses`."""
        key = uuid.uuid4().hex
        with self._lock:
            self._response_urls[key] = _ResponseUrl()
        return f"{self.url}/response/{key}"

    def fail_next(
        self,
        method: str,
        error: str = "internal_error",
        *,
        status: int = 200,
        count: int = 1,
        channel: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` ("*" = any) with ``{"ok": false, "error": error}``.

        With ``retry_after`` the answer is a 429 ``ratelimited`` with that ``Retry-After`` header.
        """
        headers: dict[str, str] = {}
        if retry_after is not None:
            error, status, headers = "ratelimited", 429, {"Retry-After": str(retry_after)}
        self.faults.add(Fault(method, status, {"ok": False, "error": error}, count, channel, headers))

    def set_timeout_next(
        self, method: str, delay: float = 30.0, count: int = 1, channel: str | None = None
    ) -> None:
        """Hold the next answers to ``method`` for ``delay`` seconds, then handle them normally."""
        self.faults.add(Fault(method, 200, {}, count, channel, delay=delay, passthrough=True))

    # ---------------------------------------------------------------------------------------
    # Observations (tests)
    # ---------------------------------------------------------------------------------------
    def messages_in(self, channel: str, thread_ts: str | None = None) -> list[SlackMessage]:
        """Messages posted to ``channel`` (optionally one thread), oldest first."""
        with self._lock:
            return [
                m
                for m in self.posted
                if m.channel == channel and (thread_ts is None or m.thread_ts == thread_ts)
            ]

    def lock_message(self, channel: str, ts: str, error: str = "edit_window_closed") -> None:
        """chat.update of this message fails with ``error`` from now on: ``edit_window_closed``
        (the workspace limits how long messages may be edited) or ``cant_update_message``."""
        self._locked[(channel, ts)] = error

    def forget_message(self, channel: str, ts: str) -> None:
        """Someone deleted the message (chat.update: ``message_not_found``)."""
        self._messages.pop((channel, ts), None)

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The current state of a message (after chat.update), or None."""
        with self._lock:
            found = self._messages.get((channel, ts))
            return json.loads(json.dumps(found)) if found else None

    def calls(self, method: str) -> list[RecordedRequest]:
        """Recorded requests of one method."""
        with self._lock:
            return [r for r in self.requests if r.method == method]

    def responses_to(self, response_url: str) -> list[dict[str, Any]]:
        """Payloads POSTed to one response_url."""
        with self._lock:
            return [r.payload for r in self.responses if r.url == response_url]

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for ``user_id``."""
        with self._lock:
            return self._home.get(user_id)

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

    # ---------------------------------------------------------------------------------------
    # Helpers (lock held)
    # ---------------------------------------------------------------------------------------
    def _next_ts(self) -> str:
        micros = max(int(time.time() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _channel_for_post(self, params: Mapping[str, Any]) -> _Channel:
        raw = str(params.get("channel") or "")
        if not raw:
            raise _SlackError("channel_not_found")
        if raw in self._channels:
            channel = self._channels[raw]
        elif raw.lstrip("#") and (named := self._by_name(raw.lstrip("#"))):
            channel = named
        elif raw in self._users:
            channel = self._open_im(raw)
        else:
            raise _SlackError("channel_not_found")
        if channel.is_archived:
            raise _SlackError("is_archived")
        if not channel.is_im and not channel.bot_member:
            raise _SlackError("channel_not_found" if channel.is_private else "not_in_channel")
        return channel

    def _by_name(self, name: str) -> _Channel | None:
        return next((c for c in self._channels.values() if c.name == name and not c.is_im), None)

    def _open_im(self, user_id: str) -> _Channel:
        existing = next((c for c in self._channels.values() if c.is_im and c.user == user_id), None)
        if existing:
            return existing
        channel = _Channel(
            f"D{next(self._ids):08d}", "", [user_id, self.bot_user_id], is_im=True, user=user_id
        )
        self._channels[channel.id] = channel
        return channel

    def _content(
        self, params: Mapping[str, Any], *, max_blocks: int = MAX_BLOCKS
    ) -> tuple[str, Any, list[str]]:
        """Validated (text, blocks, warnings) of a message body."""
        text = params.get("text")
        text = "" if text is None else str(text)
        blocks = params.get("blocks")
        if blocks in ("", None, []):
            blocks = None
        if not text and blocks is None and not params.get("attachments"):
            raise _SlackError("no_text")
        if blocks is not None:
            errors = validate_blocks(blocks, max_blocks=max_blocks)
            if errors:
                raise _SlackError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )
        warnings: list[str] = []
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]
            warnings.append("message_truncated")
        return text, blocks, warnings

    def _charge(self, channel: _Channel) -> None:
        keys: list[tuple[str, Any]] = [("channel", channel.id), ("workspace", self.team_id)]
        check = self.limiter.acquire(keys)
        if not check.allowed:
            raise _SlackError("ratelimited", status=429, headers={"Retry-After": str(check.retry_after)})

    def _message_json(
        self, channel: _Channel, ts: str, text: str, blocks: Any, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": "A0FAKE",
            "text": text,
            "ts": ts,
            "team": self.team_id,
            "bot_profile": {"id": self.bot_id, "name": self.bot_name, "team_id": self.team_id},
        }
        if blocks is not None:
            message["blocks"] = blocks
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
        if params.get("metadata"):
            message["metadata"] = params["metadata"]
        return message

    @staticmethod
    def _with_warnings(result: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        if warnings:
            result["warning"] = ",".join(warnings)
            result["response_metadata"] = {"warnings": warnings}
        return result

    # ---------------------------------------------------------------------------------------
    # Methods (lock held)
    # ---------------------------------------------------------------------------------------
    def _auth_test(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        user_id = self._tokens[token]
        result: dict[str, Any] = {
            "url": "https://briefcast-test.slack.com/",
            "team": self.team_name,
            "user": self._users.get(user_id, {}).get("name", user_id),
            "team_id": self.team_id,
            "user_id": user_id,
            "is_enterprise_install": False,
        }
        if user_id == self.bot_user_id:
            result["bot_id"] = self.bot_id
        return result

    def _post_message(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._channel_for_post(params)
        text, blocks, warnings = self._content(params)
        self._charge(channel)
        ts = self._next_ts()
        message = self._message_json(channel, ts, text, blocks, params)
        self._messages[(channel.id, ts)] = message
        thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
        self.posted.append(SlackMessage(channel.id, ts, text, blocks, thread_ts, self.clock(), dict(params)))
        return self._with_warnings(
            {"channel": channel.id, "ts": ts, "message": json.loads(json.dumps(message))}, warnings
        )

    def _post_ephemeral(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._channel_for_post(params)
        user = str(params.get("user") or "")
        if user not in self._users:
            raise _SlackError("user_not_found")
        if not channel.is_im and user not in channel.members:
            raise _SlackError("user_not_in_channel")
        text, blocks, warnings = self._content(params)
        check = self.limiter.acquire([("workspace", self.team_id)])
        if not check.allowed:
            raise _SlackError("ratelimited", status=429, headers={"Retry-After": str(check.retry_after)})
        ts = self._next_ts()
        self.ephemerals.append(
            {"channel": channel.id, "user": user, "text": text, "blocks": blocks, "ts": ts, "t": self.clock()}
        )
        return self._with_warnings({"message_ts": ts}, warnings)

    def _own_message(self, params: Mapping[str, Any]) -> tuple[_Channel, dict[str, Any]]:
        channel = self._channel_for_post(params)
        ts = str(params.get("ts") or "")
        message = self._messages.get((channel.id, ts))
        if message is None:
            raise _SlackError("message_not_found")
        if message.get("bot_id") != self.bot_id:
            raise _SlackError("cant_update_message")
        locked = self._locked.get((channel.id, ts))
        if locked:
            raise _SlackError(locked)
        return channel, message

    def _chat_update(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel, message = self._own_message(params)
        text, blocks, warnings = self._content(params)
        message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self.updates.append(
            {"channel": channel.id, "ts": message["ts"], "text": text, "blocks": blocks, "t": self.clock()}
        )
        result = {
            "channel": channel.id,
            "ts": message["ts"],
            "text": text,
            "message": json.loads(json.dumps(message)),
        }
        return self._with_warnings(result, warnings)

    def _chat_delete(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel, message = self._own_message(params)
        del self._messages[(channel.id, message["ts"])]
        return {"channel": channel.id, "ts": message["ts"]}

    def _check_view(self, view: Any, expected: Sequence[str]) -> dict[str, Any]:
        if not isinstance(view, dict) or view.get("type") not in expected:
            raise _SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] invalid view type"]}
            )
        errors = validate_blocks(view.get("blocks", []), max_blocks=MAX_VIEW_BLOCKS)
        if view.get("type") == "modal":
            errors += _text_errors(view.get("title"), "/view/title", 24, plain_only=True)
        if errors:
            raise _SlackError(
                "invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
            )
        stored = {
            "id": f"V{next(self._ids):08d}",
            "team_id": self.team_id,
            "app_id": "A0FAKE",
            "bot_id": self.bot_id,
            "hash": uuid.uuid4().hex[:16],
            **view,
        }
        return stored

    def _views_publish(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        user = str(params.get("user_id") or "")
        if user not in self._users:
            raise _SlackError("user_not_found")
        view = self._check_view(params.get("view"), ("home",))
        self._home[user] = view
        self.views.append({"method": "views.publish", "user_id": user, "view": view, "t": self.clock()})
        return {"view": json.loads(json.dumps(view))}

    def _views_open(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        trigger = str(params.get("trigger_id") or "")
        if not trigger:
            raise _SlackError("invalid_arguments")
        view = self._check_view(params.get("view"), ("modal",))
        self.views.append({"method": "views.open", "trigger_id": trigger, "view": view, "t": self.clock()})
        return {"view": json.loads(json.dumps(view))}

    def _lookup_channel(self, params: Mapping[str, Any]) -> _Channel:
        channel = self._channels.get(str(params.get("channel") or ""))
        if channel is None or (channel.is_private and not channel.bot_member):
            raise _SlackError("channel_not_found")
        return channel

    def _conversations_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._lookup_channel(params)
        data = channel.to_json(num_members=_as_bool(params.get("include_num_members", False)))
        if _as_bool(params.get("include_locale", False)):
            data["locale"] = "en-US"
        return {"channel": data}

    def _conversations_members(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._lookup_channel(params)
        start = _offset(params.get("cursor"))
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        page = channel.members[start : start + limit]
        more = start + limit < len(channel.members)
        return {"members": page, "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""}}

    def _conversations_join(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._channels.get(str(params.get("channel") or ""))
        if channel is None:
            raise _SlackError("channel_not_found")
        if channel.is_archived:
            raise _SlackError("is_archived")
        if channel.is_private or channel.is_im:
            raise _SlackError("method_not_supported_for_channel_type")
        result: dict[str, Any] = {}
        if channel.bot_member:
            result["warning"] = "already_in_channel"
            result["response_metadata"] = {"warnings": ["already_in_channel"]}
        else:
            channel.bot_member = True
            channel.members.append(self.bot_user_id)
        result["channel"] = channel.to_json()
        return result

    def _conversations_open(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise _SlackError("not_enough_users" if not users else "too_many_users")
        if users[0] not in self._users:
            raise _SlackError("user_not_found")
        return {"channel": {"id": self._open_im(users[0]).id}}

    def _users_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        user = self._users.get(str(params.get("user") or ""))
        if user is None:
            raise _SlackError("user_not_found")
        data = json.loads(json.dumps(user))
        if not _as_bool(params.get("include_locale", False)):
            data.pop("locale", None)
        return {"user": data}

    def _users_conversations(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        user = str(params.get("user") or self._tokens[token])
        types = set(str(params.get("types") or "public_channel").split(","))
        exclude_archived = _as_bool(params.get("exclude_archived", False))
        found = []
        for channel in self._channels.values():
            kind = "im" if channel.is_im else ("private_channel" if channel.is_private else "public_channel")
            if kind not in types or user not in channel.members:
                continue
            if exclude_archived and channel.is_archived:
                continue
            found.append(channel.to_json())
        start = _offset(params.get("cursor"))
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        more = start + limit < len(found)
        return {
            "channels": found[start : start + limit],
            "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""},
        }

    # -- OAuth ------------------------------------------------------------------------------

    def add_oauth_app(self, client_id: str, client_secret: str, *, app_id: str = "A0BRIEFCAST") -> None:
        """Register a distributable Slack app whose installs this fake can complete."""
        with self._lock:
            self._oauth_apps[client_id] = (client_secret, app_id)

    def approve_install(self, client_id: str, *, redirect_uri: str = "") -> str:
        """The user pressed "Allow" on slack.com/oauth/v2/authorize: the one-time code Slack
        appends to the app's redirect URL (valid for 10 minutes, exchangeable once)."""
        with self._lock:
            if client_id not in self._oauth_apps:
                raise ValueError(f"unknown client_id {client_id!r}: call add_oauth_app first")
            code = f"{next(self._ids)}.{uuid.uuid4().hex}"
            self._oauth_codes[code] = (client_id, redirect_uri, self.clock())
            return code

    def _oauth_v2_access(self, request: web.Request, params: Mapping[str, Any]) -> dict[str, Any]:
        client_id = str(params.get("client_id") or "")
        secret = str(params.get("client_secret") or "")
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
            except ValueError:
                raise _SlackError("invalid_client_id") from None
        app = self._oauth_apps.get(client_id)
        if app is None:
            raise _SlackError("invalid_client_id")
        if secret != app[0]:
            raise _SlackError("bad_client_secret")
        code = str(params.get("code") or "")
        issued = self._oauth_codes.pop(code, None)  # a code works once, even when it fails later
        if issued is None or issued[0] != client_id or self.clock() - issued[2] > 600:
            raise _SlackError("invalid_code")
        redirect = str(params.get("redirect_uri") or "")
        if issued[1] and redirect != issued[1]:
            raise _SlackError("bad_redirect_uri")
        token = f"xoxb-{self.team_id}-{next(self._ids)}-{uuid.uuid4().hex[:24]}"
        self._tokens[token] = self.bot_user_id
        self.installed_tokens.append(token)
        installer = next((u for u in self._users if u != self.bot_user_id), "U0INSTALLER")
        return {
            "access_token": token,
            "token_type": "bot",
            "scope": "app_mentions:read,channels:read,chat:write,commands,im:history,im:write,users:read",
            "bot_user_id": self.bot_user_id,
            "app_id": app[1],
            "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": installer},
        }

    def _team_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {
            "team": {
                "id": self.team_id,
                "name": self.team_name,
                "domain": "briefcast-test",
                "email_domain": "",
                "icon": {"image_default": True},
            }
        }

    def _file_json(self, found: _File) -> dict[str, Any]:
        root = self.url if self.running else ""  # files registered before start get URLs once running
        base = f"{root}/files-pri/{self.team_id}-{found.id}"
        return {
            "id": found.id,
            "name": found.name,
            "title": found.title,
            "mimetype": found.mimetype,
            "filetype": found.name.rsplit(".", 1)[-1] if "." in found.name else "text",
            "size": len(found.data),
            "url_private": f"{base}/{found.name}",
            "url_private_download": f"{base}/download/{found.name}",
            "created": int(time.time()),
            "user": self.bot_user_id,
        }

    def _files_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        found = self._files.get(str(params.get("file") or ""))
        if found is None:
            raise _SlackError("file_not_found")
        return {"file": self._file_json(found)}


def main(argv: list[str] | None = None) -> None:
    """``python -m briefcast.testing.fake_slack --port 8082 --channel C1:energy``."""
    import argparse

    from briefcast.testing._server import serve_until_interrupted

    parser = argparse.ArgumentParser(description="Run the fake Slack Web API (local playground).")
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


if __name__ == "__main__":
    main()
