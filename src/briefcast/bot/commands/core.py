"""The shared vocabulary of bot commands: Request, Reply, CommandSpec, the ``@command`` and button
action registries, the errors handlers raise and the protocols adapters implement.

This module never imports ``telegram`` or ``slack_*``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from briefcast.errors import BriefcastError
from briefcast.i18n import Lang
from briefcast.render.document import Document, notice_document
from briefcast.store.records import (
    ChatRecord,
    ChatRef,
    ForumTopicRecord,
    SearchHit,
    StoredIssue,
    SubscriptionRecord,
    WatchAdded,
    WatcherRecord,
)

if TYPE_CHECKING:
    from briefcast.bot.commands.router import Commands


ChatKind = Literal["private", "group", "supergroup", "channel", "slack_channel", "im"]
PRIVATE_KINDS: frozenset[str] = frozenset({"private", "im"})

BUTTONS_PER_ROW = 2
BUTTON_TEXT_MAX = 40


def _short(text: str, limit: int) -> str:
    """Collapse whitespace and cut ``text`` to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ------------------------------------------------------------------ data types


@dataclass(frozen=True, slots=True)
class Request:
    """One inbound command, button press or plain message, already platform-neutral.

    ``command`` is lower-case without the slash or ``@botname`` ("" for plain
    text); ``args`` are the whitespace-separated words after it. ``sender_is_admin``
    lets an adapter vouch for the sender when the platform already guarantees
    it (a Telegram channel post, an anonymous group admin) and there is no
    user to look up. ``explicit`` marks a request that can only be meant for
    this bot, so an unknown command is answered even in a group or channel.
    """

    platform: str
    chat: ChatRef
    chat_kind: str
    user_id: str
    command: str = ""
    args: tuple[str, ...] = ()
    text: str = ""
    language_code: str | None = None
    chat_title: str = ""
    sender_is_admin: bool = False
    explicit: bool = False  # addressed to this bot for sure (a Slack slash command, a mention)
    is_forum: bool = False  # a Telegram supergroup with topics enabled

    @property
    def is_private(self) -> bool:
        return self.chat_kind in PRIVATE_KINDS

    @property
    def sender_key(self) -> str:
        """Who is asking, unique per platform (Slack user ids are per workspace)."""
        ws = f"{self.chat.workspace}:" if self.chat.workspace else ""
        return f"{self.platform}:{ws}{self.user_id or self.chat.chat_id}"


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer.

    ``notice`` is a short plain-text line (a usage hint, a confirmation; on a
    button press, adapters show it as the toast). ``documents`` are rich
    messages for the platform renderer. ``ephemeral`` is a hint for platforms
    that can answer only the asking user (Slack); ``edit`` asks the adapter to
    replace the message whose button was pressed instead of sending anew.
    """

    documents: tuple[Document, ...] = ()
    notice: str = ""
    ephemeral: bool = True
    edit: bool = False

    @property
    def empty(self) -> bool:
        return not self.documents and not self.notice

    def all_documents(self, *, include_notice: bool = True) -> list[Document]:
        """What to render, in order: the notice (as a title-less document) first, then the documents."""
        notice = [notice_document(self.notice)] if include_notice and self.notice else []
        return [*notice, *self.documents]


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """A chat the user named remotely (``@channel`` or a numeric id)."""

    chat_id: str
    title: str
    kind: str = "channel"


class PlatformOps(Protocol):
    """What the command layer needs from a platform; each adapter implements it."""

    async def is_admin(self, chat_id: str, user_id: str) -> bool:
        """Whether ``user_id`` may change the subscriptions of ``chat_id`` (an admin there)."""
        ...

    async def resolve_channel(self, ref: str) -> ChannelInfo | None:
        """``"@name"`` or a numeric id -> the chat, or None when the bot cannot see it."""
        ...

    async def bot_can_post(self, chat_id: str) -> bool:
        """Whether the bot is allowed to send messages to ``chat_id``."""
        ...


class TopicError(BriefcastError):
    """A forum-topic call the platform refused.

    ``reason`` is ``not_forum``, ``no_rights``, ``gone`` or ``other``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


@runtime_checkable
class ForumOps(Protocol):
    """Forum topics (Telegram supergroups with topics): what /topics needs beyond :class:`PlatformOps`.

    Each method raises :class:`TopicError` when the platform refuses.
    """

    async def create_topic(self, chat_id: str, name: str, icon_color: int) -> str:
        """Create a topic; returns its thread id (``message_thread_id``)."""
        ...

    async def close_topic(self, chat_id: str, thread_id: str) -> None:
        """Close a topic (members can no longer post; its messages stay)."""
        ...

    async def reopen_topic(self, chat_id: str, thread_id: str) -> None:
        """Reopen a closed topic; ``TopicError("gone")`` when it was deleted."""
        ...


# The colours Telegram allows for a topic icon (createForumTopic ``icon_color``), used per sector in turn.
TOPIC_COLORS: tuple[int, ...] = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
TOPIC_NAME_MAX = 128


LATEST_MAX_AGE = 1.0  # seconds an issue published by another process may take to reach commands


