"""The real python-telegram-bot Application, long polling the fake Bot API over HTTP.

Updates are real-shaped JSON from the fake's builders; every sendMessage the bot
makes must pass TDLib's parser (checked at teardown). Tests wait on conditions
(the fake's ``wait_for``); to prove an update was *ignored*, they send a
"barrier" /help afterwards — PTB handles updates in order — and check that only
the barrier was answered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from briefcast.bot.telegram import TelegramBot
from briefcast.briefing.parse import parse_markdown
from briefcast.config import Secret, Settings, TelegramSettings
from briefcast.delivery.ratelimit import ChatLimit
from briefcast.emulators.telegram import FakeTelegram, SentMessage
from briefcast.store import Store
from briefcast.testing.tdlib import check_telegram_payload
from factories import Clock

BOT = "briefcast_test_bot"
USER = 7
OTHER = 8
GROUP = -1001111
CHANNEL = -1002222
FORUM = -1003333


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(bot_username=BOT) as tg:
        tg.limits_enabled = False  # interactive replies; flood handling is the delivery engine's tests
        tg.add_user(USER, "Alice", language_code="en")
        tg.add_user(OTHER, "Bob", language_code="zh-hans")
        tg.add_chat(USER, "private")
        tg.add_chat(OTHER, "private")
        tg.add_chat(GROUP, "supergroup", title="Team")
        tg.add_chat(CHANNEL, "channel", title="News", username="newsch")
        tg.add_chat(FORUM, "supergroup", title="Forum", is_forum=True)
        tg.add_topic(FORUM, 55)
        yield tg
        for message in tg.sent_messages:
            check_telegram_payload(message.params)


@pytest.fixture
def issue(store: Store, sample_md: Path) -> int:
    raw = sample_md.read_text(encoding="utf-8")
    return store.ingest(parse_markdown(raw, source="sample"), raw=raw, source="sample").issue_id


@pytest.fixture
def clock() -> Clock:
    return Clock(5000.0)


@pytest.fixture
def limit() -> int:
    """Commands per user per minute (a test lowers it with parametrize)."""
    return 30


@pytest.fixture
async def bot(
    fake: FakeTelegram, store: Store, issue: int, clock: Clock, limit: int
) -> AsyncIterator[TelegramBot]:
    settings = Settings(
        telegram=TelegramSettings(token=Secret(fake.token), api_url=fake.base_url, commands_per_minute=limit)
    )
    b = TelegramBot(settings, store, clock=clock)
    await b.start()
    try:
        yield b
    finally:
        await b.stop()


async def ask(fake: FakeTelegram, update: dict[str, Any], chat_id: int, n: int = 1) -> list[SentMessage]:
    """Push an update and wait for ``n`` new messages in ``chat_id``."""
    before = len(fake.messages_to(chat_id))
    fake.push_update(update)
    await fake.wait_for(lambda: len(fake.messages_to(chat_id)) >= before + n)
    return fake.messages_to(chat_id)[before:]


async def barrier(fake: FakeTelegram, chat_id: int = OTHER) -> None:
    """Everything pushed before has been handled once this /help is answered."""
    await ask(fake, fake.make_message_update(None, chat_id, "/help"), chat_id)


def msg(fake: FakeTelegram, chat: int | None, text: str, **kw: Any) -> dict[str, Any]:
    return fake.make_message_update(chat, kw.pop("user", USER), text, **kw)


async def test_startup_sets_command_menus_in_both_languages(fake: FakeTelegram, bot: TelegramBot) -> None:
    zh = {c["command"]: c["description"] for c in fake.commands(language_code="zh")}
    en = {c["command"]: c["description"] for c in fake.commands(language_code="en")}
    assert zh["energy"] == "能源板块：储能、电网与新能源"
    assert en["energy"] == "Energy sector: storage, grids and renewables"
    assert {"finance", "cross", "subscribe", "keywords"} <= set(en)
    assert fake.commands() == fake.commands(language_code="zh")  # default menu: configured language
    assert bot.application.bot.username == BOT


@pytest.mark.parametrize(("lang", "footer"), [("en", "Source:"), ("zh-hans", "来源：")])
async def test_private_sector_command(fake: FakeTelegram, bot: TelegramBot, lang: str, footer: str) -> None:
    [reply] = await ask(fake, msg(fake, None, "/energy", language_code=lang), USER)
    assert reply.plain.startswith("⚡ 能源基建：储能需求爆发")
    assert footer in reply.plain
    assert reply.parse_mode == "HTML"
    assert reply.reply_markup is not None
    data = [b["callback_data"] for row in reply.reply_markup["inline_keyboard"] for b in row]
    assert data == ["sector:ai", "sector:web3", "sector:signals"]


async def test_group_command_with_bot_mention(fake: FakeTelegram, bot: TelegramBot) -> None:
    update = msg(fake, GROUP, f"/energy@{BOT}")
    assert update["message"]["entities"][0]["type"] == "bot_command"
    [reply] = await ask(fake, update, GROUP)
    assert reply.plain.startswith("⚡ 能源基建")
    fake.push_update(msg(fake, GROUP, "/energy@SomeOtherBot"))
    fake.push_update(msg(fake, GROUP, "/nonsense"))
    await barrier(fake)
    assert len(fake.messages_to(GROUP)) == 1


async def test_replies_are_charged_to_the_engines_flood_budget(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    """Telegram's 30/s counts replies and broadcasts together: in ``briefcast run`` every reply
    is charged to the delivery engine's buckets (runtime wires ``on_reply`` to ``note_reply``),
    so the engine paces its next send around it instead of provoking a 429."""
    from briefcast.delivery.engine import DeliveryEngine

    engine = DeliveryEngine(Settings(), store, {})
    charged: list[tuple[str, bool]] = []

    def on_reply(chat_id: str, group: bool) -> None:
        charged.append((chat_id, group))
        engine.note_reply("telegram", chat_id, group)

    bot.on_reply = on_reply
    now = engine.limits.clock()
    assert engine.limits.platform_ready_at("telegram", now) == now
    await ask(fake, msg(fake, None, "/energy"), USER)
    await ask(fake, msg(fake, GROUP, f"/energy@{BOT}"), GROUP)
    assert charged == [(str(USER), False), (str(GROUP), True)]
    # two sends charged against 30/s (plus the banked lateness): the engine's next send waits
    assert engine.limits.platform_ready_at("telegram", now) > now
    group = ChatLimit("telegram", ("telegram", "", str(GROUP)), group=True)
    assert engine.limits.ready_at(group, now) >= now + 0.9  # and that group's own 1/s


async def test_group_subscribe_requires_admin(fake: FakeTelegram, bot: TelegramBot, store: Store) -> None:
    fake.set_member(GROUP, USER, "member")
    [refused] = await ask(fake, msg(fake, GROUP, f"/subscribe@{BOT} energy"), GROUP)
    assert refused.plain == "Only administrators of this chat can change its subscriptions."
    assert store.subscriptions_for_chat("telegram", str(GROUP)) == []
    fake.set_member(GROUP, USER, "administrator")
    [ok] = await ask(fake, msg(fake, GROUP, f"/subscribe@{BOT} energy 09:00"), GROUP)
    assert ok.plain == "Subscribed: ⚡ Energy, delivered daily at 09:00 (Asia/Shanghai)."
    [sub] = store.subscriptions_for_chat("telegram", str(GROUP))
    assert (sub.sectors, sub.time, sub.chat_kind, sub.chat_title) == (
        ("energy",),
        "09:00",
        "supergroup",
        "Team",
    )


async def test_channel_subscription_from_private(fake: FakeTelegram, bot: TelegramBot, store: Store) -> None:
    command = "/subscribe @newsch energy 08:00"
    fake.set_member(CHANNEL, USER, "member")
    [not_admin] = await ask(fake, msg(fake, None, command), USER)
    assert "not an administrator of \u201cNews\u201d" in not_admin.plain
    fake.set_member(CHANNEL, USER, "administrator")
    fake.set_bot_status(CHANNEL, "member")
    [cannot] = await ask(fake, msg(fake, None, command), USER)
    assert "cannot post in \u201cNews\u201d" in cannot.plain
    [unknown] = await ask(fake, msg(fake, None, "/subscribe @nosuchchannel energy"), USER)
    assert "Could not find the channel" in unknown.plain
    assert store.subscriptions_for_chat("telegram", str(CHANNEL)) == []
    fake.set_bot_status(CHANNEL, "administrator")
    [ok] = await ask(fake, msg(fake, None, command), USER)
    assert ok.plain == "Subscribed \u201cNews\u201d: ⚡ Energy, delivered daily at 08:00 (Asia/Shanghai)."
    [sub] = store.subscriptions_for_chat("telegram", str(CHANNEL))
    assert (sub.sectors, sub.chat_kind, sub.created_by) == (("energy",), "channel", str(USER))
    # /subscriptions in private lists the channels this user manages
    [listing] = await ask(fake, msg(fake, None, "/subscriptions"), USER)
    assert "News — ⚡ Energy — delivered daily at 08:00 (Asia/Shanghai)" in listing.plain


async def test_topic_subscription_stores_thread(fake: FakeTelegram, bot: TelegramBot, store: Store) -> None:
    fake.set_member(FORUM, USER, "creator")
    [ok] = await ask(fake, msg(fake, FORUM, "/subscribe ai", thread_id=55), FORUM)
    assert ok.message_thread_id == 55
    [sub] = store.subscriptions_for_chat("telegram", str(FORUM))
    assert sub.chat.thread_id == "55" and sub.sectors == ("ai",)
    [listing] = await ask(fake, msg(fake, FORUM, "/subscriptions", thread_id=55), FORUM)
    assert listing.message_thread_id == 55 and "topic 55" in listing.plain


async def test_usage_replies(fake: FakeTelegram, bot: TelegramBot) -> None:
    [bad_time] = await ask(fake, msg(fake, None, "/settime 25:00"), USER)
    assert bad_time.plain == (
        "\u201c25:00\u201d is not a valid time; use 24-hour HH:MM, e.g. 08:00.\n"
        "Usage: /settime HH:MM [@channel]"
    )
    [bad_tz] = await ask(fake, msg(fake, None, "/timezone Mars/Base", user=OTHER), OTHER)
    assert bad_tz.plain.startswith("时区「Mars/Base」无效")
    assert "用法：/timezone Area/City" in bad_tz.plain
    [unknown] = await ask(fake, msg(fake, None, "/subscribe mars"), USER)
    assert unknown.plain.startswith("Unknown sector \u201cmars\u201d")
    [cmd] = await ask(fake, msg(fake, None, "/frobnicate"), USER)
    assert cmd.plain == "Unknown command. Send /help to see every command."


async def test_keywords_button_shows_passages(fake: FakeTelegram, bot: TelegramBot, issue: int) -> None:
    [kw] = await ask(fake, msg(fake, None, "/keywords"), USER)
    assert kw.reply_markup is not None
    first = kw.reply_markup["inline_keyboard"][0][0]
    assert (first["text"], first["callback_data"]) == ("推理成本", f"kw:{issue}.0")
    press = fake.make_callback_query(USER, USER, first["callback_data"], message_id=kw.message_id)
    [passages] = await ask(fake, press, USER)
    assert passages.plain.startswith("🔎 Keyword: 推理成本")
    assert "推理成本" in passages.plain and "mention" in passages.plain
    await fake.wait_for(lambda: fake.callback_answers)
    assert fake.callback_answers[0]["callback_query_id"] == press["callback_query"]["id"]


async def test_toggle_button_edits_the_list(fake: FakeTelegram, bot: TelegramBot, store: Store) -> None:
    await ask(fake, msg(fake, None, "/subscribe ai"), USER)
    [listing] = await ask(fake, msg(fake, None, "/subscriptions"), USER)
    press = fake.make_callback_query(USER, USER, "toggle:energy", message_id=listing.message_id)
    fake.push_update(press)
    await fake.wait_for(lambda: fake.edits)
    assert store.subscriptions_for_chat("telegram", str(USER))[0].sectors == ("ai", "energy")
    edited = fake.message(USER, listing.message_id)
    assert edited is not None and "✅ Energy" in str(edited["reply_markup"])
    await fake.wait_for(lambda: fake.callback_answers)
    assert fake.callback_answers[0].get("text") == "On: Energy"


async def test_latest_issue_search_and_plain_text(fake: FakeTelegram, bot: TelegramBot, store: Store) -> None:
    [latest] = await ask(fake, msg(fake, None, "/latest"), USER)
    assert latest.plain.startswith("硅谷关键赛道周观察")
    issue = store.latest_issue()
    assert issue is not None and issue.date is None  # the sample states no date: none is made up (#12)
    [past] = await ask(fake, msg(fake, None, f"/issue {issue.id}"), USER)
    assert past.plain.startswith("硅谷关键赛道周观察")
    [found] = await ask(fake, msg(fake, None, "/search 储能"), USER)
    assert found.plain.startswith("Search: 储能")
    assert any(e["type"] == "text_link" for e in found.entities)
    [plain] = await ask(fake, msg(fake, None, "能源"), USER)
    assert plain.plain.startswith("⚡ 能源基建")
    [insight] = await ask(fake, msg(fake, None, "/insight"), USER)
    assert "技术-能源-金融" in insight.plain


async def test_my_chat_member_kicked_deactivates(fake: FakeTelegram, bot: TelegramBot, store: Store) -> None:
    fake.set_member(GROUP, USER, "administrator")
    await ask(fake, msg(fake, GROUP, "/subscribe"), GROUP)
    assert store.subscriptions_for_chat("telegram", str(GROUP))[0].active
    fake.push_update(fake.make_my_chat_member(GROUP, "member", "kicked"))
    fake.push_update(fake.make_my_chat_member(USER, "member", "kicked"))  # user blocked the bot
    await barrier(fake)
    [sub] = store.subscriptions_for_chat("telegram", str(GROUP))
    assert not sub.active and sub.reason == "kicked"
    chat = store.get_chat("telegram", str(USER))
    assert chat is None or not chat.active


async def test_reply_to_a_blocked_user_deactivates_the_chat(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    await ask(fake, msg(fake, None, "/subscribe"), USER)
    fake.block(USER)  # blocked without a my_chat_member update reaching us
    fake.push_update(msg(fake, None, "/help"))
    await barrier(fake)
    [sub] = store.subscriptions_for_chat("telegram", str(USER))
    assert not sub.active and sub.reason == "blocked"


async def test_group_migration_moves_subscriptions(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    fake.add_chat(-500, "group", title="Old group")
    fake.set_member(-500, USER, "administrator")
    await ask(fake, msg(fake, -500, "/subscribe energy"), -500)
    for update in fake.make_migration(-500, -1005000):
        fake.push_update(update)
    await barrier(fake)
    [sub] = store.subscriptions_for_chat("telegram", "-1005000")
    assert sub.active and sub.sectors == ("energy",)


async def test_messages_without_text_are_ignored(fake: FakeTelegram, bot: TelegramBot) -> None:
    fake.push_update(fake.make_document_message(None, USER, content=b"x", file_name="a.bin"))
    fake.push_update({"message": {**msg(fake, None, "x")["message"], "text": None, "sticker": None}})
    await barrier(fake, USER)
    assert [m.plain for m in fake.messages_to(USER)] == [fake.messages_to(USER)[0].plain]
    assert fake.messages_to(USER)[0].plain.startswith("Commands")


async def test_channel_post_command_is_answered_in_the_channel(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    def post(text: str) -> dict[str, Any]:
        update = fake.make_channel_post(CHANNEL, text)
        update["channel_post"]["entities"] = [
            {"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}
        ]
        return update

    [reply] = await ask(fake, post("/energy"), CHANNEL)
    assert reply.plain.startswith("⚡ 能源基建")
    [ok] = await ask(fake, post("/subscribe signals publish"), CHANNEL)
    assert ok.plain == "已订阅：🔗 跨界信号，每期发布时立即推送。"  # no user: the configured language
    [sub] = store.subscriptions_for_chat("telegram", str(CHANNEL))
    assert sub.sectors == ("signals",) and sub.mode == "publish"
    fake.push_update(fake.make_channel_post(CHANNEL, "just news, no command"))
    await barrier(fake)
    assert len(fake.messages_to(CHANNEL)) == 2


@pytest.mark.parametrize("limit", [4])
async def test_rate_limit_answers_once(fake: FakeTelegram, bot: TelegramBot, clock: Clock) -> None:
    for _ in range(6):
        fake.push_update(msg(fake, None, "/help"))
    await barrier(fake)  # OTHER is not limited
    replies = fake.messages_to(USER)
    assert len(replies) == 5
    assert replies[4].plain == "You are sending commands too fast; please wait a minute."
    clock.now += 61
    [again] = await ask(fake, msg(fake, None, "/help"), USER)
    assert again.plain.startswith("Commands")


async def test_replies_pass_tdlib(fake: FakeTelegram, bot: TelegramBot) -> None:
    """Every command's reply is valid Telegram HTML (also checked for all tests at teardown)."""
    for name in ("start", "sectors", "ai", "web3", "signals", "help"):
        [reply] = await ask(fake, msg(fake, None, f"/{name}", user=OTHER), OTHER)
        check_telegram_payload(reply.params)
    welcome = fake.messages_to(OTHER)[0]
    assert welcome.plain.startswith("欢迎使用")
    assert welcome.reply_markup is not None and len(welcome.reply_markup["inline_keyboard"]) == 2


