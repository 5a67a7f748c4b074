"""Platform transports: send one rendered payload, translate every failure into a :class:`SendError`.

These are the only delivery modules that import ``telegram`` / ``slack_sdk``. Both are thin:
the payloads are already rendered by :mod:`briefcast.render`, so a transport adds the
destination (chat id, thread) and maps the platform's errors to the engine's vocabulary.

* Telegram goes through :func:`~briefcast.bot.telegram_request.send_message_json`
  (python-telegram-bot's ``Bot.do_api_request("sendMessage", ...)``) on
  :class:`~briefcast.bot.telegram_request.AiohttpRequest`: PTB's
  request layer still raises its typed errors (``RetryAfter``, ``ChatMigrated``, ``Forbidden``,
  ``BadRequest``, ``TimedOut``...), but the raw result dict is returned instead of building a
  ``Message`` object we would throw away — the engine sends thousands per second.
* Slack goes through slack-sdk's ``AsyncWebClient.chat_postMessage`` with one shared aiohttp
  session (slack-sdk opens a new session per call otherwise).
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from briefcast.config import Settings
from briefcast.delivery.engine import Payload, Target, Transport, send_concurrency
from briefcast.delivery.errors import FailureKind, SendError, classify_slack, classify_telegram


def _retry_after(error: Any) -> float:
    """Seconds from PTB's ``RetryAfter`` (int or timedelta depending on ``PTB_TIMEDELTA``)."""
    from telegram.warnings import PTBDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)  # the int form is deprecated, both work
        value = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class TelegramTransport:
    """``sendMessage`` through python-telegram-bot, sized for ``concurrency`` parallel requests."""

    platform = "telegram"

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "",
        concurrency: int = 32,
        paid_broadcast: bool = False,
        timeout: float = 20.0,
    ) -> None:
        from telegram import Bot
        from telegram.warnings import PTBDeprecationWarning

        from briefcast.bot.telegram_request import AiohttpRequest

        # We read RetryAfter in both its int and timedelta forms (PTB warns inside its constructor).
        warnings.filterwarnings("ignore", message=r".*`retry_after` will be", category=PTBDeprecationWarning)

        self.paid_broadcast = paid_broadcast
        # aiohttp under PTB: httpx cost ~4 ms CPU per send at this concurrency (docs/benchmarks.md)
        self._requests = (
            AiohttpRequest(connection_pool_size=concurrency + 4, read_timeout=timeout),
            AiohttpRequest(connection_pool_size=1),
        )
        kwargs: dict[str, Any] = {"request": self._requests[0], "get_updates_request": self._requests[1]}
        if base_url:
            kwargs["base_url"] = base_url
        self.bot = Bot(token, **kwargs)

    async def send(self, target: Target, payload: Payload) -> str:
        """Send one message; returns its ``message_id``."""
        from briefcast.bot.telegram_request import send_message_json

        params = dict(payload)
        params["chat_id"] = _tg_chat(target.chat_id)
        if target.thread_id:
            params["message_thread_id"] = int(target.thread_id)
        if self.paid_broadcast:
            params["allow_paid_broadcast"] = True
        try:
            result = await send_message_json(self.bot, params)
        except Exception as e:
            raise _telegram_error(e) from None
        return str(result["message_id"]) if isinstance(result, Mapping) else str(result)

    async def edit(self, target: Target, message_id: str, payload: Payload) -> str:
        """``editMessageText`` of one message we sent: ``edited`` or ``unchanged`` ("message is
        not modified"); :class:`~briefcast.delivery.corrections.EditImpossible` when the message
        is gone or can no longer be edited; :class:`SendError` for anything else."""
        from telegram import error as tg

        from briefcast.bot.telegram_request import edit_message_json
        from briefcast.delivery.corrections import EditImpossible
        from briefcast.delivery.errors import edit_outcome_telegram

        params = {k: v for k, v in payload.items() if k in TELEGRAM_EDIT_KEYS}
        params["chat_id"] = _tg_chat(target.chat_id)
        params["message_id"] = int(message_id)
        try:
            await edit_message_json(self.bot, params)
        except tg.BadRequest as e:
            outcome = edit_outcome_telegram(e.message)
            if outcome == "unchanged":
                return "unchanged"
            if outcome is not None:
                raise EditImpossible(e.message, gone=outcome == "gone") from None
            raise _telegram_error(e) from None
        except Exception as e:
            raise _telegram_error(e) from None
        return "edited"

    async def close(self) -> None:
        await self.bot.shutdown()
        # Bot.shutdown() does nothing for a bot that was never initialize()d (the engine never
        # calls getMe): close the aiohttp sessions ourselves ("Unclosed client session" otherwise).
        for request in self._requests:
            await request.shutdown()


