"""The engine's work in memory: a claimed delivery with its target and progress, and per-platform queues."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from briefcast.delivery.ratelimit import ChatLimit, RateLimits
from briefcast.delivery.rendering import Payload
from briefcast.store.outbox import Claimed


@dataclass(frozen=True, slots=True)
class Target:
    """Where a transport sends: the platform chat id, optional thread/topic, Slack workspace."""

    chat_id: str
    thread_id: str = ""
    workspace: str = ""
    kind: str = ""


@dataclass(eq=False)
class Item:
    """A claimed delivery in memory: its rendered parts and its progress."""

    row: Claimed
    parts: Sequence[Payload]
    target: Target
    limit: ChatLimit
    parts_sent: int
    message_ids: list[str]
    attempts: int
    in_flight: bool = False
    # corrections: what each part did (edited | unchanged | notice | uneditable)
    detail: list[str] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.row.id


class Signal:
    """A level-triggered wake-up: ``set()`` wakes the current or the next ``wait()``."""

    def __init__(self) -> None:
        self._flag = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._flag = True
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def wait(self, timeout: float | None) -> None:
        if self._flag or (timeout is not None and timeout <= 0):
            self._flag = False
            await asyncio.sleep(0)  # always yield, so a caller's loop can never starve the event loop
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiter = fut
        handle = loop.call_later(timeout, _resolve, fut) if timeout is not None else None
        try:
            await fut
        finally:
            self._waiter = None
            self._flag = False
            if handle is not None:
                handle.cancel()


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Lane:
    """The per-platform queue: items ordered by the monotonic time they may next be sent."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.heap: list[tuple[float, int, Item]] = []
        self.signal = Signal()

    def push(self, at: float, seq: int, item: Item) -> None:
        heapq.heappush(self.heap, (at, seq, item))
        self.signal.set()

    async def next_ready(
        self, limits: RateLimits, monotonic: Callable[[], float], stopping: Callable[[], bool]
    ) -> Item | None:
        """The next item whose platform and chat buckets allow a send now (waits for it); None
        once ``stopping()``."""
        while not stopping():
            now = monotonic()
            gate = limits.platform_ready_at(self.platform, now)
            if gate > now:
                await self.signal.wait(gate - now)
                continue
            if self.heap and self.heap[0][0] <= now:
                _, seq, item = heapq.heappop(self.heap)
                ready = limits.ready_at(item.limit, now)
                if ready > now:
                    heapq.heappush(self.heap, (ready, seq, item))
                    continue
                return item
            await self.signal.wait(self.heap[0][0] - now if self.heap else None)
        return None

    def remove(self, which: Callable[[Item], bool]) -> list[Item]:
        """Take the queued (not in-flight) items ``which`` selects out of the queue; they are returned."""
        keep: list[tuple[float, int, Item]] = []
        removed: list[Item] = []
        for entry in self.heap:
            if entry[2].in_flight or not which(entry[2]):
                keep.append(entry)
            else:
                removed.append(entry[2])
        heapq.heapify(keep)
        self.heap = keep
        return removed
