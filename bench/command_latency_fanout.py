"""Issue 14: command latency at 1,000 updates/s while a 100k fan-out is being delivered.

The same measurement as :mod:`bench.command_latency` (webhook POST -> first ``sendMessage`` for
that chat at the fake), with 5,000 ``/energy`` updates at 1,000/s, posted while a worker process
delivers the issue to 100,000 subscribers with paid broadcast (1,000 msg/s) through the same
fake and the same SQLite database. Target: p99 <= 50 ms.
"""

from __future__ import annotations

from typing import Any

from bench.command_latency import _measure
from bench.common import Options, Result

NAME = "command_latency_fanout"


def run(opts: Options) -> Result:
    n, rate, fanout = opts.size(5000, 100), 1000.0, opts.size(100_000, 2000)
    got = _measure(opts, n, rate, fanout=fanout)
    details: dict[str, Any] = {
        "updates": n,
        "rate_per_s": rate,
        "fake_latency_ms": opts.latency * 1000,
        **got,
    }
    p99 = float(got["p99_ms"])
    ok = p99 <= 50.0 and got["unanswered_within_grace"] == 0 and got["fanout_messages_while_measuring"] > 0
    return Result(NAME, p99, "ms", "p99 <= 50 ms at 1,000 updates/s during a 100k fan-out", ok, details)
