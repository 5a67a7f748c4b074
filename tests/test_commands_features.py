"""Watches, settings, forum topics, the welcome card and the reader-facing fixes, in the command layer.

A real Store (SQLite and PostgreSQL); the platform is the fake ``PlatformOps`` (+ ``ForumOps`` for
topics) from ``tests/factories.py`` that records what the command asked of it. The same flows run
through the real PTB and bolt clients in ``test_telegram_features.py`` / ``test_slack_features.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from briefcast.bot.commands import (
    Commands,
    Reply,
    Request,
    parse_settings_args,
    parse_watch_args,
)
from briefcast.store import ChatRef, Store, StoredIssue
from factories import GROUP, USER, ForumOpsFake, Ops, group, ingest_sample, private, text_of


@pytest.fixture
def ops() -> Ops:
    return Ops(admins={(GROUP, "1"), ("C0CHAN", USER)}, post_anywhere=True)


@pytest.fixture
def commands(store: Store, ops: Ops) -> Commands:
    return Commands(store=store, ops=ops, platform="telegram", commands_per_minute=500)


@pytest.fixture
def slack(store: Store, ops: Ops) -> Commands:
    return Commands(store=store, ops=ops, platform="slack", prefix="/briefing ", commands_per_minute=500)


@pytest.fixture
def issue(store: Store, sample_md: Path) -> StoredIssue:
    return ingest_sample(store, sample_md)


def channel(command: str, *args: str, lang: str = "en") -> Request:
    return Request(
        "slack",
        ChatRef("slack", "C0CHAN", workspace="T0"),
        "slack_channel",
        USER,
        command,
        tuple(args),
        language_code=lang,
        chat_title="general",
        explicit=True,
    )


def buttons(reply: Reply, index: int = 0) -> list[tuple[str, str, str]]:
    return [(b.text, b.action, b.value) for row in reply.documents[index].buttons for b in row]


# ------------------------------------------------------------------ parsing


def test_parse_watch_args() -> None:
    assert parse_watch_args(["钠电池,", "固态电池", "daily"]) == (["钠电池", "固态电池"], "daily")
    assert parse_watch_args(["solid", "state", "battery"]) == (["solid state battery"], None)
    assert parse_watch_args(["储能", "publish"]) == (["储能"], "publish")
    assert parse_watch_args(['"daily"']) == (['"daily"'], None)  # quoted: a word, not the mode
    assert parse_watch_args(["钠电池、光伏；储能"]) == (["钠电池", "光伏", "储能"], None)


def test_parse_settings_args() -> None:
    got = parse_settings_args(["compact", "silent", "on", "previews", "关"])
    assert (got.variant, got.silent, got.previews) == ("compact", True, False)
    assert parse_settings_args(["静音"]).silent is True
    assert parse_settings_args(["@news", "full"]).target == "@news"
    assert parse_settings_args([]).empty


# ------------------------------------------------------------------ watches


async def test_watch_lists_and_previews_the_latest_issue(commands: Commands, issue: StoredIssue) -> None:
    reply = await commands.handle(private("watch", "钠电池,", "Gemini"))
    assert "Now watching: “钠电池”, “Gemini”." in reply.notice
    assert "sent here right away" in reply.notice and "Watching 2 of at most 20 words" in reply.notice
    assert "The latest issue already mentions them in" in reply.notice
    [doc] = reply.documents
    assert doc.title == "🔔 Watched words: Gemini, 钠电池"
    assert ("⚡ Energy", "sector", f"energy.{issue.id}") in buttons(reply)
    again = await commands.handle(private("watch", "钠 电池", lang="zh"))
    assert "已经在关注：「钠 电池」" not in again.notice and "已经在关注：「钠电池」" in again.notice
    assert not again.documents  # nothing new, no preview

    listed = await commands.handle(private("watches"))
    assert "1. 钠电池" in text_of(listed) and "2. Gemini" in text_of(listed)
    actions = buttons(listed)
    assert [a for _, a, _ in actions] == ["unwatch", "unwatch", "wmode"]
    removed = await commands.handle_action(private(""), "unwatch", actions[1][2])
    assert removed.edit and removed.notice == "Stopped watching “Gemini”. 1 word is still watched."
    assert "Gemini" not in text_of(Reply(documents=removed.documents))


async def test_watch_errors_are_polite_in_both_languages(commands: Commands) -> None:
    short = await commands.handle(private("watch", "钠", lang="zh"))
    assert short.notice.startswith("「钠」太短了：关注词至少 2 个字符。")
    assert "用法：/watch" in short.notice
    long = await commands.handle(private("watch", "x" * 41))
    assert "is too long: a watched word has at most 40 characters" in long.notice
    assert (await commands.handle(private("watch"))).notice.startswith("Missing argument.")
    daily = await commands.handle(private("watch", "储能", "daily"))
    assert "There is no daily digest here" in daily.notice
    assert (await commands.handle(private("watches"))).notice.startswith("Nothing is watched here yet")
    for i in range(20):
        await commands.handle(private("watch", f"词语{i}"))
    full = await commands.handle(private("watch", "再来一个"))
    assert full.notice == "You can watch at most 20 words. Remove some with /unwatch first."


async def test_watch_mode_rides_on_the_daily_digest_only_when_there_is_one(
    commands: Commands, store: Store
) -> None:
    await commands.handle(private("watch", "储能"))
    refused = await commands.handle(private("watches", "daily"))
    assert "There is no daily digest here" in refused.notice
    await commands.handle(private("subscribe", "energy", "07:30"))
    switched = await commands.handle(private("watches", "daily"))
    assert "come with the next daily digest" in switched.notice
    assert store.watcher_for_chat(ChatRef("telegram", USER)).mode == "daily"  # type: ignore[union-attr]
    back = await commands.handle_action(private(""), "wmode", "publish")
    assert back.edit and store.watcher_for_chat(ChatRef("telegram", USER)).mode == "publish"  # type: ignore[union-attr]
    assert (await commands.handle_action(private(""), "wmode", "hourly")).notice == "This button has expired."
    bad = await commands.handle(private("watches", "sometimes"))
    assert "Did not understand" in bad.notice


async def test_unwatch(commands: Commands) -> None:
    await commands.handle(private("watch", "储能,", "光伏,", "钠电池"))
    one = await commands.handle(private("unwatch", "光伏"))
    assert one.notice == "Stopped watching “光伏”. 2 words are still watched."
    missing = await commands.handle(private("unwatch", "风电"))
    assert missing.notice.startswith("“风电” is not watched here.")
    every = await commands.handle(private("unwatch", "all"))
    assert every.notice == "Stopped watching “储能”, “钠电池”. 0 words are still watched."


async def test_group_watches_are_for_admins(commands: Commands, store: Store) -> None:
    refused = await commands.handle(group("watch", "储能", user="2"))
    assert refused.notice == "Only administrators of this chat can change its subscriptions."
    assert store.watcher_for_chat(ChatRef("telegram", GROUP)) is None
    await commands.handle(group("watch", "储能", user="1"))
    listed = await commands.handle(group("watches", user="2"))  # anyone may look
    assert "储能" in text_of(listed)
    press = await commands.handle_action(group("", user="2"), "unwatch", str(buttons(listed)[0][2]))
    assert press.notice == "Only administrators of this chat can change its subscriptions."


# ------------------------------------------------------------------ settings


async def test_settings_show_change_and_buttons(commands: Commands, store: Store) -> None:
    none = await commands.handle(private("settings"))
    assert none.notice == "This chat has no subscription yet. Send /subscribe to start one."
    await commands.handle(private("subscribe", "energy"))
    shown = await commands.handle(private("settings"))
    text = text_of(shown)
    assert "Digest: full" in text and "Notifications: with sound" in text and "Link previews: off" in text
    assert ("✅ full", "set", "variant.full") in buttons(shown) and ("silent", "set", "silent.1") in buttons(
        shown
    )
    changed = await commands.handle(private("settings", "compact", "previews", "on"))
    assert (
        changed.notice
        == "Updated the delivery settings: Digest: compact, Notifications: with sound, Link previews: on."
    )
    pressed = await commands.handle_action(private(""), "set", "silent.1")
    assert pressed.edit and ("✅ silent", "set", "silent.1") in buttons(pressed)
    [sub] = store.active_subscriptions()
    assert (sub.variant, sub.silent, sub.previews) == ("compact", True, True)
    listing = await commands.handle(private("subscriptions"))
    assert "compact · 🔕 silent · 🔗 link previews" in text_of(listing)
    zh = await commands.handle(private("settings", lang="zh"))
    assert "摘要：精简" in text_of(zh) and "提醒：静音推送" in text_of(zh)
    assert (await commands.handle_action(private(""), "set", "silent.2")).notice == "This button has expired."
    assert "Did not understand “loud”" in (await commands.handle(private("settings", "loud"))).notice


async def test_slack_settings_have_no_silent_pushes(slack: Commands) -> None:
    await slack.handle(channel("subscribe", "energy"))
    shown = await slack.handle(channel("settings"))
    assert "Notifications" not in text_of(shown) and "Link previews: off" in text_of(shown)
    assert all(a[2].split(".")[0] != "silent" for a in buttons(shown))
    refused = await slack.handle(channel("settings", "silent", "on"))
    assert refused.notice.startswith("Slack has no silent messages")


# ------------------------------------------------------------------ forum topics


async def test_topics_create_subscribe_close_and_reopen(store: Store) -> None:
    ops = ForumOpsFake(admins={(GROUP, "1")}, post_anywhere=True)
    c = Commands(store=store, ops=ops, platform="telegram", commands_per_minute=500)
    created = await c.handle(group("topics", "07:30", forum=True, user="1"))
    assert [name for _, name, _ in ops.created] == [
        "🤖 AI",
        "⚡ Energy",
        "🌐 Web3 & Finance",
        "🔗 Cross-sector signals",
    ]
    assert len({color for _, _, color in ops.created}) == 4
    assert "Topics are ready for: all sectors." in created.notice
    assert (
        "Each topic receives only its own sector, delivered daily at 07:30 (Asia/Shanghai)" in created.notice
    )
    subs = {s.chat.thread_id: s for s in store.active_subscriptions()}
    assert {t: s.sectors for t, s in subs.items()} == {
        "101": ("ai",),
        "102": ("energy",),
        "103": ("web3",),
        "104": ("signals",),
    }
    again = await c.handle(group("topics", forum=True, user="1"))
    assert "These sectors already have topics: all sectors." in again.notice and len(ops.created) == 4
    listing = await c.handle(group("subscriptions", user="1"))
    assert "this chat · ⚡ Energy — ⚡ Energy" in text_of(listing)

    off = await c.handle(group("topics", "off", forum=True, user="1"))
    assert off.notice.startswith("Closed the topics of all sectors and stopped their deliveries.")
    assert sorted(ops.closed) == ["101", "102", "103", "104"] and store.active_subscriptions() == []
    assert (await c.handle(group("topics", "off", forum=True, user="1"))).notice.startswith(
        "This group has no sector topics"
    )

    ops.deleted.add("102")  # someone deleted the Energy topic meanwhile
    back = await c.handle(group("topics", "energy", "ai", forum=True, user="1"))
    assert ops.reopened == ["101"] and ops.created[-1][1] == "⚡ Energy"
    assert "Topics are ready for: 🤖 AI, ⚡ Energy." in back.notice
    assert sorted(s.chat.thread_id or "" for s in store.active_subscriptions()) == ["101", "105"]


async def test_topics_refusals(store: Store) -> None:
    ops = ForumOpsFake(admins={(GROUP, "1")}, post_anywhere=True, refuse="no_rights")
    c = Commands(store=store, ops=ops, platform="telegram", commands_per_minute=500)
    assert (await c.handle(private("topics"))).notice.startswith("Send this command in a forum group")
    assert (await c.handle(group("topics", user="1"))).notice.startswith(
        "This group does not have Topics enabled"
    )
    refused = await c.handle(group("topics", user="2", forum=True))
    assert refused.notice == "Only administrators of this chat can change its subscriptions."
    no_rights = await c.handle(group("topics", forum=True, lang="zh", user="1"))
    assert "我需要「管理话题」的管理员权限" in no_rights.notice
    assert store.active_subscriptions() == []
    plain = Commands(store=store, ops=Ops(admins={(GROUP, "1")}, post_anywhere=True), platform="telegram")
    assert (
        await plain.handle(group("topics", forum=True, user="1"))
    ).notice == "This feature exists only on Telegram."


async def test_topics_is_telegram_only(slack: Commands) -> None:
    reply = await slack.handle(channel("topics"))
    assert reply.notice == "This feature exists only on Telegram."
    assert "topics" not in [name for name, _ in slack.menu("en")]
    assert "/briefing topics" not in text_of(await slack.handle(channel("help")))


# ------------------------------------------------------------------ welcome card


async def test_welcome_card_buttons_subscribe_for_admins(commands: Commands, store: Store) -> None:
    welcome = commands.welcome(group("", forum=True, user="1"))
    [doc] = welcome.documents
    assert doc.title == "👋 Thanks for adding me to “Team”"
    text = text_of(welcome)
    assert "daily at 08:00, Asia/Shanghai" in text and "send /topics" in text
    assert [v for _, a, v in buttons(welcome) if a == "toggle"] == ["ai", "energy", "web3", "signals"]
    assert buttons(welcome)[1][0] == "➕ ⚡ Energy"
    refused = await commands.handle_action(group("", user="2"), "toggle", "energy")
    assert refused.notice == "Only administrators of this chat can change its subscriptions."
    ok = await commands.handle_action(group("", user="1"), "toggle", "energy")
    assert ok.edit and ok.notice == "On: Energy"
    [sub] = store.active_subscriptions()
    assert sub.chat.chat_id == GROUP and sub.sectors == ("energy",)
    zh = commands.welcome(group("", lang="zh", user="1"))
    assert zh.documents[0].title == "👋 感谢把我加入「Team」" and "/topics" not in text_of(zh)


# ------------------------------------------------------------------ what a reader sees


async def test_english_sector_buttons_use_english_names(commands: Commands, issue: StoredIssue) -> None:
    for reply in (
        await commands.handle(private("energy")),
        await commands.handle(private("latest")),
        await commands.handle(private("start")),
        await commands.handle(private("sectors")),
        await commands.handle(private("issue", str(issue.id))),
    ):
        labels = [text for text, action, _ in buttons(reply) if action == "sector"]
        assert labels and all("新能力" not in x and "基建" not in x for x in labels), labels
    zh = await commands.handle(private("latest", lang="zh"))
    assert [x for x, _, _ in buttons(zh)][:2] == ["🤖 AI新能力", "⚡ 能源基建"]


async def test_unsubscribe_in_private_names_the_chat(commands: Commands) -> None:
    await commands.handle(private("subscribe"))
    assert (
        await commands.handle(private("unsubscribe"))
    ).notice == "Removed every subscription of this chat."
    await commands.handle(private("subscribe", lang="zh"))
    assert (await commands.handle(private("unsubscribe", lang="zh"))).notice == "已取消本聊天的全部订阅。"
    again = await commands.handle(private("unsubscribe", lang="zh"))
    assert again.notice == "本聊天还没有订阅。发送 /subscribe 开始订阅。"


async def test_slack_says_channel_and_has_its_own_help_footer(slack: Commands) -> None:
    help_reply = await slack.handle(channel("help", lang="zh"))
    footer = help_reply.documents[0].footer
    assert "私聊" not in footer and "群组中只有管理员" not in footer and "私信" in footer
    await slack.handle(channel("subscribe", "energy"))
    listing = await slack.handle(channel("subscriptions", lang="zh"))
    assert "本频道 — " in text_of(listing) and "本聊天" not in text_of(listing)
    assert (await slack.handle(channel("unsubscribe", lang="zh"))).notice == "已取消本频道的全部订阅。"
    dm = await slack.handle(private("unsubscribe", platform="slack"))
    assert dm.notice == "Our direct messages has no subscription yet. Send /briefing subscribe to start one."


async def test_timezone_is_case_insensitive_and_canonical(commands: Commands, store: Store) -> None:
    await commands.handle(private("subscribe"))
    reply = await commands.handle(private("timezone", "asia/shanghai"))
    assert "(Asia/Shanghai)" in reply.notice
    reply = await commands.handle(private("timezone", "EUROPE/BERLIN"))
    assert "(Europe/Berlin)" in reply.notice
    assert store.active_subscriptions()[0].timezone == "Europe/Berlin"
    await commands.handle(private("subscribe", "energy", "8:05", "america/new_york"))
    sub = store.active_subscriptions()[0]
    assert (sub.time, sub.timezone) == ("08:05", "America/New_York")
    bad = await commands.handle(private("timezone", "Mars/Base"))
    assert bad.notice.startswith("“Mars/Base” is not a known time zone")
