"""Slack adapter: a bolt ``AsyncApp`` around the platform-neutral command layer.

The adapter only translates. A slash command (``/briefing energy``), an
``@briefcast`` mention, a direct message or a button press becomes a neutral
:class:`~briefcast.bot.commands.Request`; the :class:`~briefcast.bot.commands.Reply`
is rendered with :func:`briefcast.render.slack.render` and sent back:

* ephemeral replies (the default for queries) go to the asking user only:
  ``respond()`` on the slash command's / button's ``response_url``,
  ``chat.postEphemeral`` for mentions;
* public replies (``/briefing energy public``, subscription changes) are posted
  in the channel with ``chat.postMessage``; when the bot is not in the channel
  the slash command's ``response_url`` posts ``in_channel`` instead.

Who may change a channel's subscriptions is the ``subscribe_permission``
setting, applied through :class:`SlackOps` (the layer's ``PlatformOps``):
``anyone`` in the channel, workspace ``admins`` (``users.info`` is_admin /
is_owner) or listed ``users``. Replies use the user's Slack locale
(``users.info include_locale``), else the configured default language.

Transport: HTTP mode serves ``POST /slack/events`` on the project's one ASGI
app (bolt verifies ``X-Slack-Signature``; bad or stale signatures get 401);
Socket Mode is used when an app-level token is configured. With a client id
and secret the app installs into many workspaces (OAuth at ``/slack/install``
and ``/slack/oauth_redirect``, installations in the project database through
slack-sdk's SQLAlchemy stores).

Every Web API call goes through the listener's own ``client`` (bolt binds it
to the workspace's token), so one process serves every installed workspace.
The command layer's Web API calls (permission checks, channel lookups) get the
same client explicitly: one global middleware, :meth:`SlackBot.bind_workspace`,
puts a :class:`Workspace` (a :class:`SlackOps` bound to ``context.client`` and
the command layer using it) into the bolt ``context`` of each request, and the
listeners use that; no listener binds a client, and there is no ContextVar.

Document upload: a ``.md`` / ``.html`` file shared in a DM with the app
(``message`` event, subtype ``file_share``) is handed to
:class:`~briefcast.bot.publish.PublishFlow`; this adapter only reads
``files.info``, downloads ``url_private_download`` with the bot token and posts
what the flow returns (preview, summary with the three buttons).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import httpx
import sqlalchemy as sa
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from briefcast.bot.commands import ChannelInfo, Commands, CommandStore, Reply, Request
from briefcast.bot.inbound import BodyTooLarge, read_capped
from briefcast.bot.publish import PublishFlow, UploadInfo
from briefcast.briefing.model import ListBlock, ListItem, Paragraph, Run
from briefcast.briefing.sectors import SectorCatalogue, default_catalogue
from briefcast.config import Settings
from briefcast.errors import ConfigError
from briefcast.i18n import Lang, pick_language, t
from briefcast.ingest.capped import OverCap, aread_capped
from briefcast.ingest.service import IngestService
from briefcast.render import compose
from briefcast.render import slack as render_slack
from briefcast.render.document import Document, notice_document
from briefcast.store import Store
from briefcast.store.records import ChatRef, SubscriptionRecord

log = logging.getLogger(__name__)

PLATFORM = "slack"
SLASH_COMMAND = "/briefing"
PREFIX = "/briefing "
EVENTS_PATH = "/slack/events"
SEEN_EVENTS = 10_000  # event ids remembered to answer Slack's retries once
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
DEFAULT_API_URL = "https://slack.com/api/"
BOT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "chat:write.public",
    "app_mentions:read",
    "im:history",
    "im:read",
    "im:write",
    "users:read",
    "channels:read",
    "groups:read",
    "files:read",
)
# Errors of chat.postMessage after which a slash command's response_url can still post in the channel.
_NOT_POSTABLE = frozenset({"not_in_channel", "channel_not_found"})
MAX_HOME_BLOCKS = 100
# users.conversations pages read for the Home tab (200 channels each).
MAX_CHANNEL_PAGES = 5
LOCALE_TTL = 3600.0
# Files handled per file_share message, and the timeout of one download.
MAX_UPLOAD_FILES = 5
DOWNLOAD_TIMEOUT = 30.0
Permission = Literal["anyone", "admins", "users"]

# Words Slack writes as links: <@U123> mentions (dropped), <#C123|name> channels (-> @C123 targets).
_USER_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_CHANNEL_LINK = re.compile(r"<#([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")

# The bolt context key under which bind_workspace leaves the request's Workspace.
WORKSPACE_KEY = "briefcast_workspace"

# Home tab texts that exist only on Slack.
_HOME_TEXT: dict[str, tuple[str, str]] = {
    "home_subs_title": ("你所在频道的订阅", "Subscriptions of your channels"),
    "home_dm": ("与我的私信", "Direct messages with me"),
    "home_subs_none": (
        "你所在的频道还没有订阅。在频道里发送 /briefing subscribe 开始订阅。",
        "None of your channels is subscribed yet. Send /briefing subscribe in a channel to start.",
    ),
}


def _home_text(lang: Lang, key: str) -> str:
    zh, en = _HOME_TEXT[key]
    return zh if lang == "zh" else en


# ------------------------------------------------------------------ pure helpers


def split_command(text: str) -> tuple[str, tuple[str, ...]]:
    """``"<@U0BOT> Energy public"`` -> ``("energy", ("public",))``; nothing at all means help.

    Mentions are dropped, ``<#C123|general>`` channel links become ``@C123``
    targets, Slack's ``&amp;``-style escapes are undone, and a leading
    ``/briefing`` (typed into a DM) is ignored.
    """
    text = _CHANNEL_LINK.sub(lambda m: f"@{m.group(1)}", _USER_MENTION.sub(" ", text))
    words = html.unescape(text).split()
    if words and words[0].lower() == SLASH_COMMAND:
        words = words[1:]
    if not words:
        return "help", ()
    return words[0].lower().lstrip("/"), tuple(words[1:])


def chat_kind(channel_id: str, channel_name: str = "") -> str:
    """``im`` for direct messages (ids start with D), ``slack_channel`` for everything else."""
    return "im" if channel_id.startswith("D") or channel_name == "directmessage" else "slack_channel"


def reply_payloads(reply: Reply, *, include_notice: bool = True) -> list[dict[str, Any]]:
    """Every chat.postMessage payload (text + blocks, no channel) of a reply: notice first."""
    return [p for d in reply.all_documents(include_notice=include_notice) for p in render_slack.render(d)]


def _error_code(e: SlackApiError) -> str:
    data = e.response.data if e.response is not None else None
    return str(data.get("error", "")) if isinstance(data, dict) else ""


# ------------------------------------------------------------------ platform ops


class SlackOps:
    """:class:`~briefcast.bot.commands.PlatformOps` on the Web API, with the permission policy.

    ``is_admin`` answers "may this user change this channel's subscriptions":
    ``anyone`` = any member of the channel, ``admins`` = workspace admins and
    owners, ``users`` = the listed user ids. Calls use ``client``, the Web API client
    of the request's workspace: the adapter keeps one unbound policy and makes a
    :meth:`bound` copy per request, so each workspace uses its own token.
    """

    def __init__(
        self, permission: str = "anyone", users: Iterable[str] = (), *, client: AsyncWebClient | None = None
    ) -> None:
        if permission not in ("anyone", "admins", "users"):
            raise ConfigError("slack.subscribe_permission must be anyone, admins or users")
        self.permission = permission
        self.users = frozenset(users)
        self.client = client

    def bound(self, client: AsyncWebClient) -> SlackOps:
        """The same policy, calling the Web API through ``client`` (one request's workspace)."""
        return SlackOps(self.permission, self.users, client=client)

    @property
    def api(self) -> AsyncWebClient:
        if self.client is None:
            raise RuntimeError("SlackOps is not bound to a workspace's client (SlackOps.bound)")
        return self.client

    async def is_admin(self, chat_id: str, user_id: str) -> bool:
        if not user_id:
            return False
        if self.permission == "users":
            return user_id in self.users
        if self.permission == "admins":
            return await self._workspace_admin(user_id)
        return await self._member(chat_id, user_id)

    async def _workspace_admin(self, user_id: str) -> bool:
        try:
            user = (await self.api.users_info(user=user_id)).get("user") or {}
        except SlackApiError as e:
            log.info("users.info(%s) failed: %s", user_id, _error_code(e))
            return False
        return any(bool(user.get(k)) for k in ("is_admin", "is_owner", "is_primary_owner"))

    async def _member(self, chat_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is in the channel (conversations.members, paged)."""
        if chat_id.startswith("D"):
            return True
        cursor: str | None = None
        try:
            for _ in range(50):
                page = await self.api.conversations_members(channel=chat_id, limit=1000, cursor=cursor)
                if user_id in (page.get("members") or []):
                    return True
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as e:
            log.info("conversations.members(%s) failed: %s", chat_id, _error_code(e))
        return False

    async def resolve_channel(self, ref: str) -> ChannelInfo | None:
        """``@C123`` (or ``#C123``, a bare id) -> the channel; names are not looked up."""
        channel_id = ref.lstrip("@#")
        if not _CHANNEL_ID.match(channel_id):
            return None
        info = await self._info(channel_id)
        if info is None or info.get("is_im"):
            return None
        return ChannelInfo(
            chat_id=channel_id, title=str(info.get("name") or channel_id), kind="slack_channel"
        )

    async def bot_can_post(self, chat_id: str) -> bool:
        """Not archived, and either the bot is a member or the channel is public (chat:write.public)."""
        info = await self._info(chat_id)
        if info is None or info.get("is_archived"):
            return False
        return bool(info.get("is_member")) or not info.get("is_private")

    async def _info(self, channel_id: str) -> dict[str, Any] | None:
        try:
            channel = (await self.api.conversations_info(channel=channel_id)).get("channel")
        except SlackApiError as e:
            log.info("conversations.info(%s) failed: %s", channel_id, _error_code(e))
            return None
        return channel if isinstance(channel, dict) else None


@dataclass(frozen=True)
class Workspace:
    """One request's view of the app: ops and command layer bound to its workspace's client."""

    ops: SlackOps
    commands: Commands


# ------------------------------------------------------------- OAuth stores


class ThreadedInstallationStore(AsyncInstallationStore):
    """slack-sdk's synchronous SQLAlchemy installation store, run off the event loop.

    ``AsyncApp`` needs an async store; the sync one works on the project's
    existing engine (SQLite or psycopg 3) without an async driver.
    """

    def __init__(self, sync: SQLAlchemyInstallationStore) -> None:
        self.sync = sync

    @property
    def logger(self) -> logging.Logger:
        return self.sync.logger

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.sync.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.sync.save_bot, bot)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        return await asyncio.to_thread(
            lambda: self.sync.find_bot(
                enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
            )
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await asyncio.to_thread(
            lambda: self.sync.find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(lambda: self.sync.delete_bot(enterprise_id=enterprise_id, team_id=team_id))

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            lambda: self.sync.delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        )


class ThreadedStateStore(AsyncOAuthStateStore):
    """slack-sdk's synchronous SQLAlchemy OAuth state store, run off the event loop."""

    def __init__(self, sync: SQLAlchemyOAuthStateStore) -> None:
        self.sync = sync

    @property
    def logger(self) -> logging.Logger:
        return self.sync.logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.sync.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.sync.consume, state)


@dataclass(frozen=True)
class OAuthStores:
    """The installation and state stores on one engine, tables created."""

    installations: ThreadedInstallationStore
    states: ThreadedStateStore


def oauth_stores(engine: sa.Engine, client_id: str, *, state_ttl: int = 600) -> OAuthStores:
    """slack-sdk's SQLAlchemy stores on ``engine``; creates ``slack_bots``, ``slack_installations``,
    ``slack_oauth_states`` if missing (idempotent)."""
    installations = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=state_ttl, engine=engine)
    # slack-sdk leaves create_tables unannotated (it returns None)
    installations.create_tables()  # type: ignore[no-untyped-call]
    states.create_tables()  # type: ignore[no-untyped-call]
    return OAuthStores(ThreadedInstallationStore(installations), ThreadedStateStore(states))


class DownloadError(Exception):
    """A shared file could not be fetched (HTTP error, sign-in page, truncated, over the cap)."""


async def download_file(url: str, token: str, *, expected: int | None, max_bytes: int) -> bytes:
    """GET a file's ``url_private`` with the bot token as bearer; at most ``max_bytes`` are read.

    Slack answers a bad token with its sign-in page and status 200, so the
    length is checked against ``files.info``'s size when it is known. The token
    is only sent, never logged (httpx logs URLs, which carry no token here).
    """
    async with (
        httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as http,
        http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        if response.status_code != 200:
            raise DownloadError(f"HTTP {response.status_code}")
        try:
            data = await aread_capped(response, max_bytes)
        except OverCap:
            raise DownloadError(f"more than {max_bytes} bytes") from None
    if expected is not None and len(data) != expected:
        raise DownloadError(f"got {len(data)} bytes, files.info says {expected} (not authorised?)")
    return data


# ------------------------------------------------------------------ the app


def build_client(settings: Settings, *, token: str | None) -> AsyncWebClient:
    """The Web API client: ``BRIEFCAST_SLACK_API_URL`` or Slack, one retry on 429 (Retry-After)."""
    client = AsyncWebClient(token=token, base_url=settings.slack.api_url or DEFAULT_API_URL)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    return client


class SlackBot:
    """The Slack side of ``briefcast run``: one bolt ``AsyncApp`` serving :class:`Commands`.

    A runtime component (``name``, ``started``, ``start``, ``stop``, ``routes``).
    ``engine`` is the SQLAlchemy engine for the OAuth stores (defaults to the
    store's own ``engine`` attribute, else one made from the database URL).
    """

    name = "slack"

    def __init__(
        self,
        settings: Settings,
        store: CommandStore,
        *,
        catalogue: SectorCatalogue | None = None,
        clock: Callable[[], float] = time.monotonic,
        engine: sa.Engine | None = None,
        ingest: IngestService | None = None,
    ) -> None:
        """``ingest`` stores operator uploads and runs its on-publish hook; by default a plain
        ``IngestService(store)`` (no hook) when ``store`` is a :class:`Store`. Uploads are off (files
        are ignored, as before) when no operator is configured or there is no ingest service."""
        self.settings = settings
        self.store = store
        self.clock = clock
        sl = settings.slack
        self.oauth = bool(sl.client_id and sl.client_secret)
        self.socket_mode = bool(sl.app_token)
        if not self.oauth and not sl.bot_token:
            raise ConfigError("SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) is not set")
        if not self.socket_mode and not sl.signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET is required for HTTP mode (or set SLACK_APP_TOKEN)")
        self.ops = SlackOps(sl.subscribe_permission, sl.subscribe_users)
        self.commands = Commands(
            store=store,
            ops=self.ops,
            platform=PLATFORM,
            catalogue=catalogue or default_catalogue(),
            default_language=settings.default_language,
            default_time=settings.default_time,
            default_timezone=settings.default_timezone,
            prefix=PREFIX,
            refusal="not_permitted",
            commands_per_minute=sl.commands_per_minute,
            clock=clock,
        )
        if ingest is None and isinstance(store, Store):
            ingest = IngestService(store, catalogue=catalogue)
        self.publisher: PublishFlow | None = (
            PublishFlow(
                ingest,
                platform=PLATFORM,
                operators=sl.operators,
                default_language=settings.default_language,
                compact=settings.delivery.variant == "compact",
            )
            if ingest is not None and sl.operators
            else None
        )
        self.oauth_stores: OAuthStores | None = None
        self.app = self._build_app(engine)
        self.http = AsyncSlackRequestHandler(self.app)
        self._verifier = SignatureVerifier(sl.signing_secret.get() or "unused-in-socket-mode")
        self._seen_events: dict[str, None] = {}  # insertion-ordered: the oldest is dropped first
        self._socket: AsyncSocketModeHandler | None = None
        self._locales: dict[str, tuple[str | None, float]] = {}
        self.started = False
        self._install_listeners()

    # -- wiring ---------------------------------------------------------------

    def _build_app(self, engine: sa.Engine | None) -> AsyncApp:
        sl = self.settings.slack
        secret = sl.signing_secret.get()
        if not self.oauth:
            return AsyncApp(
                client=build_client(self.settings, token=sl.bot_token.get()),
                signing_secret=secret,
                process_before_response=False,
            )
        if engine is None:
            engine = getattr(self.store, "engine", None)
        if engine is None:
            from briefcast.store import db

            engine = db.create_engine(self.settings.database_url)
        self.oauth_stores = oauth_stores(engine, sl.client_id)
        settings = AsyncOAuthSettings(
            client_id=sl.client_id,
            client_secret=sl.client_secret.get(),
            scopes=list(BOT_SCOPES),
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            install_page_rendering_enabled=False,
            installation_store=self.oauth_stores.installations,
            installation_store_bot_only=True,
            state_store=self.oauth_stores.states,
        )
        return AsyncApp(
            client=build_client(self.settings, token=None),
            signing_secret=secret,
            oauth_settings=settings,
            installation_store_bot_only=True,
            process_before_response=False,
        )

    def _install_listeners(self) -> None:
        app = self.app
        app.middleware(self.bind_workspace)
        app.command(SLASH_COMMAND)(self.on_command)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("member_joined_channel")(self.on_member_joined)
        app.action(re.compile(r".+"))(self.on_action)
        app.error(self.on_error)

    async def bind_workspace(self, context: AsyncBoltContext, next_: Callable[[], Awaitable[None]]) -> None:
        """Global middleware: the request's :class:`Workspace` (ops and command layer bound to
        the workspace's client) into the bolt ``context``.

        bolt runs it after its authorization, so ``context.client`` carries this workspace's
        token (it is the ``client`` the listeners get). Nothing global is set, so nothing needs
        resetting: the listeners read it with :meth:`workspace`, none binds a client itself.
        """
        if context.client is not None:
            ops = self.ops.bound(context.client)
            context[WORKSPACE_KEY] = Workspace(ops, self.commands.with_ops(ops))
        await next_()

    @staticmethod
    def workspace(context: AsyncBoltContext) -> Workspace:
        """This request's :class:`Workspace`, as :meth:`bind_workspace` left it."""
        found = context.get(WORKSPACE_KEY)
        if not isinstance(found, Workspace):
            raise RuntimeError("no Slack workspace bound to this request (bind_workspace did not run)")
        return found

    @property
    def socket(self) -> AsyncSocketModeHandler | None:
        """The Socket Mode handler (None in HTTP mode), made on first use: its aiohttp session
        must be created inside the running event loop, not when the component is configured."""
        if self.socket_mode and self._socket is None:
            self._socket = AsyncSocketModeHandler(self.app, app_token=self.settings.slack.app_token.get())
        return self._socket

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        """Check the token (single workspace), then connect Socket Mode when configured."""
        if not self.oauth:
            try:
                me = await self.app.client.auth_test()
            except SlackApiError as e:
                raise ConfigError(f"Slack rejected SLACK_BOT_TOKEN: {_error_code(e)}") from None
            log.info("slack app started as %s in %s", me.get("user"), me.get("team"))
        socket = self.socket
        if socket is not None:
            await socket.connect_async()  # type: ignore[no-untyped-call]  # unannotated in bolt
        self.started = True
        log.info("slack app running (%s)", "socket mode" if socket is not None else f"HTTP {EVENTS_PATH}")

    async def stop(self) -> None:
        """Close the Socket Mode connection and its HTTP session. Safe to call twice."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]  # unannotated in bolt
            self._socket = None  # also closes its aiohttp session
        self.started = False

    def routes(self) -> list[BaseRoute]:
        """``POST /slack/events`` (HTTP mode) and the OAuth install/redirect pages (multi-workspace)."""
        out: list[BaseRoute] = []
        if not self.socket_mode:
            out.append(Route(EVENTS_PATH, self.endpoint, methods=["POST"]))
        if self.oauth:
            out.append(Route(INSTALL_PATH, self.endpoint, methods=["GET"]))
            out.append(Route(REDIRECT_PATH, self.endpoint, methods=["GET"]))
        return out

    async def endpoint(self, request: HttpRequest) -> Response:
        """bolt's Starlette adapter: signature check, dispatch, ack as the HTTP answer.

        ``POST /slack/events`` is guarded first: the body is capped (413) before it is read
        whole, the signature is checked on the raw bytes (401) before anything is parsed, a body
        that is not UTF-8 or not valid JSON is a 400, and a retry of an event already received
        (``X-Slack-Retry-Num``, same ``event_id``) is acknowledged without handling it twice.
        """
        if request.method != "POST":
            return await self.http.handle(request)
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
        return await self.http.handle(request)

    # -- language -------------------------------------------------------------

    async def language(self, client: AsyncWebClient, user_id: str) -> Lang:
        """The user's Slack locale (zh-* -> zh, other -> en), cached; the default when unknown."""
        return pick_language(await self._locale(client, user_id), self.settings.default_language)

    async def _locale(self, client: AsyncWebClient, user_id: str) -> str | None:
        if not user_id:
            return None
        cached = self._locales.get(user_id)
        now = self.clock()
        if cached is not None and now - cached[1] < LOCALE_TTL:
            return cached[0]
        locale: str | None = None
        try:
            user = (await client.users_info(user=user_id, include_locale=True)).get("user") or {}
            locale = user.get("locale") or None
        except SlackApiError as e:
            log.info("users.info(%s) failed: %s", user_id, _error_code(e))
        self._locales[user_id] = (locale, now)
        return locale

    # -- the one translation into the command layer -----------------------------

    async def answer(
        self,
        client: AsyncWebClient,
        commands: Commands,
        *,
        team_id: str,
        channel_id: str,
        user_id: str,
        text: str,
        channel_name: str = "",
        explicit: bool = True,
    ) -> Reply:
        """Text typed to the app -> command layer -> reply.

        ``explicit`` (slash commands, mentions) means the user addressed the
        app, so an unknown word gets the "unknown command" hint even in a
        channel; in a DM a first word that is no command is a plain message
        (a sector name answers like its command).
        """
        command, args = split_command(text)
        locale = await self._locale(client, user_id)
        kind = chat_kind(channel_id, channel_name)
        if not explicit and commands.resolve(command) is None:
            command, args = "", ()
        request = Request(
            platform=PLATFORM,
            chat=ChatRef(PLATFORM, channel_id, workspace=team_id),
            chat_kind=kind,
            user_id=user_id,
            command=command,
            args=args,
            text=html.unescape(_USER_MENTION.sub(" ", text)).strip(),
            language_code=locale,
            chat_title=channel_name if kind != "im" else "",
            explicit=explicit,
        )
        return await commands.handle(request)

    # -- listeners ------------------------------------------------------------

    async def on_command(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """``/briefing ...``: ack at once (Slack waits 3 s), then answer through respond / postMessage."""
        await ack()
        reply = await self.answer(
            client,
            self.workspace(context).commands,
            team_id=str(command.get("team_id") or context.team_id or ""),
            channel_id=str(command.get("channel_id") or ""),
            channel_name=str(command.get("channel_name") or ""),
            user_id=str(command.get("user_id") or ""),
            text=str(command.get("text") or ""),
        )
        await self.send_slash(reply, respond, client, str(command.get("channel_id") or ""))

    async def on_mention(
        self, event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """``@briefcast energy`` in a channel: answered like the slash command (ephemeral by default)."""
        channel = str(event.get("channel") or "")
        user = str(event.get("user") or "")
        reply = await self.answer(
            client,
            self.workspace(context).commands,
            team_id=str(context.team_id or event.get("team") or ""),
            channel_id=channel,
            user_id=user,
            text=str(event.get("text") or ""),
        )
        thread = str(event.get("thread_ts") or "") or None
        await self.send_in_channel(reply, client, channel, user=user, thread_ts=thread)

    async def on_message(
        self, event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """A direct message: a command word or a sector name, or a shared file (an operator's
        upload); other message kinds are ignored."""
        if event.get("channel_type") == "im" and event.get("files") and not event.get("bot_id"):
            await self.on_file_share(event, client, context)
            return
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        channel = str(event.get("channel") or "")
        reply = await self.answer(
            client,
            self.workspace(context).commands,
            team_id=str(context.team_id or event.get("team") or ""),
            channel_id=channel,
            user_id=str(event.get("user") or ""),
            text=str(event.get("text") or ""),
            explicit=False,
        )
        await self.post(client, channel, reply_payloads(reply))

    async def on_file_share(
        self, event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """Files shared in a DM: each goes through the publish flow (operators only; others refused)."""
        if self.publisher is None:
            return
        channel = str(event.get("channel") or "")
        user = str(event.get("user") or "")
        request = Request(
            platform=PLATFORM,
            chat=ChatRef(PLATFORM, channel, workspace=str(context.team_id or event.get("team") or "")),
            chat_kind="im",
            user_id=user,
            language_code=await self._locale(client, user),
        )
        files = [f for f in event.get("files") or [] if isinstance(f, dict)]
        if not self.publisher.is_operator(user):
            # refused before any file is looked at; one answer for the whole message
            first = UploadInfo(str(files[0].get("name") or "") if files else "")
            refusal = self.publisher.screen(request, first)
            if refusal is not None:
                await self.post(client, channel, reply_payloads(refusal))
            return
        for shared in files[:MAX_UPLOAD_FILES]:
            await self.upload(client, request, channel, shared)

    async def upload(
        self, client: AsyncWebClient, request: Request, channel: str, shared: dict[str, Any]
    ) -> None:
        """One shared file: files.info, screen, download, then post the preview and the summary."""
        assert self.publisher is not None
        info = shared
        try:
            # events may carry a partial file object ("file_access": "check_file_info")
            info = (await client.files_info(file=str(shared.get("id") or ""))).get("file") or shared
        except SlackApiError as e:
            log.info("files.info(%s) failed: %s", shared.get("id"), _error_code(e))
        size = info.get("size")
        upload = UploadInfo(
            str(info.get("name") or shared.get("name") or "file"),
            int(size) if isinstance(size, int) else None,
            str(info.get("mimetype") or ""),
        )
        refused = self.publisher.screen(request, upload)
        if refused is not None:
            await self.post(client, channel, reply_payloads(refused))
            return
        url = str(info.get("url_private_download") or info.get("url_private") or "")
        try:
            if not url or not client.token:
                raise DownloadError("no url_private or no token")
            data = await download_file(
                url, client.token, expected=upload.size, max_bytes=self.publisher.max_bytes
            )
        except (DownloadError, httpx.HTTPError) as e:
            log.warning("downloading the upload %r failed: %s", upload.name, e)
            await self.post(client, channel, reply_payloads(self.publisher.download_failed(request, upload)))
            return
        result = await self.publisher.receive(request, upload, data)
        refused_count = 0
        reason = ""
        for payload in result.preview:
            if not await self.post(client, channel, [payload]):
                refused_count += 1
                reason = reason or "chat.postMessage"
        if refused_count:
            notice = self.publisher.preview_rejected(request, refused_count, reason)
            await self.post(client, channel, reply_payloads(notice))
        await self.post(client, channel, reply_payloads(result.reply))

    async def on_member_joined(
        self, event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """The app was added to a channel: one welcome card with a subscribe button per sector.

        ``member_joined_channel`` fires for every member; only the app's own join gets a card.
        The buttons are /subscriptions' toggles, so the channel's permission policy applies.
        """
        channel = str(event.get("channel") or "")
        if (
            not channel
            or str(event.get("user") or "") != str(context.bot_user_id or "")
            or channel[:1] not in "CG"
        ):
            return
        workspace = self.workspace(context)
        inviter = str(event.get("inviter") or "")
        info = await workspace.ops._info(channel)
        request = Request(
            platform=PLATFORM,
            chat=ChatRef(PLATFORM, channel, workspace=str(context.team_id or event.get("team") or "")),
            chat_kind="slack_channel",
            user_id=inviter,
            language_code=await self._locale(client, inviter),
            chat_title=f"#{info.get('name')}" if info and info.get("name") else "",
        )
        self.store.upsert_chat(request.chat, kind="slack_channel", title=str((info or {}).get("name") or ""))
        await self.post(client, channel, reply_payloads(workspace.commands.welcome(request)))

    async def on_home_opened(
        self, event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """Publish the Home tab: latest issue overview (a button per sector) and channel subscriptions."""
        if event.get("tab", "home") != "home":
            return
        user = str(event.get("user") or "")
        blocks = await self.home_blocks(client, str(context.team_id or ""), user)
        try:
            await client.views_publish(user_id=user, view={"type": "home", "blocks": blocks})
        except SlackApiError as e:
            log.warning("views.publish for %s failed: %s", user, _error_code(e))

    async def on_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """A button: ``action_id`` ``"action:value"`` routes on the action, the argument is ``value``."""
        await ack()
        name = str(action.get("action_id") or "").split(":", 1)[0]
        if name == "link" or action.get("url"):
            return  # URL buttons open in the browser; Slack still reports the click
        commands = self.workspace(context).commands
        user = str((body.get("user") or {}).get("id") or context.user_id or "")
        container = body.get("container") or {}
        from_home = container.get("type") == "view"
        channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
        if from_home or not channel:
            channel = user  # chat.postMessage to a user id lands in the app's DM with them
        locale = await self._locale(client, user)
        request = Request(
            platform=PLATFORM,
            chat=ChatRef(PLATFORM, channel, workspace=str(context.team_id or "")),
            chat_kind="im" if from_home else chat_kind(channel),
            user_id=user,
            text=str(action.get("action_id") or ""),
            language_code=locale,
            chat_title=str((body.get("channel") or {}).get("name") or ""),
        )
        value = str(action.get("value") or "")
        if self.publisher is not None and self.publisher.handles(name):
            reply = await self.publisher.act(request, name, value)
        else:
            reply = await commands.handle_action(request, name, value)
        if from_home or not body.get("response_url"):
            await self.post(client, channel, reply_payloads(reply))
            return
        await self.send_action(reply, respond, client, channel)

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        """The one error handler: log (no secrets, no stack trace in chat)."""
        log.error("slack request %s failed", body.get("type", "?"), exc_info=error)

    # -- Home tab -------------------------------------------------------------

    async def home_blocks(self, client: AsyncWebClient, team_id: str, user_id: str) -> list[dict[str, Any]]:
        """The Home tab blocks (at most 100): overview of the latest issue, then subscriptions."""
        lang = await self.language(client, user_id)
        issue = self.store.latest_issue()
        first = (
            replace(
                compose.overview_document(issue.briefing, lang),
                buttons=self.commands.sector_buttons(issue.briefing, lang=lang),
            )
            if issue is not None
            else notice_document(t(lang, "no_issue"))
        )
        second = await self.home_subscriptions(client, team_id, user_id, lang)
        blocks: list[dict[str, Any]] = []
        for doc in (first, second):
            if blocks:
                blocks.append({"type": "divider"})
            blocks.extend(b for p in render_slack.render(doc) for b in p["blocks"])
        return blocks[:MAX_HOME_BLOCKS]

    async def home_subscriptions(
        self, client: AsyncWebClient, team_id: str, user_id: str, lang: Lang
    ) -> Document:
        """One line per active subscription of a channel the user is in (and their DM with the app)."""
        items: list[ListItem] = []
        for channel in await self._user_channels(client, user_id):
            cid = str(channel.get("id") or "")
            subs = [s for s in self.store.subscriptions_for_chat(PLATFORM, cid, team_id) if s.active]
            label = _home_text(lang, "home_dm") if channel.get("is_im") else f"#{channel.get('name') or cid}"
            items.extend(self._sub_item(s, label, lang) for s in subs)
        title = _home_text(lang, "home_subs_title")
        if not items:
            return Document(title=title, blocks=(Paragraph((Run(_home_text(lang, "home_subs_none")),)),))
        return Document(title=title, blocks=(ListBlock(tuple(items)),))

    def _sub_item(self, sub: SubscriptionRecord, label: str, lang: Lang) -> ListItem:
        tail = (
            f" — {self.commands.sector_names(sub.sectors, lang)} — {self.commands.schedule_text(sub, lang)}"
        )
        return ListItem((Run(label, frozenset({"bold"})), Run(tail)))

    async def _user_channels(self, client: AsyncWebClient, user_id: str) -> list[dict[str, Any]]:
        """users.conversations for ``user_id`` (public, private the bot sees, the DM), a few pages."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        try:
            for _ in range(MAX_CHANNEL_PAGES):
                page = await client.users_conversations(
                    user=user_id,
                    types="public_channel,private_channel,im",
                    exclude_archived=True,
                    limit=200,
                    cursor=cursor,
                )
                out.extend(c for c in page.get("channels") or [] if isinstance(c, dict))
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as e:
            log.info("users.conversations(%s) failed: %s", user_id, _error_code(e))
        return out

    # -- sending --------------------------------------------------------------

    async def send_slash(
        self, reply: Reply, respond: AsyncRespond, client: AsyncWebClient, channel: str
    ) -> None:
        """Ephemeral via response_url; public via chat.postMessage, else response_url ``in_channel``."""
        payloads = reply_payloads(reply)
        if not payloads:
            return
        if reply.ephemeral:
            await self.respond_all(respond, payloads, response_type="ephemeral")
            return
        if not await self.post(client, channel, payloads, fallback_ok=True):
            await self.respond_all(respond, payloads, response_type="in_channel")

    async def send_in_channel(
        self, reply: Reply, client: AsyncWebClient, channel: str, *, user: str, thread_ts: str | None
    ) -> None:
        """Mentions: ephemeral replies with chat.postEphemeral to the user, public ones in the thread."""
        payloads = reply_payloads(reply)
        if not reply.ephemeral or chat_kind(channel) == "im":
            await self.post(client, channel, payloads, thread_ts=thread_ts)
            return
        for payload in payloads:
            try:
                await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **payload)
            except SlackApiError as e:
                log.warning("chat.postEphemeral in %s failed: %s", channel, _error_code(e))
                return

    async def send_action(
        self, reply: Reply, respond: AsyncRespond, client: AsyncWebClient, channel: str
    ) -> None:
        """Button answers: redraw the message for ``edit`` replies, else answer the presser (or channel)."""
        if reply.edit and reply.documents:
            first = render_slack.render(reply.documents[0])
            if len(first) == 1 and await self._respond(respond, first[0], replace_original=True):
                # the redrawn message shows the change; the notice would only repeat it
                reply = Reply(documents=reply.documents[1:], ephemeral=reply.ephemeral)
        payloads = reply_payloads(reply)
        if reply.ephemeral:
            await self.respond_all(respond, payloads, response_type="ephemeral")
        elif not await self.post(client, channel, payloads, fallback_ok=True):
            await self.respond_all(respond, payloads, response_type="in_channel")

    async def respond_all(
        self, respond: AsyncRespond, payloads: Sequence[dict[str, Any]], *, response_type: str
    ) -> None:
        for payload in payloads:
            if not await self._respond(respond, payload, response_type=response_type):
                return

    @staticmethod
    async def _respond(respond: AsyncRespond, payload: dict[str, Any], **options: Any) -> bool:
        try:
            result = await respond(text=payload["text"], blocks=payload.get("blocks"), **options)
        except (TimeoutError, SlackClientError, OSError) as e:
            log.warning("respond() failed: %s", type(e).__name__)
            return False
        if result.status_code != 200:
            log.warning("respond() answered %s: %s", result.status_code, result.body[:200])
            return False
        return True

    async def post(
        self,
        client: AsyncWebClient,
        channel: str,
        payloads: Sequence[dict[str, Any]],
        *,
        thread_ts: str | None = None,
        fallback_ok: bool = False,
    ) -> bool:
        """chat.postMessage each payload; False (logged) when Slack refuses.

        ``fallback_ok``: the caller has a response_url to fall back on, so a
        channel the bot cannot post in is not worth a warning.
        """
        for payload in payloads:
            try:
                await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **payload)
            except SlackApiError as e:
                code = _error_code(e)
                level = logging.INFO if fallback_ok and code in _NOT_POSTABLE else logging.WARNING
                log.log(level, "chat.postMessage in %s failed: %s", channel, code)
                return False
        return True
