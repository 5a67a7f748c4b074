"""Telegram's ``PlatformOps`` on the Bot API: admins, channel lookups, the bot's rights, forum topics."""

from __future__ import annotations

import logging

from telegram import Bot as PtbBot
from telegram import ChatMemberAdministrator, ChatMemberOwner, ChatMemberRestricted
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from briefcast.bot.commands import ChannelInfo, TopicError

log = logging.getLogger(__name__)


class TelegramOps:
    """:class:`~briefcast.bot.commands.PlatformOps` on the Bot API (getChatMember, getChat)."""

    def __init__(self, bot: PtbBot) -> None:
        self.bot = bot

    async def is_admin(self, chat_id: str, user_id: str) -> bool:
        """Creator or administrator of the chat, per getChatMember; any API error counts as no."""
        try:
            member = await self.bot.get_chat_member(chat_id=int(chat_id), user_id=int(user_id))
        except (TelegramError, ValueError) as e:
            log.info("getChatMember(%s, %s) failed: %s", chat_id, user_id, e)
            return False
        return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

    async def resolve_channel(self, ref: str) -> ChannelInfo | None:
        """``@name`` or a numeric id -> the group/channel, or None if the bot cannot see it."""
        try:
            chat = await self.bot.get_chat(chat_id=ref if ref.startswith("@") else int(ref))
        except (TelegramError, ValueError) as e:
            log.info("getChat(%s) failed: %s", ref, e)
            return None
        if chat.type == ChatType.PRIVATE:
            return None
        return ChannelInfo(
            chat_id=str(chat.id), title=chat.title or chat.username or ref, kind=str(chat.type)
        )

    # -- forum topics (briefcast.bot.commands.ForumOps) ------------------------------------

    async def create_topic(self, chat_id: str, name: str, icon_color: int) -> str:
        """createForumTopic; the new topic's message_thread_id."""
        try:
            topic = await self.bot.create_forum_topic(chat_id=int(chat_id), name=name, icon_color=icon_color)
        except TelegramError as e:
            raise _topic_error(e) from None
        return str(topic.message_thread_id)

    async def close_topic(self, chat_id: str, thread_id: str) -> None:
        """closeForumTopic; a topic already closed is fine."""
        try:
            await self.bot.close_forum_topic(chat_id=int(chat_id), message_thread_id=int(thread_id))
        except TelegramError as e:
            if "topic_not_modified" not in str(e).lower():
                raise _topic_error(e) from None

    async def reopen_topic(self, chat_id: str, thread_id: str) -> None:
        """reopenForumTopic; a topic already open is fine, a deleted one is ``TopicError("gone")``."""
        try:
            await self.bot.reopen_forum_topic(chat_id=int(chat_id), message_thread_id=int(thread_id))
        except TelegramError as e:
            if "topic_not_modified" not in str(e).lower():
                raise _topic_error(e) from None

    async def bot_can_post(self, chat_id: str) -> bool:
        """Channels need an admin with can_post_messages; groups a member not muted."""
        try:
            member = await self.bot.get_chat_member(chat_id=int(chat_id), user_id=self.bot.id)
            if isinstance(member, ChatMemberOwner):
                return True
            if isinstance(member, ChatMemberAdministrator):
                # can_post_messages is only set for channels; in groups admins can always post
                return member.can_post_messages is not False
            if isinstance(member, ChatMemberRestricted):
                return member.is_member and member.can_send_messages
            if member.status == ChatMemberStatus.MEMBER:
                chat = await self.bot.get_chat(chat_id=int(chat_id))
                return chat.type != ChatType.CHANNEL
        except (TelegramError, ValueError) as e:
            log.info("cannot check the bot's rights in %s: %s", chat_id, e)
        return False


def _topic_error(error: TelegramError) -> TopicError:
    """Bot API errors of the forum-topic methods -> the command layer's reasons."""
    text = str(error).lower()
    log.info("forum topic call refused: %s", error)
    if "not a forum" in text:
        return TopicError("not_forum", str(error))
    if "not enough rights" in text or "administrator rights" in text:
        return TopicError("no_rights", str(error))
    if "topic_id_invalid" in text or "thread not found" in text or "topic_deleted" in text:
        return TopicError("gone", str(error))
    return TopicError("other", str(error))
