"""Scheduled pushes in the playground: the real scheduler and delivery engine, on a clock you can move.

Nobody wants to wait until 08:00 to see a digest arrive. The playground runs the production
:class:`~briefcast.schedule.Scheduler` and :class:`~briefcast.delivery.engine.DeliveryEngine`
against the embedded fakes, both reading one :class:`ShiftableClock`. "Advance the schedule"
moves that clock to the next slot at which some subscriber is owed the latest issue and runs a
scheduler tick: the rows are enqueued and sent by exactly the code that runs in production.

Engine and scheduler must share the clock: the scheduler stamps ``next_attempt_at`` with its
``now``, and an engine on the real clock would consider those rows not yet due.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from briefcast.config import Settings
from briefcast.delivery.engine import Transport
from briefcast.delivery.service import DeliveryService
from briefcast.i18n import counted
from briefcast.jobs import Jobs
from briefcast.slots import first_slot_at_or_after, parse_hhmm
from briefcast.store import Store

log = logging.getLogger(__name__)


class ShiftableClock:
    """The wall clock plus an offset that only grows (time never runs backwards for the engine)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance_to(self, instant: datetime) -> None:
        """Make ``now`` at least ``instant``."""
        gap = instant - self()
        if gap > timedelta(0):
            self.offset += gap


@dataclass(frozen=True)
class AdvanceResult:
    """What "advance the schedule" did, for the page."""

    moved_to: datetime | None
    enqueued: int
    message: str

    def to_json(self) -> dict[str, object]:
        return {
            "moved_to": self.moved_to.isoformat() if self.moved_to else None,
            "enqueued": self.enqueued,
            "message": self.message,
        }


def next_owed_slot(store: Store, now: datetime) -> tuple[datetime, str, str] | None:
    """The earliest future slot of a scheduled subscription that has not had the latest issue.

    Returns ``(instant, "HH:MM", timezone)``. Mirrors the scheduler's rule: an issue belongs to a
    subscriber's first slot at or after its publication.
    """
    issue = store.latest_issue()
    if issue is None or issue.published_at is None:
        return None
    best: tuple[datetime, str, str] | None = None
    for sub in store.active_subscriptions():
        # a weekly roll-up's window holds the issue until the first slot after its publication
        if sub.mode not in ("scheduled", "weekly") or (
            sub.last_issue_id is not None and sub.last_issue_id >= issue.id
        ):
            continue
        if not set(sub.sectors) & set(issue.sectors):
            continue
        slot = first_slot_at_or_after(
            issue.published_at, parse_hhmm(sub.time), ZoneInfo(sub.timezone), sub.days
        )
        if slot > now and (best is None or slot < best[0]):
            best = (slot, sub.time, sub.timezone)
    return best


def idle_message(store: Store) -> str:
    """Why "advance" had nothing to do: no subscription, no issue, or everyone already has it."""
    subs = store.active_subscriptions()
    if not subs:
        return "Nothing is scheduled: subscribe a chat first (e.g. /subscribe energy 08:00)."
    issue = store.latest_issue()
    if issue is None:
        return f"No issue is published yet; {counted(len(subs), 'subscription')} will get the first one."
    return (
        f"Everyone is up to date: {counted(len(subs), 'subscription')}, none owed the latest issue "
        f"(#{issue.id}). Publish a new issue (Operator dashboard → Publish) to see the next push."
    )


class PlaygroundDelivery(DeliveryService):
    """The production delivery component on a :class:`ShiftableClock`, plus "advance the schedule"."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        transports: dict[str, Transport],
        *,
        clock: ShiftableClock | None = None,
        jobs: Jobs | None = None,
    ) -> None:
        self.shiftable = clock or ShiftableClock()
        super().__init__(settings, store, transports, clock=self.shiftable, idle_poll=0.5, jobs=jobs)

    async def advance(self) -> AdvanceResult:
        """Jump to the next owed slot (if any is in the future) and run a scheduler tick now."""
        now = self.clock()
        target = await asyncio.to_thread(next_owed_slot, self.store, now)
        moved: datetime | None = None
        if target is not None:
            moved = target[0]
            self.shiftable.advance_to(moved)
        enqueued = await self.scheduler.tick()
        self.engine.wake()
        if target is not None:
            local = moved.astimezone(ZoneInfo(target[2])) if moved else None
            when = f"{local:%Y-%m-%d %H:%M} {target[2]}" if local else ""
            message = f"Clock moved to the {target[1]} slot ({when}): {counted(enqueued, 'delivery')} queued."
        elif enqueued:
            message = f"{counted(enqueued, 'delivery')} {'was' if enqueued == 1 else 'were'} due and queued."
        else:
            message = await asyncio.to_thread(idle_message, self.store)
        log.info("playground: %s", message)
        return AdvanceResult(moved, enqueued, message)
