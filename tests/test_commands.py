"""The platform-neutral command layer, against a real Store (SQLite and PostgreSQL).

The platform side is the shared fake ``PlatformOps`` (the protocol adapters
implement) from ``tests/factories.py``; everything else is the real thing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from briefcast.bot.commands import (
    ChannelInfo,
    Commands,
    Request,
    UsageError,
    parse_subscribe_args,
    parse_time,
)
from briefcast.bot.ratelimit import RateLimiter
from briefcast.briefing.parse import parse_markdown
from briefcast.briefing.sectors import default_catalogue
from briefcast.i18n import pick_language
from briefcast.store import ChatRef, Store, StoredIssue
from factories import Clock, Ops, group, ingest_sample, private, text_of


@pytest.fixture
def ops() -> Ops:
    return Ops()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def commands(store: Store, ops: Ops, clock: Clock) -> Commands:
    return Commands(store=store, ops=ops, platform="telegram", commands_per_minute=50, clock=clock)


@pytest.fixture
def issue(store: Store, sample_md: Path) -> StoredIssue:
    return ingest_sample(store, sample_md)


# ------------------------------------------------------------------ parsing


def test_parse_subscribe_args_any_order() -> None:
    cat = default_catalogue()
    got = parse_subscribe_args(["@news", "能源", "ai", "7:30", "Europe/Berlin"], cat)
    assert got.target == "@news"
    assert got.sectors == ("energy", "ai")
    assert (got.time, got.timezone, got.mode) == ("07:30", "Europe/Berlin", "scheduled")
    assert parse_subscribe_args(["all", "publish"], cat).sectors is None
    assert parse_subscribe_args(["onpublish"], cat).mode == "publish"
    assert parse_subscribe_args(["-1001234567"], cat).target == "-1001234567"


@pytest.mark.parametrize(
    ("args", "key"),
    [(["25:00"], "bad_time"), (["Mars/Base"], "bad_timezone"), (["mars"], "unknown_sector")],
)
def test_parse_subscribe_args_rejects(args: list[str], key: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_subscribe_args(args, default_catalogue())
    assert err.value.key == key


def test_parse_time_normalises() -> None:
    assert parse_time("8:05") == "08:05"
    assert parse_time("23：59") == "23:59"
    with pytest.raises(UsageError):
        parse_time("24:00")


def test_pick_language() -> None:
    assert pick_language("zh-hans") == "zh"
    assert pick_language("de", "zh") == "en"
    assert pick_language(None, "en") == "en"
    assert pick_language(None, "zh") == "zh"


def test_rate_limiter_warns_once_then_drops_until_window_passes(clock: Clock) -> None:
    rl = RateLimiter(2, 60.0, clock)
    assert [rl.check("u") for _ in range(4)] == ["allow", "allow", "warn", "drop"]
    assert rl.check("other") == "allow"
    clock.now += 60
    assert rl.check("u") == "allow"


# ------------------------------------------------------------------ table and menus


def test_table_declares_sector_commands_and_aliases(commands: Commands) -> None:
    names = commands.command_names
    for n in ("start", "help", "sectors", "ai", "energy", "web3", "finance", "signals", "cross", "keywords"):
        assert n in names
    assert commands.resolve("finance") is commands.resolve("web3")
    assert commands.resolve("能源") is commands.resolve("energy")  # Slack: /briefing 能源
    zh = dict(commands.menu("zh"))
    en = dict(commands.menu("en"))
    assert "cross" in zh and "finance" in en and "list" not in en
    assert zh["energy"] == "能源板块：储能、电网与新能源"
    assert en["subscribe"].startswith("Subscribe")
    subscribe = commands.resolve("subscribe")
    assert subscribe is not None and subscribe.changes_subscriptions and subscribe.needs_admin


# ------------------------------------------------------------------ queries


async def test_no_issue_yet_is_a_friendly_reply(commands: Commands) -> None:
    reply = await commands.handle(private("energy"))
    assert reply.notice == "No issue has been published yet. Please check back later."
    reply = await commands.handle(private("latest", lang="zh"))
    assert "还没有发布" in reply.notice


async def test_sector_command_in_both_languages(commands: Commands, issue: StoredIssue) -> None:
    en = await commands.handle(private("energy", lang="en"))
    zh = await commands.handle(private("energy", lang="zh-hans"))
    assert en.documents[0].title.startswith("⚡ 能源基建")
    assert "储能需求爆发" in text_of(en)
    assert en.documents[0].footer.startswith("Source:")
    assert zh.documents[0].footer.startswith("来源：")
    # buttons for the other sectors of the issue
    values = [b.value for row in en.documents[0].buttons for b in row]
    assert values == ["ai", "web3", "signals"]
    alias = await commands.handle(private("finance"))
    assert alias.documents[0].title.startswith("🌐 Web3金融")


async def test_plain_text_sector_only_in_private(commands: Commands, issue: StoredIssue) -> None:
    reply = await commands.handle(private(text="能源"))
    assert reply.documents and reply.documents[0].title.startswith("⚡")
    hint = await commands.handle(private(text="hello there"))
    assert "sector name" in hint.notice
    in_group = await commands.handle(
        Request("telegram", ChatRef("telegram", "-1"), "group", "7", text="能源", language_code="en")
    )
    assert in_group.empty


async def test_keywords_buttons_carry_issue_and_show_passages(commands: Commands, issue: StoredIssue) -> None:
    reply = await commands.handle(private("keywords"))
    buttons = [b for row in reply.documents[0].buttons for b in row]
    assert [b.text for b in buttons] == ["推理成本", "储能爆发", "资产证券化"]
    assert buttons[0].action == "kw" and buttons[0].value == f"{issue.id}.0"
    passages = await commands.handle_action(private(), "kw", buttons[0].value)
    assert passages.documents[0].title == "🔎 Keyword: 推理成本"
    assert "推理成本" in text_of(passages)
    gone = await commands.handle_action(private(), "kw", f"{issue.id}.99")
    assert gone.notice == "That keyword is no longer in the current issue."


async def test_drafts_are_never_shown_to_chat_users(
    commands: Commands, issue: StoredIssue, store: Store, sample_md: Path
) -> None:
    raw = sample_md.read_text(encoding="utf-8").replace("硅谷关键赛道周观察", "草稿周报")
    draft = store.ingest(parse_markdown(raw, source="upload"), raw=raw, publish=False).issue_id
    hidden = await commands.handle(private("issue", str(draft)))
    assert hidden.documents == () and str(draft) in hidden.notice
    expired = await commands.handle_action(private(), "sector", f"ai.{draft}")
    assert expired.documents == ()
    gone = await commands.handle_action(private(), "kw", f"{draft}.0")
    assert gone.documents == ()
    shown = await commands.handle(private("issue", str(issue.id)))
    assert shown.documents[0].title == "硅谷关键赛道周观察"


async def test_insight_latest_issue_search(commands: Commands, issue: StoredIssue) -> None:
    insight = await commands.handle(private("insight"))
    assert "技术-能源-金融" in text_of(insight)
    latest = await commands.handle(private("latest"))
    assert latest.documents[0].title == "硅谷关键赛道周观察"
    assert issue.date is None  # the sample states no date: none is made up (issue #12)
    past = await commands.handle(private("issue", str(issue.id)))
    assert {b.value for row in past.documents[0].buttons for b in row} == {
        f"{k}.{issue.id}" for k in ("ai", "energy", "web3", "signals")
    }
    sector = await commands.handle_action(private(), "sector", f"ai.{issue.id}")
    assert sector.documents[0].title.startswith("🤖")
    missing = await commands.handle(private("issue", "1999-01-01"))
    assert "No issue matches" in missing.notice
    huge = await commands.handle(private("issue", "9" * 23))  # an internal error before issue #13
    assert "No issue matches" in huge.notice
    usage = await commands.handle(private("issue"))
    assert "Usage: /issue DATE|ID" in usage.notice
    found = await commands.handle(private("search", "储能"))
    assert "储能" in text_of(found) and "quantshark.io" in str(found.documents[0])
    none = await commands.handle(private("search", "zzzqqq"))
    assert none.notice.startswith("Nothing found")


async def test_unknown_command_private_only(commands: Commands) -> None:
    assert "Unknown command" in (await commands.handle(private("nope"))).notice
    assert (await commands.handle(group("nope"))).empty


# ------------------------------------------------------------------ subscriptions


async def test_subscribe_private_defaults_and_usage_errors(commands: Commands, store: Store) -> None:
    ok = await commands.handle(private("subscribe"))
    assert ok.notice == "Subscribed: all sectors, delivered daily at 08:00 (Asia/Shanghai)."
    sub = store.subscriptions_for_chat("telegram", "7")[0]
    assert sub.sectors == ("ai", "energy", "web3", "signals") and sub.created_by == "7"
    bad_time = await commands.handle(private("settime", "25:00", lang="zh"))
    assert "时间「25:00」无效" in bad_time.notice and "用法：/settime HH:MM" in bad_time.notice
    bad_tz = await commands.handle(private("timezone", "Mars/Base"))
    assert "not a known time zone" in bad_tz.notice and "Usage: /timezone Area/City" in bad_tz.notice
    unknown = await commands.handle(private("subscribe", "mars"))
    assert "Unknown sector \u201cmars\u201d" in unknown.notice and "Usage: /subscribe" in unknown.notice
    missing = await commands.handle(private("settime"))
    assert missing.notice.startswith("Missing argument.")
    moved = await commands.handle(private("settime", "9:30"))
    assert "09:30" in moved.notice
    tz = await commands.handle(private("timezone", "Europe/Berlin"))
    assert "Europe/Berlin" in tz.notice
    publish = await commands.handle(private("subscribe", "publish"))
    assert "as soon as each issue is published" in publish.notice
    assert store.subscriptions_for_chat("telegram", "7")[0].mode == "publish"


async def test_unsubscribe_and_settime_without_subscription(commands: Commands, store: Store) -> None:
    assert "no subscription yet" in (await commands.handle(private("settime", "08:00"))).notice
    await commands.handle(private("subscribe", "ai", "energy"))
    part = await commands.handle(private("unsubscribe", "ai"))
    assert part.notice == "Unsubscribed: 🤖 AI."
    assert store.subscriptions_for_chat("telegram", "7")[0].sectors == ("energy",)
    everything = await commands.handle(private("unsubscribe", "all"))
    assert "Removed every subscription" in everything.notice
    assert not store.subscriptions_for_chat("telegram", "7")[0].active
    bad = await commands.handle(private("unsubscribe", "08:00"))
    assert "Did not understand" in bad.notice


async def test_group_changes_need_an_admin(commands: Commands, ops: Ops, store: Store) -> None:
    refused = await commands.handle(group("subscribe", "energy"))
    assert refused.notice == "Only administrators of this chat can change its subscriptions."
    assert store.subscriptions_for_chat("telegram", "-100111") == []
    ops.admins.add(("-100111", "7"))
    ok = await commands.handle(group("subscribe", "energy", thread="55"))
    assert ok.notice.startswith("Subscribed: ⚡ Energy")
    sub = store.subscriptions_for_chat("telegram", "-100111")[0]
    assert sub.chat.thread_id == "55" and sub.chat_title == "Team"
    # anyone may query
    assert "No issue" in (await commands.handle(group("energy", user="8"))).notice


async def test_remote_channel_subscription_is_verified(commands: Commands, ops: Ops, store: Store) -> None:
    missing = await commands.handle(private("subscribe", "@news", "energy", "08:00"))
    assert "Could not find the channel \u201c@news\u201d" in missing.notice
    ops.channels["@news"] = ChannelInfo("-100200", "News")
    not_admin = await commands.handle(private("subscribe", "@news", "energy", "08:00"))
    assert "not an administrator of \u201cNews\u201d" in not_admin.notice
    ops.admins.add(("-100200", "7"))
    cannot = await commands.handle(private("subscribe", "@news", "energy", "08:00"))
    assert "cannot post in \u201cNews\u201d" in cannot.notice
    assert store.subscriptions_for_chat("telegram", "-100200") == []
    ops.postable.add("-100200")
    ok = await commands.handle(private("subscribe", "@news", "energy", "08:00"))
    assert ok.notice == "Subscribed \u201cNews\u201d: ⚡ Energy, delivered daily at 08:00 (Asia/Shanghai)."
    sub = store.subscriptions_for_chat("telegram", "-100200")[0]
    assert (sub.sectors, sub.chat_kind, sub.created_by) == (("energy",), "channel", "7")
    listing = await commands.handle(private("subscriptions"))
    assert "News — ⚡ Energy" in text_of(listing)
    timed = await commands.handle(private("settime", "@news", "21:15"))
    assert "21:15" in timed.notice
    assert store.subscriptions_for_chat("telegram", "-100200")[0].time == "21:15"
    from_group = await commands.handle(group("subscribe", "@news"))
    assert "private chat" in from_group.notice


async def test_toggle_buttons(commands: Commands, store: Store) -> None:
    empty = await commands.handle(private("subscriptions"))
    assert empty.notice.startswith("No subscriptions.")
    await commands.handle(private("subscribe", "ai"))
    listing = await commands.handle(private("subscriptions"))
    toggles = {b.value: b.text for row in listing.documents[0].buttons for b in row}
    assert toggles["ai"].startswith("✅") and toggles["energy"].startswith("➕")
    on = await commands.handle_action(private(), "toggle", "energy")
    assert on.notice == "On: Energy" and on.edit
    assert store.subscriptions_for_chat("telegram", "7")[0].sectors == ("ai", "energy")
    off = await commands.handle_action(private(), "toggle", "ai")
    assert off.notice == "Off: AI"
    assert store.subscriptions_for_chat("telegram", "7")[0].sectors == ("energy",)
    expired = await commands.handle_action(private(), "nope", "x")
    assert expired.notice == "This button has expired."


async def test_rate_limit_answers_once(store: Store, ops: Ops, clock: Clock) -> None:
    commands = Commands(store=store, ops=ops, platform="telegram", commands_per_minute=5, clock=clock)
    replies = [await commands.handle(private("help")) for _ in range(7)]
    assert all(r.documents for r in replies[:5])
    assert replies[5].notice == "You are sending commands too fast; please wait a minute."
    assert replies[6].empty
    assert (await commands.handle(private("help", user="8"))).documents  # other users unaffected
    clock.now += 61
    assert (await commands.handle(private("help"))).documents


class BrokenStore(Store):
    """A store whose reads fail, to exercise the one error handler."""

    def latest_issue(self) -> StoredIssue | None:
        raise RuntimeError("database exploded")


async def test_unexpected_errors_become_an_apology(
    db_url: str, ops: Ops, caplog: pytest.LogCaptureFixture
) -> None:
    from briefcast.config import Settings

    broken = BrokenStore.open(db_url, settings=Settings())
    try:
        commands = Commands(store=broken, ops=ops, platform="telegram")
        reply = await commands.handle(private("energy", lang="zh"))
    finally:
        broken.close()
    assert reply.notice == "抱歉，处理时出了点问题，请稍后再试。"
    assert "database exploded" not in reply.notice
    assert any("command failed" in r.message for r in caplog.records)


async def test_help_lists_every_command(commands: Commands) -> None:
    reply = await commands.handle(private("help", lang="zh"))
    text = text_of(reply)
    for spec in commands.specs:
        assert f"/{spec.name}" in text
    assert "/finance" in text and "命令列表" in text
