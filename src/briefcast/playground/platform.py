"""The local platform: the fake Telegram and Slack servers, embedded, with a local user in each.

The bots talk to these fakes over real HTTP exactly as they would talk to Telegram and Slack
(long polling ``getUpdates``; Slack slash commands and button presses signed and POSTed to the
app's own ``/slack/events`` route). What the playground page shows is what the fakes
*recorded*: accepted ``sendMessage`` calls (after TDLib's entity parsing), edits,
``chat.postMessage`` posts and ``response_url`` answers. The page therefore shows nothing a
real platform would have refused.

The fakes run in background threads with their own event loops: they are started when the
platform is built (so their URLs are known before the bots are constructed) and stopped by
:meth:`LocalPlatform.close`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from briefcast.emulators.slack import FakeSlack, SlackLimits, sign
from briefcast.emulators.telegram import FakeTelegram, TelegramLimits
from briefcast.render.preview import slack_html, telegram_buttons, telegram_html

log = logging.getLogger(__name__)

# Not secrets: the embedded fakes accept exactly these, and nothing else does.
TELEGRAM_TOKEN = "1000000001:playground-local-telegram-token"
SLACK_TOKEN = "xoxb-playground-local-slack-token"
SLACK_SIGNING_SECRET = "playground-local-signing-secret"
BOT_USERNAME = "briefcast_playground_bot"

TG_USER = 1001
TG_GROUP = -1001002003
TG_FORUM = -1001002004  # a supergroup with topics, where the bot may manage topics (/topics)
SLACK_TEAM = "T0PLAYGRND"
SLACK_USER = "U0PLAYER"
SLACK_CHANNEL = "C0PLAYGRND"
SLACK_CHANNEL_NAME = "playground"

Room = Literal["tg-private", "tg-group", "tg-forum", "slack-channel"]
ROOMS: dict[str, dict[str, str]] = {
    "tg-private": {"platform": "telegram", "chat": str(TG_USER), "title": "Briefcast (private chat)"},
    "tg-group": {"platform": "telegram", "chat": str(TG_GROUP), "title": "Playground group"},
    "tg-forum": {"platform": "telegram", "chat": str(TG_FORUM), "title": "Playground forum (topics)"},
    "slack-channel": {"platform": "slack", "chat": SLACK_CHANNEL, "title": f"#{SLACK_CHANNEL_NAME}"},
}


@dataclass
class FeedItem:
    """One bubble on the page. ``id`` is stable: an edit replaces the bubble with the same id."""

    seq: int
    id: str
    room: str
    sender: Literal["user", "bot"]
    html: str
    buttons: list[list[dict[str, str]]] = field(default_factory=list)
    note: str = ""  # "ephemeral", "edited", ...
    t: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "room": self.room,
            "sender": self.sender,
            "html": self.html,
            "buttons": self.buttons,
            "note": self.note,
            "t": self.t,
        }


def _room_of_telegram(chat_id: int) -> str | None:
    return {TG_USER: "tg-private", TG_GROUP: "tg-group", TG_FORUM: "tg-forum"}.get(chat_id)


_TG_CHATS: dict[str, int] = {"tg-private": TG_USER, "tg-group": TG_GROUP, "tg-forum": TG_FORUM}


class LocalPlatform:
    """Both fakes, the local users and chats, the message feed, and the inject operations."""

    def __init__(self, *, language: str = "zh") -> None:
        self.language = language
        self.telegram = FakeTelegram(
            token=TELEGRAM_TOKEN,
            bot_username=BOT_USERNAME,
            bot_name="Briefcast",
            limits=TelegramLimits(enabled=False),
        )
        self.slack = FakeSlack(
            token=SLACK_TOKEN,
            team_id=SLACK_TEAM,
            team_name="Briefcast Playground",
            limits=SlackLimits(enabled=False),
        )
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._items: list[FeedItem] = []
        self._by_id: dict[str, FeedItem] = {}
        self._seen = dict.fromkeys(
            ("tg_sent", "tg_edits", "sl_posted", "sl_responses", "sl_ephemeral", "sl_updates"), 0
        )
        self._response_rooms: dict[str, str] = {}
        self._slack_ts: dict[str, str] = {}  # feed id -> Slack message ts (for block_actions)
        self.started = False

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start both fakes (background threads) and register the local user, group and channel."""
        if self.started:
            return
        self.telegram.start_in_thread()
        try:
            self.slack.start_in_thread()
        except BaseException:
            self.telegram.stop_thread()
            raise
        lang = "zh-hans" if self.language == "zh" else "en"
        tg = self.telegram
        tg.add_user(TG_USER, "You", username="playground_user", language_code=lang)
        tg.add_chat(TG_USER, "private")
        tg.add_chat(TG_GROUP, "supergroup", title="Playground group")
        tg.set_member(TG_GROUP, TG_USER, "creator")  # you own the group: you may subscribe it
        tg.add_chat(TG_FORUM, "supergroup", title="Playground forum", is_forum=True, bot_status="left")
        tg.set_member(TG_FORUM, TG_USER, "creator")
        # you add the bot to the forum as an administrator who may manage topics: it posts its welcome
        tg.set_bot_rights(TG_FORUM, can_manage_topics=True)
        tg.push_update(tg.make_my_chat_member(TG_FORUM, "left", "administrator", user=TG_USER))
        sl = self.slack
        sl.add_user(SLACK_USER, "you", real_name="You", locale="zh-CN" if self.language == "zh" else "en-US")
        sl.add_channel(SLACK_CHANNEL, SLACK_CHANNEL_NAME, members=[SLACK_USER])
        self.started = True
        log.info("playground: fake Telegram at %s, fake Slack at %s", tg.url, sl.url)

    def close(self) -> None:
        """Stop both fakes. Safe to call twice."""
        self.telegram.stop_thread()
        self.slack.stop_thread()
        self.started = False

    @property
    def telegram_api_url(self) -> str:
        return self.telegram.base_url

    @property
    def slack_api_url(self) -> str:
        return self.slack.api_url

    # -- the feed -------------------------------------------------------------------------

    def _add(self, item_id: str, room: str, sender: Literal["user", "bot"], html: str, **kw: Any) -> FeedItem:
        """Append a bubble, or replace the one with the same id (it moves to the end of the feed)."""
        item = FeedItem(next(self._seq), item_id, room, sender, html, **kw)
        old = self._by_id.get(item_id)
        if old is not None:
            self._items.remove(old)
        self._items.append(item)
        self._by_id[item_id] = item
        return item

    def sync(self) -> None:
        """Turn what the fakes recorded since the last call into feed items."""
        with self._lock:
            self._sync_telegram()
            self._sync_slack()

    def _sync_telegram(self) -> None:
        tg = self.telegram
        sent = tg.sent_messages[self._seen["tg_sent"] :]
        edits = tg.edits[self._seen["tg_edits"] :]
        self._seen["tg_sent"] += len(sent)
        self._seen["tg_edits"] += len(edits)
        for m in sent:
            room = _room_of_telegram(m.chat_id)
            if room is not None:
                self._add(
                    f"tg:{m.chat_id}:{m.message_id}",
                    room,
                    "bot",
                    telegram_html(m.plain, m.entities),
                    buttons=telegram_buttons(m.reply_markup),
                    note=self._topic_note(m.chat_id, m.message_thread_id),
                )
        for e in edits:
            chat_id, message_id = int(e["chat_id"]), int(e.get("message_id") or 0)
            room = _room_of_telegram(chat_id)
            current = tg.message(chat_id, message_id)
            if room is None or current is None:
                continue
            self._add(
                f"tg:{chat_id}:{message_id}",
                room,
                "bot",
                telegram_html(str(current.get("text", "")), current.get("entities") or []),
                buttons=telegram_buttons(current.get("reply_markup")),
                note="edited",
            )

    def _sync_slack(self) -> None:
        sl = self.slack
        posted = sl.posted[self._seen["sl_posted"] :]
        responses = sl.responses[self._seen["sl_responses"] :]
        ephemerals = sl.ephemerals[self._seen["sl_ephemeral"] :]
        updates = sl.updates[self._seen["sl_updates"] :]
        self._seen["sl_updates"] += len(updates)
        self._seen["sl_posted"] += len(posted)
        self._seen["sl_responses"] += len(responses)
        self._seen["sl_ephemeral"] += len(ephemerals)
        for p in posted:
            if p.channel != SLACK_CHANNEL:
                continue
            html, rows = slack_html(p.blocks, p.text)
            item_id = f"sl:{p.channel}:{p.ts}"
            self._slack_ts[item_id] = p.ts
            self._add(item_id, "slack-channel", "bot", html, buttons=rows)
        for u in updates:  # chat.update (a correction in place): the bubble shows the new text
            if u.get("channel") != SLACK_CHANNEL:
                continue
            current = sl.message(str(u["channel"]), str(u["ts"])) or {}
            html, rows = slack_html(current.get("blocks"), str(current.get("text", "")))
            self._add(
                f"sl:{u['channel']}:{u['ts']}", "slack-channel", "bot", html, buttons=rows, note="edited"
            )
        for r in responses:
            room = self._response_rooms.get(r.url)
            if room is None:
                continue
            payload = r.payload
            html, rows = slack_html(payload.get("blocks"), str(payload.get("text", "")))
            public = payload.get("response_type") == "in_channel"
            self._add(
                f"slr:{next(self._seq)}",
                room,
                "bot",
                html,
                buttons=rows,
                note="" if public else "only visible to you",
            )
        for e in ephemerals:
            if e.get("channel") != SLACK_CHANNEL:
                continue
            html, rows = slack_html(e.get("blocks"), str(e.get("text", "")))
            self._add(
                f"sle:{e['ts']}", "slack-channel", "bot", html, buttons=rows, note="only visible to you"
            )

    def _topic_note(self, chat_id: int, thread_id: int | None) -> str:
        """ "# ⚡ Energy" under a message in a forum topic ("# General" in the forum's main thread)."""
        if chat_id != TG_FORUM:
            return ""
        topic = self.telegram.topic(chat_id, thread_id) if thread_id is not None else None
        return f"# {topic['name']}" if topic is not None else "# General"

    def topics(self) -> list[dict[str, Any]]:
        """The forum's open topics (what the page's topic picker offers besides General)."""
        return [
            {"id": thread, "name": info["name"]}
            for thread, info in sorted(self.telegram.topics_of(TG_FORUM).items())
            if not info["closed"]
        ]

    def messages(self, after: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Feed items with ``seq > after`` (oldest first) and the latest seq."""
        self.sync()
        with self._lock:
            items = [i.to_json() for i in self._items if i.seq > after]
            last = max((i.seq for i in self._items), default=0)
        return items, last

    def _user_bubble(self, room: str, text: str) -> None:
        with self._lock:
            self._add(f"user:{next(self._seq)}", room, "user", _escape_text(text))

    # -- injecting ------------------------------------------------------------------------

    def telegram_text(
        self, room: str, text: str, *, language_code: str | None = None, thread_id: int | None = None
    ) -> int:
        """The local user types ``text`` in a Telegram chat (a forum topic with ``thread_id``):
        a ``message`` update (bot_command entity)."""
        chat = None if room == "tg-private" else _TG_CHATS[room]
        thread = thread_id if room == "tg-forum" else None
        update = self.telegram.make_message_update(
            chat, TG_USER, text, language_code=language_code, thread_id=thread
        )
        with self._lock:
            note = self._topic_note(TG_FORUM, thread) if room == "tg-forum" else ""
            self._add(f"user:{next(self._seq)}", room, "user", _escape_text(text), note=note)
        return self.telegram.push_update(update)

    def telegram_button(self, room: str, message_id: int, data: str) -> int:
        """The local user presses an inline button: a ``callback_query`` update."""
        update = self.telegram.make_callback_query(_TG_CHATS[room], TG_USER, data, message_id=message_id)
        return self.telegram.push_update(update)

    def slack_slash(self, text: str) -> tuple[str, dict[str, str]]:
        """A signed ``/briefing`` slash command from the local user in the channel: (body, headers)."""
        command, _, rest = text.strip().partition(" ")
        body, response_url = self.slack.slash_command(
            command or "/briefing", rest.strip(), user_id=SLACK_USER, channel_id=SLACK_CHANNEL
        )
        with self._lock:
            self._response_rooms[response_url] = "slack-channel"
        self._user_bubble("slack-channel", text)
        return body, sign(body, SLACK_SIGNING_SECRET)

    def slack_mention(self, text: str) -> tuple[str, dict[str, str]]:
        """``@briefcast <text>`` in the channel: a signed ``app_mention`` event."""
        import json

        from briefcast.emulators.slack import app_mention_event

        event = app_mention_event(SLACK_USER, SLACK_CHANNEL, f"<@{self.slack.bot_user_id}> {text}")
        body = json.dumps(self.slack.event(event))
        self._user_bubble("slack-channel", f"@briefcast {text}")
        headers = sign(body, SLACK_SIGNING_SECRET)
        headers["Content-Type"] = "application/json"
        return body, headers

    def slack_button(self, item_id: str, action_id: str, value: str) -> tuple[str, dict[str, str]]:
        """A signed ``block_actions`` press on a message in the channel."""
        from briefcast.emulators.slack import block_actions_payload, form_body

        response_url = self.slack.new_response_url()
        with self._lock:
            self._response_rooms[response_url] = "slack-channel"
            ts = self._slack_ts.get(item_id, "")
        payload = block_actions_payload(
            action_id,
            value,
            user_id=SLACK_USER,
            channel_id=SLACK_CHANNEL,
            message_ts=ts,
            response_url=response_url,
            team_id=SLACK_TEAM,
        )
        body = form_body(payload)
        return body, sign(body, SLACK_SIGNING_SECRET)

    def counts(self) -> Mapping[str, int]:
        """How many messages the bots sent (for the page header and tests)."""
        return {"telegram": len(self.telegram.sent_messages), "slack": len(self.slack.posted)}


def _escape_text(text: str) -> str:
    from html import escape

    return escape(text, quote=False)
