"""Shared plumbing for the fake platform servers: lifecycle, threads, waiting and body parsing.

A fake is an aiohttp application bound to 127.0.0.1 on an ephemeral port. It runs either in the
caller's event loop (``async with Fake() as fake``) or in a background thread with its own loop
(``with Fake.in_thread() as fake``) so synchronous clients and subprocesses can talk to it.

Everything the fake records lives behind one re-entrant lock. Every change calls
:meth:`Notifier.notify`, which wakes both threads blocked in :meth:`FakeServer.wait_for_sync`
and coroutines (on any event loop) awaiting :meth:`FakeServer.wait_for` — tests wait on
conditions, never on sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, Self, TypeVar

from aiohttp import web

from briefcast.emulators.limits import ARRIVAL

__all__ = ["FakeServer", "Notifier", "RecordedRequest", "RequestBody", "UploadedFile", "read_body"]

T = TypeVar("T")


class RecordedRequest(NamedTuple):
    """One API call as the fake saw it: method name, decoded parameters, monotonic-clock time."""

    method: str
    params: dict[str, Any]
    t: float


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RequestBody:
    """Parameters of a request, merged from the query string and the body.

    ``form`` is True when values came from a query string or form (so they are strings that may
    need JSON-decoding), False when they came from a JSON body (already typed).
    """

    params: dict[str, Any]
    files: dict[str, UploadedFile]
    form: bool


async def read_body(request: web.Request) -> RequestBody:
    """Decode query string plus JSON, urlencoded or multipart body into one parameter dict."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    form = True
    if request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            raw = await request.read()
            if raw.strip():
                import json

                try:
                    data = json.loads(raw)
                except ValueError as exc:
                    raise ValueError(f"invalid JSON body: {exc}") from exc
                if not isinstance(data, dict):
                    raise ValueError("JSON body must be an object")
                params.update(data)
                form = not data and bool(request.query)
            else:
                form = True
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            post = await request.post()
            for key, value in post.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(key, value.filename, value.content_type, value.file.read())
                elif isinstance(value, bytes | bytearray):
                    params[key] = bytes(value).decode("utf-8", "replace")
                else:
                    params[key] = value
        else:
            raw = await request.read()
            if raw.strip():
                raise ValueError(f"unsupported content type {ctype!r}")
    return RequestBody(params, files, form)


