"""The fake platforms as a separate process, tuned for load: ``python -m bench.fakeserver ...``.

Why a separate process: the fake's CPU (HTTP parsing, TDLib entity parsing, limit bookkeeping)
must not be charged to the engine being measured, and must not compete with it for the GIL.

Why subclasses of the test fakes rather than the fakes as they are:

* **chats on demand** — a benchmark fans out to up to 100,000 chats; registering each one over
  a control API would dominate the run. Unknown numeric ids become private chats (positive) or
  supergroups (negative); unknown Slack ids ``C...`` become channels the bot is a member of;
* **light recording** — the test fakes keep every request and full message JSON (hundreds of
  MB at 100k messages). Here each accepted message is one tuple ``(chat, arrival, crc32(text))``;
  validation (TDLib entity parsing, length, access, limits) is unchanged. TDLib results are
  cached per distinct text: parsing is a pure function of (text, parse_mode);
* **arrival stamps** — ``arrival`` is ``time.monotonic()`` taken when the request reaches the
  server, *before* the simulated latency. ``CLOCK_MONOTONIC`` is system-wide on Linux, so the
  benchmark process can compare it with its own ``time.monotonic()``;
* **limits at arrival** — as in the test fakes, a request is stamped when it reaches the server
  (``briefcast.emulators.limits.ARRIVAL``) and judged at that stamp, not after the simulated
  latency and the fake's own wake-up lag (which, under benchmark load, would otherwise decide
  429s). This middleware stamps too, and exempts the control routes from the latency;
* **control routes** — ``GET /_bench/stats?since=N`` (the log from index N, 429 counts),
  ``GET /_bench/wait?count=N&timeout=S`` (long-poll until N messages were accepted).

The first line on stdout is JSON ``{"url", "base_url", "token"}``; SIGTERM stops the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import itertools
import json
import signal
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from functools import lru_cache
from typing import Any

from aiohttp import web

from briefcast.emulators.limits import ARRIVAL
from briefcast.emulators.slack import FakeSlack, SlackLimits
from briefcast.emulators.telegram import MAX_TEXT, FakeTelegram, TelegramLimits
from briefcast.emulators.telegram.state import _bad as _tg_bad
from briefcast.render.telegram_entities import EntityParseError, parse_entities
from briefcast.render.telegram_entities import utf16_len as _utf16_len

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LogEntry = tuple[str, float, int]  # (chat id, arrival monotonic, crc32 of the text)


class _Discard(list[Any]):
    """A request log that keeps nothing (the fakes append every request; we do not need them)."""

    def append(self, item: Any) -> None:
        return None


@lru_cache(maxsize=4096)
def _parse_cached(text: str, parse_mode: str | None) -> tuple[str, tuple[Any, ...]] | str:
    """TDLib parse result for a text, or the Bot API error description (cached: pure function)."""

    try:
        plain, entities = parse_entities(text, parse_mode)
    except EntityParseError as exc:
        return f"can't parse entities: {exc}"
    except ValueError:
        return "unsupported parse_mode"
    return plain, tuple(entities)


class _BenchMixin:
    """Arrival stamps, the light log and the control routes, shared by both fakes."""

    latency: float
    log: list[LogEntry]
    requests: list[Any]
    _routes: Callable[[web.Application], None]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # the fake's own constructor (next in the MRO)
        self.requests = _Discard()
        self.log = []
        self.rejected: list[tuple[str, float]] = []  # (chat, arrival) of each 429
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._waiter_seq = itertools.count()

    def _build_app(self) -> web.Application:
        return self._bench_app(self._routes)

    @web.middleware
    async def _stamp_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        ARRIVAL.set(time.monotonic())  # the limiter judges the request at this stamp
        if request.path.startswith("/_bench/"):
            return await handler(request)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        return await handler(request)

    def _bench_app(self, routes: Callable[[web.Application], None]) -> web.Application:
        app = web.Application(middlewares=[self._stamp_middleware], client_max_size=64 * 1024 * 1024)
        routes(app)
        app.router.add_get("/_bench/stats", self._bench_stats)
        app.router.add_get("/_bench/wait", self._bench_wait)
        return app

    def _record(self, chat: str, text: str) -> None:
        self.log.append((chat, ARRIVAL.get() or time.monotonic(), zlib.crc32(text.encode())))
        n = len(self.log)
        while self._waiters and self._waiters[0][0] <= n:
            fut = heapq.heappop(self._waiters)[2]
            if not fut.done():
                fut.set_result(None)

    def _counters(self) -> dict[str, Any]:
        raise NotImplementedError

    async def _bench_stats(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        body = {
            **self._counters(),
            "count": len(self.log),
            "log": self.log[since:],
            "rejected": self.rejected,
        }
        return web.json_response(body)

    async def _bench_wait(self, request: web.Request) -> web.Response:
        count = int(request.query.get("count", "1"))
        timeout = float(request.query.get("timeout", "30"))
        if len(self.log) < count:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiters, (count, next(self._waiter_seq), fut))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, timeout)
        return web.json_response({"count": len(self.log)})


class BenchTelegram(_BenchMixin, FakeTelegram):
    """:class:`FakeTelegram` with chats on demand, light recording and control routes."""

    def _resolve_chat(self, params: Mapping[str, Any]) -> Any:
        raw = params.get("chat_id")
        if isinstance(raw, int | str) and str(raw).lstrip("-").isdigit():
            cid = int(raw)
            if cid not in self._chats:
                self.add_chat(cid, "private" if cid > 0 else "supergroup")
        return super()._resolve_chat(params)

    def _send_message(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        """The test fake's checks (access, thread, TDLib parse, length, markup, limits); a light result."""
        chat = self._resolve_chat(params)
        self._check_access(chat)
        thread_id = self._check_thread(chat, params)
        text = str(params.get("text") or "")
        parsed = _parse_cached(text, params.get("parse_mode") or None)
        if isinstance(parsed, str):
            raise _tg_bad(parsed)
        plain, entities = parsed
        if not plain.strip():
            raise _tg_bad("message text is empty")
        if _utf16_len(plain) > MAX_TEXT:
            raise _tg_bad("message is too long")
        self._check_markup(params.get("reply_markup"))
        self._charge(chat, params)
        message_id = chat.next_message_id
        chat.next_message_id += 1
        self._record(str(chat.id), text)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": chat.to_json(),
            "date": int(time.time()),
            "text": plain,
        }
        if entities:
            message["entities"] = list(entities)
        if thread_id is not None:
            message["message_thread_id"] = thread_id
        return message

    def _charge(self, chat: Any, params: Mapping[str, Any]) -> None:
        try:
            super()._charge(chat, params)
        except Exception:
            self.rejected.append((str(chat.id), ARRIVAL.get()))
            raise

    def _counters(self) -> dict[str, Any]:
        with self._lock:
            return {"rate_limited": self.rate_limited, "rejections": dict(self.limiter.rejections)}


