"""Weekday schedules (issue 15, feature 2): ``/subscribe energy 08:00 mon,wed,fri``.

The days are parsed in any order and in English or Chinese, stored per subscription
(``subscription.days``, revision 0010), shown by ``/subscriptions``, ``briefcast subs list`` and
the dashboard, and respected by the slot decision in the subscription's own time zone: an issue
published on a Tuesday reaches a mon/wed/fri subscriber at Wednesday's slot, not before.

Users act through the real PTB Application and the real bolt app against the fakes; slots are
decided by the real scheduler and outbox with a controlled clock (no sleeps). SQLite and
PostgreSQL (the ``store`` fixture).
"""

# The fixtures are imported from test_telegram_bot / test_slack_app, so arguments "redefine" them.
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from archive_app import issue_text
from briefcast.bot.telegram import TelegramBot
from briefcast.briefing.parse import parse_markdown
from briefcast.config import Settings
from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.transports import TelegramTransport
from briefcast.emulators.telegram import FakeTelegram
from briefcast.i18n import days_text
from briefcast.schedule import Scheduler
from briefcast.slots import decide_slot, first_slot_at_or_after, last_slot_at_or_before
from briefcast.store import ChatRef, Store, outbox
from briefcast.store.errors import InvalidDays
from briefcast.store.tables import IssueRow
from briefcast.store.validate import days_key, parse_days
from crash_worker import add_subscribers, fast_settings, ingest_sample
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

MWF = 0b0010101  # Monday, Wednesday, Friday
NY = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
GRACE = timedelta(hours=6)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# ------------------------------------------------------------------ words and slot maths


@pytest.mark.parametrize(
    "words",
    ["mon,wed,fri", "fri,mon,wed", "Wed Fri Mon", "周一,三,五", "周五、周一、周三", "一,三,五", "周一三五",
     "星期一,星期三,星期五", "monday,wednesday,friday", "ｍｏｎ,wed,fri"],
)  # fmt: skip
def test_days_are_parsed_in_any_order_and_language(words: str) -> None:
    assert parse_days(words) == MWF
    assert days_key(parse_days(words)) == "mon,wed,fri"


def test_day_sets_and_bad_words() -> None:
    assert parse_days("weekdays") == parse_days("工作日") == parse_days("mon-fri") == 0b0011111
    assert parse_days("周一至周五") == 0b0011111
    assert parse_days("daily") == parse_days("每天") == 0b1111111
    assert parse_days("周末") == parse_days("sat,sun") == 0b1100000
    for bad in ("mon,xyz", "周八", "", "8:00"):
        with pytest.raises(InvalidDays):
            parse_days(bad)
    assert days_text("zh", MWF) == "每周一、三、五" and days_text("en", MWF) == "Mon, Wed, Fri"
    assert days_text("zh", 0b0011111) == "工作日" and days_text("en", 0b1111111) == "daily"


def test_tuesday_publication_goes_to_wednesdays_slot() -> None:
    tuesday_6am = datetime(2026, 12, 1, 6, 0, tzinfo=SHANGHAI)  # 2026-12-01 is a Tuesday
    slot = first_slot_at_or_after(tuesday_6am, time(8, 0), SHANGHAI, MWF)
    assert slot == datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)  # Wednesday, not Tuesday 08:00
    assert first_slot_at_or_after(tuesday_6am, time(8, 0), SHANGHAI) == datetime(
        2026, 12, 1, 8, 0, tzinfo=SHANGHAI
    )  # every day (the default) is unchanged
    friday_9am = datetime(2026, 12, 4, 9, 0, tzinfo=SHANGHAI)  # after Friday's slot: Monday's
    assert first_slot_at_or_after(friday_9am, time(8, 0), SHANGHAI, MWF) == datetime(
        2026, 12, 7, 8, 0, tzinfo=SHANGHAI
    )
    assert last_slot_at_or_before(tuesday_6am, time(8, 0), SHANGHAI, MWF) == datetime(
        2026, 11, 30, 8, 0, tzinfo=SHANGHAI
    )
    sunday_only = 1 << 6
    assert first_slot_at_or_after(tuesday_6am, time(8, 0), SHANGHAI, sunday_only).date().isoformat() == (
        "2026-12-06"
    )
    wait, at = decide_slot(tuesday_6am, time(8, 0), SHANGHAI, slot - timedelta(hours=24), GRACE, MWF)
    assert (wait, at) == ("wait", slot)
    assert decide_slot(tuesday_6am, time(8, 0), SHANGHAI, slot + timedelta(hours=7), GRACE, MWF)[0] == "skip"


