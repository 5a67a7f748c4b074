"""The delivery runtime component: the slot scheduler and the delivery engine, started together.

``briefcast run`` adds one :class:`DeliveryService` beside the bots; the playground uses a
subclass on a clock it can move. The engine and the scheduler must read the same clock: the
scheduler stamps ``next_attempt_at`` with its ``now`` and the engine sends rows that are due.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime

from starlette.routing import BaseRoute

from briefcast.config import Settings
from briefcast.delivery.engine import DeliveryEngine, Transport
from briefcast.jobs import Jobs
from briefcast.schedule import Scheduler
from briefcast.slots import utcnow
from briefcast.store import Store


class DeliveryService:
    """A runtime component: minute-tick scheduler + delivery engine over the given transports."""

    name = "delivery"

    def __init__(
        self,
        settings: Settings,
        store: Store,
        transports: Mapping[str, Transport],
        *,
        clock: Callable[[], datetime] = utcnow,
        idle_poll: float = 1.0,
        jobs: Jobs | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.transports = dict(transports)
        self.engine = DeliveryEngine(settings, store, self.transports, clock=clock, idle_poll=idle_poll)
        self.scheduler = Scheduler(settings, store, self.engine, clock=clock, jobs=jobs)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[object] | None = None
        self.started = False

    async def on_issue_published(self, issue_id: int) -> None:
        """The ingest hook: enqueue "on publish" subscribers now and wake the engine."""
        await self.scheduler.on_issue_published(issue_id)

    async def start(self) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self.engine.run(self._stop), name=f"{self.name}-engine")
        self.scheduler.start()
        self.started = True

    async def stop(self) -> None:
        self.scheduler.shutdown()
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
            self._task = None
        for transport in self.transports.values():
            with contextlib.suppress(Exception):
                await transport.close()
        self.started = False

    def routes(self) -> list[BaseRoute]:
        return []
