"""``briefcast retry-failed`` re-queues dead-lettered keyword-watch alerts too (issue 15).

A watch alert's row has no subscription (``subscription_id`` is NULL, ``watcher_id`` set); the
re-queue used to require an active subscription, so a failed alert stayed failed for good.
"""

# The fixtures are imported from test_telegram_bot, so arguments "redefine" them.
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from archive_app import issue_text
from briefcast.bot.telegram import TelegramBot
from briefcast.emulators.telegram import FakeTelegram
from briefcast.store import Store, outbox
from briefcast.store.schema import deliveries
from test_delivery_features import drain, publish, rows
from test_telegram_bot import (  # the real PTB bot against the fake Bot API
    USER,
    ask,
    bot,  # noqa: F401
    clock,  # noqa: F401
    fake,  # noqa: F401
    issue,  # noqa: F401
    limit,  # noqa: F401
    msg,
)


async def test_failed_watch_alert_is_requeued_and_sent(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    await ask(fake, msg(fake, None, "/watch 钠电池"), USER, n=2)
    before = len(fake.messages_to(USER))
    await publish(store, issue_text("2026-11-28"))
    with store.engine.begin() as conn:  # as the engine leaves it after its last attempt
        conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.kind == "watch")
            .values(status="failed", last_error="gave up")
        )
    [row] = rows(store, "watch")
    assert row.status == "failed"
    assert outbox.retry_failed(store.engine, now=datetime.now(UTC)) == 1
    assert rows(store, "watch")[0].status == "pending"
    await drain(store, fake)
    [alert] = fake.messages_to(USER)[before:]
    assert alert.plain.startswith("🔔 Watched words: 钠电池")
    assert rows(store, "watch")[0].status == "sent"


async def test_watch_alert_of_an_inactive_chat_stays_failed(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    await ask(fake, msg(fake, None, "/watch 钠电池"), USER, n=2)
    await publish(store, issue_text("2026-11-28"))
    with store.engine.begin() as conn:
        conn.execute(sa.update(deliveries).where(deliveries.c.kind == "watch").values(status="failed"))
    store.deactivate_chat("telegram", str(USER), "blocked")
    assert outbox.retry_failed(store.engine, now=datetime.now(UTC)) == 0
