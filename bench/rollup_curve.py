"""Cost of a weekly roll-up slot (issue 15): ``enqueue_due`` for N weekly subscriptions at one slot.

Three issues published during the week, N Telegram chats each with one ``weekly`` subscription at
the same Monday 00:00 UTC; on the slot minute, ``enqueue_s`` is the whole enqueue (the window
query, then the committed batches, as for a daily slot) and ``again_ms`` the next tick's pass
(nothing to do). Run it directly: ``python -m bench.rollup_curve sqlite 10000 100000``; it prints
a table and writes ``bench/rollup_curve.json``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench import issues
from bench.common import add_chats, database, ingest, open_store
from bench.fanout import private_chats
from briefcast.store import outbox
from briefcast.store.tables import IssueRow

SLOT = datetime(2026, 12, 14, 0, 0, tzinfo=UTC)  # a Monday
GRACE = timedelta(hours=6)


def measure(kind: str, n: int) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        store = open_store(url)
        table = IssueRow.__table__  # type: ignore[attr-defined]
        for k, day in enumerate(("2026-12-08", "2026-12-10", "2026-12-12")):
            iid = ingest(store, f"---\ndate: {day}\n---\n\n" + issues.sample())
            with store.engine.begin() as conn:
                when = SLOT - timedelta(days=5 - 2 * k)
                conn.execute(sa.update(table).where(table.c.id == iid).values(published_at=when))
        add_chats(store, "telegram", private_chats(n, base=50_000_000), kind="private", sectors=("energy",),
                  mode="weekly", at="00:00", timezone="UTC")  # fmt: skip
        with store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE subscription SET days = 1"))  # Mondays
        t0 = time.perf_counter()
        res = outbox.enqueue_due(store.engine, now=SLOT, grace=GRACE)
        enqueue_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = outbox.enqueue_due(store.engine, now=SLOT + timedelta(minutes=1), grace=GRACE)
        again_ms = (time.perf_counter() - t1) * 1000
        store.engine.dispose()
        assert res.pending == n and again.pending == 0, (res, again)
        per_1k_ms = round(enqueue_s / n * 1e6, 1)
        return {"db": kind, "n": n, "enqueue_s": round(enqueue_s, 3), "per_1k_ms": per_1k_ms,
                "again_ms": round(again_ms, 1)}  # fmt: skip


def main(argv: list[str]) -> None:
    kind = argv[0] if argv else "sqlite"
    sizes = [int(x) for x in argv[1:]] or [10_000, 100_000]
    rows = [measure(kind, n) for n in sizes]
    print(f"{'db':<9}{'n':>9}{'enqueue_s':>11}{'ms/1k':>8}{'again_ms':>10}")
    for r in rows:
        print(f"{r['db']:<9}{r['n']:>9}{r['enqueue_s']:>11}{r['per_1k_ms']:>8}{r['again_ms']:>10}")
    out = Path(__file__).with_name("rollup_curve.json")
    previous = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*[p for p in previous if p["db"] != kind], *rows], indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
