"""When digests go out: subscription slots in local time, grace after downtime, on-publish mode.

Design: one APScheduler job ticks at second 0 of every minute and asks the *database* which
slots are due (:func:`briefcast.delivery.outbox.enqueue_due`). We deliberately do not create a
job per subscription or per (time, timezone):

* APScheduler 3 cannot share a job store between processes, but the database can: every
  replica runs the same idempotent ``INSERT ... ON CONFLICT DO NOTHING``, and subscriptions
  created by another process (the bot, the CLI) are seen at the next tick without any job
  bookkeeping;
* after a restart the first tick sees every slot missed during the downtime and applies the
  grace window uniformly (late delivery or ``skipped`` rows), so nothing depends on APScheduler's
  own misfire handling;
* the work per tick is proportional to the number of *distinct* (time, timezone) pairs that
  still lack the latest issue, not to the number of subscribers.

DST rules (see :func:`slot_instant`): a local time that does not exist on a spring-forward day
(02:30 in New York) is sent at the same wall-clock offset after the gap (03:30 local, PEP 495
``fold=0``), not skipped; a time that occurs twice on a fall-back day is sent once, at its first
occurrence. Slots are computed per *local date*, so a slot can never fire twice in one day.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from briefcast.config import Settings

if TYPE_CHECKING:
    from briefcast.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The wall clock as an aware UTC datetime (the default clock)."""
    return datetime.now(UTC)


def parse_hhmm(value: str) -> time:
    """``"8:05"`` / ``"08:05"`` -> ``time(8, 5)``."""
    hh, mm = value.strip().split(":")
    return time(int(hh), int(mm))


def slot_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local time ``at`` on local date ``day`` in ``tz``.

    ``fold=0`` gives the first occurrence of an ambiguous time and, for a time inside a DST gap,
    the offset from before the gap — i.e. the slot moves forward by the length of the gap.
    """
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


def first_slot_at_or_after(instant: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The earliest daily slot ``at`` (local in ``tz``) that is not before ``instant``."""
    local_day = instant.astimezone(tz).date()
    for offset in (-1, 0, 1, 2):
        s = slot_instant(local_day + timedelta(days=offset), at, tz)
        if s >= instant:
            return s
    raise AssertionError("unreachable: a daily slot exists within two days")  # pragma: no cover


def last_slot_at_or_before(instant: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The latest daily slot ``at`` (local in ``tz``) that is not after ``instant``."""
    local_day = instant.astimezone(tz).date()
    for offset in (1, 0, -1, -2):
        s = slot_instant(local_day + timedelta(days=offset), at, tz)
        if s <= instant:
            return s
    raise AssertionError("unreachable: a daily slot exists within two days")  # pragma: no cover


def next_slot_after(instant: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The first slot strictly after ``instant`` (for "next delivery at ..." displays)."""
    return first_slot_at_or_after(instant + timedelta(microseconds=1), at, tz)


def decide_slot(
    published_at: datetime, at: time, tz: ZoneInfo, now: datetime, grace: timedelta
) -> tuple[str, datetime]:
    """For an issue published at ``published_at``: ``("wait"|"send"|"skip", slot)``.

    The issue belongs to the subscriber's first slot at or after publication. Before that slot:
    wait. Within ``grace`` after it (the process may have been down): send, late if need be.
    Later than that: skip — a digest a day stale is noise, and the next issue will come.
    """
    slot = first_slot_at_or_after(published_at, at, tz)
    if now < slot:
        return "wait", slot
    if now - slot <= grace:
        return "send", slot
    return "skip", slot


def decide_publish(published_at: datetime, now: datetime, grace: timedelta) -> str:
    """On-publish subscriptions: send unless the publication is older than the grace window."""
    return "send" if now - published_at <= grace else "skip"


class _Wakeable(Protocol):
    def wake(self) -> None: ...


class Scheduler:
    """Wraps an APScheduler ``AsyncIOScheduler`` whose one job is :meth:`tick` every minute.

    ``clock`` returns aware UTC datetimes; tests pass a controllable one and call :meth:`tick`
    directly instead of waiting for the minute.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        engine: _Wakeable | None = None,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine
        self.clock = clock
        self.grace = timedelta(hours=settings.delivery.grace_hours)
        self._aps: Any = None
        self._lock = asyncio.Lock()

    def _waker(self) -> Callable[[int], None] | None:
        """For the enqueue thread: wake the engine (on this loop) after each committed batch, so the
        first messages of a large slot leave while the rest is still being enqueued."""
        engine = self.engine
        if engine is None:
            return None
        loop = asyncio.get_running_loop()

        def woke(_: int) -> None:
            if not loop.is_closed():  # a worker stopping while a slot is still being enqueued
                loop.call_soon_threadsafe(engine.wake)

        return woke

    async def tick(self) -> int:
        """Enqueue every due delivery (idempotent); returns how many rows were inserted."""
        from briefcast.delivery import outbox

        async with self._lock:
            now = self.clock()
            result = await asyncio.to_thread(
                outbox.enqueue_due, self.store.engine, now=now, grace=self.grace, on_batch=self._waker()
            )
        if result.pending and self.engine is not None:
            self.engine.wake()
        if result.pending or result.skipped:
            log.info(
                "tick %s: %d deliveries enqueued, %d skipped", now.isoformat(), result.pending, result.skipped
            )
        return result.pending + result.skipped

    async def on_issue_published(self, issue_id: int) -> int:
        """Hook for the ingest path: deliver to on-publish subscriptions at once."""
        from briefcast.delivery import outbox

        async with self._lock:
            now = self.clock()
            result = await asyncio.to_thread(
                outbox.enqueue_due,
                self.store.engine,
                now=now,
                grace=self.grace,
                issue_id=issue_id,
                on_batch=self._waker(),
            )
        if result.pending and self.engine is not None:
            self.engine.wake()
        return result.pending

    def start(self) -> None:
        """Start the minute tick (and one immediate tick, to catch up after downtime)."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.cron import CronTrigger

        self._aps = AsyncIOScheduler(timezone=UTC)
        self._aps.add_job(
            self.tick,
            CronTrigger(second=0, timezone=UTC),
            id="briefcast-slot-tick",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=30,
            next_run_time=datetime.now(UTC),
        )
        self._aps.start()

    def shutdown(self) -> None:
        """Stop the APScheduler job (pending ticks are dropped; the database keeps the state)."""
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
