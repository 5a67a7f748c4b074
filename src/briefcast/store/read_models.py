"""Read models of the operator dashboard: deliveries with their chats, counts, failure reasons.

Read-only joins of deliveries, subscriptions, watchers and chats (:mod:`briefcast.store.schema`),
returned as plain dataclasses, so the templates never touch ORM rows and a page costs a fixed
number of queries.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from briefcast.store import schema
from briefcast.store.schema import FAILED, PLATFORMS, SKIPPED, STATUSES
from briefcast.store.store import Store
from briefcast.store.tables import utc


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A delivery with the chat it goes to."""

    id: int
    issue_id: int
    subscription_id: int | None  # None: a watch alert
    status: str
    attempts: int
    parts_sent: int
    parts_total: int
    last_error: str
    updated_at: datetime | None
    sent_at: datetime | None
    platform: str
    chat_id: str
    chat_title: str
    kind: str = "digest"  # digest | watch | correction
    detail: tuple[str, ...] = ()  # correction: what each part did (edited, unchanged, notice)


def _destinations() -> Any:
    """``delivery`` joined to its chat through its subscription or (watch alerts) its watcher."""
    source = (
        schema.deliveries.outerjoin(
            schema.subscriptions, schema.subscriptions.c.id == schema.deliveries.c.subscription_id
        )
        .outerjoin(schema.watchers, schema.watchers.c.id == schema.deliveries.c.watcher_id)
        .join(
            schema.chats,
            schema.chats.c.id == sa.func.coalesce(schema.subscriptions.c.chat_id, schema.watchers.c.chat_id),
        )
    )
    return source


@dataclass(frozen=True, slots=True)
class InactiveSubscription:
    id: int
    platform: str
    chat_id: str
    chat_title: str
    sectors: tuple[str, ...]
    reason: str
    updated_at: datetime | None


def deliveries(
    store: Store,
    *,
    status: str | None = None,
    issue_id: int | None = None,
    platform: str | None = None,
    limit: int = 200,
) -> list[DeliveryRow]:
    """Newest first, with the destination chat (digests, watch alerts, corrections)."""
    source = _destinations()
    q = (
        sa.select(
            schema.deliveries.c.id,
            schema.deliveries.c.issue_id,
            schema.deliveries.c.subscription_id,
            schema.deliveries.c.status,
            schema.deliveries.c.attempts,
            schema.deliveries.c.parts_sent,
            schema.deliveries.c.parts_total,
            schema.deliveries.c.last_error,
            schema.deliveries.c.updated_at,
            schema.deliveries.c.sent_at,
            schema.chats.c.platform,
            schema.chats.c.external_id.label("chat_id"),
            schema.chats.c.title.label("chat_title"),
            schema.deliveries.c.kind,
            schema.deliveries.c.detail,
        )
        .select_from(source)
        .order_by(schema.deliveries.c.id.desc())
        .limit(limit)
    )
    if status:
        q = q.where(schema.deliveries.c.status == status)
    if issue_id is not None:
        q = q.where(schema.deliveries.c.issue_id == issue_id)
    if platform:
        q = q.where(schema.chats.c.platform == platform)
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for r in rows:
        r["last_error"] = str(r["last_error"] or "")
        r["chat_title"] = str(r["chat_title"] or "")
        r["updated_at"], r["sent_at"] = utc(r["updated_at"]), utc(r["sent_at"])
        r["kind"] = str(r["kind"] or "digest")
        r["detail"] = tuple(str(x) for x in (r["detail"] or ()))
    return [DeliveryRow(**r) for r in rows]


def delivery_counts(store: Store, *, issue_id: int | None = None) -> dict[str, dict[str, int]]:
    """``{platform: {status: n}}`` with every known platform and status present (zeros included)."""
    out = {p: dict.fromkeys(STATUSES, 0) for p in PLATFORMS}
    # One table: the delivery carries its chat's platform (revision 0008), so a million rows are
    # one scan and a tiny aggregate, not a three-way hash join spilling to disk.
    q = sa.select(schema.deliveries.c.platform, schema.deliveries.c.status, sa.func.count()).group_by(
        schema.deliveries.c.platform, schema.deliveries.c.status
    )
    if issue_id is not None:
        q = q.where(schema.deliveries.c.issue_id == issue_id)
    with store.engine.connect() as conn:
        for platform, status, n in conn.execute(q):
            out.setdefault(str(platform), dict.fromkeys(STATUSES, 0))[str(status)] = int(n)
    return out


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """What ``/metrics`` reports of the queue: pending rows due now, pending in all, and active
    subscriptions (of active chats) by platform."""

    due: int
    pending: int
    active_subscriptions: dict[str, int]


