"""What ``briefcast run`` runs: the web app plus every configured component, stopped cleanly.

A *component* is anything with ``start``/``stop``, optional web routes and a
``started`` flag for ``/healthz``: the Telegram bot today; the Slack app and the
scheduler plug in the same way (add them in :func:`default_components`).

Start order: the listening socket is bound first (so webhook deliveries queue
instead of failing), then the ASGI app starts, then the components. Stop order
is the reverse. ``stop_event`` ends the run; without one, SIGINT/SIGTERM do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from briefcast.component import Component
from briefcast.config import Settings
from briefcast.store import Store, db
from briefcast.web import HealthCheck, create_app

log = logging.getLogger(__name__)


def database_check(store: Store) -> HealthCheck:
    """``SELECT 1`` on the store's engine, off the event loop."""

    async def check() -> bool:
        return await asyncio.to_thread(db.ping, store.engine)

    return check


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: :func:`serve` owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen now, so the port is known (port 0 in tests) and early connections queue."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def _signals_to(event: asyncio.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``event`` (main thread only; elsewhere the caller supplies stop_event)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, event.set)
                installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def serve(
    settings: Settings,
    store: Store,
    *,
    stop_event: asyncio.Event | None = None,
    components: Sequence[Component] = (),
    routes: Sequence[BaseRoute] = (),
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Run the web app and the components until ``stop_event`` is set (or a signal arrives).

    ``components`` are built by the composition root (:func:`briefcast.app.assemble`); ``routes`` are extra
    web routes (issue API, metrics). ``on_ready(port)`` is called once everything
    has started (tests use it with ``http_port=0``).
    """
    parts = list(components)
    stop = stop_event or asyncio.Event()
    checks: dict[str, HealthCheck] = {"database": database_check(store)}
    for part in parts:
        checks[part.name] = _started_check(part)
    all_routes = [*routes, *(r for part in parts for r in part.routes())]
    app_ready = asyncio.Event()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app_ready.set()
        yield

    app = create_app(routes=all_routes, health_checks=checks, lifespan=lifespan)
    sock = bind_socket(settings.http_host, settings.http_port)
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = _Server(config)
    server_task = asyncio.create_task(server.serve(sockets=[sock]), name="briefcast-web")
    started: list[Component] = []
    signal_ctx = _signals_to(stop) if stop_event is None else contextlib.nullcontext()
    try:
        with signal_ctx:
            await _first(app_ready.wait(), server_task)
            if server_task.done():
                server_task.result()  # re-raise a failed start-up
                return
            for part in parts:
                await part.start()
                started.append(part)
            log.info("briefcast serving on http://%s:%d (%s)", settings.http_host, port, _names(parts))
            if on_ready is not None:
                on_ready(port)
            await _first(stop.wait(), server_task)
    finally:
        for part in reversed(started):
            try:
                await part.stop()
            except Exception:
                log.exception("stopping %s failed", part.name)
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await server_task
        sock.close()


def _started_check(part: Component) -> HealthCheck:
    def check() -> bool:
        return part.started

    return check


def _names(parts: Sequence[Component]) -> str:
    return ", ".join(p.name for p in parts) or "web only"


async def _first(waiter: object, task: asyncio.Task[None]) -> None:
    """Wait until ``waiter`` (a coroutine) finishes or ``task`` ends, whichever comes first."""
    assert asyncio.iscoroutine(waiter)
    other = asyncio.ensure_future(waiter)
    try:
        await asyncio.wait({other, task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        other.cancel()
