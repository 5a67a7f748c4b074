"""Operator functions behind the CLI (``briefcast push / deliveries / retry-failed / subs / worker``).

They take a :class:`~briefcast.store.Store` and return plain values; the CLI formats them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from briefcast.config import Settings
from briefcast.delivery.engine import DeliveryEngine, EngineStats, Transport
from briefcast.errors import BriefcastError
from briefcast.store import Store, outbox
from briefcast.store.outbox import liveness, senders
from briefcast.store.records import ChatRef, DeliveryRecord, SubscriptionRecord


class DeliveryError(BriefcastError):
    """An operator request that cannot be carried out (unknown issue, no transport...)."""


@dataclass(frozen=True)
class PlannedDelivery:
    """One line of a dry run: who would receive which sectors of the issue."""

    subscription_id: int
    chat: ChatRef
    sectors: tuple[str, ...]
    already: str  # "" or the status of the existing delivery row


@dataclass
class PushResult:
    issue_id: int
    enqueued: int
    planned: list[PlannedDelivery] = field(default_factory=list)
    stats: EngineStats | None = None
    counts: dict[str, int] = field(default_factory=dict)
    # Platforms another running worker was sending for (its sender lease): it delivers them.
    delivered_by: dict[str, str] = field(default_factory=dict)
    # One line per reason something of this push is left undelivered (empty: all delivered).
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Deliveries of the pushed subscriptions (the progress bar's total)."""
        return len(self.planned)


# How long ``briefcast push`` waits, by default, for retries (an outage) and other workers.
PUSH_WAIT_SECONDS = 300.0


def _now() -> datetime:
    return datetime.now(UTC)


def plan(store: Store, issue_id: int, *, to_subscription: int | None = None) -> list[PlannedDelivery]:
    """Who a push would reach (the dry run): active subscriptions with a sector in the issue."""
    issue = store.get_issue(issue_id)
    if issue is None:
        raise DeliveryError(f"issue {issue_id} does not exist")
    existing = {
        d.subscription_id: d.status
        for d in outbox.list_deliveries(store.engine, issue_id=issue_id, limit=None)
    }
    subs = store.active_subscriptions()
    if to_subscription is not None:
        subs = [s for s in subs if s.id == to_subscription]
    planned = []
    for s in subs:
        keys = store.catalogue.received(s.sectors, issue.sectors)
        if keys:
            planned.append(PlannedDelivery(s.id, s.chat, keys, existing.get(s.id, "")))
    return planned


async def push(
    settings: Settings,
    store: Store,
    transports: Mapping[str, Transport],
    *,
    issue_id: int | None = None,
    sector: str | None = None,
    to_subscription: int | None = None,
    dry_run: bool = False,
    progress: Callable[[EngineStats], None] | None = None,
    wait: float = PUSH_WAIT_SECONDS,
    on_plan: Callable[[int], None] | None = None,
) -> PushResult:
    """Enqueue an issue now (ignoring schedules) and deliver it in the foreground.

    ``sector`` only narrows *which subscriptions* are pushed (those subscribed to it): the
    delivery table has one row per (issue, subscription), so a subscriber gets their whole
    digest once, never one sector now and the rest again later.
    """
    issue = store.get_issue(issue_id) if issue_id is not None else store.latest_issue()
    if issue is None:
        raise DeliveryError(
            "there is no issue to push" if issue_id is None else f"issue {issue_id} does not exist"
        )
    planned = plan(store, issue.id, to_subscription=to_subscription)
    if sector is not None:
        planned = [p for p in planned if sector in p.sectors]
    if to_subscription is not None and not planned:
        raise DeliveryError(
            f"subscription {to_subscription} is not active or has no sector in issue {issue.id}"
        )
    if dry_run:
        return PushResult(issue.id, 0, planned)
    ids = [p.subscription_id for p in planned]
    if on_plan is not None:
        on_plan(len(planned))
    enqueued = outbox.enqueue_now(store.engine, issue.id, now=_now(), subscription_ids=ids) if ids else 0
    engine = DeliveryEngine(settings, store, transports)
    # Waits out retries (a platform outage) and the queue's other workers, up to ``wait`` s.
    stats = await engine.drain(wait_retries=wait, deadline=wait, progress=progress)
    now = _now()
    live = liveness.live_owners(store.engine)
    others = {
        lease.platform: lease.owner
        for lease in senders.holders(store.engine)
        if lease.live(now)
        and lease.owner != engine.owner
        and lease.platform in transports
        and lease.owner in live
    }
    counts = outbox.count_by_status(store.engine, issue_id=issue.id)
    result = PushResult(issue.id, enqueued, planned, stats, counts, others)
    result.problems = _problems(store, issue.id, ids, stats, others, wait)
    return result


