"""Cost curve of one slot (issue 14): ``enqueue_due`` for N subscriptions due in the same minute.

Fresh database as after an import (no ANALYZE), one published issue, N Telegram chats each with one
scheduled subscription at the same ``HH:MM`` UTC; then, on the slot minute:

* ``enqueue_s``   — :func:`briefcast.store.outbox.enqueue_due` (every row, all batches);
* ``claim_ms``    — one :func:`briefcast.store.outbox.claim` of the engine's default batch,
  taken from the full queue (the first claim of the slot, and one halfway through);
* ``dashboard_ms``— the dashboard's counts, the newest deliveries page and the ``/metrics`` gauges.

``growth`` per step = (time at the larger size / time at the smaller) / (size ratio): 1.0 is linear,
the target is ≤ 1.5. Run it directly for one size: ``python -m bench.slot_curve postgres 20000``.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import issues
from bench.common import Options, Result, add_chats, database, ingest, open_store
from bench.fanout import private_chats
from briefcast.store import outbox
from briefcast.store.tables import IssueRow

NAME = "slot_cost_curve"
SLOT = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 Asia/Shanghai
GRACE = timedelta(hours=6)
CLAIM_BATCH = 64


def prepare(url: str, n: int) -> tuple[Any, int]:
    """A store with one issue published before the slot and ``n`` subscriptions due at it."""
    store = open_store(url)
    issue_id = ingest(store, issues.sample())
    table = IssueRow.__table__  # type: ignore[attr-defined]
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(table).where(table.c.id == issue_id).values(published_at=SLOT - timedelta(hours=1))
        )
    add_chats(store, "telegram", private_chats(n, base=40_000_000), kind="private", sectors=("energy",),
              mode="scheduled", at="00:00", timezone="UTC")  # fmt: skip
    return store, issue_id


def _dashboard(store: Any) -> None:
    from briefcast.metrics import database_gauges
    from briefcast.store import read_models as queries

    queries.delivery_counts(store)
    queries.deliveries(store, limit=200)
    database_gauges(store)


def measure(kind: str, n: int, workdir: Path) -> dict[str, Any]:
    with database(kind, workdir) as url:
        store, _ = prepare(url, n)
        try:
            t0 = time.perf_counter()
            result = outbox.enqueue_due(store.engine, now=SLOT + timedelta(seconds=1), grace=GRACE)
            enqueue_s = time.perf_counter() - t0
            claims = []
            for _ in range(3):
                t0 = time.perf_counter()
                got = outbox.claim(store.engine, "bench", now=SLOT + timedelta(seconds=2),
                                   lease=timedelta(seconds=60), limit=CLAIM_BATCH)  # fmt: skip
                claims.append(time.perf_counter() - t0)
                assert len(got) == CLAIM_BATCH, len(got)
            t0 = time.perf_counter()
            _dashboard(store)
            dashboard_s = time.perf_counter() - t0
        finally:
            store.close()
    return {
        "db": kind,
        "subscriptions": n,
        "pending": result.pending,
        "enqueue_s": round(enqueue_s, 3),
        "claim_ms": round(min(claims) * 1000, 2),
        "dashboard_ms": round(dashboard_s * 1000, 1),
    }


def growth(rows: list[dict[str, Any]], key: str) -> float:
    """Worst step of (time ratio / size ratio) along the curve."""
    worst = 0.0
    for a, b in itertools.pairwise(rows):
        ratio = (b[key] / max(a[key], 1e-6)) / (b["subscriptions"] / a["subscriptions"])
        worst = max(worst, ratio)
    return worst


def run(opts: Options) -> Result:
    sizes = [opts.size(10_000, 1_000), opts.size(100_000, 10_000), opts.size(1_000_000, 100_000)]
    curves: dict[str, list[dict[str, Any]]] = {}
    for kind in ("sqlite", "postgres"):
        curves[kind] = []
        for n in sizes:
            row = measure(kind, n, opts.workdir)
            print(f"    {json.dumps(row)}", flush=True)
            curves[kind].append(row)
    worst = {
        f"{kind}_{key}": round(growth(rows, key), 2)
        for kind, rows in curves.items()
        for key in ("enqueue_s", "claim_ms", "dashboard_ms")
    }
    value = max(worst.values())
    enq_ok = all(r["enqueue_s"] <= (10 if r["subscriptions"] <= 100_000 else 100) for rows in curves.values()
                 for r in rows)  # fmt: skip
    return Result(NAME, value, "× linear (worst step)", "growth ≤ 1.5× linear; 100k ≤ 10 s, 1M ≤ 100 s",
                  value <= 1.5 and enq_ok, {"curves": curves, "growth": worst})  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]), Path("/tmp"))), flush=True)
