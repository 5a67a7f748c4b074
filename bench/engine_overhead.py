"""4. Engine overhead: no ceiling, zero latency, 20,000 deliveries -> deliveries/s and CPU per delivery.

Both limits are removed (the fake's and the engine's own), the fake answers at once, so what is
left is the engine: claim, render (cached), HTTP client, outcome writes. CPU is the engine
process's user + system time (all threads) during the drain; the fake and the database server
are other processes and not counted. ``engine_sqlite`` / ``engine_postgres`` call :func:`measure`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import issues
from bench.common import Options, Result
from bench.fanout import Fanout, private_chats, run_fanout

TARGET_RATE = 1000.0
TARGET_CPU_MS = 1.0


def _run(opts: Options, db: str, n: int, worker: dict[str, Any]) -> Fanout:
    return run_fanout(
        opts, chats=private_chats(n, base=3_000_000), markdown=issues.sample(), sectors=("energy",),
        db=db, latency=0.0, limits="off", worker={"engine_limits": "off", **worker},
    )  # fmt: skip


def _figures(f: Fanout) -> dict[str, Any]:
    delivered = max(1, f.report["delivered"])
    return {
        "deliveries_per_s": round(f.report["delivered"] / f.report["elapsed"], 1),
        "cpu_ms_per_delivery": round(1000 * f.report["cpu"] / delivered, 3),
    }


def measure(opts: Options, name: str, db: str, *, rate_target: bool) -> Result:
    n = opts.size(20_000, 300)
    worker: dict[str, Any] = {}
    profile = ""
    if opts.profile:
        profile = str(Path(opts.workdir) / f"profile-{name}.html")
        worker["profile"] = profile
    f = _run(opts, db, n, worker)
    figures = _figures(f)
    rate, cpu_ms = figures["deliveries_per_s"], figures["cpu_ms_per_delivery"]
    check = f.correctness()
    details: dict[str, Any] = {
        "deliveries": f.report["delivered"],
        **figures,
        "elapsed_s": round(f.report["elapsed"], 2),
        "engine_cpu_s": round(f.report["cpu"], 2),
        "peak_rss_mb": round(f.report["vm_hwm_kb"] / 1024, 1),
        "concurrency": 32,  # the default DeliverySettings.concurrency
        **check,
    }
    if profile:
        details["profile"] = profile
    ok = cpu_ms <= TARGET_CPU_MS and f.report["delivered"] == n and check["duplicate_messages"] == 0
    target = f"<= {TARGET_CPU_MS:g} ms CPU/delivery"
    if rate_target:
        ok = ok and rate >= TARGET_RATE
        target = f">= {TARGET_RATE:,.0f} deliveries/s and {target}"
    return Result(name, rate, "deliveries/s", target, ok, details)
