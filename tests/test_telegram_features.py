"""Watches, settings, forum topics and the welcome card through the real PTB Application.

The bot long-polls the fake Bot API (``briefcast.emulators.telegram``) exactly as in
``test_telegram_bot.py``, whose fixtures and helpers this module reuses; every message the bot
sends passes TDLib's parser (checked at teardown by the ``fake`` fixture).
"""

# The fixtures are imported from test_telegram_bot, so test arguments "redefine" them (F811).
# ruff: noqa: F811

from __future__ import annotations

import pytest
import telegram
from telegram.error import BadRequest

from briefcast.bot.telegram import TelegramBot
from briefcast.emulators.telegram import FakeTelegram
from briefcast.store import ChatRef, Store
from test_telegram_bot import (  # the same fixtures: the real PTB bot against the fake Bot API
    BOT,
    FORUM,
    GROUP,
    OTHER,
    USER,
    ask,
    barrier,
    bot,  # noqa: F401
    clock,  # noqa: F401
    fake,  # noqa: F401
    issue,  # noqa: F401
    limit,  # noqa: F401
    msg,
)


def keyboard(message: object) -> list[tuple[str, str]]:
    markup = getattr(message, "reply_markup", None) or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


# ------------------------------------------------------------------ the fake's forum methods


async def test_fake_forum_topic_methods_behave_like_the_bot_api(fake: FakeTelegram) -> None:
    """createForumTopic & co. through PTB's own Bot: parameters, ForumTopic JSON, error texts."""
    api = telegram.Bot(fake.token, base_url=fake.base_url)
    async with api:
        with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
            await api.create_forum_topic(GROUP, "⚡ Energy")
        with pytest.raises(BadRequest, match=r"(?i)not enough rights to create a topic"):
            await api.create_forum_topic(FORUM, "⚡ Energy")
        fake.set_bot_rights(FORUM, can_manage_topics=True)
        with pytest.raises(BadRequest, match=r"(?i)TOPIC_TITLE_EMPTY"):
            await api.create_forum_topic(FORUM, " ")
        with pytest.raises(BadRequest, match=r"(?i)invalid icon_color"):
            await api.create_forum_topic(FORUM, "x", icon_color=0x123456)
        topic = await api.create_forum_topic(FORUM, "⚡ Energy", icon_color=0xFFD67E)
        assert (topic.name, topic.icon_color) == ("⚡ Energy", 0xFFD67E)
        thread = topic.message_thread_id
        assert fake.topic(FORUM, thread) == {
            "name": "⚡ Energy",
            "icon_color": 0xFFD67E,
            "closed": False,
            "by_bot": True,
        }
        member = await api.get_chat_member(FORUM, fake.bot_user["id"])
        assert member.status == "administrator" and getattr(member, "can_manage_topics", False)
        await api.send_message(
            FORUM, "hi", parse_mode="HTML", message_thread_id=thread, disable_web_page_preview=True
        )
        assert await api.close_forum_topic(FORUM, thread)
        with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
            await api.close_forum_topic(FORUM, thread)
        fake.set_bot_rights(FORUM, can_manage_topics=False)  # the bot created it: reopen still works
        with pytest.raises(BadRequest, match=r"(?i)TOPIC_CLOSED"):
            await api.send_message(
                FORUM, "hi", parse_mode="HTML", message_thread_id=thread, disable_web_page_preview=True
            )
        assert await api.reopen_forum_topic(FORUM, thread)
        with pytest.raises(BadRequest, match=r"(?i)TOPIC_ID_INVALID"):
            await api.close_forum_topic(FORUM, 999)
        assert await api.delete_forum_topic(FORUM, thread)
        assert fake.topic(FORUM, thread) is None
        with pytest.raises(BadRequest, match=r"(?i)TOPIC_ID_INVALID"):
            await api.reopen_forum_topic(FORUM, thread)
        fake.set_bot_status(FORUM, "member")
        with pytest.raises(BadRequest, match=r"(?i)not enough rights to create a topic"):
            await api.create_forum_topic(FORUM, "again")


# ------------------------------------------------------------------ /topics