def queue_counts(store: Store, *, now: datetime) -> QueueCounts:
    """Pending deliveries due at ``now`` and in all, active subscriptions by platform (three counts)."""
    d, s, c = schema.deliveries, schema.subscriptions, schema.chats
    pending = d.c.status == schema.PENDING
    with store.engine.connect() as conn:
        due = conn.execute(
            sa.select(sa.func.count())
            .select_from(d)
            .where(pending, sa.or_(d.c.next_attempt_at.is_(None), d.c.next_attempt_at <= now))
        ).scalar_one()
        waiting = conn.execute(sa.select(sa.func.count()).select_from(d).where(pending)).scalar_one()
        subs = conn.execute(
            sa.select(c.c.platform, sa.func.count())
            .select_from(s.join(c, c.c.id == s.c.chat_id))
            .where(s.c.active.is_(True), c.c.active.is_(True))
            .group_by(c.c.platform)
        ).all()
    return QueueCounts(int(due), int(waiting), {str(p): int(n) for p, n in subs})


def failure_reasons(store: Store, *, limit: int = 20) -> list[tuple[str, int]]:
    """The most common ``last_error`` of failed and skipped deliveries, with counts."""
    q = (
        sa.select(schema.deliveries.c.last_error, sa.func.count())
        .where(schema.deliveries.c.status.in_([FAILED, SKIPPED]))
        .group_by(schema.deliveries.c.last_error)
        .order_by(sa.func.count().desc())
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return [(str(reason or "(no reason recorded)"), int(n)) for reason, n in conn.execute(q)]


def inactive_subscriptions(store: Store, *, limit: int = 100) -> list[InactiveSubscription]:
    """Subscriptions switched off (unsubscribed, bot blocked or kicked), with the recorded reason."""
    q = (
        sa.select(
            schema.subscriptions.c.id,
            schema.chats.c.platform,
            schema.chats.c.external_id,
            schema.chats.c.title,
            schema.subscriptions.c.sectors,
            schema.subscriptions.c.reason,
            schema.subscriptions.c.updated_at,
            schema.chats.c.active.label("chat_active"),
            schema.chats.c.deactivated_reason,
        )
        .select_from(
            schema.subscriptions.join(schema.chats, schema.chats.c.id == schema.subscriptions.c.chat_id)
        )
        # Filter subscriptions first (their own flag, or a chat among the few inactive ones): an OR
        # across the joined tables made PostgreSQL join every subscription to its chat first.
        .where(
            sa.or_(
                schema.subscriptions.c.active.is_(False),
                schema.subscriptions.c.chat_id.in_(
                    sa.select(schema.chats.c.id).where(schema.chats.c.active.is_(False))
                ),
            )
        )
        .order_by(schema.subscriptions.c.updated_at.desc())
        .limit(limit)
    )
    with store.engine.connect() as conn:
        rows = list(conn.execute(q))
    return [
        InactiveSubscription(
            id=int(r.id),
            platform=str(r.platform),
            chat_id=str(r.external_id),
            chat_title=str(r.title or ""),
            sectors=tuple(r.sectors or ()),
            reason=str(r.reason or r.deactivated_reason or ("chat inactive" if not r.chat_active else "")),
            updated_at=utc(r.updated_at),
        )
        for r in rows
    ]


def sector_counts(subscriptions: list[tuple[str, tuple[str, ...]]]) -> dict[str, dict[str, int]]:
    """``{sector: {platform: n}}`` from ``(platform, sectors)`` pairs."""
    counts: dict[str, Counter[str]] = {}
    for platform, sectors in subscriptions:
        for sector in sectors:
            counts.setdefault(sector, Counter())[platform] += 1
    return {k: dict(v) for k, v in sorted(counts.items())}
