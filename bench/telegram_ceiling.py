"""1a. Telegram ceiling utilisation: 3,000 private chats at the 30 msg/s bot-wide limit.

Target: achieved rate >= 95% of the ceiling (>= 28.5 msg/s), zero 429s, every chat served once.
The rate is measured where it matters, at the platform: (messages - 1) / (last - first arrival).

The fake enforces Telegram's limit as a strict sliding window (at most 30 sends in any 1 s), so
the evidence for any 429 is recorded too: for each refused send, how long the 30 accepted sends
before it took to arrive (``window_span_ms``; under 1000 ms means arrivals were compressed
relative to the engine's even spacing), and the spread of inter-arrival gaps (jitter).
With variants on, the same run with ``DeliveryEngine(rate_margin=0.04)`` runs alongside (its
own fake and database; both are light on CPU at 30 msg/s).
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import issues
from bench.common import Options, Result, percentile
from bench.fanout import Fanout, private_chats, run_fanout

NAME = "telegram_ceiling_utilisation"
LIGHT = True  # wall-clock bound (30 msg/s): may run alongside other light measurements
CEILING = 30.0
WINDOW = 1.0


def _run(opts: Options, n: int, base: int, margin: float | None) -> Fanout:
    worker = {} if margin is None else {"rate_margin": margin}
    return run_fanout(opts, chats=private_chats(n, base=base), markdown=issues.sample(), sectors=("energy",),
                      worker=worker)  # fmt: skip


def evidence(f: Fanout, limit: int = 30) -> dict[str, Any]:
    """Timing around each 429, and inter-arrival jitter, from the fake's arrival log."""
    ts = f.arrivals
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(ts)]
    refused = []
    for _chat, r in f.stats.get("rejected", []):
        inside = [t for t in ts if r - WINDOW < t <= r]
        span = (r - inside[-limit]) * 1000 if len(inside) >= limit else None
        refused.append({"at_s": round(r - ts[0], 3) if ts else None, "accepted_in_window": len(inside),
                        "window_span_ms": round(span, 1) if span is not None else None})  # fmt: skip
    return {
        "refused": refused[:10],
        "gap_ms_min": round(min(gaps), 2) if gaps else None,
        "gap_ms_p1": round(percentile(gaps, 1), 2) if gaps else None,
        "gap_ms_p50": round(percentile(gaps, 50), 2) if gaps else None,
        "gap_ms_p99": round(percentile(gaps, 99), 2) if gaps else None,
    }


def _summary(f: Fanout, n: int) -> dict[str, Any]:
    rate = f.arrival_rate()
    return {"rate": round(rate, 3), "utilisation": round(rate / CEILING, 4), "http_429": f.rate_limited,
            "messages": f.messages, **f.correctness(), **evidence(f)}  # fmt: skip


def run(opts: Options) -> Result:
    n = opts.size(3000, 60)
    with ThreadPoolExecutor(max_workers=2) as pool:
        shipped_future = pool.submit(_run, opts, n, 1_000_000, None)
        variant_future = pool.submit(_run, opts, n, 1_500_000, 0.04) if opts.variants else None
        f = shipped_future.result()
        variant = variant_future.result() if variant_future is not None else None
    rate = f.arrival_rate()
    check = f.correctness()
    utilisation = rate / CEILING
    ok = (
        utilisation >= 0.95
        and f.rate_limited == 0
        and check["chats_missing"] == 0
        and check["duplicate_messages"] == 0
        and f.messages == n
    )
    details: dict[str, Any] = {
        "chats": n,
        "messages": f.messages,
        "utilisation": round(utilisation, 4),
        "rate_incl_startup": round(n / max(1e-9, f.arrivals[-1] - f.report["t_start"]), 3) if n else 0,
        "http_429": f.rate_limited,
        "engine_retries": f.report["retried"],
        **check,
        "outbox": f.outbox,
        "engine_cpu_s": round(f.report["cpu"], 2),
        "elapsed_s": round(f.report["elapsed"], 2),
        "evidence": evidence(f),
    }
    if variant is not None:
        details["variants"] = {"rate_margin_0.04": _summary(variant, n)}
    return Result(NAME, rate, "msg/s", ">= 28.5 msg/s (95% of 30/s), 0 x 429, each chat once", ok, details)