async def test_topics_in_a_forum_group(fake: FakeTelegram, bot: TelegramBot, store: Store) -> None:
    fake.set_member(FORUM, USER, "creator")
    [no_rights] = await ask(fake, msg(fake, FORUM, "/topics"), FORUM)
    assert no_rights.plain.startswith("I need the “Manage topics” administrator right")
    assert store.active_subscriptions() == []
    fake.set_bot_rights(FORUM, can_manage_topics=True)
    [done] = await ask(fake, msg(fake, FORUM, f"/topics@{BOT} energy web3 07:30"), FORUM)
    assert "Topics are ready for: ⚡ Energy, 🌐 Web3 & Finance." in done.plain
    assert "delivered daily at 07:30 (Asia/Shanghai)" in done.plain
    names = {t: info["name"] for t, info in fake.topics_of(FORUM).items()}
    assert sorted(names.values()) == ["⚡ Energy", "🌐 Web3 & Finance"]
    created = [r.params for r in fake.calls("createForumTopic")]
    assert all(p["chat_id"] == FORUM and p["icon_color"] for p in created)
    subs = {s.chat.thread_id: s.sectors for s in store.active_subscriptions()}
    assert subs == {str(t): (("energy",) if n.startswith("⚡") else ("web3",)) for t, n in names.items()}
    energy = next(t for t, n in names.items() if n.startswith("⚡"))
    [inside] = await ask(fake, msg(fake, FORUM, "/subscriptions", thread_id=energy), FORUM)
    assert inside.message_thread_id == energy and "this chat · ⚡ Energy — ⚡ Energy" in inside.plain

    fake.set_member(FORUM, OTHER, "member")
    [refused] = await ask(fake, msg(fake, FORUM, "/topics off", user=OTHER), FORUM)
    assert refused.plain == "只有本群管理员可以修改本群的订阅。"
    [off] = await ask(fake, msg(fake, FORUM, "/topics off"), FORUM)
    assert off.plain.startswith("Closed the topics of ⚡ Energy, 🌐 Web3 & Finance")
    assert all(info["closed"] for info in fake.topics_of(FORUM).values())
    assert store.active_subscriptions() == []
    [back] = await ask(fake, msg(fake, FORUM, "/topics energy"), FORUM)
    assert "Topics are ready for: ⚡ Energy." in back.plain
    assert [r.params["message_thread_id"] for r in fake.calls("reopenForumTopic")] == [energy]
    assert len(fake.calls("createForumTopic")) == 3  # 1 refused, 2 created, none for the reopen


async def test_topics_outside_a_forum(fake: FakeTelegram, bot: TelegramBot) -> None:
    fake.set_member(GROUP, USER, "administrator")
    [plain_group] = await ask(fake, msg(fake, GROUP, "/topics"), GROUP)
    assert plain_group.plain.startswith("This group does not have Topics enabled.")
    [private] = await ask(fake, msg(fake, None, "/topics"), USER)
    assert private.plain.startswith("Send this command in a forum group")
    assert fake.calls("createForumTopic") == []


# ------------------------------------------------------------------ welcome card