class BenchSlack(_BenchMixin, FakeSlack):
    """:class:`FakeSlack` with channels on demand, arrival stamps and control routes."""

    def _channel_for_post(self, params: Mapping[str, Any]) -> Any:
        raw = str(params.get("channel") or "")
        if raw.startswith("C") and raw not in self._channels:
            self.add_channel(raw, raw.lower())
        return super()._channel_for_post(params)

    def _post_message(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        result = super()._post_message(params, token)
        self.posted.clear()  # keep memory flat: the light log below is what the benchmark reads
        self._messages.clear()
        self._record(str(result["channel"]), str(params.get("text") or ""))
        return result

    def _charge(self, channel: Any) -> None:
        try:
            super()._charge(channel)
        except Exception:
            self.rejected.append((str(channel.id), ARRIVAL.get()))
            raise

    def _counters(self) -> dict[str, Any]:
        with self._lock:
            return {"rate_limited": self.rate_limited, "rejections": dict(self.limiter.rejections)}


def build(args: argparse.Namespace) -> BenchTelegram | BenchSlack:
    """The fake the command line asks for."""
    if args.platform == "telegram":
        limits = TelegramLimits(enabled=args.limits != "off", per_bot=args.per_bot)
        return BenchTelegram(token=args.token or "123456789:AAFakeTokenForBriefcastBench_012345",
                             limits=limits, latency=args.latency, port=args.port)  # fmt: skip
    slack_limits = SlackLimits(enabled=args.limits != "off")
    kwargs: dict[str, Any] = {"limits": slack_limits, "latency": args.latency, "port": args.port}
    if args.token:
        kwargs["token"] = args.token
    return BenchSlack(**kwargs)


async def serve(fake: BenchTelegram | BenchSlack) -> None:
    """Serve until SIGTERM/SIGINT; announce the URLs on stdout first."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with fake:
        base = fake.base_url if isinstance(fake, BenchTelegram) else fake.api_url
        print(json.dumps({"url": fake.url, "base_url": base, "token": fake.token}), flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram/Slack for the benchmarks.")
    parser.add_argument("--platform", choices=("telegram", "slack"), default="telegram")
    parser.add_argument("--latency", type=float, default=0.040, help="seconds added to every response")
    parser.add_argument("--limits", choices=("real", "off"), default="real")
    parser.add_argument("--per-bot", type=int, default=30, help="Telegram overall messages per second")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="")
    args = parser.parse_args(argv)
    asyncio.run(serve(build(args)))


if __name__ == "__main__":
    main()