class Notifier:
    """Wakes threads and coroutines (on any loop) whenever the fake's recorded state changes."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._cond = threading.Condition(lock)
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    def notify(self) -> None:
        """Signal a change. Safe to call from any thread, with or without the lock held."""
        with self._lock:
            self._cond.notify_all()
            waiters = list(self._waiters)
        for loop, fut in waiters:
            with contextlib.suppress(RuntimeError):  # loop already closed: its waiter is gone
                loop.call_soon_threadsafe(_resolve, fut)

    async def wait_for(self, predicate: Callable[[], T], timeout: float) -> T:
        """Await until ``predicate()`` is truthy and return its value; TimeoutError after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            fut: asyncio.Future[None] = loop.create_future()
            entry = (loop, fut)
            with self._lock:
                # Register before evaluating so a change between the check and the await is not lost.
                self._waiters.add(entry)
                try:
                    value = predicate()
                except BaseException:
                    self._waiters.discard(entry)
                    raise
            try:
                if value:
                    return value
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout} s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(fut, remaining)
            finally:
                with self._lock:
                    self._waiters.discard(entry)

    def wait_for_sync(self, predicate: Callable[[], T], timeout: float) -> T:
        """Block the calling thread until ``predicate()`` is truthy; TimeoutError after ``timeout``.

        Never call this from the thread running the fake's event loop: it would block the server.
        """
        with self._cond:
            value = self._cond.wait_for(predicate, timeout)
        if not value:
            raise TimeoutError(f"condition not met within {timeout} s")
        return value


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class FakeServer:
    """Base class: an aiohttp app on 127.0.0.1 with simulated latency, recording and waiting.

    Subclasses implement :meth:`_routes`. ``latency`` (seconds) delays every response with
    ``asyncio.sleep`` inside the server — simulated network distance, not synchronisation.
    """

    server_name = "fake"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        self.host = host
        self._requested_port = port
        self.latency = latency
        self._lock = threading.RLock()
        self._notifier = Notifier(self._lock)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._background: set[asyncio.Task[Any]] = set()
        self.arrivals = 0  # requests that reached the server (before their simulated latency)

    # -- to implement -------------------------------------------------------------------------
    def _routes(self, app: web.Application) -> None:
        """Add the platform's routes to ``app``."""
        raise NotImplementedError

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound TCP port (only after start)."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._port

    @property
    def url(self) -> str:
        """Root URL of the fake, e.g. ``http://127.0.0.1:43117``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True between start and close."""
        return self._runner is not None

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._latency_middleware], client_max_size=64 * 1024 * 1024)
        self._routes(app)
        return app

    @web.middleware
    async def _latency_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # Stamp the arrival first: limits judge a request when it arrived, not after the latency.
        token = ARRIVAL.set(self._now())
        with self._lock:
            self.arrivals += 1
        self._notifier.notify()
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            return await handler(request)
        finally:
            ARRIVAL.reset(token)

    async def start(self) -> Self:
        """Bind and serve in the running event loop."""
        if self._runner is not None:
            raise RuntimeError("already running")
        self._closing = False
        self._loop = asyncio.get_running_loop()
        runner = web.AppRunner(self._build_app(), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if not sockets:
            await runner.cleanup()
            raise RuntimeError("could not determine the bound port")
        self._port = int(sockets[0].getsockname()[1])
        self._runner = runner
        return self

    async def close(self) -> None:
        """Stop serving; pending long polls are released first so shutdown is quick."""
        runner = self._runner
        if runner is None:
            return
        self._closing = True
        self._notifier.notify()
        for task in list(self._background):
            task.cancel()
        await runner.cleanup()
        self._runner = None
        self._port = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        """Run ``coro`` in the server loop (from any thread) and keep a reference until done."""
        loop = self._loop
        if loop is None or self._closing:
            return

        def create() -> None:
            task: asyncio.Task[Any] = asyncio.ensure_future(coro)
            self._background.add(task)
            task.add_done_callback(self._background.discard)

        if _running_loop() is loop:
            create()
        else:
            loop.call_soon_threadsafe(create)

    # -- background thread --------------------------------------------------------------------
    def start_in_thread(self, timeout: float = 10.0) -> Self:
        """Serve from a daemon thread with its own event loop (for sync clients, subprocesses)."""
        if self._thread is not None:
            raise RuntimeError("already running in a thread")
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_forever()

        thread = threading.Thread(target=run, name=f"{self.server_name}-server", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result(timeout)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            loop.close()
            raise
        self._thread = thread
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop a server started with :meth:`start_in_thread` and join its thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.close(), loop).result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            loop.close()
            self._thread = None
            self._loop = None

    @classmethod
    @contextlib.contextmanager
    def in_thread(cls, *args: Any, **kwargs: Any) -> Iterator[Self]:
        """``with Fake.in_thread(**options) as fake:`` — construct, serve in a thread, stop on exit."""
        fake = cls(*args, **kwargs)
        fake.start_in_thread()
        try:
            yield fake
        finally:
            fake.stop_thread()

    # -- waiting ------------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Await until ``predicate()`` (re-checked after each request/change) is truthy; return it."""
        return await self._notifier.wait_for(predicate, timeout)

    def wait_for_sync(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Blocking variant of :meth:`wait_for` for threads (not the fake's own loop thread)."""
        return self._notifier.wait_for_sync(predicate, timeout)

    def _now(self) -> float:
        """The fake's clock (subclasses with an injectable clock return it): arrival stamps."""
        return time.monotonic()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def serve_until_interrupted(fake: FakeServer, banner: Callable[[FakeServer], str]) -> None:
    """Run ``fake`` in the foreground (playground use) until SIGINT/SIGTERM; print ``banner(fake)`` once."""

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # e.g. Windows
                loop.add_signal_handler(signum, stop.set)
        async with fake:
            print(banner(fake), flush=True)
            await stop.wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
