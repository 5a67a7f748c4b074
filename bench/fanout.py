"""One fan-out scenario end to end: database, subscribers, fake platform, engine process, analysis.

Used by the ceiling, paid, group, Slack, engine-overhead and memory measurements; they differ
only in sizes, limits, latency and which database they use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench import issues
from bench.common import (
    FakeProcess,
    Options,
    WorkerSpec,
    add_chats,
    database,
    enqueue,
    ingest,
    open_store,
    per_chat,
    run_worker,
    status_counts,
)


@dataclass
class Fanout:
    """What happened: the engine's report, the fake's view, and the outbox afterwards."""

    chats: list[str]
    expected: list[int]  # crc32 of each digest part, in order
    report: dict[str, Any]
    stats: dict[str, Any]
    outbox: dict[str, int]
    by_chat: dict[str, list[tuple[float, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_chat = per_chat(self.stats["log"])

    @property
    def arrivals(self) -> list[float]:
        return sorted(float(t) for _, t, _ in self.stats["log"])

    @property
    def messages(self) -> int:
        return len(self.stats["log"])

    @property
    def rate_limited(self) -> int:
        return int(self.stats.get("rate_limited", 0))

    def arrival_rate(self) -> float:
        """Messages per second as the platform saw them: (n - 1) / (last - first arrival)."""
        ts = self.arrivals
        if len(ts) < 2 or ts[-1] <= ts[0]:
            return 0.0
        return (len(ts) - 1) / (ts[-1] - ts[0])

    def correctness(self) -> dict[str, int]:
        """Chats missing parts, duplicate messages, chats whose parts arrived out of order."""
        n = len(self.expected)
        expected = set(self.expected)
        missing = duplicates = out_of_order = 0
        for chat in self.chats:
            got = [crc for _, crc in self.by_chat.get(chat, [])]
            if not expected <= set(got):
                missing += 1
            duplicates += max(0, len(got) - n)
            if len(got) == n and got != self.expected:
                out_of_order += 1
        wanted = set(self.chats)
        unexpected = sum(1 for chat in self.by_chat if chat not in wanted)
        return {
            "chats_missing": missing,
            "duplicate_messages": duplicates,
            "chats_out_of_order": out_of_order,
            "unexpected_chats": unexpected,
        }


def run_fanout(
    opts: Options,
    *,
    chats: Sequence[str],
    markdown: str,
    sectors: Sequence[str],
    db: str = "sqlite",
    platform: str = "telegram",
    chat_kind: str = "private",
    latency: float | None = None,
    limits: str = "real",
    per_bot: int = 30,
    worker: dict[str, Any] | None = None,
    timeout: float = 900.0,
) -> Fanout:
    """Subscribe ``chats`` to ``sectors``, publish ``markdown``, push it, let one engine deliver it."""
    chat_list = [str(c) for c in chats]
    with database(db, opts.workdir) as url:
        store = open_store(url)
        try:
            issue_id = ingest(store, markdown)
            add_chats(
                store, platform, chat_list, kind=chat_kind, sectors=sectors,
                workspace="T0FAKE" if platform == "slack" else "",
            )  # fmt: skip
            enqueue(store, issue_id)
        finally:
            store.close()
        fake_latency = opts.latency if latency is None else latency
        with FakeProcess(platform, latency=fake_latency, limits=limits, per_bot=per_bot) as fake:
            spec = WorkerSpec(db_url=url, platform=platform, base_url=fake.base_url, token=fake.token)
            for key, value in (worker or {}).items():
                setattr(spec, key, value)
            fake_cpu0 = fake.cpu_seconds()
            report = run_worker(spec, timeout)
            report["fake_cpu"] = fake.cpu_seconds() - fake_cpu0
            stats = fake.stats()
        counts = status_counts(url)
    expected = issues.crcs(markdown, platform, sectors)
    return Fanout(chat_list, expected, report, stats, counts)


def private_chats(n: int, base: int = 1_000_000) -> list[str]:
    return [str(base + i) for i in range(n)]


def group_chats(n: int) -> list[str]:
    return [str(-1_001_000_000_000 - i) for i in range(n)]


def slack_channels(n: int) -> list[str]:
    return [f"C{i:08d}" for i in range(1, n + 1)]
