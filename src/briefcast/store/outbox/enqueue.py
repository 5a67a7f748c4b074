"""Enqueue: insert the outbox rows of due daily slots, on-publish pushes, weekly roll-ups and operator pushes.

Every pass inserts in committed batches of primary-key ranges of subscriptions (see
:func:`_enqueue_group`), so its cost is linear in the slot's size whatever the planner believes,
and the engine starts sending the first batch while the rest is still being enqueued.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from briefcast.slots import decide_publish, decide_rollup, decide_slot, parse_hhmm
from briefcast.store.db import writer
from briefcast.store.outbox.common import ENQUEUE_BATCH, ROLLUP, Conds, OnBatch, id_in, insert_delivery
from briefcast.store.schema import PENDING, SKIPPED, chats, deliveries, issues, subscriptions
from briefcast.store.tables import as_utc, utc

ROLLUP_PREFIX = "rollup:"
#: Issues one roll-up lists at most (the newest ones; a daily briefing has seven a week).
ROLLUP_MAX_ISSUES = 31


@dataclass(frozen=True, slots=True)
class EnqueueResult:
    """Rows inserted by one enqueue pass: ``pending`` to send, ``skipped`` recorded as missed."""

    pending: int = 0
    skipped: int = 0
    issue_id: int | None = None


def _latest_issue(conn: sa.Connection, issue_id: int | None) -> sa.Row[Any] | None:
    q = sa.select(issues.c.id, issues.c.identity, issues.c.published_at).where(
        issues.c.status == "published", issues.c.published_at.is_not(None)
    )
    if issue_id is not None:
        q = q.where(issues.c.id == issue_id)
    return conn.execute(q.order_by(issues.c.published_at.desc(), issues.c.id.desc()).limit(1)).first()


def _behind(issue_id: int) -> Any:
    """The subscription's cursor is behind ``issue_id`` (it has not been given this issue yet)."""
    last = subscriptions.c.last_issue_id
    return sa.or_(last.is_(None), last < issue_id)


def _candidates(conn: sa.Connection, conds: Conds, limit: int | None = None) -> array[int]:
    """Ids of the subscriptions matching ``conds`` (single-table filters only), ascending.

    One scan of ``subscription`` (8 bytes per id: 8 MB for a million); every later statement of
    the pass touches one batch of these by primary key, so no plan depends on table statistics.
    """
    out: array[int] = array("q")
    # A server-side cursor on PostgreSQL (psycopg would buffer the whole result); sqlite3 streams.
    opts = {"stream_results": True} if conn.dialect.name == "postgresql" else {}
    result = conn.execution_options(**opts).execute(
        sa.select(subscriptions.c.id).where(*conds).order_by(subscriptions.c.id).limit(limit)
    )
    while part := result.fetchmany(20_000):
        out.extend(int(r[0]) for r in part)
    return out


def _chat_active() -> Any:
    """The subscription's chat is active — a correlated *scalar* subquery on purpose.

    An ``EXISTS`` may be planned as a hash semi-join that scans every chat once per batch; a
    scalar subquery is evaluated per subscription row through the primary key, whatever the
    planner's statistics say.
    """
    return sa.select(chats.c.active).where(chats.c.id == subscriptions.c.chat_id).scalar_subquery().is_(True)


