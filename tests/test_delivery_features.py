"""What a Telegram reader now receives: /settings applied to pushes, keyword-watch alerts,
corrections edited in place.

Users act through the real PTB Application (``test_telegram_bot``'s fixtures, long polling the
fake Bot API); an issue is published the way ``briefcast run`` does it (the store, then the
scheduler's on-publish hook), and the real delivery engine drains the outbox through the real
Telegram transport to the same fake. SQLite and PostgreSQL (the ``store`` fixture).
"""

# The fixtures are imported from test_telegram_bot, so test arguments "redefine" them (F811).
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from archive_app import CORRECTED, ORIGINAL, issue_text
from briefcast.bot.telegram import TelegramBot
from briefcast.briefing.parse import parse_markdown
from briefcast.config import Settings
from briefcast.delivery.engine import DeliveryEngine, EngineStats
from briefcast.delivery.transports import TelegramTransport
from briefcast.emulators.telegram import FakeTelegram, SentMessage
from briefcast.schedule import Scheduler
from briefcast.slots import first_slot_at_or_after, parse_hhmm
from briefcast.store import DeliveryRecord, Store, outbox
from crash_worker import fast_settings
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

ENERGY_TITLE = "⚡ 能源基建"


async def drain(
    store: Store, fake: FakeTelegram, settings: Settings | None = None, *, at: datetime | None = None
) -> EngineStats:
    transport = TelegramTransport(fake.token, base_url=fake.base_url, concurrency=4)
    kw = {} if at is None else {"clock": lambda: at}
    engine = DeliveryEngine(settings or fast_settings(), store, {"telegram": transport}, idle_poll=0.02, **kw)
    try:
        return await engine.drain()
    finally:
        await transport.close()


async def publish(store: Store, text: str, settings: Settings | None = None) -> int:
    """Store an issue and run the on-publish hook, as the ingest service does."""
    result = store.ingest(parse_markdown(text, source="test"), raw=text, source="test")
    assert result.status in ("new", "revision"), result
    await Scheduler(settings or fast_settings(), store).on_issue_published(result.issue_id)
    return result.issue_id


def pushes(fake: FakeTelegram, chat: int, since: int) -> list[SentMessage]:
    return fake.messages_to(chat)[since:]


def rows(store: Store, kind: str) -> list[DeliveryRecord]:
    return [d for d in outbox.list_deliveries(store.engine, limit=None) if d.kind == kind]


# ------------------------------------------------------------------ /settings at send


