"""The Slack side of ``briefcast run``: the bolt ``AsyncApp``, its routes, middleware and listeners."""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request as HttpRequest
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from briefcast.bot.commands import Commands, CommandStore, Reply, Request
from briefcast.bot.publish import PublishFlow
from briefcast.bot.slack.common import (
    PLATFORM,
    PREFIX,
    SLASH_COMMAND,
    USER_MENTION,
    chat_kind,
    error_code,
    reply_payloads,
    split_command,
)
from briefcast.bot.slack.events import EventsGuard
from briefcast.bot.slack.files import receive_files
from briefcast.bot.slack.home import HomeTab
from briefcast.bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH, OAuthStores, oauth_stores
from briefcast.bot.slack.ops import SlackOps, Workspace
from briefcast.bot.slack.send import post, send_action, send_in_channel, send_slash
from briefcast.briefing.sectors import SectorCatalogue, default_catalogue
from briefcast.config import Settings
from briefcast.errors import ConfigError
from briefcast.i18n import Lang, pick_language
from briefcast.ingest.service import IngestService
from briefcast.store import Store
from briefcast.store.records import ChatRef

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DEFAULT_API_URL = "https://slack.com/api/"
LOCALE_TTL = 3600.0

# The bolt context key under which bind_workspace leaves the request's Workspace.
WORKSPACE_KEY = "briefcast_workspace"


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
        self.home = HomeTab(store, self.commands)
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
        self.events = EventsGuard(sl.signing_secret.get() or "unused-in-socket-mode")
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
        return AsyncApp(
            client=build_client(self.settings, token=None),
            signing_secret=secret,
            oauth_settings=self.oauth_stores.bolt_settings(sl.client_id, sl.client_secret.get()),
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
                raise ConfigError(f"Slack rejected SLACK_BOT_TOKEN: {error_code(e)}") from None
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

        ``POST /slack/events`` is guarded first (:class:`EventsGuard`): body cap (413), signature
        (401), UTF-8 JSON (400), and a retry of an event already received is acknowledged once.
        """
        if request.method != "POST":
            return await self.http.handle(request)
        refused = await self.events.refuse(request)
        return refused if refused is not None else await self.http.handle(request)

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
            log.info("users.info(%s) failed: %s", user_id, error_code(e))
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
            text=html.unescape(USER_MENTION.sub(" ", text)).strip(),
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
        await send_slash(reply, respond, client, str(command.get("channel_id") or ""))

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
        await send_in_channel(reply, client, channel, user=user, thread_ts=thread)

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
        await post(client, channel, reply_payloads(reply))

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
        await receive_files(self.publisher, client, request, channel, files)

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
        title = str((info or {}).get("name") or "")
        await asyncio.to_thread(self.store.upsert_chat, request.chat, kind="slack_channel", title=title)
        await post(client, channel, reply_payloads(workspace.commands.welcome(request)))

    async def on_home_opened(
        self, event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """Publish the Home tab: latest issue overview (a button per sector) and channel subscriptions."""
        if event.get("tab", "home") != "home":
            return
        user = str(event.get("user") or "")
        lang = await self.language(client, user)
        blocks = await self.home.blocks(client, str(context.team_id or ""), user, lang)
        try:
            await client.views_publish(user_id=user, view={"type": "home", "blocks": blocks})
        except SlackApiError as e:
            log.warning("views.publish for %s failed: %s", user, error_code(e))

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
            await post(client, channel, reply_payloads(reply))
            return
        await send_action(reply, respond, client, channel)

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        """The one error handler: log (no secrets, no stack trace in chat)."""
        log.error("slack request %s failed", body.get("type", "?"), exc_info=error)
