"""Corrections, the outbox side: one ``correction`` row per subscription sent an earlier revision.

What each part of a correction does (edit or notice) is decided at send time by
:mod:`briefcast.delivery.corrections`; this module only queues the rows.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from briefcast.store.db import writer
from briefcast.store.outbox.common import insert_delivery
from briefcast.store.schema import FAILED, PENDING, SENT, chats, deliveries, issues, subscriptions
from briefcast.store.tables import as_utc


def enqueue_corrections(engine: Engine, issue_id: int, *, now: datetime) -> int:
    """For a published revision ``issue_id``: one ``correction`` row per subscription that was sent
    (fully or in part) an earlier revision of the same issue. Idempotent; returns rows inserted.

    A subscription whose earlier delivery is still queued or being sent is not corrected yet (the
    scheduler's minute tick runs this again for the latest issue, and corrects it once that
    delivery is finished); one that was skipped or failed before any part went out has nothing
    to correct.
    """
    now = as_utc(now)
    with writer(engine).begin() as conn:
        issue = conn.execute(
            sa.select(issues.c.id, issues.c.identity, issues.c.revision).where(
                issues.c.id == issue_id, issues.c.status == "published"
            )
        ).first()
        if issue is None or int(issue.revision) <= 1:
            return 0
        earlier = sa.select(issues.c.id).where(issues.c.identity == issue.identity, issues.c.id != issue_id)
        mine = deliveries.alias("mine")
        has_row = (
            sa.select(sa.literal(1))
            .where(mine.c.issue_id == issue_id, mine.c.subscription_id == deliveries.c.subscription_id)
            .exists()
        )
        # the original digest of each subscription: the first one that sent a part
        originals = conn.execute(
            sa.select(deliveries.c.subscription_id, sa.func.min(deliveries.c.id).label("original"))
            .where(
                deliveries.c.issue_id.in_(earlier),
                deliveries.c.kind == "digest",
                deliveries.c.parts_sent > 0,
                # finished (sent, or failed part-way): one still being sent is corrected by a later
                # scheduler tick, once it is done
                deliveries.c.status.in_([SENT, FAILED]),
                deliveries.c.subscription_id.is_not(None),
                ~has_row,
            )
            .group_by(deliveries.c.subscription_id)
        ).all()
        if not originals:
            return 0
        active = {
            int(r.id): str(r.platform)
            for r in conn.execute(
                sa.select(subscriptions.c.id, chats.c.platform)
                .join(chats, chats.c.id == subscriptions.c.chat_id)
                .where(
                    subscriptions.c.id.in_([int(o.subscription_id) for o in originals]),
                    subscriptions.c.active.is_(True),
                )
            )
        }
        # A correction is a row of its own next to the digest it edits: its identity is the
        # issue's marked with this revision's id, so the one-delivery-per-identity constraint
        # (revision 0008) keeps holding for digests while every revision can correct once.
        marked = correction_identity(str(issue.identity), issue_id)
        rows = [
            {
                "issue_id": issue_id,
                "subscription_id": int(o.subscription_id),
                "kind": "correction",
                "identity": marked,
                "platform": active[int(o.subscription_id)],
                "corrects_id": int(o.original),
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "lease_owner": "",
                "parts_total": 0,
                "parts_sent": 0,
                "message_ids": [],
                "detail": [],
                "last_error": "",
                "created_at": now,
                "updated_at": now,
            }
            for o in originals
            if int(o.subscription_id) in active
        ]
        if not rows:
            return 0
        ins = (
            insert_delivery(conn)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["issue_id", "subscription_id"])
        )
        inserted = len(conn.execute(ins.returning(deliveries.c.id)).all())
        # the subscriptions have this revision now: the slot path must not send it as a new copy
        conn.execute(
            sa.update(subscriptions)
            .where(subscriptions.c.id.in_([r["subscription_id"] for r in rows]))
            .where(sa.or_(subscriptions.c.last_issue_id.is_(None), subscriptions.c.last_issue_id < issue_id))
            .values(last_issue_id=issue_id, updated_at=now)
        )
    return inserted


def correction_identity(identity: str, issue_id: int) -> str:
    """``identity#<revision's issue id>`` within the column's 200 characters."""
    suffix = f"#{issue_id}"
    return identity[: 200 - len(suffix)] + suffix
