"""PTB's ``Application`` for this adapter: the builder choices, and a bot that skips unreadable updates."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, ExtBot

from briefcast.bot.telegram_request import AiohttpRequest
from briefcast.config import Settings
from briefcast.errors import ConfigError

log = logging.getLogger(__name__)

PtbApp = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE


def quiet_http_logs() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs contain the token: keep it at WARNING."""
    logging.getLogger("httpx").setLevel(logging.WARNING)


class SkippingBot(ExtBot[None]):
    """An ``ExtBot`` whose polling survives an update the library cannot read.

    python-telegram-bot parses a whole ``getUpdates`` batch at once; one update it cannot read
    (say a ``from`` without ``is_bot``) fails the batch, the offset never moves, and the same
    batch comes back ~40 times a second for ever, restart or not. Here each update is checked on
    its own: an unreadable one is skipped once, with one WARNING, and the next ``getUpdates``
    asks past it, so Telegram drops it and every later update is answered.
    """

    _skip_to = 0

    async def _post(self, endpoint: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, *args, **kwargs)
        if endpoint != "getUpdates" or not isinstance(result, list):
            return result
        readable = []
        for raw in result:
            try:
                Update.de_json(raw, self)
            except Exception as exc:
                uid = raw.get("update_id") if isinstance(raw, dict) else None
                if isinstance(uid, int):
                    self._skip_to = max(self._skip_to, uid + 1)
                log.warning(
                    "skipping Telegram update %s: it cannot be read (%s: %s)", uid, type(exc).__name__, exc
                )
                continue
            readable.append(raw)
        return readable

    async def get_updates(self, offset: int | None = None, *args: Any, **kwargs: Any) -> Any:
        if self._skip_to and (offset is None or 0 <= offset < self._skip_to):
            offset = self._skip_to
        return await super().get_updates(offset, *args, **kwargs)


def build_application(settings: Settings, *, webhook: bool) -> PtbApp:
    """Every ``Application.builder()`` choice in one place."""
    token = settings.telegram.token.get()
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    # aiohttp under PTB and concurrent updates: with httpx and one update at a time, replies
    # queued behind each other at ~25 commands/s (docs/benchmarks.md, command latency).
    base_url, base_file_url = "https://api.telegram.org/bot", "https://api.telegram.org/file/bot"
    api_url = settings.telegram.api_url.rstrip("/")
    if api_url:
        base_url = api_url
        if api_url.endswith("/bot"):
            base_file_url = api_url[: -len("/bot")] + "/file/bot"
    bot = SkippingBot(
        token,
        base_url=base_url,
        base_file_url=base_file_url,
        request=AiohttpRequest(connection_pool_size=256),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )
    builder = Application.builder().bot(bot).concurrent_updates(True)
    if webhook:
        builder = builder.updater(None)
    return builder.build()
