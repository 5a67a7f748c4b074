"""Sending replies on Telegram: Bot API JSON into the asking chat and topic, paced, or an edit in place."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Bot as PtbBot
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ChatType
from telegram.error import BadRequest, RetryAfter

from briefcast.bot.commands import Reply
from briefcast.bot.telegram.messages import thread_of
from briefcast.bot.telegram_request import send_message_json
from briefcast.render import telegram as render_telegram
from briefcast.render.document import Document

log = logging.getLogger(__name__)

# Longest flood wait a chat reply waits out before giving up (the user can ask again).
# A command reply waits for its turn (Telegram's retry_after honoured, again and again) for at
# most this long after it was first tried; only then is it given up, with an ERROR line.
MAX_REPLY_AGE = 60.0


class ReplyPacer:
    """Paces this bot's command replies under the bot-wide flood limit, so a burst (100 users
    sending /subscribe at once) queues instead of collecting 429s and losing replies.

    Replies take a slot of ``rate`` per second in arrival order; a 429 (``retry_after``) pauses
    every reply until it has passed. The delivery engine is told of each reply (``on_reply``)
    and leaves it room, so replies go ahead of a broadcast running in the same process.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / max(1.0, rate)
        self.clock = clock
        self._next = 0.0
        self._paused_until = 0.0

    async def turn(self) -> None:
        now = self.clock()
        start = max(now, self._next, self._paused_until)
        self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)


def payload_kwargs(payload: dict[str, Any]) -> dict[str, Any]:
    """Renderer payload (JSON shapes) -> ``bot.send_message`` keyword arguments (PTB objects)."""
    out = dict(payload)
    lpo = out.get("link_preview_options")
    if isinstance(lpo, dict):
        out["link_preview_options"] = LinkPreviewOptions(**lpo)
    markup = out.get("reply_markup")
    if isinstance(markup, dict):
        out["reply_markup"] = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(b["text"], url=b["url"])
                    if "url" in b
                    else InlineKeyboardButton(b["text"], callback_data=b["callback_data"])
                    for b in row
                ]
                for row in markup.get("inline_keyboard", [])
            ]
        )
    return out


def reply_payloads(reply: Reply, *, include_notice: bool = True) -> list[dict[str, Any]]:
    """Every sendMessage payload of a reply: the notice first, then each document's parts."""
    return [p for d in reply.all_documents(include_notice=include_notice) for p in render_telegram.render(d)]


class ReplySender:
    """Sends command replies into the chat (and forum topic) they answer, each after its pacer turn."""

    def __init__(self, bot: PtbBot, pacer: ReplyPacer) -> None:
        self.bot = bot
        self.pacer = pacer
        # Called with (chat id, is a group/channel) before each reply: the same bot token's flood
        # budget as the deliveries, so ``briefcast run`` lets its engine pace around the replies.
        self.on_reply: Callable[[str, bool], None] | None = None

    async def send(self, message: Message, reply: Reply, *, include_notice: bool = True) -> None:
        """Send a reply into the chat (and forum topic) the message came from."""
        await self.send_payloads(message, reply_payloads(reply, include_notice=include_notice))

    async def send_payloads(self, message: Message, payloads: Sequence[dict[str, Any]]) -> None:
        """sendMessage each renderer payload into the message's chat and topic, in order.

        The renderer's payloads are already Bot API JSON, so they go out as they are through
        ``do_api_request`` (PTB's request layer: same errors, ``RetryAfter`` included) instead of
        ``send_message``: no ``InlineKeyboardMarkup`` built from the JSON only to be serialised
        back, no ``Message`` parsed from a result nobody reads. Profiled at 200 commands/s, that
        was a third of the reply path's CPU (docs/benchmarks.md, command latency).
        """
        await self.send_json(
            message.chat.id, thread_of(message), message.chat.type != ChatType.PRIVATE, payloads
        )

    async def send_json(
        self, chat_id: int, thread: int | None, group: bool, payloads: Sequence[dict[str, Any]]
    ) -> None:
        """sendMessage each payload into ``chat_id`` (topic ``thread``); flood waits up to MAX_REPLY_AGE."""
        for payload in payloads:
            if self.on_reply is not None:
                self.on_reply(str(chat_id), group)
            params = dict(payload)
            params["chat_id"] = chat_id
            if thread is not None:
                params["message_thread_id"] = thread
            first = time.monotonic()
            while True:
                await self.pacer.turn()
                try:
                    await send_message_json(self.bot, params)
                    break
                except RetryAfter as e:
                    wait = _seconds(e.retry_after)
                    if time.monotonic() + wait - first > MAX_REPLY_AGE:
                        log.error(
                            "reply to %s given up after %.0f s of flood control", chat_id, MAX_REPLY_AGE
                        )
                        raise
                    self.pacer.pause(wait)

    async def send_preview(
        self, message: Message, payloads: Sequence[dict[str, Any]]
    ) -> tuple[int, str] | None:
        """Send the preview messages; one Telegram refuses is counted, not fatal: ``(count, reason)``."""
        refused: list[str] = []
        for payload in payloads:
            try:
                await self.send_payloads(message, [payload])
            except BadRequest as e:
                log.warning("a preview message was refused: %s", e)
                refused.append(str(e))
        return (len(refused), refused[0]) if refused else None

    async def edit(self, message: Message, doc: Document) -> bool:
        """Replace the message that carried the button; False when it must be sent anew."""
        payloads = render_telegram.render(doc)
        if len(payloads) != 1:
            return False
        try:
            await message.edit_text(**payload_kwargs(payloads[0]))
        except BadRequest as e:
            if "not modified" in str(e).lower():
                return True
            log.info("editMessageText failed, sending instead: %s", e)
            return False
        return True


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