async def test_settings_are_applied_to_every_pushed_part(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    await ask(fake, msg(fake, None, "/subscribe energy ai publish"), USER)
    await ask(fake, msg(fake, None, "/settings silent on previews on"), USER, n=2)
    await ask(fake, msg(fake, None, "/subscribe energy publish", user=OTHER), OTHER)
    await ask(fake, msg(fake, None, "/settings compact", user=OTHER), OTHER, n=2)
    before_user, before_other = len(fake.messages_to(USER)), len(fake.messages_to(OTHER))
    await publish(store, issue_text("2026-11-28"))
    stats = await drain(store, fake)
    assert stats.delivered == 2 and stats.failed == 0
    silent = pushes(fake, USER, before_user)
    assert len(silent) == 2  # ai, energy: every part silent, with previews
    for m in silent:
        assert m.params.get("disable_notification") is True
        assert m.params["link_preview_options"] == {"is_disabled": False}
    [compact] = pushes(fake, OTHER, before_other)
    assert "disable_notification" not in compact.params  # OTHER kept the defaults
    assert compact.params["link_preview_options"] == {"is_disabled": True}
    # the compact digest: headline, the first group and a count of the section's links
    full = next(m for m in silent if ENERGY_TITLE in m.plain or "Energy" in m.plain)
    assert len(compact.plain) < len(full.plain) / 2
    assert "个链接" in compact.plain and "另有" in compact.plain  # zh: OTHER reads Chinese


# ------------------------------------------------------------------ keyword watches


async def test_watch_alert_on_publish_once_per_issue(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    await ask(fake, msg(fake, None, "/watch 钠电池"), USER, n=2)  # confirmation + the latest issue's matches
    await ask(fake, msg(fake, None, "/watch 储能", user=OTHER), OTHER, n=2)
    await ask(fake, msg(fake, None, "/watch 量子引力", language_code="en"), USER)  # matches nothing
    before_user, before_other = len(fake.messages_to(USER)), len(fake.messages_to(OTHER))
    first = await publish(store, issue_text("2026-11-28"))
    stats = await drain(store, fake)
    assert stats.delivered == 2
    [alert] = pushes(fake, USER, before_user)
    assert alert.plain.startswith("🔔 Watched words: 钠电池")
    assert "<b>钠电池</b>" in alert.text and "⚡ Energy" in alert.plain  # the section, passage in bold
    assert ("⚡ Energy", f"sector:energy.{first}") in [
        (b["text"], b.get("callback_data")) for row in alert.reply_markup["inline_keyboard"] for b in row
    ]  # type: ignore[index]
    [zh] = pushes(fake, OTHER, before_other)
    assert zh.plain.startswith("🔔 关注词：储能") and "⚡ 能源基建" in zh.plain
    sent = rows(store, "watch")
    assert {(r.status, r.subscription_id) for r in sent} == {("sent", None)}
    assert all(r.message_ids for r in sent)

    # a revision of the same issue alerts nobody again; the next issue does
    await publish(store, issue_text("2026-11-28", corrected=True))
    await drain(store, fake)
    assert len(pushes(fake, USER, before_user)) == 1 and len(pushes(fake, OTHER, before_other)) == 1
    await publish(store, issue_text("2026-11-29"))
    await drain(store, fake)
    assert len(pushes(fake, USER, before_user)) == 2


async def test_no_match_sends_nothing_and_says_why(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    await ask(fake, msg(fake, None, "/watch 量子引力"), USER)
    before = len(fake.messages_to(USER))
    await publish(store, issue_text("2026-11-28"))
    await drain(store, fake)
    assert pushes(fake, USER, before) == []
    [row] = rows(store, "watch")
    assert row.status == "skipped" and row.last_error == "no watched word in this issue"


async def test_a_word_watched_after_publication_brings_no_second_copy(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    """/watch shows what the latest issue says about a new word; the scheduler's next minute tick
    (which catches up on issues published by another process) must not send it again."""
    await publish(store, issue_text("2026-11-28"))
    await ask(fake, msg(fake, None, "/watch 钠电池"), USER, n=2)  # the confirmation and the matches
    before = len(fake.messages_to(USER))
    assert await Scheduler(fast_settings(), store).tick() == 0
    await drain(store, fake)
    assert pushes(fake, USER, before) == [] and rows(store, "watch") == []


async def test_daily_watch_comes_with_the_daily_push(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    await ask(fake, msg(fake, None, "/subscribe energy 07:30"), USER)
    await ask(fake, msg(fake, None, "/watch 钠电池 daily"), USER, n=2)
    before = len(fake.messages_to(USER))
    await publish(store, issue_text("2026-11-28"))
    issue = store.latest_issue()
    assert issue is not None and issue.published_at is not None
    slot = first_slot_at_or_after(issue.published_at, parse_hhmm("07:30"), ZoneInfo("Asia/Shanghai"))
    [row] = rows(store, "watch")
    assert row.status == "pending" and row.next_attempt_at == slot + timedelta(minutes=1)
    await drain(store, fake, at=slot - timedelta(minutes=5))
    assert pushes(fake, USER, before) == []  # not before the daily push
    await drain(store, fake, at=slot + timedelta(minutes=2))
    [alert] = pushes(fake, USER, before)
    assert alert.plain.startswith("🔔 Watched words: 钠电池")


# ------------------------------------------------------------------ corrections in place


async def _delivered(
    fake: FakeTelegram, store: Store, chat: int, command: str, user: int = USER
) -> list[SentMessage]:
    await ask(fake, msg(fake, None, command, user=user), chat)
    before = len(fake.messages_to(chat))
    await publish(store, issue_text("2026-11-28"))
    await drain(store, fake)
    sent = pushes(fake, chat, before)
    assert sent
    return sent


async def test_revision_edits_the_sent_messages(fake: FakeTelegram, bot: TelegramBot, store: Store) -> None:
    [energy] = await _delivered(fake, store, USER, "/subscribe energy publish")
    assert ORIGINAL in energy.plain
    sends = len(fake.messages_to(USER))
    await publish(store, issue_text("2026-11-28", corrected=True))
    stats = await drain(store, fake)
    assert stats.delivered == 1
    assert len(fake.messages_to(USER)) == sends  # never a second copy
    [edit] = [e for e in fake.edits if e["chat_id"] == USER and e["method"] == "editMessageText"]
    assert int(edit["message_id"]) == energy.message_id
    now = fake.message(USER, energy.message_id)
    assert now is not None and CORRECTED in now["text"] and "edit_date" in now
    [fix] = rows(store, "correction")
    assert fix.status == "sent" and fix.detail == ("edited",)
    assert fix.corrects_id == rows(store, "digest")[-1].id

    # a second revision that leaves the energy section as it is: "message is not modified" is done
    again = issue_text("2026-11-28", corrected=True).replace("推理成本下降直接", "推理成本的下降直接", 1)
    await publish(store, again)
    await drain(store, fake)
    assert len(fake.messages_to(USER)) == sends
    assert [r.detail for r in rows(store, "correction")] == [("unchanged",), ("edited",)]  # newest first
    assert len([e for e in fake.edits if e["chat_id"] == USER]) == 1  # "not modified" changed nothing
    tried = [c for c in fake.calls("editMessageText") if str(c.params.get("chat_id")) == str(USER)]
    assert len(tried) == 2  # the second answered 400 "message is not modified": done, no notice


@pytest.mark.parametrize("how", ["locked", "deleted"])
async def test_uneditable_message_gets_a_corrected_notice(
    fake: FakeTelegram, bot: TelegramBot, store: Store, how: str
) -> None:
    [energy] = await _delivered(fake, store, OTHER, "/subscribe energy publish", user=OTHER)
    if how == "locked":
        fake.lock_message(OTHER, energy.message_id)
    else:
        fake.forget_message(OTHER, energy.message_id)
    before = len(fake.messages_to(OTHER))
    await publish(store, issue_text("2026-11-28", corrected=True))
    await drain(store, fake)
    [notice] = pushes(fake, OTHER, before)
    assert notice.plain.startswith("✏️ 本期已更正")  # OTHER reads Chinese
    assert "发布了更正版（第 2 版）" in notice.plain and "/latest" in notice.plain
    reply = notice.params.get("reply_parameters")
    if how == "locked":
        assert reply == {"message_id": energy.message_id, "allow_sending_without_reply": True}
    else:
        assert reply is None  # nothing to reply to
    [fix] = rows(store, "correction")
    assert fix.status == "sent" and fix.detail == ("notice",)


async def test_changed_part_count_sends_one_notice(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    sent = await _delivered(fake, store, USER, "/subscribe energy web3 publish")
    assert len(sent) == 2
    text = issue_text("2026-11-28", corrected=True)
    start = text.index("## 🌐")
    end = text.index("## ", start + 3)
    before = len(fake.messages_to(USER))
    await publish(store, text[:start] + text[end:])  # the revision drops the web3 section
    await drain(store, fake)
    [notice] = pushes(fake, USER, before)
    assert notice.plain.startswith("✏️ This issue was corrected")
    assert notice.params["reply_parameters"]["message_id"] == sent[0].message_id
    assert not [e for e in fake.edits if e["chat_id"] == USER and e["method"] == "editMessageText"]
    [fix] = rows(store, "correction")
    assert fix.detail == ("notice",)


async def test_flood_control_on_an_edit_is_retried(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    [energy] = await _delivered(fake, store, USER, "/subscribe energy publish")
    fake.fail_next(
        "editMessageText", 429, "Too Many Requests: retry after 1", {"retry_after": 1}, chat_id=USER
    )
    await publish(store, issue_text("2026-11-28", corrected=True))
    transport = TelegramTransport(fake.token, base_url=fake.base_url, concurrency=4)
    engine = DeliveryEngine(fast_settings(), store, {"telegram": transport}, idle_poll=0.02)
    try:
        await engine.drain(wait_retries=5)
    finally:
        await transport.close()
    calls = [c for c in fake.calls("editMessageText") if str(c.params.get("chat_id")) == str(USER)]
    assert len(calls) == 2 and calls[1].t - calls[0].t >= 1.0
    [fix] = rows(store, "correction")
    assert (
        fix.status == "sent" and fix.attempts == 2 and fix.detail == ("edited",)
    )  # tries: the 429 and the edit that worked
    now = fake.message(USER, energy.message_id)
    assert now is not None and CORRECTED in now["text"]


def test_head_revision_has_the_new_columns(store: Store) -> None:
    import sqlalchemy as sa

    cols = {c["name"] for c in sa.inspect(store.engine).get_columns("delivery")}
    assert {"kind", "watcher_id", "corrects_id", "detail"} <= cols
    assert UTC  # the module's clock helpers are UTC-aware
    assert datetime.now(UTC).tzinfo is UTC


# ------------------------------------------------------------------ the operator's view


async def test_operator_sees_alerts_and_edits(
    fake: FakeTelegram, bot: TelegramBot, store: Store, db_url: str
) -> None:
    """The dashboard's deliveries page and ``briefcast deliveries`` show watch alerts (which have
    no subscription) and what each correction did."""
    from typer.testing import CliRunner

    from briefcast.cli import app
    from test_dashboard import client_for

    await _delivered(fake, store, USER, "/subscribe energy publish")
    await ask(fake, msg(fake, None, "/watch 钠电池"), USER, n=2)
    await publish(store, issue_text("2026-11-28", corrected=True))
    await drain(store, fake)
    await publish(store, issue_text("2026-11-29"))
    await drain(store, fake)
    async with client_for(Settings(), store) as client:
        page = (await client.get("/dashboard/deliveries")).text
    assert '<td>correction<br><span class="muted">edited</span></td>' in page
    assert "<td>watch</td><td>telegram</td>" in page
    out = CliRunner().invoke(app, ["--db", db_url, "deliveries"])
    assert out.exit_code == 0, out.output
    assert "correction (edited)" in out.output and " watch " in out.output


# ------------------------------------------------------------------ quiet hours (feature 2, part)


def test_quiet_until_crosses_midnight_and_dst() -> None:
    from briefcast.slots import quiet_until

    sh = ZoneInfo("Asia/Shanghai")
    at = lambda d, h, m: datetime(2026, 12, d, h, m, tzinfo=sh)  # noqa: E731
    assert quiet_until("22:00-07:00", sh, at(2, 23, 0)) == at(3, 7, 0)
    assert quiet_until("22:00-07:00", sh, at(3, 6, 59)) == at(3, 7, 0)
    assert quiet_until("22:00-07:00", sh, at(3, 7, 0)) is None
    assert quiet_until("22:00-07:00", sh, at(3, 12, 0)) is None
    assert quiet_until("12:00-13:00", sh, at(3, 12, 30)) == at(3, 13, 0)
    berlin = ZoneInfo("Europe/Berlin")  # 2026-03-29: 02:00 CET -> 03:00 CEST, 02:30 does not exist
    inside = datetime(2026, 3, 29, 1, 45, tzinfo=berlin)
    assert quiet_until("01:30-02:30", berlin, inside) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


async def test_quiet_hours_hold_on_publish_pushes_until_they_end(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    await ask(fake, msg(fake, None, "/subscribe energy publish"), USER)
    [bad] = await ask(fake, msg(fake, None, "/quiet 25:00-07:00"), USER)
    assert bad.plain.startswith("“25:00-07:00” is not a quiet-hours range; use HH:MM-HH:MM")
    [zh_bad] = await ask(fake, msg(fake, None, "/quiet 晚上", user=OTHER), OTHER)
    assert zh_bad.plain.startswith("免打扰时段「晚上」无效")
    [ok] = await ask(fake, msg(fake, None, "/quiet 22:00 - 07:00"), USER)
    assert "Quiet hours: 22:00–07:00 (Asia/Shanghai). An issue published then is pushed at 07:00." in ok.plain
    [listing] = await ask(fake, msg(fake, None, "/subscriptions"), USER)
    assert "quiet 22:00–07:00" in listing.plain
    await ask(fake, msg(fake, None, "/watch 钠电池"), USER, n=2)
    before = len(fake.messages_to(USER))
    await publish(store, issue_text("2026-11-28"))
    sh = ZoneInfo("Asia/Shanghai")
    night = datetime.now(sh).replace(hour=23, minute=30, second=0, microsecond=0) + timedelta(days=1)
    await drain(store, fake, at=night.astimezone(UTC))
    assert pushes(fake, USER, before) == []  # the digest and the watch alert wait
    morning = (night + timedelta(days=1)).replace(hour=7, minute=0).astimezone(UTC)
    held = outbox.list_deliveries(store.engine, limit=None)
    assert {(d.kind, d.status) for d in held} == {("digest", "pending"), ("watch", "pending")}
    assert all(d.next_attempt_at == morning and d.attempts == 0 for d in held)
    assert all("quiet hours: waits until" in d.last_error for d in held)
    await drain(store, fake, at=morning + timedelta(minutes=1))
    assert len(pushes(fake, USER, before)) == 2
    [off] = await ask(fake, msg(fake, None, "/quiet off"), USER)
    assert off.plain == "Quiet hours are off."
    [sub] = store.active_subscriptions()
    assert sub.quiet == ""