def _insert_batch(
    conn: sa.Connection,
    issue_id: int,
    identity: str,
    conds: Conds,
    *,
    status: str,
    now: datetime,
    error: str,
    kind: str = "digest",
    detail: Sequence[str] | None = None,
) -> int:
    """``INSERT ... SELECT`` one delivery per subscription matching ``conds``; returns how many were new.

    ``ON CONFLICT DO NOTHING`` covers both unique constraints: (issue, subscription) and
    (subscription, identity) — a subscriber who has this issue, or another revision of it, keeps
    the row they have. This replaces the anti-join over deliveries of earlier versions, which
    PostgreSQL planned as a nested loop re-reading the rows the same statement inserted.
    """
    dialect = conn.dialect.name
    ts = sa.DateTime(timezone=True)

    def json_literal(value: str) -> Any:
        if dialect == "postgresql":
            return sa.cast(sa.literal(value), deliveries.c.message_ids.type)
        return sa.literal(value)

    empty_json = json_literal("[]")
    detail_json = (
        json_literal(json.dumps(list(detail), ensure_ascii=False)) if detail is not None else sa.null()
    )
    platform = sa.select(chats.c.platform).where(chats.c.id == subscriptions.c.chat_id).scalar_subquery()
    src = sa.select(
        sa.literal(issue_id), subscriptions.c.id, sa.literal(identity), platform, sa.literal(status),
        sa.literal(0), sa.literal(now, ts), sa.literal(""), sa.literal(0), sa.literal(0), empty_json,
        sa.literal(error), sa.literal(now, ts), sa.literal(now, ts), sa.literal(kind), detail_json,
    ).where(*conds)  # fmt: skip
    cols = [
        "issue_id", "subscription_id", "identity", "platform", "status", "attempts", "next_attempt_at",
        "lease_owner", "parts_total", "parts_sent", "message_ids", "last_error", "created_at", "updated_at",
        "kind", "detail",
    ]  # fmt: skip
    ins = insert_delivery(conn).from_select(cols, src).on_conflict_do_nothing()
    # RETURNING counts what was really inserted (rowcount is -1 for INSERT ... SELECT on psycopg).
    return len(conn.execute(ins.returning(deliveries.c.id)).all())


def _enqueue_group(
    engine: Engine,
    issue: sa.Row[Any],
    conds: Conds,
    *,
    status: str,
    now: datetime,
    error: str = "",
    batch_size: int = ENQUEUE_BATCH,
    on_batch: OnBatch | None = None,
    identity: str | None = None,
    kind: str = "digest",
    detail: Sequence[str] | None = None,
) -> int:
    """Enqueue ``issue`` for the active subscriptions matching ``conds``, one committed batch at a time.

    ``identity`` / ``kind`` / ``detail`` default to a digest of the issue (a weekly roll-up passes
    its own: one row per subscription and roll-up slot).

    The candidates are read once (one scan); then each batch is a primary-key range of at most
    ``batch_size`` of them: the insert and the cursor update both read only that range, and the
    chat's ``active`` flag through the chat's primary key. The cost of a slot is therefore linear
    in its size whatever the planner believes about the tables, and locks are held per batch.
    """
    iid = int(issue.id)
    identity = str(issue.identity) if identity is None else identity
    active = subscriptions.c.active.is_(True)
    total = 0
    # The first batch is read on its own and sent on its way before the rest of the candidates
    # are read: the first message of a million-subscriber slot must not wait for a full scan.
    after = 0
    first: int | None = batch_size
    while True:
        with engine.connect() as conn:
            ids = _candidates(conn, [active, *conds, subscriptions.c.id > after], limit=first)
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            scope = [subscriptions.c.id.between(chunk[0], chunk[-1]), active, *conds, _chat_active()]
            with writer(engine).begin() as conn:
                n = _insert_batch(
                    conn, iid, identity, scope, status=status, now=now, error=error, kind=kind, detail=detail
                )
                cursor = (
                    sa.update(subscriptions)
                    .where(*scope, _behind(iid))
                    .values(last_issue_id=iid, updated_at=now)
                )
                conn.execute(cursor)
            total += n
            if n and on_batch is not None:
                on_batch(n)
        if first is None or len(ids) < first:
            return total
        after, first = ids[-1], None


