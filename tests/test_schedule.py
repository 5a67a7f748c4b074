"""Slots in local time (DST), grace after downtime, idempotent enqueueing, the scheduler end to end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.transports import TelegramTransport
from briefcast.emulators.telegram import FakeTelegram, TelegramLimits
from briefcast.schedule import Scheduler
from briefcast.slots import (
    decide_slot,
    first_slot_at_or_after,
    last_slot_at_or_before,
    next_slot_after,
    slot_instant,
)
from briefcast.store import Store, outbox
from crash_worker import add_subscribers, fast_settings, ingest_sample

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SHANGHAI = ZoneInfo("Asia/Shanghai")
GRACE = timedelta(hours=6)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# ------------------------------------------------------------------------------ slot arithmetic


def test_spring_forward_gap_moves_the_slot_forward_not_away() -> None:
    # 2026-03-08: New York clocks jump 02:00 EST -> 03:00 EDT; 02:30 does not exist.
    s = slot_instant(datetime(2026, 3, 8).date(), time(2, 30), NY)
    assert s == utc(2026, 3, 8, 7, 30)  # 02:30 EST == 03:30 EDT
    assert s.astimezone(NY).strftime("%H:%M %Z") == "03:30 EDT"
    # The day before and after keep their wall-clock time.
    assert slot_instant(datetime(2026, 3, 7).date(), time(2, 30), NY) == utc(2026, 3, 7, 7, 30)
    assert slot_instant(datetime(2026, 3, 9).date(), time(2, 30), NY) == utc(2026, 3, 9, 6, 30)


def test_fall_back_fold_fires_once_at_the_first_occurrence() -> None:
    # 2026-10-25: London 01:30 happens twice (BST, then GMT).
    day = datetime(2026, 10, 25).date()
    s = slot_instant(day, time(1, 30), LONDON)
    assert s == utc(2026, 10, 25, 0, 30)  # 01:30 BST
    # From just after the first occurrence, the next slot is the next day, not the second 01:30.
    assert next_slot_after(s, time(1, 30), LONDON) == utc(2026, 10, 26, 1, 30)
    # The delivery time is 08:00 local on both sides of the change.
    assert slot_instant(day, time(8, 0), LONDON) == utc(2026, 10, 25, 8, 0)
    assert slot_instant(datetime(2026, 10, 24).date(), time(8, 0), LONDON) == utc(2026, 10, 24, 7, 0)


def test_first_and_last_slot_around_midnight_and_timezones() -> None:
    # Published 23:30 UTC = 07:30 next day in Shanghai -> the 08:00 slot is 30 minutes later.
    assert first_slot_at_or_after(utc(2026, 11, 27, 23, 30), time(8, 0), SHANGHAI) == utc(2026, 11, 28, 0, 0)
    # Published exactly at the slot: that slot counts.
    assert first_slot_at_or_after(utc(2026, 11, 28, 0, 0), time(8, 0), SHANGHAI) == utc(2026, 11, 28, 0, 0)
    assert last_slot_at_or_before(utc(2026, 11, 28, 0, 0), time(8, 0), SHANGHAI) == utc(2026, 11, 28, 0, 0)
    assert last_slot_at_or_before(utc(2026, 11, 27, 23, 59), time(8, 0), SHANGHAI) == utc(2026, 11, 27, 0, 0)


def test_decide_slot_wait_send_late_and_skip() -> None:
    published = utc(2026, 11, 27, 22, 0)  # 06:00 Shanghai
    slot = utc(2026, 11, 28, 0, 0)
    assert decide_slot(published, time(8, 0), SHANGHAI, utc(2026, 11, 27, 23, 59), GRACE) == ("wait", slot)
    assert decide_slot(published, time(8, 0), SHANGHAI, slot, GRACE) == ("send", slot)
    assert decide_slot(published, time(8, 0), SHANGHAI, slot + GRACE, GRACE) == ("send", slot)
    assert (
        decide_slot(published, time(8, 0), SHANGHAI, slot + GRACE + timedelta(seconds=1), GRACE)[0] == "skip"
    )


# ------------------------------------------------------------------------------ enqueue (database)


def _statuses(store: Store) -> dict[int, str]:
    return {d.subscription_id: d.status for d in outbox.list_deliveries(store.engine, limit=None)}


def test_enqueue_at_the_slot_is_idempotent_and_waits_before_it(store: Store) -> None:
    issue_id = ingest_sample(store, published_at=utc(2026, 11, 27, 22, 0))  # 06:00 Shanghai
    (sub,) = add_subscribers(store, [1], mode="scheduled", time="08:00", timezone="Asia/Shanghai")
    assert outbox.enqueue_due(store.engine, now=utc(2026, 11, 27, 23, 59), grace=GRACE).pending == 0
    first = outbox.enqueue_due(store.engine, now=utc(2026, 11, 28, 0, 0), grace=GRACE)
    assert (first.pending, first.issue_id) == (1, issue_id)
    assert outbox.enqueue_due(store.engine, now=utc(2026, 11, 28, 0, 1), grace=GRACE).pending == 0
    assert outbox.enqueue_now(store.engine, issue_id, now=utc(2026, 11, 28, 0, 2)) == 0
    assert _statuses(store) == {sub: "pending"}


def test_dst_slot_in_new_york_on_spring_forward_day(store: Store) -> None:
    ingest_sample(store, published_at=utc(2026, 3, 8, 5, 0))  # 00:00 EST
    (sub,) = add_subscribers(store, [2], mode="scheduled", time="02:30", timezone="America/New_York")
    assert outbox.enqueue_due(store.engine, now=utc(2026, 3, 8, 7, 29), grace=GRACE).pending == 0
    assert outbox.enqueue_due(store.engine, now=utc(2026, 3, 8, 7, 30), grace=GRACE).pending == 1
    assert _statuses(store) == {sub: "pending"}


def test_grace_window_sends_late_or_records_skipped(store: Store) -> None:
    ingest_sample(store, published_at=utc(2026, 11, 27, 20, 0))
    # Two subscribers whose slots were missed during downtime: 2 h ago (within 6 h) and 10 h ago.
    late = add_subscribers(store, [10], mode="scheduled", time="06:00", timezone="UTC")[0]
    stale = add_subscribers(store, [11], mode="scheduled", time="22:00", timezone="UTC")[0]
    result = outbox.enqueue_due(store.engine, now=utc(2026, 11, 28, 8, 0), grace=GRACE)
    assert (result.pending, result.skipped) == (1, 1)
    rows = {d.subscription_id: d for d in outbox.list_deliveries(store.engine, limit=None)}
    assert rows[late].status == "pending"
    assert rows[stale].status == "skipped" and "grace" in rows[stale].last_error
    # Recorded once: the next tick neither re-sends nor re-records.
    again = outbox.enqueue_due(store.engine, now=utc(2026, 11, 28, 22, 0), grace=GRACE)
    assert (again.pending, again.skipped) == (0, 0)


def test_on_publish_subscriptions_and_revisions_are_sent_once(store: Store) -> None:
    issue_id = ingest_sample(store, published_at=utc(2026, 11, 28, 0, 0))
    (sub,) = add_subscribers(store, [20], mode="publish")
    assert (
        outbox.enqueue_due(store.engine, now=utc(2026, 11, 28, 0, 0), grace=GRACE, issue_id=issue_id).pending
        == 1
    )
    # A revision of the same issue (same date and title, new text) is not pushed again.
    from crash_worker import SAMPLE

    revised = SAMPLE.read_text(encoding="utf-8") + "\n\n一条更正。\n"
    rev_id = ingest_sample(store, text=revised, published_at=utc(2026, 11, 28, 1, 0))
    assert rev_id != issue_id
    assert outbox.enqueue_due(store.engine, now=utc(2026, 11, 28, 1, 0), grace=GRACE).pending == 0
    assert _statuses(store) == {sub: "pending"}


def test_no_issue_means_no_rows(store: Store) -> None:
    add_subscribers(store, [30], mode="scheduled", time="08:00", timezone="UTC")
    assert (
        outbox.enqueue_due(store.engine, now=utc(2026, 11, 28, 8, 0), grace=GRACE) == outbox.EnqueueResult()
    )
    assert _statuses(store) == {}


# ------------------------------------------------------------------------------ scenario


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York"])
async def test_scheduler_delivers_at_each_local_slot(store: Store, tz: str) -> None:
    """End to end: ingest, tick with a controlled clock, the engine sends, nothing twice."""
    ingest_sample(store, published_at=utc(2026, 11, 27, 12, 0))
    add_subscribers(store, [40], mode="scheduled", time="08:00", timezone=tz)
    add_subscribers(store, [41], mode="scheduled", time="09:30", timezone=tz)
    slot_40 = first_slot_at_or_after(utc(2026, 11, 27, 12, 0), time(8, 0), ZoneInfo(tz))
    slot_41 = first_slot_at_or_after(utc(2026, 11, 27, 12, 0), time(9, 30), ZoneInfo(tz))
    async with FakeTelegram(limits=TelegramLimits(enabled=False)) as tg:
        tg.add_chat(40)
        tg.add_chat(41)
        settings = fast_settings()
        transport = TelegramTransport(tg.token, base_url=tg.base_url)
        clock = Clock(slot_40 - timedelta(minutes=1))
        engine = DeliveryEngine(settings, store, {"telegram": transport}, clock=clock, idle_poll=0.02)
        scheduler = Scheduler(settings, store, engine, clock=clock)
        assert await scheduler.tick() == 0
        clock.now = slot_40
        assert await scheduler.tick() == 1
        await engine.drain()
        assert len(tg.messages_to(40)) == 1 and tg.messages_to(41) == []
        clock.now = slot_41
        assert await scheduler.tick() == 1
        await engine.drain()
        clock.now = slot_41 + timedelta(days=1)
        assert await scheduler.tick() == 0
        await engine.drain()
        await transport.close()
        assert len(tg.messages_to(40)) == 1 and len(tg.messages_to(41)) == 1