async def test_an_unreadable_update_is_skipped_once_and_polling_goes_on(
    fake: FakeTelegram, bot: TelegramBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue #13: one update PTB cannot read (a ``from`` without ``is_bot``) stopped polling for
    good, with the same CRITICAL line ~40 times a second."""
    bad = msg(fake, None, "/help")
    del bad["message"]["from"]["is_bot"]
    with caplog.at_level("WARNING"):
        bad_id = fake.push_update(bad)
        answered = await ask(fake, msg(fake, None, "/help"), USER)  # a later update is answered
    assert answered and bad_id > 0
    skipped = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].levelname == "WARNING"
    assert not [r for r in caplog.records if r.levelname == "CRITICAL"]
    # Telegram is told to drop it (the next getUpdates asks past it), so a restart does not see it
    await fake.wait_for(lambda: fake.pending_updates == 0)


async def test_commands_are_read_from_the_text_as_clients_send_them(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    """Issue #13, case 10: no bot_command entity (Telegram's own ``/start`` example), an entity
    that is not listed first, and ``@otherbot`` (ignored everywhere)."""
    [help_reply] = await ask(fake, msg(fake, None, "/help", entities=[]), USER)
    assert "/subscribe" in help_reply.plain and "Unknown command" not in help_reply.plain
    later = [
        {"offset": 11, "length": 6, "type": "bold"},
        {"offset": 0, "length": 10, "type": "bot_command"},
    ]
    await ask(fake, msg(fake, None, "/subscribe energy", entities=[later[0], later[1]]), USER)
    subs = store.subscriptions_for_chat("telegram", str(USER))
    assert [s.sectors for s in subs if s.active] == [("energy",)]
    before = len(fake.messages_to(USER))
    fake.push_update(msg(fake, None, "/subscribe@otherbot ai"))
    await barrier(fake, USER)
    active = [s.sectors for s in store.subscriptions_for_chat("telegram", str(USER)) if s.active]
    assert active == [("energy",)]  # another bot's command subscribed here before
    assert len(fake.messages_to(USER)) == before + 1  # only the barrier's /help was answered


async def test_a_flood_of_commands_gets_every_reply(store: Store) -> None:
    """Issue #13, case 5: 100 users /subscribe at once under the 30/s limit: every subscription
    was stored but only ~60 confirmations were sent (a 429 was retried once, then dropped)."""
    users = list(range(910_000, 910_100))
    async with FakeTelegram(bot_username=BOT) as fake:  # the real limits: 30 msg/s per bot
        for u in users:
            fake.add_user(u, f"U{u}", language_code="en")
            fake.add_chat(u, "private")
        settings = Settings(telegram=TelegramSettings(token=Secret(fake.token), api_url=fake.base_url))
        bot = TelegramBot(settings, store)
        await bot.start()
        try:
            fake.push_updates([fake.make_message_update(None, u, "/subscribe energy") for u in users])
            await fake.wait_for(lambda: all(fake.messages_to(u) for u in users), timeout=30)
        finally:
            await bot.stop()
        assert all(len(fake.messages_to(u)) == 1 for u in users)
    assert len(store.active_subscriptions("telegram")) == len(users)
