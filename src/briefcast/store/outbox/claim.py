"""Claim: take due outbox rows under a lease, renew it, reclaim expired leases, give claims back.

Claiming differs per database:

* PostgreSQL: ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n) RETURNING`` —
  concurrent workers skip each other's rows instead of waiting or double-claiming;
* SQLite: the same statement without ``FOR UPDATE`` (SQLAlchemy omits it); SQLite's single
  writer lock (``BEGIN IMMEDIATE``) makes it atomic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from briefcast.store.db import writer
from briefcast.store.outbox.common import Conds, back_to_pending, index_order, on_platforms
from briefcast.store.schema import CLAIMED, PENDING, chats, deliveries, subscriptions, watchers, watches
from briefcast.store.tables import as_utc


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed delivery with everything the engine needs to render and send it.

    ``kind`` is ``digest``, ``watch`` (``words`` are the watcher's phrases; ``subscription_id``
    is 0 and ``sectors`` empty) or ``correction`` (``edit_ids`` are the message ids of the
    delivery it corrects, ``corrects_id``). ``silent`` / ``previews`` are the subscription's
    ``/settings`` (a watch alert takes those of the chat's subscription in the same thread).
    """

    id: int
    issue_id: int
    subscription_id: int
    attempts: int
    parts_total: int
    parts_sent: int
    message_ids: tuple[str, ...]
    sectors: tuple[str, ...]
    variant: str
    thread_id: str
    chat_pk: int
    platform: str
    chat_id: str
    workspace: str
    chat_kind: str
    language: str | None
    active: bool
    reason: str
    kind: str = "digest"
    silent: bool = False
    previews: bool = False
    watcher_id: int | None = None
    words: tuple[str, ...] = ()
    corrects_id: int | None = None
    edit_ids: tuple[str, ...] = ()
    detail: tuple[str, ...] = ()
    mode: str = ""  # the subscription's: scheduled | publish
    timezone: str = ""
    quiet: str = ""  # /quiet "22:00-07:00" in ``timezone``: on-publish pushes wait until it ends