def test_the_days_are_local_days_across_the_dst_change() -> None:
    """New York springs forward on Sunday 2026-03-08: Friday's 08:00 is 13:00Z, Monday's 12:00Z."""
    friday_late = datetime(2026, 3, 6, 9, 0, tzinfo=NY)  # after Friday's slot
    slot = first_slot_at_or_after(friday_late, time(8, 0), NY, MWF)
    assert slot == utc(2026, 3, 9, 12, 0) and slot.astimezone(NY).hour == 8
    assert first_slot_at_or_after(datetime(2026, 3, 6, 7, 0, tzinfo=NY), time(8, 0), NY, MWF) == utc(
        2026, 3, 6, 13, 0
    )


# ------------------------------------------------------------------ the outbox and the scheduler


def test_enqueue_groups_by_days_and_waits_for_the_first_allowed_day(store: Store) -> None:
    """Published Friday 09:00 New York (after the slot): the every-day subscriber gets Saturday's
    08:00 EST (13:00Z); the mon/wed/fri one waits for Monday 08:00 EDT (12:00Z), after the change."""
    ingest_sample(store, published_at=datetime(2026, 3, 6, 9, 0, tzinfo=NY))
    every, mwf = add_subscribers(
        store, [501, 502], mode="scheduled", time="08:00", timezone="America/New_York"
    )
    store.subscribe(ChatRef("telegram", "502"), [], days="mon,wed,fri")
    assert outbox.enqueue_due(store.engine, now=utc(2026, 3, 7, 13, 0), grace=GRACE).pending == 1
    assert outbox.enqueue_due(store.engine, now=utc(2026, 3, 8, 13, 0), grace=GRACE).pending == 0  # Sunday
    assert outbox.enqueue_due(store.engine, now=utc(2026, 3, 9, 11, 59), grace=GRACE).pending == 0
    assert outbox.enqueue_due(store.engine, now=utc(2026, 3, 9, 12, 0), grace=GRACE).pending == 1
    rows = {d.subscription_id: d.status for d in outbox.list_deliveries(store.engine, limit=None)}
    assert rows == {every: "pending", mwf: "pending"}


async def test_tuesday_issue_reaches_a_mon_wed_fri_subscriber_at_wednesday_8am(
    fake: FakeTelegram, bot: TelegramBot, store: Store, issue: int
) -> None:
    """Through the bot and the real scheduler + engine: not on Tuesday's slot, at Wednesday's.
    On the code before weekday schedules this subscriber got the issue on Tuesday at 08:00."""
    [ok] = await ask(fake, msg(fake, None, "/subscribe energy 08:00 mon,wed,fri"), USER)
    assert "Mon, Wed, Fri 08:00 (Asia/Shanghai)" in ok.plain
    [sub] = store.active_subscriptions()
    assert (sub.days, sub.time, sub.mode) == (MWF, "08:00", "scheduled")
    before = len(fake.messages_to(USER))
    text = issue_text("2026-11-28")
    result = store.ingest(parse_markdown(text, source="test"), raw=text, source="test")
    published = datetime(2026, 12, 1, 6, 0, tzinfo=SHANGHAI)  # Tuesday, before the 08:00 slot
    with store.engine.begin() as conn:
        table = IssueRow.__table__  # type: ignore[attr-defined]
        conn.execute(
            sa.update(table)
            .where(table.c.id == result.issue_id)
            .values(published_at=published.astimezone(UTC))
        )
        # the bot fixture's sample issue: older, so the Tuesday issue is the latest one
        conn.execute(sa.update(table).where(table.c.id == issue).values(published_at=utc(2026, 11, 20, 0, 0)))
    now = [published]
    settings = fast_settings()
    transport = TelegramTransport(fake.token, base_url=fake.base_url, concurrency=4)
    engine = DeliveryEngine(settings, store, {"telegram": transport}, clock=lambda: now[0], idle_poll=0.02)
    scheduler = Scheduler(settings, store, engine, clock=lambda: now[0])
    try:
        for moment in (
            datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI),  # Tuesday's slot: not a delivery day
            datetime(2026, 12, 1, 23, 0, tzinfo=SHANGHAI),
            datetime(2026, 12, 2, 7, 59, tzinfo=SHANGHAI),
        ):
            now[0] = moment.astimezone(UTC)
            assert await scheduler.tick() == 0
            await engine.drain()
        assert fake.messages_to(USER)[before:] == []
        now[0] = datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI).astimezone(UTC)  # Wednesday
        assert await scheduler.tick() == 1
        await engine.drain()
    finally:
        await transport.close()
    sent = fake.messages_to(USER)[before:]
    assert len(sent) == 1 and "能源" in sent[0].plain


# ------------------------------------------------------------------ commands, zh and en


