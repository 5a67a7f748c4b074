"""Outcomes: write what became of claimed deliveries, in one transaction per batch, guarded by the lease.

Every state change of a delivery is one row update guarded by ``lease_owner``, so a worker that
lost its lease (it stalled past ``lease_until`` and another worker reclaimed the row) cannot
overwrite the new owner's progress. A permanent refusal also switches the chat or the
subscription off (:func:`_deactivate`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from briefcast.store.db import writer
from briefcast.store.schema import FAILED, PENDING, SENT, SKIPPED, chats, deliveries, subscriptions
from briefcast.store.tables import as_utc


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
        "message_ids": _B("b_mids", type_=deliveries.c.message_ids.type),
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
    return (
        sa.update(deliveries)
        .where(deliveries.c.id == _B("b_id"), deliveries.c.lease_owner == _B("b_owner"))
        .values(**values)
    )


_PROGRESS = _update()
_FINAL = _update(status=True, sent_at=True, lease=True)
_DONE = _update(status=True, lease=True)
_RETRY = _update(status=True, next_at=True, lease=True)
_DETAIL = (
    sa.update(deliveries)
    .where(deliveries.c.id == _B("b_id"), deliveries.c.lease_owner == _B("b_owner"))
    .values(detail=_B("b_detail", type_=deliveries.c.detail.type))
)


def apply(engine: Engine, owner: str, outcomes: Sequence[Outcome], *, now: datetime) -> int:
    """Write a batch of outcomes in one transaction (one ``executemany`` per kind of update)."""
    if not outcomes:
        return 0
    now = as_utc(now)
    groups: dict[Action, list[dict[str, Any]]] = {}
    chats_off: dict[int, str] = {}
    subs_off: dict[int, str] = {}
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
            chats_off[o.deactivate_chat_pk] = o.error
        if o.deactivate_subscription_id is not None:
            subs_off[o.deactivate_subscription_id] = o.error
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
        for chat_pk, reason in chats_off.items():
            _deactivate(conn, now, reason, chat_pk=chat_pk)
        for sub_id, reason in subs_off.items():
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
            sa.update(chats)
            .where(chats.c.id == chat_pk)
            .values(active=False, deactivated_reason=reason, updated_at=now)
        )
        sub_ids: Any = sa.select(subscriptions.c.id).where(subscriptions.c.chat_id == chat_pk)
        conn.execute(
            sa.update(subscriptions)
            .where(subscriptions.c.chat_id == chat_pk)
            .values(active=False, reason=reason, updated_at=now)
        )
    else:
        sub_ids = [subscription_id]
        conn.execute(
            sa.update(subscriptions)
            .where(subscriptions.c.id == subscription_id)
            .values(active=False, reason=reason, updated_at=now)
        )
    conn.execute(
        sa.update(deliveries)
        .where(deliveries.c.subscription_id.in_(sub_ids), deliveries.c.status == PENDING)
        .values(status=SKIPPED, last_error=f"subscription deactivated: {reason}", updated_at=now)
    )
