"""EXPLAIN ANALYZE of every set-based path at scale on PostgreSQL (issue 14).

``python -m bench.explain_paths [N]``.

Builds a fresh schema with N (default 1,000,000) subscriptions due at one slot, enqueues the slot,
then runs each path once through its real function while recording the SQL it sends, and prints
``EXPLAIN (ANALYZE)`` of every recorded statement (re-run inside a transaction that is rolled
back) with its execution time. Nothing here is a measurement with a target: it is the evidence
that no path's plan reads a table once per row of another.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import database
from bench.slot_curve import GRACE, SLOT, prepare


def _record(engine: Any, fn: Callable[[], object]) -> tuple[float, list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if not many and re.match(r"\s*(SELECT|UPDATE|INSERT|DELETE|SET LOCAL)", statement, re.I):
            seen.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0, seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def main(n: int) -> None:
    from briefcast.metrics import database_gauges
    from briefcast.store import outbox, schema
    from briefcast.store import read_models as queries

    with database("postgres", Path("/tmp")) as url:
        store, issue_id = prepare(url, n)
        eng = store.engine
        t0 = time.perf_counter()
        outbox.enqueue_due(eng, now=SLOT + timedelta(seconds=1), grace=GRACE)
        print(f"# {n:,} subscriptions; enqueue_due {time.perf_counter() - t0:.1f} s\n")
        # a few failures, for retry-failed and the dashboard's failure reasons
        d = schema.deliveries
        with eng.begin() as conn:
            conn.execute(sa.update(d).where(d.c.id <= 50).values(status="failed", last_error="Forbidden"))
        half, later, lease = n // 2, SLOT + timedelta(seconds=2), timedelta(seconds=60)
        paths: list[tuple[str, Callable[[], object]]] = [
            ("enqueue_due (the slot again: nothing to do)",
             lambda: outbox.enqueue_due(eng, now=SLOT + timedelta(minutes=1), grace=GRACE, batch_size=2000)),
            ("enqueue_now (push of the same issue to 2,000 ids)",
             lambda: outbox.enqueue_now(eng, issue_id, now=SLOT, subscription_ids=range(half, half + 2000))),
            ("claim (64, any platform)",
             lambda: outbox.claim(eng, "explain", now=later, lease=lease, limit=64)),
            ("claim (64, telegram only)",
             lambda: outbox.claim(eng, "explain", now=later, lease=lease, limit=64, platforms=["telegram"])),
            ("next_due_at (telegram)", lambda: outbox.next_due_at(eng, platforms=["telegram"])),
            ("retry-failed", lambda: outbox.retry_failed(eng, now=SLOT)),
            ("dashboard: delivery_counts", lambda: queries.delivery_counts(store)),
            ("dashboard: deliveries (newest 200)", lambda: queries.deliveries(store, limit=200)),
            ("dashboard: deliveries (failed)", lambda: queries.deliveries(store, status="failed", limit=200)),
            ("dashboard: failure_reasons", lambda: queries.failure_reasons(store)),
            ("dashboard: inactive_subscriptions", lambda: queries.inactive_subscriptions(store)),
            ("/metrics gauges", lambda: database_gauges(store)),
            ("subs list (page after the middle)", lambda: store.active_subscriptions(after=half, limit=1000)),
            ("count_for (push-now recipients, 2,000 ids)",
             lambda: outbox.count_for(eng, issue_id, range(half, half + 2000))),
        ]  # fmt: skip
        summary = []
        for name, fn in paths:
            elapsed, statements = _record(eng, fn)
            print(f"## {name}: {elapsed * 1000:.1f} ms, {len(statements)} statement(s)")
            shown = set()
            settings = [s for s, _ in statements if s.upper().startswith("SET LOCAL")]
            for statement, params in statements:
                key = statement
                if key in shown or key in settings:
                    continue
                shown.add(key)
                raw = eng.raw_connection()
                try:
                    cur = raw.cursor()
                    for setting in settings:  # the function's planner settings (outbox.common.index_order)
                        cur.execute(setting)
                    cur.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement, params)
                    plan = [r[0] for r in cur.fetchall()]
                    raw.rollback()
                finally:
                    raw.close()
                print("    " + " ".join(statement.split())[:300])
                for line in plan:
                    print("      " + (line if len(line) < 240 else line[:240] + " …"))
            summary.append({"path": name, "ms": round(elapsed * 1000, 1)})
            print()
        print(json.dumps(summary))
        store.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
