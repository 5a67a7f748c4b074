"""Crash safety (SIGKILL mid fan-out, restart) and two workers on one PostgreSQL.

The restarted worker finds the killed one's sender lease (briefcast.store.outbox.senders) and waits
for it to lapse (``sender_lease_seconds``, 1 s here) before it sends.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.transports import TelegramTransport
from briefcast.emulators.telegram import FakeTelegram, TelegramLimits
from briefcast.store import Store, outbox
from crash_worker import add_subscribers_bulk, fast_settings, ingest_sample

WORKER = Path(__file__).with_name("crash_worker.py")
CONCURRENCY = 8
LEASE = 1.0


def _worker(db_url: str, tg: FakeTelegram) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(WORKER), db_url, tg.base_url, tg.token, str(CONCURRENCY), str(LEASE)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_mid_fan_out_then_restart_loses_nothing(store: Store, db_url: str) -> None:
    chats = list(range(100_000, 100_300))
    issue_id = ingest_sample(store)
    add_subscribers_bulk(store, chats)
    assert outbox.enqueue_now(store.engine, issue_id, now=datetime.now(UTC)) == len(chats)
    with FakeTelegram.in_thread(limits=TelegramLimits(enabled=False), latency=0.01) as tg:
        for c in chats:
            tg.add_chat(c)
        first = _worker(db_url, tg)
        try:
            tg.wait_for_sync(lambda: len(tg.sent_messages) >= 100, timeout=60)
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        killed_at = len(tg.sent_messages)
        assert first.returncode == -signal.SIGKILL
        assert killed_at < len(chats), "the worker finished before it could be killed"
        second = _worker(db_url, tg)
        _out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err.decode()[-2000:]
        received = Counter(m.chat_id for m in tg.sent_messages)
    assert set(received) == set(chats)  # nobody lost
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= CONCURRENCY
    counts = outbox.count_by_status(store.engine, issue_id=issue_id)
    assert counts["sent"] == len(chats) and counts["claimed"] == counts["pending"] == 0


@pytest.mark.postgres
async def test_two_workers_on_postgres_never_double_send(pg_url: str) -> None:
    stores = [Store.open(pg_url, settings=fast_settings()) for _ in range(2)]
    try:
        chats = list(range(200_000, 200_200))
        issue_id = ingest_sample(stores[0])
        add_subscribers_bulk(stores[0], chats)
        async with FakeTelegram(limits=TelegramLimits(enabled=False), latency=0.002) as tg:
            for c in chats:
                tg.add_chat(c)
            outbox.enqueue_now(stores[0].engine, issue_id, now=datetime.now(UTC))
            engines = [
                DeliveryEngine(
                    fast_settings(),
                    st,
                    {"telegram": TelegramTransport(tg.token, base_url=tg.base_url, concurrency=CONCURRENCY)},
                    batch_size=20,
                    idle_poll=0.02,
                )
                for st in stores
            ]
            stats = await asyncio.gather(*(e.drain() for e in engines))
            for e in engines:
                for t in e.transports.values():
                    await t.close()
            received = Counter(m.chat_id for m in tg.sent_messages)
        assert set(received) == set(chats)
        assert max(received.values()) == 1  # zero duplicates
        # one sender per bot (the flood limit is per bot): the other worker stood by
        assert sorted(s.delivered for s in stats) == [0, len(chats)]
    finally:
        for st in stores:
            st.close()
