"""The delivery table as an outbox: enqueue, claim with a lease, record outcomes in batches.

Every state change of a delivery is one row update guarded by ``lease_owner``, so a worker that
lost its lease (it stalled past ``lease_until`` and another worker reclaimed the row) cannot
overwrite the new owner's progress. Claiming differs per database:

* PostgreSQL: ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n) RETURNING`` —
  concurrent workers skip each other's rows instead of waiting or double-claiming;
* SQLite: the same statement without ``FOR UPDATE`` (SQLAlchemy omits it); SQLite's single
  writer lock (``BEGIN IMMEDIATE``) makes it atomic.

All functions are synchronous (they run in a worker thread) and take an SQLAlchemy ``Engine``.
Timestamps are passed in from the caller's clock, never taken from the database, so tests can
control time.
"""

from __future__ import annotations

import enum
import json
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from briefcast.delivery.slots import decide_publish, decide_slot, parse_hhmm
from briefcast.store import schema
from briefcast.store.db import writer
from briefcast.store.records import DeliveryRecord
from briefcast.store.tables import (
    as_utc,
    utc,
)

# Short names of the store's tables in this module's dense statements (issue 16: to be renamed
# when the outbox's queries move into store/).
D, S, C, I = schema.deliveries, schema.subscriptions, schema.chats, schema.issues  # noqa: E741

# The delivery states and platforms are the store's (briefcast.store.schema); named here too.
PENDING, CLAIMED, SENT, FAILED, SKIPPED = (
    schema.PENDING,
    schema.CLAIMED,
    schema.SENT,
    schema.FAILED,
    schema.SKIPPED,
)
STATUSES, PLATFORMS = schema.STATUSES, schema.PLATFORMS

ROLLUP = "rollup"  # delivery.kind of a weekly roll-up
# ``last_error`` of a row put back because the bot's token is refused (not a delivery attempt).
PAUSED_PREFIX = "paused:"


# --------------------------------------------------------------------------------------------- enqueue


@dataclass(frozen=True, slots=True)
class EnqueueResult:
    """Rows inserted by one enqueue pass: ``pending`` to send, ``skipped`` recorded as missed."""

    pending: int = 0
    skipped: int = 0
    issue_id: int | None = None


def _latest_issue(conn: sa.Connection, issue_id: int | None) -> sa.Row[Any] | None:
    q = sa.select(I.c.id, I.c.identity, I.c.published_at).where(
        I.c.status == "published", I.c.published_at.is_not(None)
    )
    if issue_id is not None:
        q = q.where(I.c.id == issue_id)
    return conn.execute(q.order_by(I.c.published_at.desc(), I.c.id.desc()).limit(1)).first()


Conds = list[Any]

#: Subscriptions enqueued per transaction. Each batch commits (locks are held for one batch, not
#: for the whole slot) and is announced to the engine, so sending starts while the rest of a large
#: slot is still being enqueued (issue 14).
ENQUEUE_BATCH = 2000

OnBatch = Callable[[int], None]


def _behind(issue_id: int) -> Any:
    """The subscription's cursor is behind ``issue_id`` (it has not been given this issue yet)."""
    return sa.or_(S.c.last_issue_id.is_(None), S.c.last_issue_id < issue_id)


