"""Sending replies on Slack: response_url answers, chat.postMessage / postEphemeral, button redraws."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from briefcast.bot.commands import Reply
from briefcast.bot.slack.common import chat_kind, error_code, reply_payloads
from briefcast.render import slack as render_slack

log = logging.getLogger(__name__)

# Errors of chat.postMessage after which a slash command's response_url can still post in the channel.
_NOT_POSTABLE = frozenset({"not_in_channel", "channel_not_found"})


async def send_slash(reply: Reply, respond: AsyncRespond, client: AsyncWebClient, channel: str) -> None:
    """Ephemeral via response_url; public via chat.postMessage, else response_url ``in_channel``."""
    payloads = reply_payloads(reply)
    if not payloads:
        return
    if reply.ephemeral:
        await respond_all(respond, payloads, response_type="ephemeral")
        return
    if not await post(client, channel, payloads, fallback_ok=True):
        await respond_all(respond, payloads, response_type="in_channel")


async def send_in_channel(
    reply: Reply, client: AsyncWebClient, channel: str, *, user: str, thread_ts: str | None
) -> None:
    """Mentions: ephemeral replies with chat.postEphemeral to the user, public ones in the thread."""
    payloads = reply_payloads(reply)
    if not reply.ephemeral or chat_kind(channel) == "im":
        await post(client, channel, payloads, thread_ts=thread_ts)
        return
    for payload in payloads:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **payload)
        except SlackApiError as e:
            log.warning("chat.postEphemeral in %s failed: %s", channel, error_code(e))
            return


async def send_action(reply: Reply, respond: AsyncRespond, client: AsyncWebClient, channel: str) -> None:
    """Button answers: redraw the message for ``edit`` replies, else answer the presser (or channel)."""
    if reply.edit and reply.documents:
        first = render_slack.render(reply.documents[0])
        if len(first) == 1 and await _respond(respond, first[0], replace_original=True):
            # the redrawn message shows the change; the notice would only repeat it
            reply = Reply(documents=reply.documents[1:], ephemeral=reply.ephemeral)
    payloads = reply_payloads(reply)
    if reply.ephemeral:
        await respond_all(respond, payloads, response_type="ephemeral")
    elif not await post(client, channel, payloads, fallback_ok=True):
        await respond_all(respond, payloads, response_type="in_channel")


async def respond_all(
    respond: AsyncRespond, payloads: Sequence[dict[str, Any]], *, response_type: str
) -> None:
    for payload in payloads:
        if not await _respond(respond, payload, response_type=response_type):
            return


async def _respond(respond: AsyncRespond, payload: dict[str, Any], **options: Any) -> bool:
    try:
        result = await respond(text=payload["text"], blocks=payload.get("blocks"), **options)
    except (TimeoutError, SlackClientError, OSError) as e:
        log.warning("respond() failed: %s", type(e).__name__)
        return False
    if result.status_code != 200:
        log.warning("respond() answered %s: %s", result.status_code, result.body[:200])
        return False
    return True


async def post(
    client: AsyncWebClient,
    channel: str,
    payloads: Sequence[dict[str, Any]],
    *,
    thread_ts: str | None = None,
    fallback_ok: bool = False,
) -> bool:
    """chat.postMessage each payload; False (logged) when Slack refuses.

    ``fallback_ok``: the caller has a response_url to fall back on, so a
    channel the bot cannot post in is not worth a warning.
    """
    for payload in payloads:
        try:
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **payload)
        except SlackApiError as e:
            code = error_code(e)
            level = logging.INFO if fallback_ok and code in _NOT_POSTABLE else logging.WARNING
            log.log(level, "chat.postMessage in %s failed: %s", channel, code)
            return False
    return True
