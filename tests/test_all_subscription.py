"""An "all" subscription receives every section of every issue, a free-form newsletter's too.

A newsletter with no catalogue sector (This Week in Rust: its own section headings) used to
be skipped for everyone ("none of the subscribed sectors is in this issue"), although a reader
who subscribed to everything expects it. A subscription to one sector still gets only that one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from briefcast.briefing.sectors import default_catalogue
from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.ops import plan
from briefcast.delivery.transports import TelegramTransport
from briefcast.emulators.telegram import FakeTelegram, TelegramLimits
from briefcast.store import Store, outbox
from crash_worker import add_subscribers, fast_settings, ingest_sample

TWIR = Path(__file__).parent / "fixtures" / "corpus" / "twir" / "2025-12-31-this-week-in-rust.md"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=TelegramLimits(enabled=False)) as fake:
        yield fake


def test_received_sections() -> None:
    cat = default_catalogue()
    issue = ("updates", "crate-of-the-week", "energy")
    assert cat.received(cat.keys, issue) == issue
    assert cat.received(("energy",), issue) == ("energy",)
    assert cat.received(("ai",), issue) == ()


async def test_a_free_form_newsletter_reaches_all_subscribers_only(store: Store, tg: FakeTelegram) -> None:
    issue_id = ingest_sample(store, text=TWIR.read_text(encoding="utf-8"))
    issue = store.get_issue(issue_id)
    assert issue is not None and not set(issue.sectors) & set(store.catalogue.keys)
    for chat in (501, 502):
        tg.add_chat(chat)
    everything, only_ai = (
        add_subscribers(store, [501], store.catalogue.keys)[0],
        add_subscribers(store, [502], ("ai",))[0],
    )
    assert [p.subscription_id for p in plan(store, issue_id)] == [everything]

    outbox.enqueue_now(store.engine, issue_id, now=datetime.now(UTC))
    transport = TelegramTransport(tg.token, base_url=tg.base_url, concurrency=8)
    engine = DeliveryEngine(fast_settings(), store, {"telegram": transport}, idle_poll=0.02)
    try:
        await engine.drain()
    finally:
        await transport.close()
    rows = {d.subscription_id: d for d in outbox.list_deliveries(store.engine, limit=None)}
    assert rows[everything].status == "sent"
    received = "\n".join(m.text for m in tg.messages_to(501))
    for section in issue.briefing.delivered_sections[:3]:
        assert section.name in received
    assert tg.messages_to(502) == []
    assert only_ai not in rows or rows[only_ai].status == "skipped"