def claim(
    engine: Engine,
    owner: str,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    platforms: Sequence[str] | None = None,
    lease_now: datetime | None = None,
) -> list[Claimed]:
    """Claim up to ``limit`` due pending deliveries for ``owner`` until ``lease_now + lease``.

    ``now`` decides what is due (a test's or the playground's clock may be ahead); the lease is
    always stamped from ``lease_now``, the real clock by default, so a lease written on a shifted
    clock can never outlive its owner by hours. ``platforms`` restricts the claim to
    subscriptions on those platforms (a worker without a Slack token must not take Slack rows).
    """
    now = as_utc(now)
    lease_from = as_utc(lease_now) if lease_now is not None else datetime.now(UTC)
    conds: Conds = [deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= now]
    if platforms is not None:
        # The delivery's own platform column (revision 0008). Earlier: ``subscription_id IN (every
        # subscription on the platform)`` (44 ms per claim at 100k pending on SQLite), then a
        # correlated EXISTS per candidate (199 ms per claim at 100k on PostgreSQL, issue 14).
        conds.append(on_platforms(platforms))
    due = (
        sa.select(deliveries.c.id)
        .where(*conds)
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        sa.update(deliveries)
        .where(deliveries.c.id.in_(due.scalar_subquery()))
        .values(status=CLAIMED, lease_owner=owner, lease_until=lease_from + lease, updated_at=now)
        .returning(
            deliveries.c.id,
            deliveries.c.issue_id,
            deliveries.c.subscription_id,
            deliveries.c.attempts,
            deliveries.c.parts_total,
            deliveries.c.parts_sent,
            deliveries.c.message_ids,
            deliveries.c.kind,
            deliveries.c.watcher_id,
            deliveries.c.corrects_id,
            deliveries.c.detail,
        )
    )
    with writer(engine).begin() as conn:
        index_order(conn)
        rows = conn.execute(stmt).all()
        if not rows:
            return []
        sub_ids = {int(r.subscription_id) for r in rows if r.subscription_id is not None}
        subs = _claimed_subscriptions(conn, sub_ids) if sub_ids else {}
        watcher_ids = {int(r.watcher_id) for r in rows if r.watcher_id is not None}
        by_watcher = _claimed_watchers(conn, watcher_ids) if watcher_ids else {}
        corrected_ids = {int(r.corrects_id) for r in rows if r.corrects_id is not None}
        originals: dict[int, tuple[str, ...]] = {}
        if corrected_ids:
            for o in conn.execute(
                sa.select(deliveries.c.id, deliveries.c.message_ids).where(deliveries.c.id.in_(corrected_ids))
            ):
                originals[int(o.id)] = tuple(str(m) for m in (o.message_ids or ()))
    out: list[Claimed] = []
    for r in sorted(rows, key=lambda r: int(r.id)):
        if r.watcher_id is not None:
            s, words = by_watcher[int(r.watcher_id)]
        else:
            s, words = subs[int(r.subscription_id)], ()
        active = bool(s.active) and bool(s.chat_active)
        corrects = None if r.corrects_id is None else int(r.corrects_id)
        out.append(
            Claimed(
                id=int(r.id), issue_id=int(r.issue_id), subscription_id=int(r.subscription_id or 0),
                attempts=int(r.attempts), parts_total=int(r.parts_total), parts_sent=int(r.parts_sent),
                message_ids=tuple(str(m) for m in (r.message_ids or ())), sectors=tuple(s.sectors or ()),
                variant=str(s.variant or ""), thread_id=str(s.thread_id or ""), chat_pk=int(s.chat_pk),
                platform=str(s.platform), chat_id=str(s.external_id), workspace=str(s.workspace or ""),
                chat_kind=str(s.kind or ""), language=s.language, active=active,
                reason=str(s.reason or s.deactivated_reason or ""), kind=str(r.kind or "digest"),
                silent=bool(s.silent), previews=bool(s.previews),
                watcher_id=None if r.watcher_id is None else int(r.watcher_id), words=words,
                corrects_id=corrects, edit_ids=originals.get(corrects, ()) if corrects is not None else (),
                detail=tuple(str(x) for x in (r.detail or ())),
                mode=str(s.mode or ""), timezone=str(s.timezone or ""), quiet=str(s.quiet or ""),
            )
        )  # fmt: skip
    return out


def _chat_columns() -> tuple[Any, ...]:
    """What a claimed row needs of its chat (subscription digests and watch alerts alike)."""
    return (
        chats.c.id.label("chat_pk"),
        chats.c.platform,
        chats.c.external_id,
        chats.c.workspace,
        chats.c.kind,
        chats.c.language,
        chats.c.active.label("chat_active"),
        chats.c.deactivated_reason,
    )


def _claimed_subscriptions(conn: sa.Connection, ids: set[int]) -> dict[int, Any]:
    """The subscriptions (and their chats) of claimed digest and correction rows."""
    q = (
        sa.select(
            subscriptions.c.id,
            subscriptions.c.sectors,
            subscriptions.c.variant,
            subscriptions.c.thread_id,
            subscriptions.c.active,
            subscriptions.c.reason,
            subscriptions.c.silent,
            subscriptions.c.previews,
            subscriptions.c.mode,
            subscriptions.c.timezone,
            subscriptions.c.quiet,
            *_chat_columns(),
        )
        .select_from(subscriptions.join(chats, chats.c.id == subscriptions.c.chat_id))
        .where(subscriptions.c.id.in_(ids))
    )
    return {int(r.id): r for r in conn.execute(q).all()}


