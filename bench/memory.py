"""7. Memory: fan-out to 100,000 subscriptions -> peak RSS <= 200 MB, not growing with subscribers.

Peak RSS is the engine process's ``VmHWM`` (from ``/proc/self/status``) after the fan-out; the
same fan-out to 25,000 subscriptions is the baseline, and "not growing" means the 100k peak is
within 10% of the 25k peak.

Both fan-outs run the shipped engine and transport (``TelegramTransport`` on aiohttp) with no
ceiling and no latency, so they are complete in about a minute; everything that could grow with
subscribers is in them: claims, rendered-payload caches, per-chat token buckets, the outcome
writer, the HTTP connection pool.
"""

from __future__ import annotations

from typing import Any

from bench import issues
from bench.common import Options, Result
from bench.fanout import Fanout, private_chats, run_fanout

NAME = "memory_100k"
LIMIT_MB = 200.0


def _fanout(opts: Options, n: int, worker: dict[str, Any]) -> Fanout:
    return run_fanout(
        opts, chats=private_chats(n, base=10_000_000), markdown=issues.sample(), sectors=("energy",),
        latency=0.0, limits="off", worker={"engine_limits": "off", **worker}, timeout=1200,
    )  # fmt: skip


def _mb(f: Fanout) -> float:
    return round(float(f.report["vm_hwm_kb"]) / 1024.0, 1)


def run(opts: Options) -> Result:
    big, small = opts.size(100_000, 2000), opts.size(25_000, 500)
    base = _fanout(opts, small, {})
    full = _fanout(opts, big, {})
    peak_small, peak_big = _mb(base), _mb(full)
    growth = (peak_big - peak_small) / peak_small if peak_small else float("inf")
    check = full.correctness()
    ok = (
        peak_big <= LIMIT_MB
        and growth <= 0.10
        and full.report["delivered"] == big
        and check["chats_missing"] == 0
        and check["duplicate_messages"] == 0
    )
    return Result(
        NAME,
        peak_big,
        "MB peak RSS",
        f"<= {LIMIT_MB:.0f} MB at 100k, <= +10% vs 25k",
        ok,
        {
            "subscriptions": big,
            "peak_rss_mb_25k": peak_small,
            "peak_rss_mb_100k": peak_big,
            "growth_25k_to_100k": round(growth, 4),
            "delivered_100k": full.report["delivered"],
            "elapsed_100k_s": round(full.report["elapsed"], 1),
            "elapsed_25k_s": round(base.report["elapsed"], 1),
            **check,
        },
    )
