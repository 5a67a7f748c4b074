"""Watches, settings and the welcome card through the real bolt app, signed requests, the fake Slack.

Reuses ``test_slack_app.py``'s harness (bolt ``AsyncApp`` behind the project's Starlette app,
Block Kit checks on everything the app sent at teardown).
"""

from __future__ import annotations

# The fixtures are imported from test_slack_app, so test arguments "redefine" them (F811).
# ruff: noqa: F811
import json

from briefcast.emulators.slack import block_actions_payload
from briefcast.store import ChatRef, Store
from test_slack_app import (  # the same fixtures: the real bolt app against the fake Slack
    CHANNEL,
    TEAM,
    USER,
    ZH,
    Harness,
    action_ids,
    answer_text,
    fake,  # noqa: F401
    h,  # noqa: F401
    issue,  # noqa: F401
    policy,  # noqa: F401
    text_of,
)


async def test_watch_watches_unwatch(h: Harness, store: Store) -> None:
    added = await answer_text(h, "watch 钠电池, Gemini")
    assert added.startswith("Now watching: “钠电池”, “Gemini”.")
    assert "send /briefing watches daily" in added
    watcher = store.watcher_for_chat(ChatRef("slack", CHANNEL, workspace=TEAM))
    assert watcher is not None and watcher.phrases == ("钠电池", "Gemini")

    def previews() -> list[str]:
        found = [json.dumps(m.blocks, ensure_ascii=False) for m in h.fake.messages_in(CHANNEL) if m.blocks]
        return [b for b in found if "Watched words" in b]

    [preview] = await h.fake.wait_for(previews)  # the latest issue's matches, after the confirmation
    assert "*钠电池*" in preview and "*Gemini*" in preview
    listing = await h.ask("watches")
    assert "unwatch:" in " ".join(action_ids(listing["blocks"])) and "wmode:daily" in action_ids(
        listing["blocks"]
    )
    assert "1. 钠电池" in text_of(listing)
    removed = await answer_text(h, "unwatch gemini")
    assert removed.startswith("Stopped watching “Gemini”.")
    zh = await answer_text(h, "watch 钠", user=ZH)
    assert zh.startswith("「钠」太短了")


async def test_watch_button_removes_and_redraws(h: Harness, store: Store) -> None:
    await answer_text(h, "watch 储能, 光伏")
    listing = await h.ask("watches")
    buttons = [e for b in listing["blocks"] if b["type"] == "actions" for e in b["elements"]]
    remove = next(e for e in buttons if e["text"]["text"] == "✖ 光伏")
    url = h.fake.new_response_url()
    await h.action(
        block_actions_payload(
            remove["action_id"], remove["value"], user_id=USER, channel_id=CHANNEL, response_url=url
        )
    )
    [redrawn] = await h.fake.wait_for(lambda: h.fake.responses_to(url))
    assert redrawn["replace_original"] is True and "光伏" not in text_of(redrawn)
    watcher = store.watcher_for_chat(ChatRef("slack", CHANNEL, workspace=TEAM))
    assert watcher is not None and watcher.phrases == ("储能",)


async def test_settings_on_slack(h: Harness, store: Store) -> None:
    none = await h.ask("settings")
    assert text_of(none).startswith("This channel has no subscription yet.")
    await answer_text(h, "subscribe energy")
    shown = await h.ask("settings")
    assert "Link previews" in text_of(shown) and "Notifications" not in text_of(shown)
    assert "set:variant.compact" in action_ids(shown["blocks"])
    assert not [a for a in action_ids(shown["blocks"]) if a.startswith("set:silent")]
    url = h.fake.new_response_url()
    await h.action(
        block_actions_payload(
            "set:previews.1", "previews.1", user_id=USER, channel_id=CHANNEL, response_url=url
        )
    )
    [redrawn] = await h.fake.wait_for(lambda: h.fake.responses_to(url))
    assert redrawn["replace_original"] is True and "Link previews: on" in text_of(redrawn)
    [sub] = store.active_subscriptions()
    assert sub.previews and not sub.silent
    refused = await h.ask("settings silent on")
    assert text_of(refused).startswith("Slack has no silent messages")
    typed = await answer_text(h, "settings compact")
    assert typed.startswith("Updated the delivery settings: Digest: compact, Link previews: on.")


async def test_topics_and_help_on_slack(h: Harness) -> None:
    topics = await h.ask("topics")
    assert text_of(topics).startswith("This feature exists only on Telegram.")
    help_page = await h.ask("help", user=ZH)
    body = text_of(help_page)
    assert "/briefing watch" in body and "/briefing settings" in body and "/briefing topics" not in body
    assert "私聊中直接发送板块名" not in body and "私信" in body


async def test_added_to_a_channel_posts_the_welcome_card(h: Harness, store: Store) -> None:
    h.fake.add_channel("C0NEW", "energy-desk", members=[USER], bot_member=False)
    response = await h.event(h.fake.invite_bot("C0NEW", inviter=USER))
    assert response.status_code == 200
    [card] = await h.fake.wait_for(lambda: h.fake.messages_in("C0NEW"))
    assert card.blocks is not None
    assert "Thanks for adding me to “#energy-desk”" in card.text
    assert action_ids(card.blocks) == ["toggle:ai", "toggle:energy", "toggle:web3", "toggle:signals"]
    # another member joining is no reason for a card
    await h.event(
        {"type": "member_joined_channel", "user": ZH, "channel": "C0NEW", "channel_type": "C", "team": TEAM}
    )
    await h.ask("help")  # a barrier: bolt handled the event before answering this
    assert len(h.fake.messages_in("C0NEW")) == 1
    url = h.fake.new_response_url()
    await h.action(
        block_actions_payload("toggle:energy", "energy", user_id=USER, channel_id="C0NEW", response_url=url)
    )
    await h.fake.wait_for(lambda: h.fake.responses_to(url))
    [sub] = store.active_subscriptions()
    assert sub.chat.chat_id == "C0NEW" and sub.sectors == ("energy",)
