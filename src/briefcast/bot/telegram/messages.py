"""Telegram messages as neutral requests: command parsing, chat and topic refs, membership changes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram import ChatMember, ChatMemberRestricted, Message
from telegram.constants import ChatMemberStatus, ChatType

from briefcast.bot.commands import Request
from briefcast.store.records import ChatRef

PLATFORM = "telegram"
# Telegram's placeholder user for anonymous group admins ("GroupAnonymousBot").
ANONYMOUS_ADMIN_ID = 1087968824


def thread_of(message: Message) -> int | None:
    """A forum topic id; reply threads in ordinary supergroups are not topics."""
    return message.message_thread_id if message.is_topic_message else None


def chat_ref(message: Message) -> ChatRef:
    thread = thread_of(message)
    return ChatRef(PLATFORM, str(message.chat.id), thread_id=str(thread) if thread is not None else None)


def request_from_message(message: Message, command: str, args: Sequence[str]) -> Request:
    """A message (or channel post) -> neutral request."""
    user = message.from_user
    chat = message.chat
    anonymous_admin = message.sender_chat is not None and message.sender_chat.id == chat.id
    return Request(
        platform=PLATFORM,
        chat=chat_ref(message),
        chat_kind=str(chat.type),
        user_id=str(user.id) if user is not None and user.id != ANONYMOUS_ADMIN_ID else "",
        command=command,
        args=tuple(args),
        text=message.text or "",
        language_code=user.language_code if user is not None else None,
        chat_title=chat.title or chat.username or chat.full_name or "",
        sender_is_admin=chat.type == ChatType.CHANNEL or anonymous_admin,
        is_forum=bool(chat.is_forum),
    )


_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?=\s|$)")


def parse_command(text: str) -> tuple[str, str, list[str]] | None:
    """``"/Energy@Bot 08:00"`` -> ``("energy", "bot", ["08:00"])``; None if not a command.

    Read from the text as Telegram clients send it, with or without a ``bot_command`` entity and
    whatever the order of the entities (Telegram's own example ``/start`` has none).
    """
    match = _COMMAND.match(text)
    if match is None:
        return None
    return match.group(1).lower(), (match.group(2) or "").lower(), text[match.end() :].split()


def command_of(message: Message) -> tuple[str, list[str]]:
    """``"/Energy@Bot 08:00"`` -> ``("energy", ["08:00"])``."""
    parsed = parse_command(message.text or "")
    if parsed is None:
        return "", []
    return parsed[0], parsed[2]


def _in_chat(member: ChatMember) -> bool:
    """Whether a ChatMember status means "is in the chat" (restricted members may be in or out)."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)


def joined_group(old: ChatMember, new: ChatMember) -> bool:
    """The bot went from outside the chat to inside it (not a promotion or a demotion)."""
    return not _in_chat(old) and _in_chat(new)
