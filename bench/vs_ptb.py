"""5. Side by side: the engine vs a loop over chats with python-telegram-bot's ``AIORateLimiter``.

Same fake (real limits: 30/s overall, 1/s per chat; 40 ms latency), same message (the rendered
energy digest), same number of fresh chats for every contender:

* briefcast — the delivery engine (outbox, token buckets, retry-after honoured);
* PTB loop, ``AIORateLimiter()`` defaults (``max_retries=0``) and ``max_retries=3``, each as a
  sequential loop and as one task per chat (see :mod:`bench.ptb_loop`).

Throughput = messages accepted by the fake / (last arrival - start). Lost = chats that never got
the message. ``value`` is briefcast's throughput divided by the best PTB contender that lost
nothing (a loop that drops messages is not faster, it is wrong); the target asks that the
engine, which provokes no 429 and loses nothing, is within 5% of it.
"""

from __future__ import annotations

from typing import Any

from bench import issues
from bench.common import FakeProcess, Options, Result, run_module
from bench.fanout import private_chats, run_fanout

NAME = "vs_ptb_ratelimiter"


def _ptb(opts: Options, chats: list[str], text: str, max_retries: int, pattern: str) -> dict[str, Any]:
    with FakeProcess("telegram", latency=opts.latency) as fake:
        cfg = {"base_url": fake.base_url, "token": fake.token, "chats": chats, "text": text,
               "max_retries": max_retries, "pattern": pattern}  # fmt: skip
        report = run_module("bench.ptb_loop", cfg, timeout=600)
        stats = fake.stats()
    arrivals = sorted(float(t) for _, t, _ in stats["log"])
    accepted = len(arrivals)
    span = (arrivals[-1] - report["t_start"]) if arrivals else float("inf")
    return {
        "throughput": round(accepted / span, 2) if accepted else 0.0,
        "delivered": accepted,
        "lost": len(chats) - len({c for c, _, _ in stats["log"]}),
        "http_429": int(stats["rate_limited"]),
        "elapsed_s": round(report["elapsed"], 2),
    }


def run(opts: Options) -> Result:
    n = opts.size(600, 40)
    markdown = issues.sample()
    text = str(issues.parts(markdown, "telegram", ("energy",))[0]["text"])
    f = run_fanout(opts, chats=private_chats(n, base=4_000_000), markdown=markdown, sectors=("energy",))
    ours_span = f.arrivals[-1] - f.report["t_start"] if f.messages else float("inf")
    ours = {
        "throughput": round(f.messages / ours_span, 2),
        "delivered": f.messages,
        "lost": f.correctness()["chats_missing"],
        "http_429": f.rate_limited,
        "elapsed_s": round(f.report["elapsed"], 2),
    }
    contenders: dict[str, dict[str, Any]] = {}
    base = 5_000_000
    # A sequential loop never has two requests in flight, so it never meets a 429 and max_retries
    # cannot matter for it: it is run once, with the defaults.
    for pattern, retries in (("sequential", 0), ("gather", 0), ("gather", 3)):
        chats = private_chats(n, base=base)
        base += 100_000
        contenders[f"ptb_{pattern}_max_retries_{retries}"] = _ptb(opts, chats, text, retries, pattern)
    ratios = {k: round(ours["throughput"] / v["throughput"], 3) if v["throughput"] else None
              for k, v in contenders.items()}  # fmt: skip
    lossless = [v["throughput"] for v in contenders.values() if v["lost"] == 0]
    best = max(lossless) if lossless else 0.0
    value = ours["throughput"] / best if best else float("inf")
    ok = ours["lost"] == 0 and ours["http_429"] == 0 and value >= 0.95
    return Result(
        NAME,
        value,
        "x (briefcast / best lossless PTB loop)",
        "briefcast: 0 lost, 0 x 429, >= 0.95 x the best PTB loop that lost nothing",
        ok,
        {"chats": n, "briefcast": ours, **contenders, "ratios": ratios},
    )
