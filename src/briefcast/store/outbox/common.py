"""The pieces every outbox statement shares: the upsert into ``delivery``, id lists, platform filters.

Also the names the outbox writes into rows (``kind`` of a roll-up, the prefix of a paused row's
``last_error``) and the enqueue batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from briefcast.store.schema import PENDING, deliveries, subscriptions

Conds = list[Any]

#: Subscriptions enqueued per transaction. Each batch commits (locks are held for one batch, not
#: for the whole slot) and is announced to the engine, so sending starts while the rest of a large
#: slot is still being enqueued (issue 14).
ENQUEUE_BATCH = 2000

OnBatch = Callable[[int], None]

ROLLUP = "rollup"  # delivery.kind of a weekly roll-up
# ``last_error`` of a row put back because the bot's token is refused (not a delivery attempt).
PAUSED_PREFIX = "paused:"


def insert_delivery(conn: sa.Connection) -> Any:
    """``INSERT INTO delivery`` in the connection's dialect (both have ``ON CONFLICT DO NOTHING``)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(deliveries)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(deliveries)


def id_in(ids: Sequence[int], dialect: str, column: Any = None) -> Any:
    """``column IN ids`` for sorted ``ids`` (default column ``subscription.id``).

    Also bounded by ``BETWEEN first AND last``, which any index on the column serves as a range
    whatever the statistics (an ``IN`` list alone was planned as a scan of the whole issue's rows
    per batch). One array parameter on PostgreSQL: psycopg would otherwise parse a query text
    with thousands of placeholders per batch.
    """
    column = subscriptions.c.id if column is None else column
    bounded = column.between(ids[0], ids[-1])
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return sa.and_(bounded, column == sa.any_(sa.literal(list(ids), ARRAY(sa.Integer))))
    return sa.and_(bounded, column.in_(list(ids)))


def on_platforms(platforms: Sequence[str]) -> Any:
    """The delivery is to one of ``platforms`` (``delivery.platform``, revision 0008: no join)."""
    return deliveries.c.platform.in_(list(platforms))


def index_order(conn: sa.Connection) -> None:
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


def back_to_pending(now: datetime, error: str) -> dict[str, Any]:
    """The values that hand a claimed row back to the queue after its worker stopped mid-delivery
    (the crash counts as an attempt)."""
    return {
        "status": PENDING,
        "lease_owner": "",
        "lease_until": None,
        "next_attempt_at": now,
        "updated_at": now,
        "attempts": deliveries.c.attempts + 1,
        "last_error": error,
    }