@dataclass(frozen=True, slots=True)
class _WatcherTarget:
    sectors: tuple[str, ...]
    variant: str
    thread_id: str
    active: bool
    reason: str
    silent: bool
    previews: bool
    mode: str
    timezone: str
    quiet: str
    chat_pk: int
    platform: str
    external_id: str
    workspace: str
    kind: str
    language: str | None
    chat_active: bool
    deactivated_reason: str


def _claimed_watchers(conn: sa.Connection, ids: set[int]) -> dict[int, tuple[Any, tuple[str, ...]]]:
    """The watchers of claimed watch rows: their chat, their words, and the settings of the
    chat's subscription in the same thread (silent / previews), if it has one."""
    sub = subscriptions.alias("same_thread")
    q = (
        sa.select(
            watchers.c.id,
            watchers.c.thread_id,
            *_chat_columns(),
            sub.c.silent,
            sub.c.previews,
            sub.c.timezone,
            sub.c.quiet,
        )
        .select_from(
            watchers.join(chats, chats.c.id == watchers.c.chat_id).outerjoin(
                sub, sa.and_(sub.c.chat_id == watchers.c.chat_id, sub.c.thread_id == watchers.c.thread_id)
            )
        )
        .where(watchers.c.id.in_(ids))
    )
    words: dict[int, list[str]] = {}
    for w in conn.execute(
        sa.select(watches.c.watcher_id, watches.c.phrase)
        .where(watches.c.watcher_id.in_(ids))
        .order_by(watches.c.id)
    ):
        words.setdefault(int(w.watcher_id), []).append(str(w.phrase))
    out: dict[int, tuple[Any, tuple[str, ...]]] = {}
    for r in conn.execute(q).all():
        target = _WatcherTarget(
            sectors=(), variant="", thread_id=str(r.thread_id or ""), active=True, reason="",
            silent=bool(r.silent), previews=bool(r.previews), chat_pk=int(r.chat_pk),
            mode="publish", timezone=str(r.timezone or ""), quiet=str(r.quiet or ""),
            platform=str(r.platform), external_id=str(r.external_id), workspace=str(r.workspace or ""),
            kind=str(r.kind or ""), language=r.language, chat_active=bool(r.chat_active),
            deactivated_reason=str(r.deactivated_reason or ""),
        )  # fmt: skip
        out[int(r.id)] = (target, tuple(words.get(int(r.id), ())))
    return out


def renew(engine: Engine, owner: str, ids: Iterable[int], *, until: datetime) -> int:
    """Extend the lease of rows this worker still holds (long waits on slow group limits)."""
    id_list = list(ids)
    if not id_list:
        return 0
    with writer(engine).begin() as conn:
        res = conn.execute(
            sa.update(deliveries)
            .where(
                deliveries.c.id.in_(id_list),
                deliveries.c.lease_owner == owner,
                deliveries.c.status == CLAIMED,
            )
            .values(lease_until=as_utc(until))
        )
    return int(res.rowcount or 0)


def reclaim_expired(engine: Engine, *, now: datetime) -> int:
    """Return rows whose worker died (lease expired) to ``pending``; the crash counts as an attempt."""
    now = as_utc(now)
    with writer(engine).begin() as conn:
        res = conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.status == CLAIMED, deliveries.c.lease_until < now)
            .values(**back_to_pending(now, "lease expired: the worker stopped mid-delivery"))
        )
    return int(res.rowcount or 0)


def release(engine: Engine, owner: str, ids: Iterable[int], *, now: datetime) -> int:
    """Give unsent claims back on a clean shutdown so another worker can take them at once."""
    id_list = list(ids)
    if not id_list:
        return 0
    now = as_utc(now)
    with writer(engine).begin() as conn:
        res = conn.execute(
            sa.update(deliveries)
            .where(
                deliveries.c.id.in_(id_list),
                deliveries.c.lease_owner == owner,
                deliveries.c.status == CLAIMED,
            )
            .values(status=PENDING, lease_owner="", lease_until=None, next_attempt_at=now, updated_at=now)
        )
    return int(res.rowcount or 0)
