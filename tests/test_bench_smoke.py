"""The benchmark harness still runs end to end (``python -m bench --smoke``) and writes the agreed JSON.

Benchmarks are not tests: the figures are not asserted here (smoke sizes mean nothing), only
that the harness runs the real components and produces one well-formed entry per measurement.
Two cheap measurements are run; the full list of names is checked against issues 6 and 14.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

ISSUE_NAMES = [
    "telegram_ceiling_utilisation",
    "telegram_paid_utilisation",
    "group_limits",
    "slack_channels",
    "engine_sqlite",
    "engine_postgres",
    "vs_ptb_ratelimiter",
    "command_latency_p99",
    "memory_100k",
    "crash_recovery",
    "scheduler_first_message",
    # issue 14: one slot with a million subscribers
    "slot_cost_curve",
    "slot_1m",
    "command_latency_fanout",
]


def test_names_match_the_issue() -> None:
    sys.path.insert(0, str(REPO))
    try:
        from bench.__main__ import MODULES
        from bench.common import NAMES
    finally:
        sys.path.remove(str(REPO))
    assert list(NAMES) == ISSUE_NAMES
    assert list(MODULES) == ISSUE_NAMES


def test_smoke_run_writes_results_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    only = "telegram_ceiling_utilisation,engine_sqlite"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--no-variants", "--only", only, "--output", str(out),
         "--workdir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert [r["name"] for r in results] == only.split(",")
    for r in results:
        assert set(r) == {"name", "value", "unit", "target", "pass", "details"}
        assert isinstance(r["value"], int | float) and math.isfinite(r["value"])
        assert isinstance(r["pass"], bool)
        assert r["unit"] and r["target"]
        assert r["details"]["machine_cores"] >= 1
        assert "error" not in r["details"]
    ceiling = results[0]["details"]
    assert ceiling["messages"] == ceiling["chats"]  # every chat was served by the real engine
    assert ceiling["duplicate_messages"] == 0
    engine = results[1]["details"]
    assert engine["deliveries"] == 300 and engine["cpu_ms_per_delivery"] > 0
    assert "machine" in json.loads(out.with_suffix(".meta.json").read_text())
