"""Signed requests and payload builders for bolt (HTTP mode), as Slack sends them."""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Any

# --------------------------------------------------------------------------------------------


def sign(body: str | bytes, signing_secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with ``body``: X-Slack-Request-Timestamp and X-Slack-Signature (v0)."""
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    if signature is None:  # only when the secret is empty
        raise ValueError("signing_secret must not be empty")
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def form_body(payload: Mapping[str, Any]) -> str:
    """An interactivity request body: ``payload=<url-encoded JSON>``."""
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def slash_command_body(
    command: str,
    text: str = "",
    *,
    user_id: str = "U0USER",
    user_name: str = "alice",
    channel_id: str = "C0CHAN",
    channel_name: str = "general",
    team_id: str = "T0FAKE",
    team_domain: str = "fake",
    response_url: str = "",
    trigger_id: str = "",
    api_app_id: str = "A0FAKE",
) -> str:
    """The form body Slack posts for a slash command."""
    return urllib.parse.urlencode(
        {
            "token": "verification-token-unused",
            "team_id": team_id,
            "team_domain": team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
        }
    )


def event_callback(
    event: Mapping[str, Any],
    *,
    team_id: str = "T0FAKE",
    api_app_id: str = "A0FAKE",
    event_id: str | None = None,
    bot_user_id: str = "U0BOT",
) -> dict[str, Any]:
    """Wrap an event in the Events API envelope."""
    return {
        "token": "verification-token-unused",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": team_id, "user_id": bot_user_id, "is_bot": True, "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
    }


def _event_ts() -> str:
    now = time.time()
    return f"{int(now)}.{int((now % 1) * 1_000_000):06d}"


def app_mention_event(
    user: str, channel: str, text: str, *, ts: str | None = None, thread_ts: str | None = None
) -> dict[str, Any]:
    """An ``app_mention`` event (text usually starts with ``<@BOTID>``)."""
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts or _event_ts(),
        "channel": channel,
        "event_ts": ts or _event_ts(),
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message_im_event(user: str, channel: str, text: str, *, ts: str | None = None) -> dict[str, Any]:
    """A ``message`` event in a direct message with the app (``message.im``)."""
    stamp = ts or _event_ts()
    return {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": stamp,
        "event_ts": stamp,
        "channel": channel,
    }


def member_joined_channel_event(
    user: str, channel: str, *, inviter: str | None = None, team: str = "T0FAKE", private: bool = False
) -> dict[str, Any]:
    """A ``member_joined_channel`` event (https://api.slack.com/events/member_joined_channel).

    ``channel_type`` is ``C`` for public and ``G`` for private channels; ``inviter`` is absent
    when the member joined on their own.
    """
    event: dict[str, Any] = {
        "type": "member_joined_channel",
        "user": user,
        "channel": channel,
        "channel_type": "G" if private else "C",
        "team": team,
        "event_ts": _event_ts(),
    }
    if inviter:
        event["inviter"] = inviter
    return event


def app_home_opened_event(user: str, *, channel: str = "D0HOME", tab: str = "home") -> dict[str, Any]:
    """An ``app_home_opened`` event."""
    return {"type": "app_home_opened", "user": user, "channel": channel, "tab": tab, "event_ts": _event_ts()}


def block_actions_payload(
    action_id: str,
    value: str = "",
    *,
    user_id: str = "U0USER",
    channel_id: str = "C0CHAN",
    message_ts: str = "",
    response_url: str = "",
    trigger_id: str = "",
    block_id: str = "actions",
    team_id: str = "T0FAKE",
    api_app_id: str = "A0FAKE",
) -> dict[str, Any]:
    """A ``block_actions`` interactivity payload for a button press (send with :func:`form_body`)."""
    ts = message_ts or _event_ts()
    return {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "fake"},
        "user": {"id": user_id, "username": "alice", "name": "alice", "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "verification-token-unused",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel_id, "is_ephemeral": False},
        "trigger_id": trigger_id or f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
        "channel": {"id": channel_id, "name": "channel"},
        "message": {"type": "message", "ts": ts, "text": ""},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": action_id},
                "action_ts": _event_ts(),
            }
        ],
    }


def url_verification(challenge: str = "challenge-token") -> dict[str, Any]:
    """The Events API handshake body."""
    return {"token": "verification-token-unused", "challenge": challenge, "type": "url_verification"}
