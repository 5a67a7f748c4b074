"""Operator and idle-wait queries: list and count deliveries, retry the failed, the next due time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from briefcast.store.db import writer
from briefcast.store.outbox.common import (
    ENQUEUE_BATCH,
    PAUSED_PREFIX,
    Conds,
    id_in,
    index_order,
    on_platforms,
)
from briefcast.store.records import DeliveryRecord
from briefcast.store.schema import (
    CLAIMED,
    FAILED,
    PENDING,
    STATUSES,
    chats,
    deliveries,
    subscriptions,
    watchers,
)
from briefcast.store.tables import as_utc, utc


def delivery_record(r: Any) -> DeliveryRecord:
    """A ``delivery`` row (Core or ORM) as a :class:`DeliveryRecord`."""
    return DeliveryRecord(
        id=int(r.id), issue_id=int(r.issue_id), status=str(r.status),
        subscription_id=None if r.subscription_id is None else int(r.subscription_id),
        kind=str(r.kind or "digest"), watcher_id=None if r.watcher_id is None else int(r.watcher_id),
        corrects_id=None if r.corrects_id is None else int(r.corrects_id),
        detail=tuple(str(x) for x in (r.detail or ())),
        attempts=int(r.attempts), next_attempt_at=utc(r.next_attempt_at),
        lease_owner=str(r.lease_owner or ""),
        lease_until=utc(r.lease_until), parts_total=int(r.parts_total), parts_sent=int(r.parts_sent),
        message_ids=tuple(str(m) for m in (r.message_ids or ())), last_error=str(r.last_error or ""),
        created_at=utc(r.created_at) or datetime.now(UTC), updated_at=utc(r.updated_at) or datetime.now(UTC),
        sent_at=utc(r.sent_at),
    )  # fmt: skip


def list_deliveries(
    engine: Engine,
    *,
    status: str | None = None,
    issue_id: int | None = None,
    subscription_id: int | None = None,
    limit: int | None = 100,
) -> list[DeliveryRecord]:
    """Deliveries newest first, optionally filtered (the ``briefcast deliveries`` command)."""
    q = sa.select(deliveries)
    if status:
        q = q.where(deliveries.c.status == status)
    if issue_id is not None:
        q = q.where(deliveries.c.issue_id == issue_id)
    if subscription_id is not None:
        q = q.where(deliveries.c.subscription_id == subscription_id)
    q = q.order_by(deliveries.c.id.desc())
    if limit:
        q = q.limit(limit)
    with engine.connect() as conn:
        return [delivery_record(r) for r in conn.execute(q)]


def count_for(engine: Engine, issue_id: int, subscription_ids: Sequence[int]) -> int:
    """How many of ``subscription_ids`` have a delivery of ``issue_id`` (queued, sent, failed...)."""
    ids = sorted({int(i) for i in subscription_ids})
    total = 0
    with engine.connect() as conn:
        for start in range(0, len(ids), ENQUEUE_BATCH):
            part = id_in(
                ids[start : start + ENQUEUE_BATCH], engine.dialect.name, deliveries.c.subscription_id
            )
            count = (
                sa.select(sa.func.count())
                .select_from(deliveries)
                .where(deliveries.c.issue_id == issue_id, part)
            )
            total += int(conn.execute(count).scalar_one())
    return total


def count_by_status(engine: Engine, *, issue_id: int | None = None) -> dict[str, int]:
    """``{"pending": n, "sent": m, ...}`` (progress bars, health checks)."""
    q = sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)
    if issue_id is not None:
        q = q.where(deliveries.c.issue_id == issue_id)
    with engine.connect() as conn:
        counts = {str(s): int(n) for s, n in conn.execute(q)}
    return {s: counts.get(s, 0) for s in STATUSES}


def retry_failed(engine: Engine, *, now: datetime, issue_id: int | None = None) -> int:
    """Put dead-lettered deliveries back in the queue (attempts reset); progress per part is kept.

    Digests, roll-ups and corrections of still-active subscriptions, and keyword-watch alerts of
    watchers that still exist in an active chat (a watcher removed with ``/unwatch`` is gone)."""
    now = as_utc(now)
    q = sa.update(deliveries).where(deliveries.c.status == FAILED)
    if issue_id is not None:
        q = q.where(deliveries.c.issue_id == issue_id)
    subscribed = (
        sa.select(sa.literal(1))
        .select_from(subscriptions.join(chats, chats.c.id == subscriptions.c.chat_id))
        .where(
            subscriptions.c.id == deliveries.c.subscription_id,
            subscriptions.c.active.is_(True),
            chats.c.active.is_(True),
        )
        .exists()
    )
    watching = (
        sa.select(sa.literal(1))
        .select_from(watchers.join(chats, chats.c.id == watchers.c.chat_id))
        .where(watchers.c.id == deliveries.c.watcher_id, chats.c.active.is_(True))
        .exists()
    )
    active = sa.or_(subscribed, watching)
    with writer(engine).begin() as conn:
        res = conn.execute(
            q.where(active).values(
                status=PENDING, attempts=0, next_attempt_at=now, updated_at=now, lease_owner=""
            )
        )
    return int(res.rowcount or 0)


def next_due_at(
    engine: Engine, *, platforms: Sequence[str] | None = None, skip_paused: bool = False
) -> datetime | None:
    """When the next queued work becomes due: a pending retry, or an expired lease to reclaim.

    ``platforms``: only deliveries to those platforms count (a Telegram-only worker draining the
    queue must not wait for Slack rows it can never send).
    """
    on: Conds = [] if platforms is None else [on_platforms(platforms)]
    waiting: Conds = [~deliveries.c.last_error.startswith(PAUSED_PREFIX)] if skip_paused else []
    with engine.connect() as conn:
        index_order(conn)  # the earliest pending row by walking the index, not by reading them all
        pending = conn.execute(
            sa.select(deliveries.c.next_attempt_at)
            .where(deliveries.c.status == PENDING, deliveries.c.next_attempt_at.is_not(None), *on, *waiting)
            .order_by(deliveries.c.next_attempt_at)
            .limit(1)
        ).scalar()
        leased = conn.execute(
            sa.select(sa.func.min(deliveries.c.lease_until)).where(deliveries.c.status == CLAIMED, *on)
        ).scalar()
    times = [t for t in (utc(pending), utc(leased)) if t is not None]
    return min(times) if times else None
