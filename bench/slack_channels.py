"""3. Slack: 200 channels in one workspace, a 4-part digest each, 1 message/s per channel.

Target: zero 429s — the fake enforces Slack's per-channel limit as Slack documents it (1 per
second, short bursts allowed: a token bucket with one extra token) — and the engine's pacing of
1/s per channel visible at the platform: the median gap between two posts to a channel >= 1 s
(minus 2% for timer resolution). The smallest gap and the fastest channel (first to last post)
are reported too: arrival times jitter with the machine's load, and a send that left on time
but arrived late makes the next gap look short; Slack's burst allowance is what absorbs that.
"""

from __future__ import annotations

import itertools

from bench import issues
from bench.common import Options, Result, percentile
from bench.fanout import run_fanout, slack_channels

NAME = "slack_channels"
LIGHT = True


def run(opts: Options) -> Result:
    n = opts.size(200, 10)
    sectors = ("ai", "energy", "web3", "signals")
    f = run_fanout(opts, chats=slack_channels(n), markdown=issues.sample(), sectors=sectors, platform="slack")
    check = f.correctness()
    gaps = [b[0] - a[0] for ts in f.by_chat.values() for a, b in itertools.pairwise(ts)]
    min_gap = min(gaps) if gaps else float("nan")
    rates = [(len(ts) - 1) / (ts[-1][0] - ts[0][0]) for ts in f.by_chat.values() if len(ts) > 1]
    max_rate = max(rates) if rates else 0.0
    ok = (
        f.rate_limited == 0
        and check["chats_missing"] == 0
        and check["duplicate_messages"] == 0
        and check["chats_out_of_order"] == 0
        and bool(gaps)
        and percentile(gaps, 50) >= 0.98
    )
    return Result(
        NAME,
        f.rate_limited,
        "429s",
        "0 x 429; median gap per channel >= 1 s",
        ok,
        {
            "channels": n,
            "messages": f.messages,
            "max_channel_rate_per_s": round(max_rate, 3),
            "min_gap_s": round(min_gap, 3),
            "p50_gap_s": round(percentile(gaps, 50), 3) if gaps else None,
            "elapsed_s": round(f.report["elapsed"], 2),
            **check,
            "outbox": f.outbox,
        },
    )
