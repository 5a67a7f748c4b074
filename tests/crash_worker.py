"""Delivery test helpers, and a worker process for the crash tests.

As a script::

    python tests/crash_worker.py DB_URL TELEGRAM_BASE_URL TOKEN CONCURRENCY LEASE_SECONDS

it drains the outbox of ``DB_URL`` through the Telegram transport and exits 0. The crash tests
SIGKILL it mid-way and start it again. Imported, it offers the small builders the delivery tests
share (a stored sample issue, subscribers, fast settings).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from briefcast.briefing.parse import parse_markdown
from briefcast.config import DeliverySettings, Settings
from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.transports import TelegramTransport
from briefcast.store import Store
from briefcast.store.records import ChatRef
from briefcast.store.tables import ChatRow, IssueRow, SubscriptionRow

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "sample-issue.md"


def fast_settings(**delivery: object) -> Settings:
    """Settings whose own limits do not slow tests down (the fakes' limits are off too)."""
    base: dict[str, object] = {
        "telegram_global_per_second": 100_000.0,
        "telegram_chat_per_second": 10_000.0,
        "telegram_group_per_minute": 600_000.0,
        "slack_channel_per_second": 10_000.0,
        "concurrency": 8,
        "max_attempts": 4,
        "lease_seconds": 30.0,
    }
    base.update(delivery)
    return Settings(delivery=DeliverySettings(**base))  # type: ignore[arg-type]


def ingest_sample(store: Store, *, published_at: datetime | None = None, text: str | None = None) -> int:
    """Store the sample issue (published); optionally pin its publication time."""
    raw = text if text is not None else SAMPLE.read_text(encoding="utf-8")
    result = store.ingest(parse_markdown(raw), raw=raw, source="test")
    if published_at is not None:
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(IssueRow.__table__)  # type: ignore[attr-defined]
                .where(IssueRow.__table__.c.id == result.issue_id)  # type: ignore[attr-defined]
                .values(published_at=published_at.astimezone(UTC))
            )
    return result.issue_id


def add_subscribers(
    store: Store,
    chat_ids: Sequence[int],
    sectors: Sequence[str] = ("energy",),
    *,
    kind: str = "private",
    mode: str = "publish",
    time: str | None = None,
    timezone: str | None = None,
) -> list[int]:
    """Subscribe Telegram chats; returns the subscription ids."""
    ids = []
    for cid in chat_ids:
        ref = ChatRef("telegram", str(cid))
        store.upsert_chat(ref, kind=kind)
        ids.append(store.subscribe(ref, sectors, mode=mode, time=time, timezone=timezone).id)
    return ids


def add_subscribers_bulk(store: Store, chat_ids: Sequence[int], sectors: Sequence[str] = ("energy",)) -> None:
    """Many on-publish private-chat subscriptions in two statements (crash and load tests)."""
    now = datetime.now(UTC)
    chat_t, sub_t = ChatRow.__table__, SubscriptionRow.__table__  # type: ignore[attr-defined]
    chat_rows = [
        {"platform": "telegram", "workspace": "", "external_id": str(c), "kind": "private", "title": "",
         "language": None, "active": True, "deactivated_reason": "", "created_at": now, "updated_at": now}
        for c in chat_ids
    ]  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(sa.insert(chat_t), chat_rows)
        pks = conn.execute(
            sa.select(chat_t.c.id).where(chat_t.c.external_id.in_([str(c) for c in chat_ids]))
        ).scalars()
        conn.execute(
            sa.insert(sub_t),
            [
                {"chat_id": pk, "thread_id": "", "sectors": list(sectors), "mode": "publish", "time": "08:00",
                 "timezone": "UTC", "variant": "full", "active": True, "reason": "", "created_by": "test",
                 "created_at": now, "updated_at": now, "last_issue_id": None}
                for pk in pks
            ],
        )  # fmt: skip


async def _drain(url: str, base_url: str, token: str, concurrency: int, lease: float) -> None:
    settings = fast_settings(concurrency=concurrency, lease_seconds=lease, sender_lease_seconds=lease)
    settings = settings.model_copy(update={"database_url": url})
    store = Store.open(url, settings=settings)
    transport = TelegramTransport(token, base_url=base_url, concurrency=concurrency)
    engine = DeliveryEngine(settings, store, {"telegram": transport}, idle_poll=0.05)
    try:
        await engine.drain(wait_retries=lease * 3)
    finally:
        await transport.close()
        store.close()


if __name__ == "__main__":
    db_url, base, tok, conc, lease_s = sys.argv[1:6]
    asyncio.run(_drain(db_url, base, tok, int(conc), float(lease_s)))
    print("drained", flush=True)
