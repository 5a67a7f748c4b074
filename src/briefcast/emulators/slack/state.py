"""The fake Slack Web API's records and state (channels, users, messages, files) and its configuration API."""

from __future__ import annotations

import base64
import itertools
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from briefcast.emulators._http import FakeServer, RecordedRequest
from briefcast.emulators.limits import Clock, Fault, FaultPlan, Limiter, SlidingWindow, TokenBucket
from briefcast.emulators.slack.payloads import member_joined_channel_event

DEFAULT_TOKEN = "xoxb-0000000000-0000000000000-FakeBriefcastToken"
MAX_TEXT = 40_000
RESPONSE_URL_USES = 5
_JSON_PARAMS = frozenset({"blocks", "attachments", "view", "metadata"})


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
    """A message as posted (``chat.postMessage``): ``text`` after truncation; ``t`` when the call
    arrived (the instant the rate limits judged it)."""

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


class _SlackState(FakeServer):
    """State, configuration API and observations of :class:`~briefcast.emulators.slack.FakeSlack`."""

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
