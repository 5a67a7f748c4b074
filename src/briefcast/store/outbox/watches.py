"""Keyword watches, the outbox side: which watchers an issue already alerted, and their alert rows.

Which watchers match and when a daily alert goes out is decided by
:mod:`briefcast.delivery.watches`; this module reads and writes the ``watch`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from briefcast.store.db import writer
from briefcast.store.outbox.common import insert_delivery
from briefcast.store.schema import PENDING, SKIPPED, deliveries, issues
from briefcast.store.tables import as_utc

NO_MATCH = "no watched word in this issue"


@dataclass(frozen=True, slots=True)
class WatchAlert:
    """One watcher's row for an issue: ``pending`` at ``at`` if a word matched, else ``skipped``."""

    watcher_id: int
    platform: str
    matched: bool
    at: datetime


def alerted_watchers(engine: Engine, identity: str) -> set[int]:
    """The watchers that already have a row for some revision of the issue ``identity``."""
    with engine.connect() as conn:
        return {
            int(w)
            for (w,) in conn.execute(
                sa.select(deliveries.c.watcher_id)
                .select_from(deliveries.join(issues, issues.c.id == deliveries.c.issue_id))
                .where(issues.c.identity == identity, deliveries.c.watcher_id.is_not(None))
            )
        }


def insert_watch_alerts(
    engine: Engine, issue_id: int, identity: str, alerts: Sequence[WatchAlert], *, now: datetime
) -> tuple[int, int]:
    """Insert one ``watch`` row per alert (a watcher that has one for this issue keeps it);
    returns ``(pending, skipped)`` rows inserted."""
    if not alerts:
        return 0, 0
    now = as_utc(now)
    rows: list[dict[str, Any]] = [
        {
            "issue_id": issue_id,
            "subscription_id": None,
            "watcher_id": a.watcher_id,
            "kind": "watch",
            "identity": identity,
            "platform": a.platform,
            "status": PENDING if a.matched else SKIPPED,
            "attempts": 0,
            "next_attempt_at": a.at,
            "lease_owner": "",
            "parts_total": 0,
            "parts_sent": 0,
            "message_ids": [],
            "last_error": "" if a.matched else NO_MATCH,
            "created_at": now,
            "updated_at": now,
        }
        for a in alerts
    ]
    with writer(engine).begin() as conn:
        ins = insert_delivery(conn).values(rows)
        ins = ins.on_conflict_do_nothing(index_elements=["issue_id", "watcher_id"])
        done = conn.execute(ins.returning(deliveries.c.status)).all()
    pending = sum(1 for (status,) in done if status == PENDING)
    return pending, len(done) - pending
