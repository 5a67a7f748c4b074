"""What a claimed row becomes (skipped, quiet hours, sent, failed, retried), its tally, its group commit."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from briefcast.delivery.errors import FailureKind, SendError
from briefcast.delivery.lanes import Item, Signal
from briefcast.delivery.ratelimit import RateLimits
from briefcast.store import outbox
from briefcast.store.outbox import Action, Claimed, Outcome

log = logging.getLogger(__name__)

Batch = list[tuple[Outcome, Item | None]]


@dataclass
class EngineStats:
    """Counters since the engine started (progress bars, benchmarks, ``drain`` results)."""

    parts_sent: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    deactivated: int = 0
    rate_limited: int = 0
    migrated: int = 0
    claimed: int = 0
    # platform -> reason, for platforms paused on a bot-level (token) fault when the engine stopped
    paused: dict[str, str] = field(default_factory=dict)

    @property
    def finished(self) -> int:
        return self.delivered + self.failed + self.skipped

    def count(self, o: Outcome) -> None:
        """Tally a recorded outcome."""
        if o.action is Action.SENT:
            self.delivered += 1
        elif o.action is Action.FAILED:
            self.failed += 1
        elif o.action is Action.SKIPPED:
            self.skipped += 1


def final(row: Claimed, action: Action, error: str) -> Outcome:
    """``row`` done without sending (its progress kept as claimed)."""
    return Outcome(
        row.id, action, parts_total=row.parts_total, parts_sent=row.parts_sent,
        message_ids=row.message_ids, attempts=row.attempts, error=error,
    )  # fmt: skip


def quiet(row: Claimed, default_timezone: str, now: datetime) -> Outcome | None:
    """/quiet: an on-publish push (digest or watch alert) not yet begun inside the chat's quiet
    hours waits until they end (no attempt counted). Scheduled digests go at the chosen time;
    corrections edit silently."""
    if not row.quiet or row.parts_sent or row.kind == "correction":
        return None
    if row.kind in ("digest", outbox.ROLLUP) and row.mode != "publish":
        return None
    from zoneinfo import ZoneInfo

    from briefcast.slots import quiet_until

    tz = ZoneInfo(row.timezone or default_timezone)
    until = quiet_until(row.quiet, tz, now)
    if until is None:
        return None
    local = until.astimezone(tz)
    return Outcome(
        row.id, Action.RETRY, parts_total=row.parts_total, parts_sent=row.parts_sent,
        message_ids=row.message_ids, attempts=row.attempts, next_attempt_at=until,
        error=f"quiet hours: waits until {local:%Y-%m-%d %H:%M} ({tz.key})",
    )  # fmt: skip


def sent(item: Item, message_id: str) -> Outcome:
    """One more part of ``item`` went out: progress, or the row is sent when it was the last."""
    item.parts_sent += 1
    item.message_ids.append(message_id)
    last = item.parts_sent >= len(item.parts)
    return Outcome(
        item.id, Action.SENT if last else Action.PROGRESS, parts_total=len(item.parts),
        parts_sent=item.parts_sent, message_ids=tuple(item.message_ids),
        # attempts counts tries: the failed ones and, once sent, the one that worked
        attempts=item.attempts + 1 if last else item.attempts,
        detail=tuple(item.detail) if item.row.kind == "correction" else None,
    )  # fmt: skip


class RetryPolicy:
    """How failed sends end: given up after ``max_attempts``; transient faults retried with jittered
    exponential backoff; a 429 honoured by pausing the chat's (and maybe the platform's) buckets."""

    def __init__(
        self,
        limits: RateLimits,
        stats: EngineStats,
        *,
        max_attempts: int,
        backoff_base: float,
        backoff_cap: float,
        rng: random.Random,
        clock: Callable[[], datetime],
    ) -> None:
        self.limits = limits
        self.stats = stats
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rng = rng
        self.clock = clock

    def failed(self, item: Item, e: SendError) -> Outcome:
        """The row update for a failed send whose attempt is already counted in ``item.attempts``
        (a migration or a refused token are the engine's: they are not the chat's fault)."""
        row = item.row
        base = {
            "parts_total": len(item.parts), "parts_sent": item.parts_sent,
            "message_ids": tuple(item.message_ids), "attempts": item.attempts,
        }  # fmt: skip
        if e.kind is FailureKind.PERMANENT:
            self.stats.deactivated += 1
            thread_only = bool(row.thread_id) and any(w in e.reason.lower() for w in ("thread", "topic"))
            return Outcome(
                item.id, Action.FAILED, error=e.reason, **base,  # type: ignore[arg-type]
                deactivate_chat_pk=None if thread_only else row.chat_pk,
                deactivate_subscription_id=row.subscription_id if thread_only else None,
            )  # fmt: skip
        if e.kind is FailureKind.REJECTED:
            return Outcome(item.id, Action.FAILED, error=e.reason, **base)  # type: ignore[arg-type]
        if item.attempts >= self.max_attempts:
            return Outcome(
                item.id, Action.FAILED, error=f"gave up after {item.attempts} attempts: {e.reason}",
                **base,  # type: ignore[arg-type]
            )  # fmt: skip
        if e.kind is FailureKind.RETRY_AFTER:
            self.stats.rate_limited += 1
            wait = max(0.0, e.retry_after or 1.0)
            self.limits.pause_chat(item.limit, wait)
            if e.platform_wide or not item.limit.group:
                # Our own chat buckets were respected, so a private chat's 429 is the bot-wide limit.
                self.limits.pause_platform(row.platform, wait)
            delay = wait
        else:
            delay = min(self.backoff_cap, self.backoff_base * 2 ** (item.attempts - 1))
            delay *= self.rng.uniform(0.5, 1.0)
        self.stats.retried += 1
        return Outcome(
            item.id, Action.RETRY, error=e.reason, next_attempt_at=self.clock() + timedelta(seconds=delay),
            **base,  # type: ignore[arg-type]
        )  # fmt: skip


class OutcomeWriter:
    """Group commit: everything queued since the last commit is written in one transaction, then
    ``on_commit(batch)`` runs (on the event loop); a failed write is retried, never dropped."""

    def __init__(
        self, db: Any, owner: str, clock: Callable[[], datetime], on_commit: Callable[[Batch], None]
    ) -> None:
        self.db = db
        self.owner = owner
        self.clock = clock
        self.on_commit = on_commit
        self.unrecorded = 0  # outcomes queued or being written
        self.signal = Signal()
        self._queued: Batch = []

    def queue(self, outcome: Outcome, item: Item | None) -> None:
        self._queued.append((outcome, item))
        self.unrecorded += 1
        self.signal.set()

    async def run(self) -> None:
        """Write batches until cancelled."""
        while True:
            await self.signal.wait(None)
            while self._queued:
                batch, self._queued = self._queued, []
                try:
                    await asyncio.to_thread(
                        outbox.apply, self.db, self.owner, [o for o, _ in batch], now=self.clock()
                    )
                except Exception:
                    log.exception("recording %d delivery outcomes failed; retrying", len(batch))
                    self._queued[:0] = batch
                    await asyncio.sleep(0.5)
                    continue
                self.unrecorded -= len(batch)
                self.on_commit(batch)
