"""The App Home tab: the latest issue's overview (a button per sector), then the user's subscriptions."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from briefcast.bot.commands import Commands, CommandStore
from briefcast.bot.slack.common import PLATFORM, error_code
from briefcast.briefing.model import ListBlock, ListItem, Paragraph, Run
from briefcast.i18n import Lang, t
from briefcast.render import compose
from briefcast.render import slack as render_slack
from briefcast.render.document import Document, notice_document
from briefcast.store.records import SubscriptionRecord

log = logging.getLogger(__name__)

MAX_HOME_BLOCKS = 100
# users.conversations pages read for the Home tab (200 channels each).
MAX_CHANNEL_PAGES = 5

# Home tab texts that exist only on Slack.
_HOME_TEXT: dict[str, tuple[str, str]] = {
    "home_subs_title": ("你所在频道的订阅", "Subscriptions of your channels"),
    "home_dm": ("与我的私信", "Direct messages with me"),
    "home_subs_none": (
        "你所在的频道还没有订阅。在频道里发送 /briefing subscribe 开始订阅。",
        "None of your channels is subscribed yet. Send /briefing subscribe in a channel to start.",
    ),
}


def _home_text(lang: Lang, key: str) -> str:
    zh, en = _HOME_TEXT[key]
    return zh if lang == "zh" else en


class HomeTab:
    """Builds the Home tab's blocks from the store and the command layer's sector and schedule texts."""

    def __init__(self, store: CommandStore, commands: Commands) -> None:
        self.store = store
        self.commands = commands

    async def blocks(
        self, client: AsyncWebClient, team_id: str, user_id: str, lang: Lang
    ) -> list[dict[str, Any]]:
        """The Home tab blocks (at most 100): overview of the latest issue, then subscriptions."""
        issue = await asyncio.to_thread(self.store.latest_issue)
        first = (
            replace(
                compose.overview_document(issue.briefing, lang),
                buttons=self.commands.sector_buttons(issue.briefing, lang=lang),
            )
            if issue is not None
            else notice_document(t(lang, "no_issue"))
        )
        second = await self.subscriptions(client, team_id, user_id, lang)
        blocks: list[dict[str, Any]] = []
        for doc in (first, second):
            if blocks:
                blocks.append({"type": "divider"})
            blocks.extend(b for p in render_slack.render(doc) for b in p["blocks"])
        return blocks[:MAX_HOME_BLOCKS]

    async def subscriptions(self, client: AsyncWebClient, team_id: str, user_id: str, lang: Lang) -> Document:
        """One line per active subscription of a channel the user is in (and their DM with the app)."""
        items: list[ListItem] = []
        for channel in await _user_channels(client, user_id):
            cid = str(channel.get("id") or "")
            found = await asyncio.to_thread(self.store.subscriptions_for_chat, PLATFORM, cid, team_id)
            subs = [s for s in found if s.active]
            label = _home_text(lang, "home_dm") if channel.get("is_im") else f"#{channel.get('name') or cid}"
            items.extend(self._sub_item(s, label, lang) for s in subs)
        title = _home_text(lang, "home_subs_title")
        if not items:
            return Document(title=title, blocks=(Paragraph((Run(_home_text(lang, "home_subs_none")),)),))
        return Document(title=title, blocks=(ListBlock(tuple(items)),))

    def _sub_item(self, sub: SubscriptionRecord, label: str, lang: Lang) -> ListItem:
        tail = (
            f" — {self.commands.sector_names(sub.sectors, lang)} — {self.commands.schedule_text(sub, lang)}"
        )
        return ListItem((Run(label, frozenset({"bold"})), Run(tail)))


async def _user_channels(client: AsyncWebClient, user_id: str) -> list[dict[str, Any]]:
    """users.conversations for ``user_id`` (public, private the bot sees, the DM), a few pages."""
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    try:
        for _ in range(MAX_CHANNEL_PAGES):
            page = await client.users_conversations(
                user=user_id,
                types="public_channel,private_channel,im",
                exclude_archived=True,
                limit=200,
                cursor=cursor,
            )
            out.extend(c for c in page.get("channels") or [] if isinstance(c, dict))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as e:
        log.info("users.conversations(%s) failed: %s", user_id, error_code(e))
    return out
