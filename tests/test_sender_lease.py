"""One sender per platform: workers on one database share the bot's flood budget by taking turns.

Two engines pacing Telegram's 30 msg/s each would send 60/s. The sender lease
(briefcast.store.outbox.senders) lets one send while the others stand by, hands over at once on a
clean stop and after ``sender_lease_seconds`` when the holder dies. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from briefcast.delivery.engine import DeliveryEngine, EngineStats
from briefcast.delivery.transports import TelegramTransport
from briefcast.emulators.telegram import FakeTelegram, TelegramLimits
from briefcast.store import Store, outbox
from briefcast.store.outbox import senders
from briefcast.store.records import ChatRef
from crash_worker import SAMPLE, add_subscribers, fast_settings, ingest_sample

TTL = timedelta(seconds=10)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=TelegramLimits(enabled=False)) as fake:
        yield fake


def _engine(store: Store, tg: FakeTelegram, owner: str, **delivery: object) -> DeliveryEngine:
    transport = TelegramTransport(tg.token, base_url=tg.base_url, concurrency=8)
    return DeliveryEngine(
        fast_settings(**delivery), store, {"telegram": transport}, owner=owner, idle_poll=0.02
    )


async def _close(*engines: DeliveryEngine) -> None:
    for e in engines:
        for t in e.transports.values():
            await t.close()


def test_lease_is_exclusive_renewable_and_lapses(store: Store) -> None:
    t0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    db = store.engine
    assert senders.acquire(db, "telegram", "a", now=t0, ttl=TTL)
    assert not senders.acquire(db, "telegram", "b", now=t0 + timedelta(seconds=1), ttl=TTL)
    assert senders.acquire(db, "slack", "b", now=t0, ttl=TTL)  # platforms are independent
    assert senders.acquire(db, "telegram", "a", now=t0 + timedelta(seconds=9), ttl=TTL)  # renewal
    # a's renewal at +9 s holds until +19 s; b gets nothing before that, then takes over
    assert not senders.acquire(db, "telegram", "b", now=t0 + timedelta(seconds=18), ttl=TTL)
    assert senders.acquire(db, "telegram", "b", now=t0 + timedelta(seconds=19, milliseconds=1), ttl=TTL)
    assert not senders.acquire(db, "telegram", "a", now=t0 + timedelta(seconds=20), ttl=TTL)
    held = {h.platform: h for h in senders.holders(db)}
    assert held["telegram"].owner == "b"
    assert held["telegram"].acquired_at == t0 + timedelta(seconds=19, milliseconds=1)
    assert held["slack"].acquired_at == t0  # renewals keep the original acquisition time


def test_release_hands_over_at_once_and_only_by_the_holder(store: Store) -> None:
    t0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    db = store.engine
    assert senders.acquire(db, "telegram", "a", now=t0, ttl=TTL)
    assert not senders.release(db, "telegram", "b", now=t0)  # not b's to give back
    assert not senders.acquire(db, "telegram", "b", now=t0, ttl=TTL)
    assert senders.release(db, "telegram", "a", now=t0)
    assert senders.acquire(db, "telegram", "b", now=t0, ttl=TTL)
    assert not senders.holders(db)[0].live(t0 + TTL)


class Delivered:
    """Engine progress (the ``progress`` callback) as something a test can await."""

    def __init__(self) -> None:
        self.cond = asyncio.Condition()
        self.count = 0

    def __call__(self, stats: EngineStats) -> None:
        self.count = stats.delivered
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self.cond:
            self.cond.notify_all()

    async def reach(self, n: int, timeout: float = 20.0) -> None:
        async with self.cond:
            await asyncio.wait_for(self.cond.wait_for(lambda: self.count >= n), timeout)


async def test_two_running_engines_take_turns_not_share(store: Store, tg: FakeTelegram) -> None:
    """Both run; one sends everything, the other stands by; when the sender stops cleanly the
    standby takes over the next issue without waiting for the lease to lapse."""
    first_issue = ingest_sample(store)
    chats = list(range(61_000, 61_030))
    for c in chats:
        tg.add_chat(c)
    add_subscribers(store, chats, ("energy",))
    # a lease long enough that only a hand-over (not a lapse) can explain the second turn
    a = _engine(store, tg, "worker-a", sender_lease_seconds=60.0)
    b = _engine(store, tg, "worker-b", sender_lease_seconds=60.0)
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    done_a, done_b = Delivered(), Delivered()
    outbox.enqueue_now(store.engine, first_issue, now=datetime.now(UTC))
    run_a = asyncio.create_task(a.run(stop_a, progress=done_a))
    await done_a.reach(1)  # a is sending, so it holds the lease; now b joins
    run_b = asyncio.create_task(b.run(stop_b, progress=done_b))
    b.wake()
    await done_a.reach(len(chats))
    assert b.stats.delivered == 0 and b._sending_platforms() == ()

    stop_a.set()
    await run_a
    assert [h.owner for h in senders.holders(store.engine)] == ["worker-a"]
    second = ingest_sample(store, text=SAMPLE.read_text(encoding="utf-8").replace("周观察", "下周观察", 1))
    outbox.enqueue_now(store.engine, second, now=datetime.now(UTC))
    b.wake()
    await done_b.reach(len(chats))
    stop_b.set()
    await run_b
    await _close(a, b)
    received = Counter(m.chat_id for m in tg.sent_messages)
    assert set(received) == set(chats) and set(received.values()) == {2}
    assert a.stats.delivered == len(chats)  # nothing more after it stopped


async def test_a_dead_holders_lease_lapses_then_a_standby_delivers(store: Store, tg: FakeTelegram) -> None:
    issue_id = ingest_sample(store)
    chats = list(range(62_000, 62_010))
    for c in chats:
        tg.add_chat(c)
    add_subscribers(store, chats, ("ai",))
    outbox.enqueue_now(store.engine, issue_id, now=datetime.now(UTC))
    # a worker that took the lease and was SIGKILLed: nobody renews or releases it
    dead_until = datetime.now(UTC) + timedelta(seconds=0.5)
    assert senders.acquire(
        store.engine, "telegram", "dead", now=datetime.now(UTC), ttl=timedelta(seconds=0.5)
    )
    b = _engine(store, tg, "standby", sender_lease_seconds=0.3)
    stats = await b.drain()
    await _close(b)
    assert stats.delivered == len(chats)
    rows = outbox.list_deliveries(store.engine, limit=None)
    assert all(d.status == "sent" for d in rows)
    assert all(d.sent_at is not None and d.sent_at >= dead_until for d in rows)  # not before it lapsed
    (lease,) = senders.holders(store.engine)
    assert lease.owner == "standby" and not lease.live(datetime.now(UTC))  # given back on exit


async def test_a_telegram_only_drain_ends_although_slack_rows_wait(store: Store, tg: FakeTelegram) -> None:
    """``briefcast push`` with only a Telegram token: Slack deliveries stay queued for a worker
    that has a Slack token, and the drain returns instead of waiting for them forever."""
    issue_id = ingest_sample(store)
    tg.add_chat(63_000)
    add_subscribers(store, [63_000], ("energy",))
    slack = ChatRef("slack", "C0SLACK", workspace="T0FAKE")
    store.upsert_chat(slack, kind="channel")
    store.subscribe(slack, ("energy",), mode="publish")
    assert outbox.enqueue_now(store.engine, issue_id, now=datetime.now(UTC)) == 2
    engine = _engine(store, tg, "telegram-only")
    stats = await asyncio.wait_for(engine.drain(), timeout=20)
    await _close(engine)
    assert stats.delivered == 1 and [m.chat_id for m in tg.sent_messages] == [63_000]
    counts = outbox.count_by_status(store.engine, issue_id=issue_id)
    assert counts["sent"] == 1 and counts["pending"] == 1  # the Slack row, untouched