def _is_int(value: str) -> bool:
    return value.lstrip("-").isdigit()


def _tg_chat(chat_id: str) -> int | str:
    return int(chat_id) if _is_int(chat_id) else chat_id


# What editMessageText accepts of a rendered sendMessage payload.
TELEGRAM_EDIT_KEYS = frozenset({"text", "parse_mode", "entities", "link_preview_options", "reply_markup"})
# What chat.update accepts of a rendered chat.postMessage payload.
SLACK_EDIT_KEYS = frozenset({"text", "blocks", "attachments", "mrkdwn", "parse", "link_names", "metadata"})


def _telegram_error(e: Exception) -> SendError:
    """python-telegram-bot's exception as the engine's vocabulary."""
    from telegram import error as tg

    if isinstance(e, SendError):
        return e
    if isinstance(e, tg.RetryAfter):
        return SendError(FailureKind.RETRY_AFTER, str(e), retry_after=_retry_after(e))
    if isinstance(e, tg.ChatMigrated):
        return SendError(
            FailureKind.MIGRATED, f"chat migrated to {e.new_chat_id}", new_chat_id=str(e.new_chat_id)
        )
    if isinstance(e, tg.Forbidden):
        return SendError(FailureKind.PERMANENT, e.message)
    if isinstance(e, tg.BadRequest):
        return classify_telegram(400, e.message)
    if isinstance(e, tg.InvalidToken | tg.EndPointNotFound):
        # Our configuration, not the subscriber: pause and probe, never deactivate anyone for it
        # (the message is ours: the library's may quote the token).
        return SendError(FailureKind.TOKEN, "Unauthorized: the bot token was refused")
    if isinstance(e, tg.TimedOut):
        return SendError(FailureKind.TRANSIENT, f"timed out: {e.message}")
    if isinstance(e, tg.TelegramError):  # NetworkError (5xx, connection), Conflict, ...
        return SendError(FailureKind.TRANSIENT, e.message)
    raise e