def _problems(
    store: Store,
    issue_id: int,
    sub_ids: Sequence[int],
    stats: EngineStats,
    others: Mapping[str, str],
    wait: float,
) -> list[str]:
    """One line per kind of reason the pushed subscriptions did not all get the issue."""
    wanted = set(sub_ids)
    rows = [
        d
        for d in outbox.list_deliveries(store.engine, issue_id=issue_id, limit=None)
        if d.subscription_id in wanted
    ]
    out: list[str] = []
    for platform, why in sorted(stats.paused.items()):
        out.append(
            f"{platform}: paused, the bot token is refused ({why}); no subscription was changed — "
            "fix the token, then run push again"
        )
    failed: dict[str, int] = {}
    for d in rows:
        if d.status == outbox.FAILED:
            key = d.last_error.split(":", 1)[0] if d.last_error.startswith("gave up") else d.last_error
            failed[key or "unknown error"] = failed.get(key or "unknown error", 0) + 1
    for why, n in sorted(failed.items(), key=lambda kv: -kv[1]):
        out.append(f"failed={n}: {why} (see `briefcast deliveries --status failed --issue {issue_id}`)")
    waiting = [d for d in rows if d.status in (outbox.PENDING, outbox.CLAIMED)]
    if waiting and not others and not stats.paused:
        last = next((d.last_error for d in waiting if d.last_error), "")
        tail = f"; last error: {last}" if last else ""
        out.append(
            f"pending={len(waiting)}: not delivered within --wait {wait:.0f} s{tail}; "
            "a running worker or the next push delivers them"
        )
    return out


def list_deliveries(
    store: Store, *, status: str | None = None, issue_id: int | None = None, limit: int | None = 100
) -> list[DeliveryRecord]:
    """Deliveries newest first (``briefcast deliveries [--status] [--issue]``)."""
    if status is not None and status not in outbox.STATUSES:
        raise DeliveryError(f"status must be one of {', '.join(outbox.STATUSES)}")
    return outbox.list_deliveries(store.engine, status=status, issue_id=issue_id, limit=limit)


def retry_failed(store: Store, *, issue_id: int | None = None) -> int:
    """Re-queue dead-lettered deliveries of still-active subscriptions; returns how many."""
    return outbox.retry_failed(store.engine, now=_now(), issue_id=issue_id)


def subs_list(
    store: Store, *, platform: str | None = None, after: int = 0, limit: int | None = None
) -> list[SubscriptionRecord]:
    """Active subscriptions (``briefcast subs list``), one page of ``limit`` after id ``after``."""
    return store.active_subscriptions(platform, after=after, limit=limit)


def subs_add(
    store: Store,
    ref: ChatRef,
    sectors: Sequence[str],
    *,
    kind: str = "",
    time: str | None = None,
    timezone: str | None = None,
    mode: str | None = None,
    days: str | None = None,
) -> SubscriptionRecord:
    """Subscribe a chat as an operator (``briefcast subs add``); the chat is created if unknown.
    ``days``: weekday words (``"mon,wed,fri"``, ``"weekdays"``, ``"daily"``), None keeps them."""
    if kind:
        store.upsert_chat(ref, kind=kind)
    return store.subscribe(
        ref, sectors, time=time, timezone=timezone, mode=mode, created_by="operator", days=days
    )


def subs_remove(
    store: Store, ref: ChatRef, sectors: Sequence[str] | None = None
) -> SubscriptionRecord | None:
    """Unsubscribe a chat from some or all sectors (``briefcast subs remove``)."""
    return store.unsubscribe(ref, sectors)


async def run_worker(
    settings: Settings,
    store: Store,
    stop: asyncio.Event,
    *,
    transports: Mapping[str, Transport] | None = None,
    with_scheduler: bool = True,
) -> EngineStats:
    """``briefcast worker``: the delivery engine (and the slot scheduler) until ``stop`` is set."""
    from briefcast.delivery.transports import build_transports
    from briefcast.schedule import Scheduler

    own = transports is None
    tps = dict(transports) if transports is not None else build_transports(settings, engine=store.engine)
    if not tps:
        raise DeliveryError("no platform is configured: set TELEGRAM_BOT_TOKEN and/or SLACK_BOT_TOKEN")
    engine = DeliveryEngine(settings, store, tps)
    scheduler = Scheduler(settings, store, engine) if with_scheduler else None
    if scheduler is not None:
        scheduler.start()
    try:
        return await engine.run(stop)
    finally:
        if scheduler is not None:
            scheduler.shutdown()
        if own:
            for t in tps.values():
                await t.close()
