"""9. Scheduler: the first message of a slot leaves within 2 s of the slot (wall clock).

A few hundred subscriptions share one daily slot ``HH:MM`` (UTC) at least 10 s ahead: slots are
whole minutes, so the wait is 10-70 s. The issue is published first; ``briefcast worker``'s
code path (:func:`briefcast.delivery.ops.run_worker`: engine + APScheduler minute tick) runs in
its own process against the fake (real limits, 40 ms latency). Delay = arrival of the first
message at the fake minus the slot instant, both on ``CLOCK_MONOTONIC`` (the slot's wall time is
converted once). A message before the slot is a failure too.

``--smoke`` cannot wait for a minute boundary: it uses the minute that has just begun (within
the grace window), which exercises the start-up catch-up tick instead, and reports the delay
from the worker's start.
"""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench import issues
from bench.common import (
    FakeProcess,
    Options,
    Result,
    WorkerSpec,
    add_chats,
    database,
    finish_worker,
    ingest,
    open_store,
    start_worker,
)
from bench.fanout import private_chats
from briefcast.store.tables import IssueRow

NAME = "scheduler_first_message"
LIGHT = True
AHEAD = 10.0


def _slot(now: datetime, smoke: bool) -> datetime:
    minute = now.replace(second=0, microsecond=0)
    if smoke:
        return minute
    slot = minute + timedelta(minutes=1)
    while (slot - now).total_seconds() < AHEAD:
        slot += timedelta(minutes=1)
    return slot


def run(opts: Options) -> Result:
    n = opts.size(300, 20)
    with database("sqlite", opts.workdir) as url:
        store = open_store(url)
        try:
            issue_id = ingest(store, issues.sample())
            now = datetime.now(UTC)
            slot = _slot(now, opts.smoke)
            if opts.smoke:  # the issue must be older than the slot it is delivered at
                table = IssueRow.__table__  # type: ignore[attr-defined]
                with store.engine.begin() as conn:
                    conn.execute(
                        sa.update(table)
                        .where(table.c.id == issue_id)
                        .values(published_at=slot - timedelta(minutes=1))
                    )
            at = slot.strftime("%H:%M")
            chats = private_chats(n, base=30_000_000)
            add_chats(store, "telegram", chats, kind="private", sectors=("energy",), mode="scheduled", at=at,
                      timezone="UTC")  # fmt: skip
        finally:
            store.close()
        with FakeProcess("telegram", latency=opts.latency) as fake:
            spec = WorkerSpec(db_url=url, base_url=fake.base_url, token=fake.token, mode="serve")
            started = time.monotonic()
            proc = start_worker(spec)
            slot_mono = time.monotonic() + (slot - datetime.now(UTC)).total_seconds()
            wait = max(0.0, slot_mono - time.monotonic()) + 30.0
            try:
                got = fake.wait(1, timeout=wait)
                if got:
                    fake.wait(min(n, 30), timeout=5.0)
            finally:
                proc.send_signal(signal.SIGTERM)
                report = finish_worker(proc, timeout=60)
            stats = fake.stats()
    arrivals = sorted(float(t) for _, t, _ in stats["log"])
    reference = started if opts.smoke else slot_mono
    first = arrivals[0] - reference if arrivals else float("inf")
    ok = bool(arrivals) and 0.0 <= first <= 2.0
    return Result(
        NAME,
        first,
        "s after slot" if not opts.smoke else "s after worker start",
        "0 <= first message - slot <= 2 s",
        ok,
        {
            "slot_utc": slot.isoformat(),
            "subscriptions": n,
            "waited_for_slot_s": round(max(0.0, slot_mono - started), 1),
            "thirtieth_message_s": round(arrivals[29] - reference, 3) if len(arrivals) >= 30 else None,
            "messages_seen": len(arrivals),
            "http_429": int(stats["rate_limited"]),
            "worker_delivered": report.get("delivered"),
            "mode": "catch-up tick (smoke)" if opts.smoke else "wall-clock slot",
        },
    )