class CommandStore(Protocol):
    """The part of :class:`briefcast.store.Store` the bot layer uses (narrow, so a test store fits)."""

    def latest_issue(self) -> StoredIssue | None: ...
    def latest_issue_if_recent(self, max_age: float) -> StoredIssue | None: ...
    def get_issue(self, issue_id: int) -> StoredIssue | None: ...
    def find_issue(self, ref: str) -> StoredIssue | None: ...
    def search(self, query: str, limit: int = 5) -> list[SearchHit]: ...
    def upsert_chat(
        self, ref: ChatRef, *, kind: str, title: str = "", language: str | None = None
    ) -> ChatRecord: ...
    def subscribe(
        self,
        ref: ChatRef,
        sectors: Sequence[str],
        *,
        time: str | None = None,
        timezone: str | None = None,
        mode: str | None = None,
        created_by: str = "",
        variant: str | None = None,
        days: int | str | None = None,
    ) -> SubscriptionRecord: ...
    def unsubscribe(
        self, ref: ChatRef, sectors: Sequence[str] | None = None
    ) -> SubscriptionRecord | None: ...
    def set_schedule(
        self, ref: ChatRef, *, time: str | None = None, timezone: str | None = None, mode: str | None = None
    ) -> SubscriptionRecord | None: ...
    def subscriptions_for_chat(
        self, platform: str, chat_id: str, workspace: str = ""
    ) -> list[SubscriptionRecord]: ...
    def subscriptions_created_by(self, platform: str, user_id: str) -> list[SubscriptionRecord]: ...
    def set_quiet(self, ref: ChatRef, quiet: str) -> SubscriptionRecord | None: ...
    def set_options(
        self,
        ref: ChatRef,
        *,
        variant: str | None = None,
        silent: bool | None = None,
        previews: bool | None = None,
    ) -> SubscriptionRecord | None: ...
    def add_watches(
        self, ref: ChatRef, phrases: Sequence[str], *, created_by: str = "", mode: str | None = None
    ) -> WatchAdded: ...
    def remove_watches(
        self, ref: ChatRef, phrases: Sequence[str] | None = None
    ) -> tuple[tuple[str, ...], int]: ...
    def remove_watch_by_id(self, ref: ChatRef, watch_id: int) -> str | None: ...
    def set_watch_mode(self, ref: ChatRef, mode: str) -> WatcherRecord | None: ...
    def watcher_for_chat(self, ref: ChatRef) -> WatcherRecord | None: ...
    def forum_topics(self, ref: ChatRef) -> list[ForumTopicRecord]: ...
    def save_forum_topic(
        self, ref: ChatRef, sector: str, thread_id: str, *, name: str = "", created_by: str = ""
    ) -> ForumTopicRecord: ...
    def set_forum_topic_state(self, ref: ChatRef, sector: str, state: str) -> ForumTopicRecord | None: ...
    # used by the adapters for membership changes, not by the commands themselves
    def deactivate_chat(self, platform: str, chat_id: str, reason: str, workspace: str = "") -> int: ...
    def migrate_chat(self, platform: str, old_chat_id: str, new_chat_id: str, workspace: str = "") -> int: ...


class UsageError(BriefcastError):
    """Bad arguments: answered with a short localised message plus the command's usage."""

    def __init__(self, key: str, **fields: object) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields


class Refusal(BriefcastError):
    """A well-formed request the user may not make (not an admin...), answered without usage."""

    def __init__(self, key: str, **fields: object) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields


Handler = Callable[["Commands", Request, Lang], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """Metadata of one command; the single source for dispatch, /help and platform menus."""

    name: str
    handler: Handler
    description_zh: str
    description_en: str
    aliases: tuple[str, ...] = ()
    usage_zh: str = ""
    usage_en: str = ""
    changes_subscriptions: bool = False
    # enforced by the dispatcher (:meth:`Commands._dispatch`): in a shared chat only its admins
    needs_admin: bool = False
    # the arguments may name a remote chat (``@channel`` / id), which brings its own checks
    targets: bool = False
    # without arguments the command only shows (``/settings``, ``/watches``): anyone may
    reads_bare: bool = False
    sector: str | None = None
    # aliases that also appear in platform menus (sector aliases like /finance do; "list" does not)
    menu_aliases: tuple[str, ...] = ()
    # platforms that have the concept (empty = all); elsewhere it is answered with a polite refusal
    platforms: tuple[str, ...] = ()

    def available_on(self, platform: str) -> bool:
        return not self.platforms or platform in self.platforms

    def description(self, lang: Lang) -> str:
        return self.description_zh if lang == "zh" else self.description_en

    def usage(self, lang: Lang) -> str:
        return self.usage_zh if lang == "zh" else self.usage_en

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


_STATIC: list[CommandSpec] = []


def command(
    name: str,
    *,
    zh: str,
    en: str,
    aliases: Sequence[str] = (),
    usage_zh: str = "",
    usage_en: str = "",
    changes_subscriptions: bool = False,
    needs_admin: bool = False,
    targets: bool = False,
    reads_bare: bool = False,
    platforms: Sequence[str] = (),
) -> Callable[[Handler], Handler]:
    """Declare a command: the decorated coroutine becomes its handler, the arguments its metadata."""

    def register(fn: Handler) -> Handler:
        _STATIC.append(
            CommandSpec(
                name=name,
                handler=fn,
                description_zh=zh,
                description_en=en,
                aliases=tuple(aliases),
                usage_zh=usage_zh,
                usage_en=usage_en,
                changes_subscriptions=changes_subscriptions,
                needs_admin=needs_admin,
                targets=targets,
                reads_bare=reads_bare,
                platforms=tuple(platforms),
            )
        )
        return fn

    return register


# ------------------------------------------------------------------ button actions

ActionHandler = Callable[["Commands", Request, Lang, str], Awaitable[Reply]]

# buttons that change a chat's subscriptions or watches: admins only, enforced by the dispatcher
ADMIN_ACTIONS: frozenset[str] = frozenset({"toggle", "unwatch", "wmode", "set"})

# filled by briefcast.bot.commands.actions (``action`` of a Button -> its handler)
_ACTIONS: dict[str, ActionHandler] = {}
