"""7. Memory: fan-out to 100,000 subscriptions -> peak RSS <= 200 MB, not growing with subscribers.

Peak RSS is the engine process's ``VmHWM`` (from ``/proc/self/status``) after the fan-out; the
same fan-out to 25,000 subscriptions is the baseline, and "not growing" means the 100k peak is
within 10% of the 25k peak.

Transport: the shipped ``TelegramTransport`` (python-telegram-bot on httpx) sends ~270
messages/s on the reference machine (see ``engine_sqlite``), so a complete 100k fan-out would
take over six minutes. The complete fan-outs therefore use the proposed aiohttp transport
(``bench.proposals.AiohttpTelegramTransport``) and the proposed claim query
(``bench.proposals.install_claim_fix``: without it a claim scans every subscription, and the 100k
fan-out alone takes 150 s); everything that could grow with subscribers (claims,
rendered-payload caches, per-chat token buckets, the outcome writer) is the shipped engine
either way. The shipped transport is also measured on the 100k outbox for a bounded time
(``shipped_transport_*``), to show that the HTTP stack adds no per-subscriber memory.
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
    base = _fanout(opts, small, {"variant": "aiohttp,claimfix"})
    full = _fanout(opts, big, {"variant": "aiohttp,claimfix"})
    shipped = _fanout(opts, big, {"max_seconds": 5.0 if opts.smoke else 30.0})
    peak_small, peak_big = _mb(base), _mb(full)
    growth = (peak_big - peak_small) / peak_small if peak_small else float("inf")
    check = full.correctness()
    ok = (
        peak_big <= LIMIT_MB
        and growth <= 0.10
        and full.report["delivered"] == big
        and check["chats_missing"] == 0
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
            "variant": "AiohttpTelegramTransport + claim fix (bench.proposals; see module docstring)",
            "shipped_transport_peak_rss_mb": _mb(shipped),
            "shipped_transport_delivered_in_bound": shipped.report["delivered"],
            "shipped_transport_bound_s": 5.0 if opts.smoke else 30.0,
            **check,
        },
    )
