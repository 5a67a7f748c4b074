"""When digests go out: subscription slots in local time, grace after downtime, on-publish mode.

Design: one APScheduler job ticks at second 0 of every minute and asks the *database* which
slots are due (:func:`briefcast.store.outbox.enqueue_due`). We deliberately do not create a
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

The slot maths (DST rules included) is :mod:`briefcast.slots`; this module only
drives it from APScheduler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from briefcast.config import Settings
from briefcast.jobs import Jobs
from briefcast.slots import Clock, utcnow
from briefcast.store import outbox

if TYPE_CHECKING:
    from briefcast.store import Store

log = logging.getLogger(__name__)

TICK_JOB = "briefcast-slot-tick"


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
        jobs: Jobs | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine
        self.clock = clock
        self.grace = timedelta(hours=settings.delivery.grace_hours)
        self.jobs = jobs if jobs is not None else Jobs()
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
        async with self._lock:
            now = self.clock()
            result = await asyncio.to_thread(
                outbox.enqueue_due, self.store.engine, now=now, grace=self.grace, on_batch=self._waker()
            )
            alerts = await asyncio.to_thread(self._alerts_and_corrections, result.issue_id, now)
        if (result.pending or alerts) and self.engine is not None:
            self.engine.wake()
        if result.pending or result.skipped:
            log.info(
                "tick %s: %d deliveries enqueued, %d skipped", now.isoformat(), result.pending, result.skipped
            )
        return result.pending + result.skipped + alerts

    async def on_issue_published(self, issue_id: int) -> int:
        """Hook for the ingest path: deliver to on-publish subscriptions at once."""
        async with self._lock:
            now = self.clock()
            # corrections first: a subscription that had an earlier revision gets its messages
            # edited, and the digest pass below then sees it has this revision already
            fixes = await asyncio.to_thread(self._corrections, issue_id, now)
            result = await asyncio.to_thread(
                outbox.enqueue_due,
                self.store.engine,
                now=now,
                grace=self.grace,
                issue_id=issue_id,
                on_batch=self._waker(),
            )
            alerts = await asyncio.to_thread(self._alerts, issue_id, now)
        if (result.pending or fixes or alerts) and self.engine is not None:
            self.engine.wake()
        return result.pending

    def _corrections(self, issue_id: int, now: datetime) -> int:
        """(thread) Queue the in-place corrections of a revision (briefcast.delivery.corrections)."""
        from briefcast.store.outbox.corrections import enqueue_corrections

        try:
            return enqueue_corrections(self.store.engine, issue_id, now=now)
        except Exception:  # a correction must never stop the digests
            log.exception("queueing the corrections of issue %s failed", issue_id)
            return 0

    def _alerts(self, issue_id: int, now: datetime) -> int:
        """(thread) Queue the keyword-watch alerts of an issue (briefcast.delivery.watches)."""
        from briefcast.delivery.watches import enqueue_watch_alerts

        try:
            done = enqueue_watch_alerts(
                self.store, issue_id, now=now, grace=self.grace, settings=self.settings
            )
        except Exception:  # an alert must never stop the digests
            log.exception("queueing the watch alerts of issue %s failed", issue_id)
            return 0
        return done.pending

    def _alerts_and_corrections(self, issue_id: int | None, now: datetime) -> int:
        """(thread) The tick's catch-up for an issue published by another process."""
        if issue_id is None:
            return 0
        return self._corrections(issue_id, now) + self._alerts(issue_id, now)

    def start(self) -> None:
        """Start the minute tick (and one immediate tick, to catch up after downtime)."""
        from apscheduler.triggers.cron import CronTrigger

        self.jobs.add(
            self.tick,
            CronTrigger(second=0, timezone=UTC),
            id=TICK_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=30,
            next_run_time=datetime.now(UTC),
        )
        self.jobs.start()

    def shutdown(self) -> None:
        """Stop the minute tick (pending ticks are dropped; the database keeps the state)."""
        if TICK_JOB in self.jobs.job_ids():
            self.jobs.remove(TICK_JOB)
            self.jobs.stop()
