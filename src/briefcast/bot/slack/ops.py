"""The Slack ``PlatformOps``: permission checks and channel lookups on the request workspace's Web API."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from briefcast.bot.commands import ChannelInfo, Commands
from briefcast.bot.slack.common import error_code
from briefcast.errors import ConfigError

log = logging.getLogger(__name__)

Permission = Literal["anyone", "admins", "users"]
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


class SlackOps:
    """:class:`~briefcast.bot.commands.PlatformOps` on the Web API, with the permission policy.

    ``is_admin`` answers "may this user change this channel's subscriptions":
    ``anyone`` = any member of the channel, ``admins`` = workspace admins and
    owners, ``users`` = the listed user ids. Calls use ``client``, the Web API client
    of the request's workspace: the adapter keeps one unbound policy and makes a
    :meth:`bound` copy per request, so each workspace uses its own token.
    """

    def __init__(
        self, permission: str = "anyone", users: Iterable[str] = (), *, client: AsyncWebClient | None = None
    ) -> None:
        if permission not in ("anyone", "admins", "users"):
            raise ConfigError("slack.subscribe_permission must be anyone, admins or users")
        self.permission = permission
        self.users = frozenset(users)
        self.client = client

    def bound(self, client: AsyncWebClient) -> SlackOps:
        """The same policy, calling the Web API through ``client`` (one request's workspace)."""
        return SlackOps(self.permission, self.users, client=client)

    @property
    def api(self) -> AsyncWebClient:
        if self.client is None:
            raise RuntimeError("SlackOps is not bound to a workspace's client (SlackOps.bound)")
        return self.client

    async def is_admin(self, chat_id: str, user_id: str) -> bool:
        if not user_id:
            return False
        if self.permission == "users":
            return user_id in self.users
        if self.permission == "admins":
            return await self._workspace_admin(user_id)
        return await self._member(chat_id, user_id)

    async def _workspace_admin(self, user_id: str) -> bool:
        try:
            user = (await self.api.users_info(user=user_id)).get("user") or {}
        except SlackApiError as e:
            log.info("users.info(%s) failed: %s", user_id, error_code(e))
            return False
        return any(bool(user.get(k)) for k in ("is_admin", "is_owner", "is_primary_owner"))

    async def _member(self, chat_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is in the channel (conversations.members, paged)."""
        if chat_id.startswith("D"):
            return True
        cursor: str | None = None
        try:
            for _ in range(50):
                page = await self.api.conversations_members(channel=chat_id, limit=1000, cursor=cursor)
                if user_id in (page.get("members") or []):
                    return True
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as e:
            log.info("conversations.members(%s) failed: %s", chat_id, error_code(e))
        return False

    async def resolve_channel(self, ref: str) -> ChannelInfo | None:
        """``@C123`` (or ``#C123``, a bare id) -> the channel; names are not looked up."""
        channel_id = ref.lstrip("@#")
        if not _CHANNEL_ID.match(channel_id):
            return None
        info = await self._info(channel_id)
        if info is None or info.get("is_im"):
            return None
        return ChannelInfo(
            chat_id=channel_id, title=str(info.get("name") or channel_id), kind="slack_channel"
        )

    async def bot_can_post(self, chat_id: str) -> bool:
        """Not archived, and either the bot is a member or the channel is public (chat:write.public)."""
        info = await self._info(chat_id)
        if info is None or info.get("is_archived"):
            return False
        return bool(info.get("is_member")) or not info.get("is_private")

    async def _info(self, channel_id: str) -> dict[str, Any] | None:
        try:
            channel = (await self.api.conversations_info(channel=channel_id)).get("channel")
        except SlackApiError as e:
            log.info("conversations.info(%s) failed: %s", channel_id, error_code(e))
            return None
        return channel if isinstance(channel, dict) else None


@dataclass(frozen=True)
class Workspace:
    """One request's view of the app: ops and command layer bound to its workspace's client."""

    ops: SlackOps
    commands: Commands
