"""python-telegram-bot's HTTP layer on aiohttp (its documented ``BaseRequest`` extension point).

PTB's default ``HTTPXRequest`` costs about 3-4 ms of CPU per request at 32+ requests in flight:
httpcore scans every pooled connection for every request. Measured in ``bench/`` (see
docs/benchmarks.md), this class brings a delivery to under 1 ms and a command reply's p99 from
seconds to tens of milliseconds. Everything above it is unchanged: ``Bot`` methods, PTB's typed
errors (``RetryAfter``, ``ChatMigrated``, ``Forbidden``...) and every call site.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import aiohttp
from telegram import Bot
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBUserWarning

# Added to the read timeout so a long poll (getUpdates waits ``timeout`` seconds) is not cut short.
CONNECT_ALLOWANCE = 5.0

# send_message_json uses do_api_request for a method PTB has a typed call for, on purpose.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)


async def send_message_json(bot: Bot, params: dict[str, Any]) -> Any:
    """``sendMessage`` with Bot API JSON as the renderers produce it; returns the raw result.

    Deliveries and command replies both send this way: no ``InlineKeyboardMarkup`` built from
    the JSON only to be serialised back, no ``Message`` parsed from a result nobody reads, and
    still PTB's request layer and typed errors (``RetryAfter``, ``ChatMigrated``, ``Forbidden``...).
    """
    return await bot.do_api_request("sendMessage", api_kwargs=params)


# edit_message_json likewise, for editMessageText (corrections in place, briefcast.delivery.corrections).
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.editMessageText'", category=PTBUserWarning)


async def edit_message_json(bot: Bot, params: dict[str, Any]) -> Any:
    """``editMessageText`` with the renderers' Bot API JSON (see :func:`send_message_json`)."""
    return await bot.do_api_request("editMessageText", api_kwargs=params)


class AiohttpRequest(BaseRequest):
    """One aiohttp session with at most ``connection_pool_size`` connections."""

    def __init__(self, connection_pool_size: int = 32, read_timeout: float | None = 20.0) -> None:
        self._pool = max(1, connection_pool_size)
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._pool))

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _timeout(self, read_timeout: Any) -> aiohttp.ClientTimeout:
        seconds = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        if seconds is None:  # never wait forever on a server that accepted but does not answer
            seconds = self._read_timeout
        return aiohttp.ClientTimeout(total=None if seconds is None else float(seconds) + CONNECT_ALLOWANCE)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        await self.initialize()
        assert self._session is not None
        data: Any = None
        headers: dict[str, str] = {}
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for key, value in request_data.json_parameters.items():
                    form.add_field(key, value)
                for key, (filename, content, mime) in (request_data.multipart_data or {}).items():
                    form.add_field(key, content, filename=filename, content_type=mime)
                data = form
            elif request_data.parameters:
                # One JSON body (the Bot API accepts it): url-encoding percent-escapes every byte
                # of CJK text, tripling it, and costs more CPU than the JSON encoder.
                # (``json_payload`` would nest JSON-in-strings; ``parameters`` are plain values)
                data = json.dumps(request_data.parameters, ensure_ascii=False).encode()
                headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=self._timeout(read_timeout)
            ) as resp:
                return resp.status, await resp.read()
        except TimeoutError as e:
            raise TimedOut from e
        except aiohttp.ClientError as e:
            raise NetworkError(f"aiohttp.{type(e).__name__}: {e}") from e
