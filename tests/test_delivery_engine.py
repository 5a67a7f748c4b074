"""The delivery engine against the fake Telegram server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.transports import TelegramTransport
from briefcast.emulators.telegram import FakeTelegram, TelegramLimits
from briefcast.store import DeliveryRecord, Store, outbox
from crash_worker import SAMPLE, add_subscribers, fast_settings, ingest_sample


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=TelegramLimits(enabled=False)) as fake:
        yield fake


def _engine(store: Store, tg: FakeTelegram, *, timeout: float = 10.0, **delivery: object) -> DeliveryEngine:
    transport = TelegramTransport(tg.token, base_url=tg.base_url, concurrency=8, timeout=timeout)
    return DeliveryEngine(
        fast_settings(**delivery), store, {"telegram": transport}, idle_poll=0.02, backoff_base=0.05
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _rows(store: Store) -> dict[int, DeliveryRecord]:
    return {d.subscription_id: d for d in outbox.list_deliveries(store.engine, limit=None)}


async def _close(engine: DeliveryEngine) -> None:
    for t in engine.transports.values():
        await t.close()


async def test_fan_out_sends_each_subscriber_its_sectors_once(store: Store, tg: FakeTelegram) -> None:
    issue_id = ingest_sample(store)
    chats = list(range(1001, 1021))
    for c in chats:
        tg.add_chat(c)
    subs = add_subscribers(store, chats, ("energy",))
    two = add_subscribers(store, [2000], ("ai", "energy"))[0]
    tg.add_chat(2000)
    assert outbox.enqueue_now(store.engine, issue_id, now=_now()) == 21
    assert outbox.enqueue_now(store.engine, issue_id, now=_now()) == 0  # idempotent
    engine = _engine(store, tg)
    stats = await engine.drain()
    await _close(engine)
    assert stats.delivered == 21 and stats.failed == 0
    for c in chats:
        assert len(tg.messages_to(c)) == 1
    rows = _rows(store)
    for s in subs:
        assert rows[s].status == "sent" and rows[s].parts_sent == rows[s].parts_total == 1
        assert rows[s].message_ids and rows[s].sent_at is not None
    # Two sectors, in issue order (ai before energy), with the platform's message ids recorded.
    got = tg.messages_to(2000)
    assert len(got) == 2 and rows[two].parts_total == 2
    assert rows[two].message_ids == tuple(str(m.message_id) for m in got)
    assert "AI" in got[0].plain or "人工智能" in got[0].plain


async def test_sectors_missing_from_the_issue_are_skipped_silently(store: Store, tg: FakeTelegram) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## ⚡"))
    end = next(i for i, line in enumerate(lines) if line.startswith("## 🌐"))
    issue_id = ingest_sample(store, text="\n".join(lines[:start] + lines[end:]))  # no energy section
    tg.add_chat(3000)
    tg.add_chat(3001)
    only_energy, mixed = (
        add_subscribers(store, [3000], ("energy",))[0],
        add_subscribers(store, [3001], ("energy", "web3"))[0],
    )
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    engine = _engine(store, tg)
    await engine.drain()
    await _close(engine)
    assert tg.messages_to(3000) == []
    rows = _rows(store)
    assert rows[only_energy].status == "skipped"
    assert rows[mixed].status == "sent" and rows[mixed].parts_total == 1 and len(tg.messages_to(3001)) == 1


async def test_retry_after_is_honoured(store: Store, tg: FakeTelegram) -> None:
    issue_id = ingest_sample(store)
    tg.add_chat(4000)
    sub = add_subscribers(store, [4000])[0]
    tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", {"retry_after": 1}, chat_id=4000)
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    engine = _engine(store, tg)
    await engine.drain(wait_retries=5)
    await _close(engine)
    calls = [r for r in tg.calls("sendMessage") if str(r.params.get("chat_id")) == "4000"]
    assert len(calls) == 2
    assert calls[1].t - calls[0].t >= 1.0  # not before retry_after
    row = _rows(store)[sub]
    assert row.status == "sent" and row.attempts == 2  # tries: the 429 and the one that worked
    assert engine.stats.rate_limited == 1


async def test_server_errors_are_retried_then_sent(store: Store, tg: FakeTelegram) -> None:
    issue_id = ingest_sample(store)
    tg.add_chat(4100)
    sub = add_subscribers(store, [4100])[0]
    tg.fail_next("sendMessage", 502, "Bad Gateway", count=2, chat_id=4100)
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    engine = _engine(store, tg)
    await engine.drain(wait_retries=5)
    await _close(engine)
    assert len(tg.messages_to(4100)) == 1
    row = _rows(store)[sub]
    assert row.status == "sent" and row.attempts == 3  # two 502s, then the send that worked


async def test_max_attempts_dead_letters_with_reason(store: Store, tg: FakeTelegram) -> None:
    issue_id = ingest_sample(store)
    tg.add_chat(4200)
    sub = add_subscribers(store, [4200])[0]
    tg.fail_next("sendMessage", 500, "Internal Server Error", count=10, chat_id=4200)
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    engine = _engine(store, tg, max_attempts=3)
    await engine.drain(wait_retries=5)
    await _close(engine)
    row = _rows(store)[sub]
    assert row.status == "failed" and row.attempts == 3
    assert "gave up after 3 attempts" in row.last_error and "Internal Server Error" in row.last_error
    assert outbox.retry_failed(store.engine, now=_now()) == 1
    assert _rows(store)[sub].status == "pending"


async def test_blocked_user_is_deactivated_with_reason(store: Store, tg: FakeTelegram) -> None:
    issue_id = ingest_sample(store)
    for c in (5000, 5001):
        tg.add_chat(c)
    blocked, ok = add_subscribers(store, [5000, 5001])
    tg.block(5000)
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    engine = _engine(store, tg)
    await engine.drain()
    await _close(engine)
    rows = _rows(store)
    assert rows[blocked].status == "failed" and "blocked" in rows[blocked].last_error
    assert rows[ok].status == "sent"
    (sub,) = store.subscriptions_for_chat("telegram", "5000")
    assert not sub.active and "blocked" in sub.reason
    chat = store.get_chat("telegram", "5000")
    assert chat is not None and not chat.active


async def test_group_migration_is_followed(store: Store, tg: FakeTelegram) -> None:
    issue_id = ingest_sample(store)
    tg.add_chat(-600, "group")
    sub = add_subscribers(store, [-600], kind="group")[0]
    tg.migrate(-600, -100600)
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    engine = _engine(store, tg)
    await engine.drain()
    await _close(engine)
    assert len(tg.messages_to(-100600)) == 1 and tg.messages_to(-600) == []
    assert _rows(store)[sub].status == "sent"
    assert store.get_chat("telegram", "-100600") is not None
    assert engine.stats.migrated == 1


async def test_parts_go_in_order_and_stop_after_a_permanent_failure(store: Store, tg: FakeTelegram) -> None:
    issue_id = ingest_sample(store)
    tg.add_chat(7000)
    tg.add_chat(7001)
    whole, cut = add_subscribers(store, [7000, 7001], ("ai", "energy", "web3", "signals"))
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    # 4 parts per chat at 4 per second per chat: time to block 7001 after its first part.
    engine = _engine(store, tg, telegram_chat_per_second=4.0)
    run = asyncio.create_task(engine.drain())
    await tg.wait_for(lambda: len(tg.messages_to(7001)) >= 1, timeout=5)
    tg.block(7001)
    await run
    await _close(engine)
    texts = [m.plain for m in tg.messages_to(7000)]
    assert len(texts) == 4
    issue = store.get_issue(issue_id)
    assert issue is not None
    for text, section in zip(texts, issue.briefing.sections, strict=True):
        assert section.name in text or (section.headline and section.headline[:10] in text)
    rows = _rows(store)
    assert rows[whole].parts_sent == 4 and rows[whole].status == "sent"
    assert len(tg.messages_to(7001)) == 1
    assert rows[cut].status == "failed" and rows[cut].parts_sent == 1 and len(rows[cut].message_ids) == 1


async def test_one_slow_subscriber_does_not_delay_the_others(store: Store, tg: FakeTelegram) -> None:
    issue_id = ingest_sample(store)
    chats = list(range(8000, 8011))
    for c in chats:
        tg.add_chat(c)
    add_subscribers(store, chats)
    tg.set_timeout_next("sendMessage", delay=1.5, chat_id=8000)
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    engine = _engine(store, tg, concurrency=3)
    start = time.monotonic()
    run = asyncio.create_task(engine.drain())
    await tg.wait_for(lambda: all(tg.messages_to(c) for c in chats[1:]), timeout=5)
    others_done = time.monotonic() - start
    await run
    await _close(engine)
    assert others_done < 1.2  # the stuck chat held one of three slots, not the queue
    assert len(tg.messages_to(8000)) == 1


async def test_no_new_issue_means_nothing_is_sent(store: Store, tg: FakeTelegram) -> None:
    tg.add_chat(9000)
    add_subscribers(store, [9000])
    assert (
        outbox.enqueue_due(store.engine, now=_now(), grace=__import__("datetime").timedelta(hours=6)).pending
        == 0
    )
    engine = _engine(store, tg)
    stats = await engine.drain()
    await _close(engine)
    assert stats.finished == 0 and tg.sent_messages == []


async def test_private_chat_limit_spaces_parts(store: Store, tg: FakeTelegram) -> None:
    """Our own buckets keep a strict fake (1 msg per window per private chat) from ever answering 429.

    The engine spaces a chat's parts 0.25 s apart; the fake's window is 0.2 s. The fake judges
    arrival times, and on a loaded 2-core machine two requests sent 0.25 s apart can arrive
    closer than that (transit jitter of tens of ms), so equal windows made this test flaky.
    Without our buckets the parts would arrive milliseconds apart and be refused.
    """
    issue_id = ingest_sample(store)
    tg.set_limits(TelegramLimits(enabled=True, per_private_chat=1, private_window=0.2))
    tg.add_chat(9100)
    tg.add_chat(9101)
    add_subscribers(store, [9100, 9101], ("ai", "energy", "web3"))
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    engine = _engine(store, tg, telegram_chat_per_second=4.0)
    await engine.drain()
    await _close(engine)
    assert tg.rate_limited == 0
    for c in (9100, 9101):
        ts = [m.t for m in tg.messages_to(c)]
        assert len(ts) == 3 and all(b - a >= 0.2 for a, b in itertools.pairwise(ts))
    # The two chats interleave instead of one waiting for the other.
    first = [m.chat_id for m in tg.sent_messages[:2]]
    assert sorted(first) == [9100, 9101]