def _slot_groups(engine: Engine, mode: str, *conds: Any) -> list[tuple[Any, str, int]]:
    """The distinct ``(time, timezone, days)`` slots of the active ``mode`` subscriptions matching
    ``conds``: the slot decision is made once per slot, not once per subscriber."""
    s = subscriptions.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(s.time, s.timezone, s.days)
            .where(s.active.is_(True), s.mode == mode, *conds)
            .group_by(s.time, s.timezone, s.days)
        ).all()
    return [(at, str(tz_name), int(days)) for at, tz_name, days in rows]


def _in_slot(mode: str, at: Any, tz_name: str, days: int) -> Conds:
    """The ``mode`` subscriptions of one slot found by :func:`_slot_groups`."""
    s = subscriptions.c
    return [s.mode == mode, s.time == at, s.timezone == tz_name, s.days == days]


def enqueue_due(
    engine: Engine,
    *,
    now: datetime,
    grace: timedelta,
    issue_id: int | None = None,
    batch_size: int = ENQUEUE_BATCH,
    on_batch: OnBatch | None = None,
) -> EnqueueResult:
    """Insert the delivery rows whose slot has come for the latest published issue.

    ``issue_id`` given (the on-publish hook) restricts the pass to that issue; otherwise the
    latest published issue is used. Scheduled subscriptions are grouped by (time, timezone, days), so
    the decision is per distinct slot, not per subscriber. Rows are inserted in committed batches
    of ``batch_size`` subscriptions; ``on_batch(n)`` is called after each batch that added ``n``
    pending rows (the scheduler wakes the engine with it). Idempotent: runs on every replica.
    """
    now = as_utc(now)
    pending = skipped = 0
    with engine.connect() as conn:
        issue = _latest_issue(conn, issue_id)
    if issue is None:
        return EnqueueResult()
    iid, published = int(issue.id), utc(issue.published_at)
    assert published is not None
    behind = _behind(iid)
    notify = on_batch

    def group(conds: Conds, what: str, why: str) -> None:
        nonlocal pending, skipped
        if what == "send":
            pending += _enqueue_group(engine, issue, conds, status=PENDING, now=now, batch_size=batch_size,
                                      on_batch=notify)  # fmt: skip
        else:
            skipped += _enqueue_group(engine, issue, conds, status=SKIPPED, now=now, error=why,
                                      batch_size=batch_size)  # fmt: skip

    if issue_id is None:
        for at, tz_name, days in _slot_groups(engine, "scheduled", behind):
            what, slot = decide_slot(published, parse_hhmm(at), ZoneInfo(tz_name), now, grace, days)
            if what == "wait":
                continue
            why = f"missed slot {slot:%Y-%m-%d %H:%M}Z beyond the grace window"
            group([*_in_slot("scheduled", at, tz_name, days), behind], what, why)
        pending_r, skipped_r = _enqueue_rollups(engine, now=now, grace=grace, batch_size=batch_size,
                                                on_batch=notify)  # fmt: skip
        pending += pending_r
        skipped += skipped_r
    # On-publish subscriptions (after the slots: a due slot's first batch must not wait for this scan).
    why = f"published {published:%Y-%m-%d %H:%M}Z, beyond the grace window"
    group([subscriptions.c.mode == "publish", behind], decide_publish(published, now, grace), why)
    return EnqueueResult(pending, skipped, iid)


def rollup_identity(slot: datetime) -> str:
    """The delivery identity of a weekly roll-up: one per subscription and slot (``rollup:<UTC>``)."""
    return f"{ROLLUP_PREFIX}{as_utc(slot):%Y-%m-%dT%H:%MZ}"


