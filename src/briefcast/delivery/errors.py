"""What a failed send means for the delivery: the engine acts on the *kind*, never on exceptions.

Transports translate platform exceptions (python-telegram-bot's ``RetryAfter``/``Forbidden``...,
slack-sdk's ``SlackApiError``) into :class:`SendError`, so the engine core stays free of platform
imports and can be driven by any transport that honours this vocabulary.
"""

from __future__ import annotations

import enum


class FailureKind(enum.Enum):
    """How the engine reacts to a failed send."""

    RETRY_AFTER = "retry_after"  # platform flood control: wait exactly ``retry_after`` seconds, retry
    TRANSIENT = "transient"  # 5xx, timeouts, network: exponential backoff with jitter, bounded attempts
    PERMANENT = "permanent"  # the chat is gone for us (blocked, kicked, not found...): deactivate
    MIGRATED = "migrated"  # Telegram group became a supergroup: follow ``new_chat_id`` and retry
    REJECTED = "rejected"  # this payload will never be accepted (bad entities...): dead letter, keep sub
    TOKEN = "token"  # the bot's token is refused (revoked, mistyped): pause the platform, keep every sub


class SendError(Exception):
    """A send failed; ``reason`` is a short operator-facing text stored in ``delivery.last_error``."""

    def __init__(
        self,
        kind: FailureKind,
        reason: str,
        *,
        retry_after: float | None = None,
        new_chat_id: str | None = None,
        platform_wide: bool = False,
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason[:500]
        self.retry_after = retry_after
        self.new_chat_id = new_chat_id
        # True when the platform said the limit is the bot's overall one (rarely knowable).
        self.platform_wide = platform_wide

    def __repr__(self) -> str:
        return f"SendError({self.kind.value}, {self.reason!r})"


# Telegram descriptions (lower-cased substrings) that mean "this chat is lost to us".
TELEGRAM_PERMANENT = (
    "bot was blocked by the user",
    "bot was kicked",
    "user is deactivated",
    "chat not found",
    "bot is not a member",
    "have no rights to send a message",
    "not enough rights to send",
    "chat_write_forbidden",
    "need administrator rights",
    "group chat was deleted",
    "message thread not found",
    "topic_closed",
    "peer_id_invalid",
)

# Slack ``error`` codes that mean the channel/installation will not accept our messages again.
SLACK_PERMANENT = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "team_access_not_granted",
        "restricted_action",
        "ekm_access_denied",
        "org_login_required",
    }
)

# Slack codes that mean the bot's token is refused: every channel of the workspace fails alike, so
# this is the bot's fault, not the channel's. Sending pauses; no subscription is touched.
SLACK_TOKEN = frozenset(
    {"invalid_auth", "token_revoked", "token_expired", "account_inactive", "not_authed", "missing_scope"}
)

# Slack codes that are about the payload, not the channel.
SLACK_REJECTED = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_arguments",
    }
)


def classify_telegram(
    status: int, description: str, parameters: dict[str, object] | None = None
) -> SendError:
    """Classify a Telegram Bot API error response (HTTP status + description + parameters)."""
    params = parameters or {}
    desc = description or f"HTTP {status}"
    migrate = params.get("migrate_to_chat_id")
    if migrate:
        return SendError(FailureKind.MIGRATED, f"chat migrated to {migrate}", new_chat_id=str(migrate))
    retry_after = params.get("retry_after")
    if status == 429 or retry_after:
        seconds = float(retry_after) if isinstance(retry_after, int | float | str) else 1.0
        return SendError(FailureKind.RETRY_AFTER, desc, retry_after=seconds)
    low = desc.lower()
    if status in (401, 404) and "chat" not in low:
        # 401 Unauthorized: the token is revoked or mistyped; 404 Not Found: no bot has this token
        return SendError(FailureKind.TOKEN, desc)
    if status == 403 or any(p in low for p in TELEGRAM_PERMANENT):
        return SendError(FailureKind.PERMANENT, desc)
    if status == 400:
        return SendError(FailureKind.REJECTED, desc)
    return SendError(FailureKind.TRANSIENT, desc)


def classify_slack(error: str, *, status: int = 200, retry_after: float | None = None) -> SendError:
    """Classify a Slack Web API failure (``error`` code, HTTP status, ``Retry-After`` header)."""
    code = error or f"http_{status}"
    if status == 429 or code in ("ratelimited", "rate_limited"):
        return SendError(FailureKind.RETRY_AFTER, code, retry_after=retry_after if retry_after else 1.0)
    if code in SLACK_TOKEN:
        return SendError(FailureKind.TOKEN, code)
    if code in SLACK_PERMANENT:
        return SendError(FailureKind.PERMANENT, code)
    if code in SLACK_REJECTED:
        return SendError(FailureKind.REJECTED, code)
    return SendError(FailureKind.TRANSIENT, code)


# Edits (corrections in place): answers that mean "this message cannot be edited any more" and
# "it already reads so". Telegram descriptions are matched lower-cased, without "Bad Request: ".
TELEGRAM_EDIT_GONE = ("message to edit not found", "message_id_invalid")
TELEGRAM_EDIT_LOCKED = ("message can't be edited", "message_edit_time_expired")
TELEGRAM_NOT_MODIFIED = "message is not modified"
SLACK_EDIT_GONE = frozenset({"message_not_found"})
SLACK_EDIT_LOCKED = frozenset({"cant_update_message", "edit_window_closed"})


def edit_outcome_telegram(description: str) -> str | None:
    """``unchanged``, ``gone``, ``locked`` for a refused ``editMessageText``; None otherwise."""
    low = description.lower()
    if TELEGRAM_NOT_MODIFIED in low:
        return "unchanged"
    if any(p in low for p in TELEGRAM_EDIT_GONE):
        return "gone"
    if any(p in low for p in TELEGRAM_EDIT_LOCKED):
        return "locked"
    return None


def edit_outcome_slack(code: str) -> str | None:
    """``gone`` or ``locked`` for a refused ``chat.update``; None otherwise."""
    if code in SLACK_EDIT_GONE:
        return "gone"
    if code in SLACK_EDIT_LOCKED:
        return "locked"
    return None