class SlackTransport:
    """``chat.postMessage`` through slack-sdk's ``AsyncWebClient``."""

    platform = "slack"

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "",
        concurrency: int = 32,
        timeout: float = 20.0,
        token_for: TokenLookup | None = None,
    ) -> None:
        """``token_for(team_id)`` finds a workspace's bot token (multi-workspace OAuth installs);
        ``token`` is used when there is no lookup, no workspace, or no installation for it."""
        self.token = token
        self.token_for = token_for
        self._tokens: dict[str, tuple[float, str | None]] = {}
        self.base_url = base_url
        self.concurrency = concurrency
        self.timeout = timeout
        self._client: Any = None
        self._session: Any = None

    def _get_client(self) -> Any:
        """Created lazily: aiohttp sessions must be made inside the running event loop."""
        if self._client is None:
            import aiohttp
            from slack_sdk.web.async_client import AsyncWebClient

            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.concurrency + 4))
            kwargs: dict[str, Any] = {
                "token": self.token,
                "timeout": int(self.timeout),
                "session": self._session,
            }
            if self.base_url:
                kwargs["base_url"] = self.base_url
            self._client = AsyncWebClient(**kwargs)
        return self._client

    async def send(self, target: Target, payload: Payload) -> str:
        """Post one message; returns its ``ts`` (Slack's message id)."""

        params = dict(payload)
        params["channel"] = target.chat_id
        if target.thread_id:
            params["thread_ts"] = target.thread_id
        workspace_token = await self._workspace_token(target.workspace)
        if workspace_token:
            params["token"] = workspace_token  # slack-sdk sends a per-call token instead of its own
        elif not self.token:
            raise SendError(
                FailureKind.PERMANENT, f"no Slack installation for workspace {target.workspace!r}"
            )
        try:
            response = await self._get_client().chat_postMessage(**params)
        except Exception as e:
            raise _slack_error(e) from None
        ts = str(response.get("ts", ""))
        channel = str(response.get("channel") or target.chat_id)
        # chat.update needs the conversation id: a DM posted to a user id answers with its D… id
        return ts if channel == target.chat_id else f"{channel}/{ts}"

    async def edit(self, target: Target, message_id: str, payload: Payload) -> str:
        """``chat.update`` of one message we posted (``message_id`` is its ts, or channel/ts):
        ``edited``; :class:`~briefcast.delivery.corrections.EditImpossible` when it is gone or
        past the workspace's edit window; :class:`SendError` for anything else."""
        from slack_sdk.errors import SlackApiError

        from briefcast.delivery.corrections import EditImpossible
        from briefcast.delivery.errors import edit_outcome_slack

        channel, _, ts = message_id.rpartition("/")
        params = {k: v for k, v in payload.items() if k in SLACK_EDIT_KEYS}
        params["channel"] = channel or target.chat_id
        params["ts"] = ts
        workspace_token = await self._workspace_token(target.workspace)
        if workspace_token:
            params["token"] = workspace_token
        try:
            await self._get_client().chat_update(**params)
        except SlackApiError as e:
            resp = e.response
            code = str(resp.get("error", "") if hasattr(resp, "get") else "")
            outcome = edit_outcome_slack(code)
            if outcome is not None:
                raise EditImpossible(code, gone=outcome == "gone") from None
            raise _slack_error(e) from None
        except Exception as e:
            raise _slack_error(e) from None
        return "edited"

    async def _workspace_token(self, workspace: str) -> str | None:
        """The installed bot token of ``workspace``, cached for a few minutes (one lookup per
        workspace, not per message); ``None`` without a lookup or an installation."""
        if self.token_for is None or not workspace:
            return None
        now = time.monotonic()
        cached = self._tokens.get(workspace)
        if cached is not None and now - cached[0] < TOKEN_CACHE_SECONDS:
            return cached[1]
        token = await self.token_for(workspace)
        self._tokens[workspace] = (now, token)
        return token

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self._client = None


def _slack_error(e: Exception) -> SendError:
    """slack-sdk's exception as the engine's vocabulary."""
    import aiohttp
    from slack_sdk.errors import SlackApiError, SlackClientError

    if isinstance(e, SlackApiError):
        resp = e.response
        status = int(getattr(resp, "status_code", 200) or 200)
        headers = getattr(resp, "headers", {}) or {}
        retry = headers.get("Retry-After") or headers.get("retry-after")
        code = str(resp.get("error", "") if hasattr(resp, "get") else "")
        return classify_slack(code, status=status, retry_after=float(retry) if retry else None)
    if isinstance(e, TimeoutError | aiohttp.ClientError | SlackClientError):
        return SendError(FailureKind.TRANSIENT, f"{type(e).__name__}: {e}")
    raise e


TokenLookup = Callable[[str], Awaitable[str | None]]
TOKEN_CACHE_SECONDS = 300.0


def installation_token_lookup(engine: Any, client_id: str) -> TokenLookup:
    """Bot tokens from slack-sdk's SQLAlchemy installation store (the OAuth installs of the Slack app)."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    installations = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)

    def find(team_id: str) -> str | None:
        bot = installations.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None and bot.bot_token else None

    async def lookup(team_id: str) -> str | None:
        return await asyncio.to_thread(find, team_id)

    return lookup


def build_transports(settings: Settings, *, engine: Any = None) -> dict[str, Transport]:
    """The transports the settings have tokens for (none configured -> empty dict).

    With Slack OAuth configured (client id and secret) and the database ``engine`` given, each
    Slack delivery uses the bot token installed for its workspace.
    """
    out: dict[str, Transport] = {}
    concurrency = send_concurrency(settings)
    if settings.telegram.token:
        out["telegram"] = TelegramTransport(
            settings.telegram.token.get(),
            base_url=settings.telegram.api_url,
            concurrency=concurrency,
            paid_broadcast=settings.telegram.paid_broadcast,
        )
    sl = settings.slack
    oauth = bool(sl.client_id and sl.client_secret and engine is not None)
    if sl.bot_token or oauth:
        out["slack"] = SlackTransport(
            sl.bot_token.get(),
            base_url=sl.api_url,
            concurrency=concurrency,
            token_for=installation_token_lookup(engine, sl.client_id) if oauth else None,
        )
    return out