def rollup_issue_ids(conn: sa.Connection, start: datetime, end: datetime) -> list[int]:
    """The issues a roll-up of ``(start, end]`` lists, oldest first: each issue *first* published in
    the window (a later revision does not bring an older issue back), as its newest published
    revision (a correction published since is what the reader gets)."""
    first = (
        sa.select(issues.c.identity, sa.func.min(issues.c.published_at).label("first"))
        .where(issues.c.status == "published", issues.c.published_at.is_not(None))
        .group_by(issues.c.identity)
        .subquery()
    )
    newest = (
        sa.select(issues.c.identity, sa.func.max(issues.c.id).label("id"))
        .where(issues.c.status == "published")
        .group_by(issues.c.identity)
        .subquery()
    )
    rows = conn.execute(
        sa.select(newest.c.id, first.c.first)
        .join(first, first.c.identity == newest.c.identity)
        .where(first.c.first > start, first.c.first <= end)
        .order_by(first.c.first.desc(), newest.c.id.desc())
        .limit(ROLLUP_MAX_ISSUES)
    ).all()
    return [int(r.id) for r in reversed(rows)]


def _enqueue_rollups(
    engine: Engine, *, now: datetime, grace: timedelta, batch_size: int, on_batch: OnBatch | None
) -> tuple[int, int]:
    """Weekly subscriptions: at each (time, timezone, days) slot, one roll-up row per subscription
    listing the issues first published since the previous slot (none: nothing is enqueued).

    The row points at the newest of those issues (the subscription's cursor moves to it, so a
    switch back to daily does not resend it); ``detail`` lists the issue ids. Idempotent: the
    identity ``rollup:<slot>`` is unique per subscription.
    """
    pending = skipped = 0
    for at, tz_name, days in _slot_groups(engine, "weekly"):
        what, start, slot = decide_rollup(parse_hhmm(at), ZoneInfo(tz_name), now, grace, days)
        with engine.connect() as conn:
            ids = rollup_issue_ids(conn, start, slot)
            issue = (
                conn.execute(sa.select(issues.c.id, issues.c.identity).where(issues.c.id == ids[-1])).first()
                if ids
                else None
            )
        if issue is None:
            continue
        conds = [*_in_slot("weekly", at, tz_name, days), _behind(int(issue.id))]
        common: dict[str, Any] = {
            "now": now, "batch_size": batch_size, "identity": rollup_identity(slot), "kind": ROLLUP,
            "detail": [str(i) for i in ids],
        }  # fmt: skip
        if what == "send":
            pending += _enqueue_group(engine, issue, conds, status=PENDING, on_batch=on_batch, **common)
        else:
            # only subscriptions that existed at the slot missed it (a new one just waits for its first)
            why = f"missed weekly slot {slot:%Y-%m-%d %H:%M}Z beyond the grace window"
            existed = [*conds, subscriptions.c.created_at <= slot]
            skipped += _enqueue_group(engine, issue, existed, status=SKIPPED, error=why, **common)
    return pending, skipped


def enqueue_now(
    engine: Engine,
    issue_id: int,
    *,
    now: datetime,
    subscription_ids: Sequence[int] | None = None,
    batch_size: int = ENQUEUE_BATCH,
    on_batch: OnBatch | None = None,
) -> int:
    """Operator push: enqueue ``issue_id`` for every active subscription (or the given ones) now.

    Still one row per (issue identity, subscription): a subscriber who already has this issue —
    this revision or another one (sent, pending or failed) — is left alone; use
    :func:`~briefcast.store.outbox.queries.retry_failed` for failures. Committed in batches like
    :func:`enqueue_due`.
    """
    now = as_utc(now)
    with engine.connect() as conn:
        issue = _latest_issue(conn, issue_id)
    if issue is None:
        return 0
    if subscription_ids is None:
        return _enqueue_group(engine, issue, [], status=PENDING, now=now, batch_size=batch_size,
                              on_batch=on_batch)  # fmt: skip
    wanted = sorted({int(i) for i in subscription_ids})
    total = 0
    for start in range(0, len(wanted), batch_size):  # an id list per batch, never one of a million
        part = id_in(wanted[start : start + batch_size], engine.dialect.name)
        total += _enqueue_group(engine, issue, [part], status=PENDING, now=now, batch_size=batch_size,
                                on_batch=on_batch)  # fmt: skip
    return total
