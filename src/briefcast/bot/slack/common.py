"""What every Slack module shares: the command names, text parsing, chat kinds, payloads, error codes."""

from __future__ import annotations

import html
import re
from typing import Any

from slack_sdk.errors import SlackApiError

from briefcast.bot.commands import Reply
from briefcast.render import slack as render_slack

PLATFORM = "slack"
SLASH_COMMAND = "/briefing"
PREFIX = "/briefing "

# Words Slack writes as links: <@U123> mentions (dropped), <#C123|name> channels (-> @C123 targets).
USER_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_CHANNEL_LINK = re.compile(r"<#([A-Z0-9]+)(?:\|[^>]*)?>")


def split_command(text: str) -> tuple[str, tuple[str, ...]]:
    """``"<@U0BOT> Energy public"`` -> ``("energy", ("public",))``; nothing at all means help.

    Mentions are dropped, ``<#C123|general>`` channel links become ``@C123``
    targets, Slack's ``&amp;``-style escapes are undone, and a leading
    ``/briefing`` (typed into a DM) is ignored.
    """
    text = _CHANNEL_LINK.sub(lambda m: f"@{m.group(1)}", USER_MENTION.sub(" ", text))
    words = html.unescape(text).split()
    if words and words[0].lower() == SLASH_COMMAND:
        words = words[1:]
    if not words:
        return "help", ()
    return words[0].lower().lstrip("/"), tuple(words[1:])


def chat_kind(channel_id: str, channel_name: str = "") -> str:
    """``im`` for direct messages (ids start with D), ``slack_channel`` for everything else."""
    return "im" if channel_id.startswith("D") or channel_name == "directmessage" else "slack_channel"


def reply_payloads(reply: Reply, *, include_notice: bool = True) -> list[dict[str, Any]]:
    """Every chat.postMessage payload (text + blocks, no channel) of a reply: notice first."""
    return [p for d in reply.all_documents(include_notice=include_notice) for p in render_slack.render(d)]


def error_code(e: SlackApiError) -> str:
    """The ``error`` of a Web API refusal (``not_in_channel``, …), empty when there is none."""
    data = e.response.data if e.response is not None else None
    return str(data.get("error", "")) if isinstance(data, dict) else ""
