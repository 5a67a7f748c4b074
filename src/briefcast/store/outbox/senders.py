"""Sender leases: at most one worker sends to a platform at a time.

Flood limits are per bot token (Telegram: 30 msg/s, 1000/s with paid broadcast), and the engine
paces them in its own process (:mod:`briefcast.delivery.ratelimit`). Two engines pacing the same
budget independently send twice as fast as allowed and collect 429s, so engines on one database
hold a lease per platform: the holder claims and sends that platform's deliveries, the others
stand by (they keep running their schedulers and serve other platforms) and take over when the
holder stops (it gives the lease back) or dies (its lease lapses after ``ttl``).

One engine is far from the bottleneck: it sends well over 1,000 messages per second against a
30/s (or 1,000/s) platform ceiling (docs/benchmarks.md), so extra workers buy availability,
not throughput.

Like the rest of :mod:`briefcast.store.outbox`: synchronous functions on an SQLAlchemy ``Engine``,
run in a worker thread, with timestamps from the caller's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from briefcast.store.db import writer
from briefcast.store.schema import sender_leases
from briefcast.store.tables import as_utc


@dataclass(frozen=True, slots=True)
class SenderLease:
    platform: str
    owner: str
    expires_at: datetime
    acquired_at: datetime

    def live(self, now: datetime) -> bool:
        return self.expires_at > now


def acquire(engine: Engine, platform: str, owner: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take or renew ``platform``'s lease for ``owner`` until ``now + ttl``.

    True when ``owner`` holds it afterwards: it already did, or the previous holder's lease had
    lapsed, or there was none. One conditional UPDATE (atomic on both databases), then an INSERT
    for a platform nobody has held yet.
    """
    now = as_utc(now)
    until = now + ttl
    with writer(engine).begin() as conn:
        renewed = conn.execute(
            sa.update(sender_leases)
            .where(
                sender_leases.c.platform == platform,
                sa.or_(sender_leases.c.owner == owner, sender_leases.c.expires_at <= now),
            )
            .values(
                owner=owner,
                expires_at=until,
                acquired_at=sa.case((sender_leases.c.owner == owner, sender_leases.c.acquired_at), else_=now),
            )
        ).rowcount
        if renewed:
            return True
        exists = conn.execute(
            sa.select(sender_leases.c.platform).where(sender_leases.c.platform == platform)
        ).first()
        if exists is not None:
            return False
    try:
        with writer(engine).begin() as conn:
            row = {"platform": platform, "owner": owner, "expires_at": until, "acquired_at": now}
            conn.execute(sa.insert(sender_leases).values(**row))
    except sa.exc.IntegrityError:  # another worker inserted it first
        return False
    return True


def release(engine: Engine, platform: str, owner: str, *, now: datetime) -> bool:
    """Give the lease back (clean stop) so a standby takes over at once; False if not held."""
    with writer(engine).begin() as conn:
        done = conn.execute(
            sa.update(sender_leases)
            .where(sender_leases.c.platform == platform, sender_leases.c.owner == owner)
            .values(expires_at=as_utc(now))
        ).rowcount
    return bool(done)


def holders(engine: Engine) -> list[SenderLease]:
    """Every platform's lease (live or lapsed), for operators (``briefcast deliveries``, metrics)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sender_leases).order_by(sender_leases.c.platform)).all()
    return [
        SenderLease(
            platform=r.platform,
            owner=r.owner,
            expires_at=as_utc(r.expires_at),
            acquired_at=as_utc(r.acquired_at),
        )
        for r in rows
    ]