async def test_added_to_a_group_posts_one_welcome_card(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    fake.add_chat(-1004444, "supergroup", title="Energy desk", bot_status="left")
    fake.set_member(-1004444, USER, "administrator")
    fake.set_member(-1004444, OTHER, "member")
    [card] = await ask(fake, fake.make_my_chat_member(-1004444, "left", "member", user=USER), -1004444)
    assert card.plain.startswith("👋 Thanks for adding me to “Energy desk”")
    assert keyboard(card)[1] == ("➕ ⚡ Energy", "toggle:energy")
    fake.push_update(fake.make_my_chat_member(-1004444, "member", "administrator", user=USER))  # promoted
    await barrier(fake)
    assert len(fake.messages_to(-1004444)) == 1  # a promotion is no new arrival

    fake.push_update(fake.make_callback_query(-1004444, OTHER, "toggle:energy", message_id=card.message_id))
    await fake.wait_for(lambda: fake.callback_answers)
    assert fake.callback_answers[-1]["text"] == "只有本群管理员可以修改本群的订阅。"
    assert store.active_subscriptions() == []
    fake.push_update(fake.make_callback_query(-1004444, USER, "toggle:energy", message_id=card.message_id))
    await fake.wait_for(lambda: fake.edits)
    [sub] = store.active_subscriptions()
    assert sub.chat.chat_id == "-1004444" and sub.sectors == ("energy",)
    edited = fake.message(-1004444, card.message_id)
    assert edited is not None and "✅ Energy" in str(edited["reply_markup"])

    fake.add_chat(-1005555, "supergroup", title="Forum desk", is_forum=True, bot_status="left")
    [forum_card] = await ask(fake, fake.make_my_chat_member(-1005555, "left", "administrator"), -1005555)
    assert "/topics" in forum_card.plain and forum_card.message_thread_id is None
    fake.add_chat(-1006666, "channel", title="Broadcast", bot_status="left")
    fake.push_update(fake.make_my_chat_member(-1006666, "left", "administrator"))
    await barrier(fake)
    assert fake.messages_to(-1006666) == []  # channels get no card (every reader would see it)


# ------------------------------------------------------------------ watches


async def test_watch_then_list_and_remove_with_a_button(
    fake: FakeTelegram, bot: TelegramBot, store: Store
) -> None:
    notice, preview = await ask(fake, msg(fake, None, "/watch 钠电池, Gemini"), USER, n=2)
    assert notice.plain.startswith("Now watching: “钠电池”, “Gemini”.")
    assert preview.plain.startswith("🔔 Watched words: Gemini, 钠电池")
    assert "<b>钠电池</b>" in preview.text and "<b>Gemini</b>" in preview.text  # mentions in bold
    assert ("⚡ Energy", f"sector:energy.{store.latest_issue().id}") in keyboard(preview)  # type: ignore[union-attr]
    [listing] = await ask(fake, msg(fake, None, "/watches"), USER)
    remove = next(data for text, data in keyboard(listing) if text == "✖ Gemini")
    fake.push_update(fake.make_callback_query(USER, USER, remove, message_id=listing.message_id))
    await fake.wait_for(lambda: fake.edits)
    edited = fake.message(USER, listing.message_id)
    assert edited is not None and "Gemini" not in edited["text"] and "钠电池" in edited["text"]
    await fake.wait_for(lambda: fake.callback_answers)
    assert fake.callback_answers[-1]["text"].startswith("Stopped watching “Gemini”.")
    watcher = store.watcher_for_chat(ChatRef("telegram", str(USER)))
    assert watcher is not None and watcher.phrases == ("钠电池",)
    [too_short] = await ask(fake, msg(fake, None, "/watch 钠", user=OTHER), OTHER)
    assert too_short.plain.startswith("「钠」太短了")


async def test_watch_in_a_topic_is_the_topics_own(fake: FakeTelegram, bot: TelegramBot, store: Store) -> None:
    fake.set_member(FORUM, USER, "creator")
    [reply, _preview] = await ask(fake, msg(fake, FORUM, "/watch 储能", thread_id=55), FORUM, n=2)
    assert reply.message_thread_id == 55
    assert store.watcher_for_chat(ChatRef("telegram", str(FORUM), thread_id="55")) is not None
    assert store.watcher_for_chat(ChatRef("telegram", str(FORUM))) is None


# ------------------------------------------------------------------ settings and labels


async def test_settings_buttons_edit_the_card(fake: FakeTelegram, bot: TelegramBot, store: Store) -> None:
    await ask(fake, msg(fake, None, "/subscribe energy"), USER)
    [card] = await ask(fake, msg(fake, None, "/settings"), USER)
    assert "Digest: full" in card.plain and "Notifications: with sound" in card.plain
    fake.push_update(fake.make_callback_query(USER, USER, "set:silent.1", message_id=card.message_id))
    await fake.wait_for(lambda: fake.edits)
    [sub] = store.active_subscriptions()
    assert sub.silent and not sub.previews
    edited = fake.message(USER, card.message_id)
    assert edited is not None and "Notifications: silent" in edited["text"]
    typed, _card = await ask(fake, msg(fake, None, "/settings compact previews on"), USER, n=2)
    assert typed.plain.startswith("Updated the delivery settings: Digest: compact")
    [sub] = store.active_subscriptions()
    assert (sub.variant, sub.silent, sub.previews) == ("compact", True, True)


async def test_english_sector_buttons(fake: FakeTelegram, bot: TelegramBot) -> None:
    [reply] = await ask(fake, msg(fake, None, "/latest"), USER)
    assert [text for text, _ in keyboard(reply)] == [
        "🤖 AI",
        "⚡ Energy",
        "🌐 Web3 & Finance",
        "🔗 Cross-sector signals",
    ]
    [zh] = await ask(fake, msg(fake, None, "/latest", user=OTHER), OTHER)
    assert [text for text, _ in keyboard(zh)][:2] == ["🤖 AI新能力", "⚡ 能源基建"]
