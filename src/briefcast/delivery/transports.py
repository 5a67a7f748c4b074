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
        from telegram import error as tg

        from briefcast.bot.telegram_request import send_message_json

        params = dict(payload)
        params["chat_id"] = int(target.chat_id) if _is_int(target.chat_id) else target.chat_id
        if target.thread_id:
            params["message_thread_id"] = int(target.thread_id)
        if self.paid_broadcast:
            params["allow_paid_broadcast"] = True
        try:
            result = await send_message_json(self.bot, params)
        except tg.RetryAfter as e:
            raise SendError(FailureKind.RETRY_AFTER, str(e), retry_after=_retry_after(e)) from None
        except tg.ChatMigrated as e:
            raise SendError(
                FailureKind.MIGRATED, f"chat migrated to {e.new_chat_id}", new_chat_id=str(e.new_chat_id)
            ) from None
        except tg.Forbidden as e:
            raise SendError(FailureKind.PERMANENT, e.message) from None
        except tg.BadRequest as e:
            raise classify_telegram(400, e.message) from None
        except (tg.InvalidToken, tg.EndPointNotFound):
            # Our configuration, not the subscriber: pause and probe, never deactivate anyone for it
            # (the message is ours: the library's may quote the token).
            raise SendError(FailureKind.TOKEN, "Unauthorized: the bot token was refused") from None
        except tg.TimedOut as e:
            raise SendError(FailureKind.TRANSIENT, f"timed out: {e.message}") from None
        except tg.TelegramError as e:  # NetworkError (5xx, connection), Conflict, ...
            raise SendError(FailureKind.TRANSIENT, e.message) from None
        return str(result["message_id"]) if isinstance(result, Mapping) else str(result)

    async def close(self) -> None:
        await self.bot.shutdown()
        # Bot.shutdown() does nothing for a bot that was never initialize()d (the engine never
        # calls getMe): close the aiohttp sessions ourselves ("Unclosed client session" otherwise).
        for request in self._requests:
            await request.shutdown()


def _is_int(value: str) -> bool:
    return value.lstrip("-").isdigit()


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
        import aiohttp
        from slack_sdk.errors import SlackApiError, SlackClientError

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
        except SlackApiError as e:
            resp = e.response
            status = int(getattr(resp, "status_code", 200) or 200)
            headers = getattr(resp, "headers", {}) or {}
            retry = headers.get("Retry-After") or headers.get("retry-after")
            code = str(resp.get("error", "") if hasattr(resp, "get") else "")
            raise classify_slack(code, status=status, retry_after=float(retry) if retry else None) from None
        except (TimeoutError, aiohttp.ClientError, SlackClientError) as e:
            raise SendError(FailureKind.TRANSIENT, f"{type(e).__name__}: {e}") from None
        return str(response.get("ts", ""))

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