async def test_days_through_the_bot_in_both_languages(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    [zh] = await ask(fake, msg(fake, None, "/subscribe 能源 周五、一、三 8:00", user=OTHER), OTHER)
    assert "每周一、三、五 08:00（Asia/Shanghai）推送" in zh.plain
    [listing] = await ask(fake, msg(fake, None, "/subscriptions", user=OTHER), OTHER)
    assert "每周一、三、五 08:00" in listing.plain
    [bad] = await ask(fake, msg(fake, None, "/subscribe 能源 周八", user=OTHER), OTHER)
    assert bad.plain.startswith("「周八」不是有效的星期")
    [en_bad] = await ask(fake, msg(fake, None, "/subscribe energy 08:00 tuesdai"), USER)
    assert en_bad.plain.startswith("\u201ctuesdai\u201d is not a day of the week")
    [en] = await ask(fake, msg(fake, None, "/subscribe energy weekdays 07:30"), USER)
    assert "Weekdays 07:30 (Asia/Shanghai)" in en.plain
    [listing_en] = await ask(fake, msg(fake, None, "/subscriptions"), USER)
    assert "Weekdays 07:30" in listing_en.plain
    # Subscribing again without days keeps them; "daily" / "每天" goes back to every day.
    await ask(fake, msg(fake, None, "/subscribe ai 07:45"), USER)
    by_chat = {s.chat.chat_id: s for s in store.active_subscriptions()}
    assert by_chat[str(USER)].days == 0b0011111 and by_chat[str(OTHER)].days == MWF
    [daily] = await ask(fake, msg(fake, None, "/subscribe 能源 每天", user=OTHER), OTHER)
    assert "每天 08:00（Asia/Shanghai）推送" in daily.plain
    by_chat = {s.chat.chat_id: s for s in store.active_subscriptions()}
    assert by_chat[str(OTHER)].days == 0b1111111


# ------------------------------------------------------------------ operator: CLI, dashboard, migration


def test_cli_subs_add_days_and_list(store: Store, db_url: str) -> None:
    from typer.testing import CliRunner

    from briefcast.cli import app

    runner = CliRunner()
    out = runner.invoke(
        app, ["--db", db_url, "subs", "add", "telegram:900", "energy", "--days", "fri,mon,wed"]
    )
    assert out.exit_code == 0, out.output
    assert "08:00 Asia/Shanghai mon,wed,fri" in out.output
    listed = runner.invoke(app, ["--db", db_url, "subs", "list"])
    assert listed.exit_code == 0 and "08:00 Asia/Shanghai mon,wed,fri" in listed.output
    bad = runner.invoke(app, ["--db", db_url, "subs", "add", "telegram:901", "--days", "funday"])
    assert bad.exit_code != 0 and "invalid days 'funday'" in bad.output
    assert "Traceback" not in bad.output


async def test_dashboard_shows_the_days(store: Store) -> None:
    from test_dashboard import client_for

    add_subscribers(store, [910], mode="scheduled", time="08:00", timezone="Asia/Shanghai")
    store.subscribe(ChatRef("telegram", "910"), [], days=MWF)
    async with client_for(Settings(), store) as client:
        page = (await client.get("/dashboard/subscriptions")).text
    assert "<td>Mon, Wed, Fri 08:00 Asia/Shanghai</td>" in page


def test_migration_0010_backfills_every_day(db_url: str, tmp_path: Path) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from briefcast.store.db import alembic_config, upgrade

    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        upgrade(engine, "0009")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO chat (platform, workspace, external_id, kind, title, active,"
                    " deactivated_reason, created_at, updated_at) VALUES ('telegram', '', '77',"
                    " 'private', '', true, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO subscription (chat_id, thread_id, sectors, mode, time, timezone, variant,"
                    " active, reason, created_by, created_at, updated_at) SELECT id, '', '[\"energy\"]',"
                    " 'scheduled', '08:00', 'UTC', 'full', true, '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
                    " FROM chat"
                )
            )
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT days FROM subscription")).scalars().all() == [127]
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert head is not None and int(head) >= 10  # this revision or a later one is the head
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0009")
        assert "days" not in {c["name"] for c in sa.inspect(engine).get_columns("subscription")}
    finally:
        engine.dispose()


async def test_a_daily_watch_alert_follows_the_subscriptions_days(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    """A ``daily`` keyword watch comes with the next push, so on the subscription's next allowed day."""
    from test_delivery_features import publish, rows

    today = datetime.now(SHANGHAI).date()
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    allowed = [names[(today.weekday() + k) % 7] for k in (3, 4)]  # not today, not tomorrow
    await ask(fake, msg(fake, None, f"/subscribe energy 07:30 {','.join(allowed)}"), USER)
    await ask(fake, msg(fake, None, "/watch 钠电池 daily"), USER, n=2)
    await publish(store, issue_text("2026-11-28"))
    latest = store.latest_issue()
    assert latest is not None and latest.published_at is not None
    mask = parse_days(",".join(allowed))
    slot = first_slot_at_or_after(latest.published_at, time(7, 30), SHANGHAI, mask)
    assert slot.astimezone(SHANGHAI).date() >= today + timedelta(days=3)
    [row] = rows(store, "watch")
    assert row.next_attempt_at == slot + timedelta(minutes=1)