def _candidates(conn: sa.Connection, conds: Conds, limit: int | None = None) -> array[int]:
    """Ids of the subscriptions matching ``conds`` (single-table filters only), ascending.

    One scan of ``subscription`` (8 bytes per id: 8 MB for a million); every later statement of
    the pass touches one batch of these by primary key, so no plan depends on table statistics.
    """
    out: array[int] = array("q")
    # A server-side cursor on PostgreSQL (psycopg would buffer the whole result); sqlite3 streams.
    opts = {"stream_results": True} if conn.dialect.name == "postgresql" else {}
    result = conn.execution_options(**opts).execute(
        sa.select(S.c.id).where(*conds).order_by(S.c.id).limit(limit)
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
    return sa.select(C.c.active).where(C.c.id == S.c.chat_id).scalar_subquery().is_(True)


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
        return (
            sa.cast(sa.literal(value), D.c.message_ids.type) if dialect == "postgresql" else sa.literal(value)
        )

    empty_json = json_literal("[]")
    detail_json = (
        json_literal(json.dumps(list(detail), ensure_ascii=False)) if detail is not None else sa.null()
    )
    platform = sa.select(C.c.platform).where(C.c.id == S.c.chat_id).scalar_subquery()
    src = sa.select(
        sa.literal(issue_id), S.c.id, sa.literal(identity), platform, sa.literal(status), sa.literal(0),
        sa.literal(now, ts), sa.literal(""), sa.literal(0), sa.literal(0), empty_json, sa.literal(error),
        sa.literal(now, ts), sa.literal(now, ts), sa.literal(kind), detail_json,
    ).where(*conds)  # fmt: skip
    cols = [
        "issue_id", "subscription_id", "identity", "platform", "status", "attempts", "next_attempt_at",
        "lease_owner", "parts_total", "parts_sent", "message_ids", "last_error", "created_at", "updated_at",
        "kind", "detail",
    ]  # fmt: skip
    ins: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        ins = pg_insert(D)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        ins = sqlite_insert(D)
    ins = ins.from_select(cols, src).on_conflict_do_nothing()
    # RETURNING counts what was really inserted (rowcount is -1 for INSERT ... SELECT on psycopg).
    return len(conn.execute(ins.returning(D.c.id)).all())


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
    total = 0
    # The first batch is read on its own and sent on its way before the rest of the candidates
    # are read: the first message of a million-subscriber slot must not wait for a full scan.
    after = 0
    first: int | None = batch_size
    while True:
        with engine.connect() as conn:
            ids = _candidates(conn, [S.c.active.is_(True), *conds, S.c.id > after], limit=first)
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            scope = [S.c.id.between(chunk[0], chunk[-1]), S.c.active.is_(True), *conds, _chat_active()]
            with writer(engine).begin() as conn:
                n = _insert_batch(
                    conn, iid, identity, scope, status=status, now=now, error=error, kind=kind, detail=detail
                )
                cursor = sa.update(S).where(*scope, _behind(iid)).values(last_issue_id=iid, updated_at=now)
                conn.execute(cursor)
            total += n
            if n and on_batch is not None:
                on_batch(n)
        if first is None or len(ids) < first:
            return total
        after, first = ids[-1], None


def _id_in(ids: Sequence[int], dialect: str, column: Any = None) -> Any:
    """``column IN ids`` for sorted ``ids`` (default column ``subscription.id``).

    Also bounded by ``BETWEEN first AND last``, which any index on the column serves as a range
    whatever the statistics (an ``IN`` list alone was planned as a scan of the whole issue's rows
    per batch). One array parameter on PostgreSQL: psycopg would otherwise parse a query text
    with thousands of placeholders per batch.
    """
    column = S.c.id if column is None else column
    bounded = column.between(ids[0], ids[-1])
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return sa.and_(bounded, column == sa.any_(sa.literal(list(ids), ARRAY(sa.Integer))))
    return sa.and_(bounded, column.in_(list(ids)))


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
        sched = [S.c.active.is_(True), S.c.mode == "scheduled", behind]
        with engine.connect() as conn:
            slots = conn.execute(
                sa.select(S.c.time, S.c.timezone, S.c.days)
                .where(*sched)
                .group_by(S.c.time, S.c.timezone, S.c.days)
            ).all()
        for at, tz_name, days in slots:
            what, slot = decide_slot(published, parse_hhmm(at), ZoneInfo(tz_name), now, grace, int(days))
            if what == "wait":
                continue
            why = f"missed slot {slot:%Y-%m-%d %H:%M}Z beyond the grace window"
            same = [S.c.time == at, S.c.timezone == tz_name, S.c.days == int(days)]
            group([S.c.mode == "scheduled", *same, behind], what, why)
        pending_r, skipped_r = _enqueue_rollups(engine, now=now, grace=grace, batch_size=batch_size,
                                                on_batch=notify)  # fmt: skip
        pending += pending_r
        skipped += skipped_r
    # On-publish subscriptions (after the slots: a due slot's first batch must not wait for this scan).
    why = f"published {published:%Y-%m-%d %H:%M}Z, beyond the grace window"
    group([S.c.mode == "publish", behind], decide_publish(published, now, grace), why)
    return EnqueueResult(pending, skipped, iid)


ROLLUP_PREFIX = "rollup:"
#: Issues one roll-up lists at most (the newest ones; a daily briefing has seven a week).
ROLLUP_MAX_ISSUES = 31


def rollup_identity(slot: datetime) -> str:
    """The delivery identity of a weekly roll-up: one per subscription and slot (``rollup:<UTC>``)."""
    return f"{ROLLUP_PREFIX}{as_utc(slot):%Y-%m-%dT%H:%MZ}"


def rollup_issue_ids(conn: sa.Connection, start: datetime, end: datetime) -> list[int]:
    """The issues a roll-up of ``(start, end]`` lists, oldest first: each issue *first* published in
    the window (a later revision does not bring an older issue back), as its newest published
    revision (a correction published since is what the reader gets)."""
    first = (
        sa.select(I.c.identity, sa.func.min(I.c.published_at).label("first"))
        .where(I.c.status == "published", I.c.published_at.is_not(None))
        .group_by(I.c.identity)
        .subquery()
    )
    newest = (
        sa.select(I.c.identity, sa.func.max(I.c.id).label("id"))
        .where(I.c.status == "published")
        .group_by(I.c.identity)
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
    from briefcast.delivery.slots import decide_rollup

    pending = skipped = 0
    with engine.connect() as conn:
        slots = conn.execute(
            sa.select(S.c.time, S.c.timezone, S.c.days)
            .where(S.c.active.is_(True), S.c.mode == "weekly")
            .group_by(S.c.time, S.c.timezone, S.c.days)
        ).all()
    for at, tz_name, days in slots:
        what, start, slot = decide_rollup(parse_hhmm(at), ZoneInfo(tz_name), now, grace, int(days))
        with engine.connect() as conn:
            ids = rollup_issue_ids(conn, start, slot)
            issue = (
                conn.execute(sa.select(I.c.id, I.c.identity).where(I.c.id == ids[-1])).first()
                if ids
                else None
            )
        if issue is None:
            continue
        same = [S.c.mode == "weekly", S.c.time == at, S.c.timezone == tz_name, S.c.days == int(days)]
        conds = [*same, _behind(int(issue.id))]
        common: dict[str, Any] = {
            "now": now, "batch_size": batch_size, "identity": rollup_identity(slot), "kind": ROLLUP,
            "detail": [str(i) for i in ids],
        }  # fmt: skip
        if what == "send":
            pending += _enqueue_group(engine, issue, conds, status=PENDING, on_batch=on_batch, **common)
        else:
            # only subscriptions that existed at the slot missed it (a new one just waits for its first)
            why = f"missed weekly slot {slot:%Y-%m-%d %H:%M}Z beyond the grace window"
            skipped += _enqueue_group(
                engine, issue, [*conds, S.c.created_at <= slot], status=SKIPPED, error=why, **common
            )
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
    :func:`retry_failed` for failures. Committed in batches like :func:`enqueue_due`.
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
        part = _id_in(wanted[start : start + batch_size], engine.dialect.name)
        total += _enqueue_group(engine, issue, [part], status=PENDING, now=now, batch_size=batch_size,
                                on_batch=on_batch)  # fmt: skip
    return total


# ----------------------------------------------------------------------------------------------- claim


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


W, WW = schema.watchers, schema.watches


def _on_platforms(platforms: Sequence[str]) -> Any:
    """The delivery is to one of ``platforms`` (``delivery.platform``, revision 0008: no join)."""
    return D.c.platform.in_(list(platforms))


def _index_order(conn: sa.Connection) -> None:
    """PostgreSQL: plan this transaction's queue reads as walks of the claim index, in order.

    ``ORDER BY next_attempt_at, id LIMIT n`` over pending rows is served by the index
    ``(status, next_attempt_at, id)``, but right after a large enqueue the statistics still say
    the table is tiny, and the planner chose to read *every* pending row and sort them — per
    claim (34 ms at 100k pending, seconds at 1M: a quadratic drain). Sorts and bitmap scans are
    switched off for the transaction only (``SET LOCAL``), so the plan does not depend on
    statistics. SQLite's planner already uses the index.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")


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
    conds: Conds = [D.c.status == PENDING, D.c.next_attempt_at <= now]
    if platforms is not None:
        # The delivery's own platform column (revision 0008). Earlier: ``subscription_id IN (every
        # subscription on the platform)`` (44 ms per claim at 100k pending on SQLite), then a
        # correlated EXISTS per candidate (199 ms per claim at 100k on PostgreSQL, issue 14).
        conds.append(_on_platforms(platforms))
    due = (
        sa.select(D.c.id)
        .where(*conds)
        .order_by(D.c.next_attempt_at, D.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        sa.update(D)
        .where(D.c.id.in_(due.scalar_subquery()))
        .values(status=CLAIMED, lease_owner=owner, lease_until=lease_from + lease, updated_at=now)
        .returning(
            D.c.id,
            D.c.issue_id,
            D.c.subscription_id,
            D.c.attempts,
            D.c.parts_total,
            D.c.parts_sent,
            D.c.message_ids,
            D.c.kind,
            D.c.watcher_id,
            D.c.corrects_id,
            D.c.detail,
        )
    )
    with writer(engine).begin() as conn:
        _index_order(conn)
        rows = conn.execute(stmt).all()
        if not rows:
            return []
        sub_ids = {int(r.subscription_id) for r in rows if r.subscription_id is not None}
        subs = _claimed_subscriptions(conn, sub_ids) if sub_ids else {}
        watcher_ids = {int(r.watcher_id) for r in rows if r.watcher_id is not None}
        watchers = _claimed_watchers(conn, watcher_ids) if watcher_ids else {}
        corrected_ids = {int(r.corrects_id) for r in rows if r.corrects_id is not None}
        originals: dict[int, tuple[str, ...]] = {}
        if corrected_ids:
            for o in conn.execute(sa.select(D.c.id, D.c.message_ids).where(D.c.id.in_(corrected_ids))):
                originals[int(o.id)] = tuple(str(m) for m in (o.message_ids or ()))
    out: list[Claimed] = []
    for r in sorted(rows, key=lambda r: int(r.id)):
        if r.watcher_id is not None:
            s, words = watchers[int(r.watcher_id)]
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


def _claimed_subscriptions(conn: sa.Connection, ids: set[int]) -> dict[int, Any]:
    """The subscriptions (and their chats) of claimed digest and correction rows."""
    q = (
        sa.select(
            S.c.id,
            S.c.sectors,
            S.c.variant,
            S.c.thread_id,
            S.c.active,
            S.c.reason,
            S.c.silent,
            S.c.previews,
            S.c.mode,
            S.c.timezone,
            S.c.quiet,
            C.c.id.label("chat_pk"),
            C.c.platform,
            C.c.external_id,
            C.c.workspace,
            C.c.kind,
            C.c.language,
            C.c.active.label("chat_active"),
            C.c.deactivated_reason,
        )
        .select_from(S.join(C, C.c.id == S.c.chat_id))
        .where(S.c.id.in_(ids))
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
    sub = S.alias("same_thread")
    q = (
        sa.select(
            W.c.id,
            W.c.thread_id,
            C.c.id.label("chat_pk"),
            C.c.platform,
            C.c.external_id,
            C.c.workspace,
            C.c.kind,
            C.c.language,
            C.c.active.label("chat_active"),
            C.c.deactivated_reason,
            sub.c.silent,
            sub.c.previews,
            sub.c.timezone,
            sub.c.quiet,
        )
        .select_from(
            W.join(C, C.c.id == W.c.chat_id).outerjoin(
                sub, sa.and_(sub.c.chat_id == W.c.chat_id, sub.c.thread_id == W.c.thread_id)
            )
        )
        .where(W.c.id.in_(ids))
    )
    words: dict[int, list[str]] = {}
    for w in conn.execute(
        sa.select(WW.c.watcher_id, WW.c.phrase).where(WW.c.watcher_id.in_(ids)).order_by(WW.c.id)
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
            sa.update(D)
            .where(D.c.id.in_(id_list), D.c.lease_owner == owner, D.c.status == CLAIMED)
            .values(lease_until=as_utc(until))
        )
    return int(res.rowcount or 0)


def reclaim_expired(engine: Engine, *, now: datetime) -> int:
    """Return rows whose worker died (lease expired) to ``pending``; the crash counts as an attempt."""
    now = as_utc(now)
    with writer(engine).begin() as conn:
        res = conn.execute(
            sa.update(D)
            .where(D.c.status == CLAIMED, D.c.lease_until < now)
            .values(
                status=PENDING,
                lease_owner="",
                lease_until=None,
                next_attempt_at=now,
                updated_at=now,
                attempts=D.c.attempts + 1,
                last_error="lease expired: the worker stopped mid-delivery",
            )
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
            sa.update(D)
            .where(D.c.id.in_(id_list), D.c.lease_owner == owner, D.c.status == CLAIMED)
            .values(status=PENDING, lease_owner="", lease_until=None, next_attempt_at=now, updated_at=now)
        )
    return int(res.rowcount or 0)


# --------------------------------------------------------------------------------------------- outcomes


class Action(enum.Enum):
    """What to write for one delivery after a send (or a decision not to send)."""

    PROGRESS = "progress"  # a part went out; more to come
    SENT = "sent"  # the last part went out
    RETRY = "retry"  # back to pending, next attempt at ``next_attempt_at``
    FAILED = "failed"  # dead letter
    SKIPPED = "skipped"  # nothing to send / subscription inactive


@dataclass(slots=True)
class Outcome:
    """One row update; ``deactivate`` also switches the chat and its subscriptions off."""

    delivery_id: int
    action: Action
    parts_total: int = 0
    parts_sent: int = 0
    message_ids: tuple[str, ...] = ()
    attempts: int = 0
    error: str = ""
    next_attempt_at: datetime | None = None
    deactivate_chat_pk: int | None = None
    deactivate_subscription_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    detail: tuple[str, ...] | None = None  # corrections: what each part did (``delivery.detail``)


_B = sa.bindparam


def _update(
    *, status: bool = False, sent_at: bool = False, next_at: bool = False, lease: bool = False
) -> Any:
    values: dict[str, Any] = {
        "parts_total": _B("b_total"),
        "parts_sent": _B("b_sent"),
        "message_ids": _B("b_mids", type_=D.c.message_ids.type),
        "attempts": _B("b_attempts"),
        "last_error": _B("b_error"),
        "updated_at": _B("b_now", type_=sa.DateTime(timezone=True)),
    }
    if status:
        values["status"] = _B("b_status")
    if sent_at:
        values["sent_at"] = _B("b_now2", type_=sa.DateTime(timezone=True))
    if next_at:
        values["next_attempt_at"] = _B("b_next", type_=sa.DateTime(timezone=True))
    if lease:
        values["lease_owner"] = ""
        values["lease_until"] = None
    return sa.update(D).where(D.c.id == _B("b_id"), D.c.lease_owner == _B("b_owner")).values(**values)


_PROGRESS = _update()
_FINAL = _update(status=True, sent_at=True, lease=True)
_DONE = _update(status=True, lease=True)
_RETRY = _update(status=True, next_at=True, lease=True)
_DETAIL = (
    sa.update(D)
    .where(D.c.id == _B("b_id"), D.c.lease_owner == _B("b_owner"))
    .values(detail=_B("b_detail", type_=D.c.detail.type))
)


def apply(engine: Engine, owner: str, outcomes: Sequence[Outcome], *, now: datetime) -> int:
    """Write a batch of outcomes in one transaction (one ``executemany`` per kind of update)."""
    if not outcomes:
        return 0
    now = as_utc(now)
    groups: dict[Action, list[dict[str, Any]]] = {}
    chats: dict[int, str] = {}
    subs: dict[int, str] = {}
    for o in outcomes:
        params: dict[str, Any] = {
            "b_id": o.delivery_id, "b_owner": owner, "b_total": o.parts_total, "b_sent": o.parts_sent,
            "b_mids": list(o.message_ids), "b_attempts": o.attempts, "b_error": o.error[:2000], "b_now": now,
        }  # fmt: skip
        if o.action in (Action.SENT, Action.FAILED, Action.SKIPPED, Action.RETRY):
            params["b_status"] = {Action.SENT: SENT, Action.FAILED: FAILED, Action.SKIPPED: SKIPPED}.get(
                o.action, PENDING
            )
        if o.action is Action.SENT:
            params["b_now2"] = now
        if o.action is Action.RETRY:
            params["b_next"] = as_utc(o.next_attempt_at or now)
        groups.setdefault(o.action, []).append(params)
        if o.deactivate_chat_pk is not None:
            chats[o.deactivate_chat_pk] = o.error
        if o.deactivate_subscription_id is not None:
            subs[o.deactivate_subscription_id] = o.error
    details = [
        {"b_id": o.delivery_id, "b_owner": owner, "b_detail": list(o.detail)}
        for o in outcomes
        if o.detail is not None
    ]
    changed = 0
    with writer(engine).begin() as conn:
        if details:  # before the updates below, which give the lease up
            conn.execute(_DETAIL, details)
        for action, rows in groups.items():
            stmt = {Action.PROGRESS: _PROGRESS, Action.SENT: _FINAL, Action.RETRY: _RETRY}.get(action, _DONE)
            changed += int(conn.execute(stmt, rows).rowcount or 0)
        for chat_pk, reason in chats.items():
            _deactivate(conn, now, reason, chat_pk=chat_pk)
        for sub_id, reason in subs.items():
            _deactivate(conn, now, reason, subscription_id=sub_id)
    return changed


def _deactivate(
    conn: sa.Connection,
    now: datetime,
    reason: str,
    *,
    chat_pk: int | None = None,
    subscription_id: int | None = None,
) -> None:
    """Switch a chat (all its subscriptions) or one subscription off and skip its queued deliveries."""
    reason = reason[:500]
    if chat_pk is not None:
        conn.execute(
            sa.update(C)
            .where(C.c.id == chat_pk)
            .values(active=False, deactivated_reason=reason, updated_at=now)
        )
        sub_ids: Any = sa.select(S.c.id).where(S.c.chat_id == chat_pk)
        conn.execute(
            sa.update(S).where(S.c.chat_id == chat_pk).values(active=False, reason=reason, updated_at=now)
        )
    else:
        sub_ids = [subscription_id]
        conn.execute(
            sa.update(S).where(S.c.id == subscription_id).values(active=False, reason=reason, updated_at=now)
        )
    conn.execute(
        sa.update(D)
        .where(D.c.subscription_id.in_(sub_ids), D.c.status == PENDING)
        .values(status=SKIPPED, last_error=f"subscription deactivated: {reason}", updated_at=now)
    )


# ------------------------------------------------------------------------------------------- operators


def _record(r: Any) -> DeliveryRecord:
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
    q = sa.select(D)
    if status:
        q = q.where(D.c.status == status)
    if issue_id is not None:
        q = q.where(D.c.issue_id == issue_id)
    if subscription_id is not None:
        q = q.where(D.c.subscription_id == subscription_id)
    q = q.order_by(D.c.id.desc())
    if limit:
        q = q.limit(limit)
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(q)]


def count_for(engine: Engine, issue_id: int, subscription_ids: Sequence[int]) -> int:
    """How many of ``subscription_ids`` have a delivery of ``issue_id`` (queued, sent, failed...)."""
    ids = sorted({int(i) for i in subscription_ids})
    total = 0
    with engine.connect() as conn:
        for start in range(0, len(ids), ENQUEUE_BATCH):
            part = _id_in(ids[start : start + ENQUEUE_BATCH], engine.dialect.name, D.c.subscription_id)
            count = sa.select(sa.func.count()).select_from(D).where(D.c.issue_id == issue_id, part)
            total += int(conn.execute(count).scalar_one())
    return total


def count_by_status(engine: Engine, *, issue_id: int | None = None) -> dict[str, int]:
    """``{"pending": n, "sent": m, ...}`` (progress bars, health checks)."""
    q = sa.select(D.c.status, sa.func.count()).group_by(D.c.status)
    if issue_id is not None:
        q = q.where(D.c.issue_id == issue_id)
    with engine.connect() as conn:
        counts = {str(s): int(n) for s, n in conn.execute(q)}
    return {s: counts.get(s, 0) for s in STATUSES}


def retry_failed(engine: Engine, *, now: datetime, issue_id: int | None = None) -> int:
    """Put dead-lettered deliveries back in the queue (attempts reset); progress per part is kept.

    Digests, roll-ups and corrections of still-active subscriptions, and keyword-watch alerts of
    watchers that still exist in an active chat (a watcher removed with ``/unwatch`` is gone)."""
    now = as_utc(now)
    q = sa.update(D).where(D.c.status == FAILED)
    if issue_id is not None:
        q = q.where(D.c.issue_id == issue_id)
    subscribed = (
        sa.select(sa.literal(1))
        .select_from(S.join(C, C.c.id == S.c.chat_id))
        .where(S.c.id == D.c.subscription_id, S.c.active.is_(True), C.c.active.is_(True))
        .exists()
    )
    watching = (
        sa.select(sa.literal(1))
        .select_from(W.join(C, C.c.id == W.c.chat_id))
        .where(W.c.id == D.c.watcher_id, C.c.active.is_(True))
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
    on: Conds = [] if platforms is None else [_on_platforms(platforms)]
    waiting: Conds = [~D.c.last_error.startswith(PAUSED_PREFIX)] if skip_paused else []
    with engine.connect() as conn:
        _index_order(conn)  # the earliest pending row by walking the index, not by reading them all
        pending = conn.execute(
            sa.select(D.c.next_attempt_at)
            .where(D.c.status == PENDING, D.c.next_attempt_at.is_not(None), *on, *waiting)
            .order_by(D.c.next_attempt_at)
            .limit(1)
        ).scalar()
        leased = conn.execute(
            sa.select(sa.func.min(D.c.lease_until)).where(D.c.status == CLAIMED, *on)
        ).scalar()
    times = [t for t in (utc(pending), utc(leased)) if t is not None]
    return min(times) if times else None
