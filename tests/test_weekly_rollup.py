"""Weekly roll-ups (issue 15, feature 2): ``/subscribe all weekly mon 09:00``.

A weekly subscription (``subscription.mode = "weekly"``, its weekdays in ``days``; Monday when
none is given) gets, at its local time on its day, ONE roll-up of the issues first published since
the previous slot: each issue's date and title over one line per subscribed sector. Once per
slot (delivery identity ``rollup:<slot>``), nothing when no issue came, DST-safe.

Users act through the real PTB Application and the real bolt app against the fakes; slots are
decided by the real scheduler and outbox with a controlled clock (no sleeps). SQLite and
PostgreSQL (the ``store`` fixture).
"""

# The fixtures are imported from test_telegram_bot, so arguments "redefine" them.
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from archive_app import issue_text
from briefcast.bot.telegram import TelegramBot
from briefcast.briefing.parse import parse_markdown
from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.transports import TelegramTransport
from briefcast.emulators.telegram import FakeTelegram
from briefcast.render.compose import rollup_document
from briefcast.render.slack import render as render_slack
from briefcast.schedule import Scheduler
from briefcast.slots import decide_rollup
from briefcast.store import ChatRef, Store, outbox
from briefcast.store.schema import deliveries
from briefcast.store.tables import IssueRow
from briefcast.testing.blockkit import check_slack_payload
from crash_worker import add_subscribers, fast_settings
from test_telegram_bot import (  # the real PTB bot against the fake Bot API
    OTHER,
    USER,
    ask,
    bot,  # noqa: F401
    clock,  # noqa: F401
    fake,  # noqa: F401
    issue,  # noqa: F401
    limit,  # noqa: F401
    msg,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
GRACE = timedelta(hours=6)
MONDAY = 0b0000001
T = IssueRow.__table__  # type: ignore[attr-defined]


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


def publish_at(store: Store, day: str, when: datetime, *, corrected: bool = False) -> int:
    """Store the sample issue dated ``day`` as published at ``when``."""
    text = issue_text(day, corrected=corrected)
    result = store.ingest(parse_markdown(text, source="test"), raw=text, source="test")
    assert result.status in ("new", "revision"), result
    with store.engine.begin() as conn:
        conn.execute(sa.update(T).where(T.c.id == result.issue_id).values(published_at=when))
    return result.issue_id


def backdate(store: Store, issue_id: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.update(T).where(T.c.id == issue_id).values(published_at=sh(2026, 10, 1, 8, 0)))


# ------------------------------------------------------------------ slot maths


def test_the_window_is_the_week_before_the_slot_in_local_time() -> None:
    monday_9 = datetime(2026, 12, 14, 9, 0, tzinfo=SHANGHAI)
    what, start, slot = decide_rollup(time(9, 0), SHANGHAI, monday_9.astimezone(UTC), GRACE, MONDAY)
    assert (what, slot, start) == ("send", monday_9, monday_9 - timedelta(days=7))
    # seven hours later (past the grace window) the slot is missed, not sent late
    assert decide_rollup(time(9, 0), SHANGHAI, monday_9 + timedelta(hours=7), GRACE, MONDAY)[0] == "skip"
    # New York falls back on Sunday 2026-11-01: the window is 7 local days, 169 hours long
    ny_slot = datetime(2026, 11, 2, 9, 0, tzinfo=NY)
    _, ny_start, got = decide_rollup(time(9, 0), NY, ny_slot.astimezone(UTC), GRACE, MONDAY)
    assert got == ny_slot and ny_start.astimezone(NY).hour == 9
    assert got - ny_start == timedelta(hours=169)


# ------------------------------------------------------------------ the outbox


def test_one_rollup_per_slot_listing_the_week_once(store: Store) -> None:
    """Three issues in the week (one of them revised), one the week before: Monday's roll-up lists
    the three (the revised one as its newest revision), once; a week with no issue sends nothing."""
    before = publish_at(store, "2026-12-06", sh(2026, 12, 6, 12, 0))  # Sunday: last week's
    tue = publish_at(store, "2026-12-08", sh(2026, 12, 8, 7, 0))
    thu = publish_at(store, "2026-12-10", sh(2026, 12, 10, 7, 0))
    thu2 = publish_at(store, "2026-12-10", sh(2026, 12, 12, 7, 0), corrected=True)  # Saturday's revision
    sat = publish_at(store, "2026-12-12", sh(2026, 12, 12, 7, 0))
    assert thu2 != thu
    [sub] = add_subscribers(
        store, [701], ["ai", "energy"], mode="weekly", time="09:00", timezone="Asia/Shanghai"
    )
    assert store.active_subscriptions()[0].days == MONDAY  # "weekly" alone: Mondays

    assert outbox.enqueue_due(store.engine, now=sh(2026, 12, 14, 8, 59), grace=GRACE).pending == 0
    assert outbox.enqueue_due(store.engine, now=sh(2026, 12, 14, 9, 0), grace=GRACE).pending == 1
    assert outbox.enqueue_due(store.engine, now=sh(2026, 12, 14, 9, 30), grace=GRACE).pending == 0  # once
    # The subscription existed (real clock) before the Monday 12-07 slot, which this test's clock
    # has passed by a week: that roll-up is recorded as missed (like a missed daily slot), not sent.
    missed, row = sorted(outbox.list_deliveries(store.engine, limit=None), key=lambda d: d.id)
    assert (missed.status, missed.issue_id) == ("skipped", before)
    assert "missed weekly slot 2026-12-07 01:00Z" in missed.last_error
    assert (row.kind, row.subscription_id, row.issue_id, row.status) == ("rollup", sub, sat, "pending")
    with store.engine.connect() as conn:
        detail, identity = conn.execute(
            sa.select(deliveries.c.detail, deliveries.c.identity).where(deliveries.c.id == row.id)
        ).one()
    assert detail == [str(tue), str(thu2), str(sat)] and str(before) not in detail
    assert identity == "rollup:2026-12-14T01:00Z"
    # the next Monday: nothing new was published, so there is no roll-up
    assert outbox.enqueue_due(store.engine, now=sh(2026, 12, 21, 9, 0), grace=GRACE).pending == 0
    assert len(outbox.list_deliveries(store.engine, limit=None)) == 2


def test_daily_and_weekly_subscribers_side_by_side(store: Store) -> None:
    """A daily subscriber at the same time is not affected, and a weekly one gets no daily digest."""
    publish_at(store, "2026-12-12", sh(2026, 12, 12, 7, 0))
    daily, weekly = add_subscribers(
        store, [711, 712], ["energy"], mode="scheduled", time="09:00", timezone="Asia/Shanghai"
    )
    store.subscribe(ChatRef("telegram", "712"), [], mode="weekly", days="mon")
    assert outbox.enqueue_due(store.engine, now=sh(2026, 12, 12, 9, 0), grace=GRACE).pending == 1
    assert outbox.enqueue_due(store.engine, now=sh(2026, 12, 14, 9, 0), grace=GRACE).pending == 1
    kinds = {d.subscription_id: d.kind for d in outbox.list_deliveries(store.engine, limit=None)}
    assert kinds == {daily: "digest", weekly: "rollup"}


# ------------------------------------------------------------------ through the bot, zh and en


async def test_weekly_rollup_through_the_bot(
    fake: FakeTelegram, bot: TelegramBot, store: Store, issue: int
) -> None:
    """``/subscribe all weekly mon 09:00`` (en) and ``/subscribe 全部 每周 周一 9:00`` (zh): Monday
    09:00 brings each reader one roll-up of the week's three issues in their language; nothing on
    the days before, nothing again. On the code before roll-ups "weekly" was an unknown sector."""
    backdate(store, issue)
    [en] = await ask(fake, msg(fake, None, "/subscribe all weekly mon 09:00"), USER)
    assert "weekly roll-up Mon 09:00 (Asia/Shanghai)" in en.plain
    [zh] = await ask(fake, msg(fake, None, "/subscribe 全部 每周 周一 9:00", user=OTHER), OTHER)
    assert "每周一 09:00（Asia/Shanghai）推送合集" in zh.plain
    [listing] = await ask(fake, msg(fake, None, "/subscriptions"), USER)
    assert "weekly roll-up Mon 09:00" in listing.plain
    # /settime moves the roll-up, it does not turn it into a daily digest
    [moved] = await ask(fake, msg(fake, None, "/settime 09:30"), USER)
    assert "weekly roll-up Mon 09:30" in moved.plain
    await ask(fake, msg(fake, None, "/settime 09:00"), USER)
    assert {s.mode for s in store.active_subscriptions()} == {"weekly"}

    for day, when in (("2026-12-08", sh(2026, 12, 8, 7, 0)), ("2026-12-10", sh(2026, 12, 10, 7, 0)),
                      ("2026-12-12", sh(2026, 12, 12, 7, 0))):  # fmt: skip
        publish_at(store, day, when)
    seen = {chat: len(fake.messages_to(chat)) for chat in (USER, OTHER)}
    now = [sh(2026, 12, 8, 9, 0)]
    settings = fast_settings()
    transport = TelegramTransport(fake.token, base_url=fake.base_url, concurrency=4)
    engine = DeliveryEngine(settings, store, {"telegram": transport}, clock=lambda: now[0], idle_poll=0.02)
    scheduler = Scheduler(settings, store, engine, clock=lambda: now[0])
    try:
        for moment in (sh(2026, 12, 8, 9, 0), sh(2026, 12, 12, 9, 0), sh(2026, 12, 14, 8, 59)):
            now[0] = moment
            assert await scheduler.tick() == 0
            await engine.drain()
        assert all(len(fake.messages_to(chat)) == seen[chat] for chat in seen)
        now[0] = sh(2026, 12, 14, 9, 0)
        assert await scheduler.tick() == 2
        await engine.drain()
        now[0] = sh(2026, 12, 14, 10, 0)
        assert await scheduler.tick() == 0
        await engine.drain()
    finally:
        await transport.close()
    got_en = fake.messages_to(USER)[seen[USER] :]
    got_zh = fake.messages_to(OTHER)[seen[OTHER] :]
    assert len(got_en) == len(got_zh) == 1  # one message each: not three digests
    assert got_en[0].plain.startswith("📚 Roll-up: 3 issues · 2026-12-08 – 2026-12-12")
    assert got_zh[0].plain.startswith("📚 合集：3 期 · 2026-12-08 – 2026-12-12")
    for day in ("2026-12-08", "2026-12-10", "2026-12-12"):
        assert f"📅 {day}" in got_en[0].plain and f"📅 {day}" in got_zh[0].plain
    assert "⚡" in got_en[0].plain and "🤖" in got_en[0].plain
    assert "Send /issue DATE for a whole issue" in got_en[0].plain
    assert [d.status for d in outbox.list_deliveries(store.engine, limit=None) if d.kind == "rollup"] == [
        "sent",
        "sent",
    ]


def test_the_rollup_renders_within_slack_limits(store: Store) -> None:
    """The same roll-up as Block Kit: accepted by the Block Kit checks, sector lines linked to the
    archive when a public URL is set."""
    ids = [publish_at(store, f"2026-12-{d:02d}", sh(2026, 12, d, 7, 0)) for d in (8, 9, 10, 11, 12, 13, 14)]
    issues = [(i, s.briefing) for i in ids if (s := store.get_issue(i)) is not None]
    doc = rollup_document(
        issues, ["ai", "energy", "web3", "cross"], lang="en", public_url="https://b.example"
    )
    assert doc is not None and doc.title.startswith("📚 Roll-up: 7 issues")
    payloads = render_slack(doc)
    for p in payloads:
        check_slack_payload(p)
    text = str(payloads)
    assert "https://b.example/issues/" in text and "2026-12-14" in text
    assert rollup_document(issues, ["no-such-sector"], lang="en") is None


def test_cli_subs_add_weekly_and_list(store: Store, db_url: str) -> None:
    from typer.testing import CliRunner

    from briefcast.cli import app

    runner = CliRunner()
    out = runner.invoke(
        app, ["--db", db_url, "subs", "add", "telegram:930", "all", "--weekly", "--time", "09:00"]
    )
    assert out.exit_code == 0, out.output
    assert (
        "weekly roll-up 09:00 Asia/Shanghai on mon" in out.output
        or "weekly roll-up 09:00 Asia/Shanghai mon" in (out.output)
    )
    listed = runner.invoke(app, ["--db", db_url, "subs", "list"])
    assert listed.exit_code == 0 and "weekly roll-up 09:00" in listed.output


async def test_dashboard_and_playground_advance_see_weekly(store: Store) -> None:
    """The dashboard lists the mode; the playground's "Advance" knows when the roll-up is owed."""
    from briefcast.config import Settings
    from briefcast.playground.schedule import next_owed_slot
    from test_dashboard import client_for

    publish_at(store, "2026-12-08", sh(2026, 12, 8, 7, 0))
    add_subscribers(store, [940], ["energy"], mode="weekly", time="09:00", timezone="Asia/Shanghai")
    async with client_for(Settings(), store) as client:
        page = (await client.get("/dashboard/subscriptions")).text
    assert "<td>Mon 09:00 Asia/Shanghai</td><td>weekly</td>" in page
    owed = next_owed_slot(store, sh(2026, 12, 8, 8, 0))
    assert owed is not None and owed[0] == sh(2026, 12, 14, 9, 0)
