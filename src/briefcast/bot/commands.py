"""Platform-neutral bot commands: a :class:`Request` in, a :class:`Reply` out.

Every command is declared once with :func:`command` (names, aliases, zh/en
descriptions, usage, whether it changes subscriptions); sector commands come
from the sector catalogue. Adapters (Telegram, Slack) only translate: they build
a :class:`Request` from a platform update, call :meth:`Commands.handle` or
:meth:`Commands.handle_action` (button callbacks), and render the reply's
:class:`~briefcast.render.document.Document` objects with their renderer.
Whatever needs the platform (admin checks, resolving ``@channel``) goes through
the small :class:`PlatformOps` protocol the adapter implements.

This module never imports ``telegram`` or ``slack_*``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, ParamSpec, Protocol, TypeVar, runtime_checkable

from briefcast.bot.ratelimit import RateLimiter
from briefcast.briefing.model import Block, Briefing, Link, ListBlock, ListItem, Paragraph, Run
from briefcast.briefing.sectors import Sector, SectorCatalogue, default_catalogue
from briefcast.briefing.watch import MAX_WATCHES_PER_CHAT, Passage, watch_matches
from briefcast.errors import BriefcastError
from briefcast.i18n import Lang, pick_language, schedule_at, schedule_weekly, t
from briefcast.render import compose
from briefcast.render.document import Button, Document, notice_document
from briefcast.render.options import supports
from briefcast.store import validate
from briefcast.store.errors import (
    InvalidQuiet,
    InvalidTime,
    InvalidTimezone,
    InvalidWatch,
    StoreInputError,
    UnknownSector,
    WatchLimitReached,
)
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

log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_R = TypeVar("_R")

ChatKind = Literal["private", "group", "supergroup", "channel", "slack_channel", "im"]
PRIVATE_KINDS: frozenset[str] = frozenset({"private", "im"})

_LOOKS_LIKE_TIME = re.compile(r"^\d{1,2}[:：]\d{1,2}$")
_NUMERIC_ID = re.compile(r"^-?\d{5,}$")
ALL_WORDS = frozenset({"all", "全部", "所有", "*"})
PUBLISH_WORDS = frozenset({"publish", "onpublish", "on-publish", "on_publish", "instant", "发布", "即时"})
SCHEDULED_WORDS = frozenset({"scheduled", "daily", "定时", "每天"})
WEEKLY_WORDS = frozenset({"weekly", "week", "rollup", "roll-up", "每周", "周报", "每周合集", "合集"})
PUBLIC_WORDS = frozenset({"public", "公开"})
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


# ------------------------------------------------------------ argument parsing


@dataclass(frozen=True, slots=True)
class SubscribeArgs:
    """Parsed ``[TARGET] [SECTOR...|all] [HH:MM] [Area/City] [publish]``; None = not given."""

    target: str | None = None
    sectors: tuple[str, ...] | None = None
    time: str | None = None
    timezone: str | None = None
    mode: str | None = None
    days: int | None = None  # allowed weekdays mask (bit 0 = Monday); None: keep the current ones


_DAYISH = re.compile(r"^(?:周|星期|礼拜)|^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*$|^[a-z]+day$", re.IGNORECASE)


def parse_time(value: str) -> str:
    """``"8:05"`` -> ``"08:05"`` (:func:`briefcast.store.validate.parse_time`, the one validator);
    anything outside 00:00-23:59 raises :class:`UsageError`."""
    try:
        return validate.parse_time(value)
    except InvalidTime:
        raise UsageError("bad_time", value=value) from None


def parse_timezone(value: str) -> str:
    """An IANA zone name in its canonical spelling (``asia/shanghai`` -> ``Asia/Shanghai``, the same
    validator the CLI and the store use) or :class:`UsageError`."""
    try:
        return validate.parse_timezone(value)
    except InvalidTimezone:
        raise UsageError("bad_timezone", value=value) from None


def _is_target(word: str) -> bool:
    return (word.startswith("@") and len(word) > 1) or bool(_NUMERIC_ID.match(word))


def parse_subscribe_args(
    args: Sequence[str], catalogue: SectorCatalogue, *, schedule: bool = True
) -> SubscribeArgs:
    """Parse subscription arguments in any order; ``schedule=False`` rejects times/zones/modes."""
    words = [w for a in args for w in re.split(r"[,，、]", a) if w]
    target: str | None = None
    if words and _is_target(words[0]):
        target = words.pop(0)
    sectors: list[str] = []
    everything = False
    time_: str | None = None
    tz: str | None = None
    mode: str | None = None
    days = 0
    for w in words:
        low = w.lower()
        if low in ALL_WORDS:
            everything = True
        elif schedule and low in PUBLISH_WORDS:
            mode = "publish"
        elif schedule and low in WEEKLY_WORDS:
            mode = "weekly"
        elif schedule and low in SCHEDULED_WORDS:
            mode = "scheduled"
            days |= validate.DAY_SET_WORDS.get(low, 0)  # "daily" / "每天": every day again
        elif (mask := validate.day_word_mask(w)) is not None:
            if not schedule:
                raise UsageError("unexpected_arg", value=w)
            days |= mask
        elif _LOOKS_LIKE_TIME.match(w):
            if not schedule:
                raise UsageError("unexpected_arg", value=w)
            time_ = parse_time(w)
        elif "/" in w.strip("/") or low == "utc":
            if not schedule:
                raise UsageError("unexpected_arg", value=w)
            tz = parse_timezone(w)
        else:
            sector = catalogue.lookup(w)
            if sector is None and schedule and _DAYISH.match(unicodedata.normalize("NFKC", w)):
                raise UsageError("bad_days", value=w)
            if sector is None:
                raise UsageError("unknown_sector", name=w, choices=", ".join(catalogue.keys))
            if sector.key not in sectors:
                sectors.append(sector.key)
    chosen: tuple[str, ...] | None = None if everything or not sectors else tuple(sectors)
    if (time_ is not None or days) and mode is None:
        mode = "scheduled"
    return SubscribeArgs(target=target, sectors=chosen, time=time_, timezone=tz, mode=mode, days=days or None)


def _split_public(args: Sequence[str]) -> tuple[tuple[str, ...], bool]:
    """Drop a trailing ``public`` flag (Slack: post in the channel instead of ephemerally)."""
    rest = tuple(a for a in args if a.lower() not in PUBLIC_WORDS)
    return rest, len(rest) != len(args)


# ------------------------------------------------------------------ the router


@dataclass
class Commands:
    """The command table bound to a store, a catalogue and one platform's :class:`PlatformOps`.

    ``prefix`` is how users type commands on this platform (``"/"`` on
    Telegram, ``"/briefing "`` on Slack); it only shows up in help and usage
    texts. ``commands_per_minute`` <= 0 disables the anti-spam limit.
    ``refusal`` is the message key used when someone may not change a shared
    chat's subscriptions (Telegram: group admins only; Slack: a configurable policy).
    """

    store: CommandStore
    ops: PlatformOps
    platform: str
    catalogue: SectorCatalogue = field(default_factory=default_catalogue)
    default_language: str = "zh"
    prefix: str = "/"
    # what a new subscription gets (the welcome card quotes them); adapters pass the settings' values
    default_time: str = "08:00"
    default_timezone: str = "Asia/Shanghai"
    commands_per_minute: int = 20
    clock: Callable[[], float] = time.monotonic
    refusal: str = "not_admin"
    specs: tuple[CommandSpec, ...] = field(init=False)
    _by_name: dict[str, CommandSpec] = field(init=False, repr=False)
    limiter: RateLimiter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sector_specs = [_sector_spec(s) for s in self.catalogue]
        static = list(_STATIC)
        # sector commands right after /sectors, as in the menu users see
        cut = next((i + 1 for i, s in enumerate(static) if s.name == "sectors"), len(static))
        self.specs = (*static[:cut], *sector_specs, *static[cut:])
        self._by_name = {}
        for spec in self.specs:
            for n in spec.names:
                if n in self._by_name:
                    raise ValueError(f"command {n!r} is declared twice")
                self._by_name[n] = spec
        self.limiter = RateLimiter(self.commands_per_minute, 60.0, self.clock)

    def with_ops(self, ops: PlatformOps) -> Commands:
        """This command table with another :class:`PlatformOps`, for one request.

        For adapters whose ops depend on the request (Slack: the workspace's Web API client).
        A shallow copy: store, specs and the rate limiter are shared with ``self``.
        """
        view = copy.copy(self)
        view.ops = ops
        return view

    # -- lookup ---------------------------------------------------------------

    @property
    def command_names(self) -> tuple[str, ...]:
        """Every name and alias (what a platform must route to :meth:`handle`)."""
        return tuple(self._by_name)

    def resolve(self, name: str) -> CommandSpec | None:
        """A command by name or alias; on platforms with free text (Slack) also a sector name like 能源."""
        spec = self._by_name.get(name.lower().lstrip("/"))
        if spec is not None:
            return spec
        sector = self.catalogue.lookup(name)
        return self._by_name.get(sector.command) if sector is not None else None

    def menu(self, lang: Lang) -> list[tuple[str, str]]:
        """``(command, description)`` pairs for a platform menu (Telegram setMyCommands)."""
        out: list[tuple[str, str]] = []
        for spec in self.visible_specs:
            for n in (spec.name, *spec.menu_aliases):
                out.append((n, spec.description(lang)))
        return out

    @property
    def visible_specs(self) -> tuple[CommandSpec, ...]:
        """The commands this platform has (help, menus); the others still answer, with a refusal."""
        return tuple(s for s in self.specs if s.available_on(self.platform))

    def language(self, request: Request) -> Lang:
        return pick_language(request.language_code, self.default_language)

    # -- entry points ---------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        """Answer one command (or, in private chats, a plain message naming a sector)."""
        lang = self.language(request)
        spec: CommandSpec | None
        if request.command:
            spec = self.resolve(request.command)
            if spec is None:
                # In groups an unknown /command is likely another bot's: stay quiet.
                if not (request.is_private or request.explicit):
                    return Reply()
                return self._limited(request, lang) or Reply(
                    notice=t(lang, "unknown_command", prefix=self.prefix)
                )
        else:
            if not request.is_private:
                return Reply()
            sector = self.catalogue.lookup(request.text.strip())
            spec = self._by_name.get(sector.command) if sector is not None else None
            if spec is None:
                return self._limited(request, lang) or Reply(notice=t(lang, "plain_hint", prefix=self.prefix))
        return await self._dispatch(spec, request, lang)

    async def _dispatch(self, spec: CommandSpec, request: Request, lang: Lang) -> Reply:
        """Enforce what ``spec`` declares (rate limit, platform, admin rights), then run its handler."""
        limited = self._limited(request, lang)
        if limited is not None:
            return limited
        if not spec.available_on(self.platform):
            return Reply(notice=t(lang, f"only_{spec.platforms[0]}", prefix=self.prefix))
        if spec.needs_admin and not (spec.reads_bare and not request.args):
            names_target = spec.targets and any(_is_target(a) for a in request.args)
            if not names_target:  # a named channel is checked there (target_chat): admin, bot can post
                vouched = await self._vouch(request, lang)
                if isinstance(vouched, Reply):
                    return vouched
                request = vouched
        return await self._run(spec, request, lang, spec.handler)

    async def _vouch(self, request: Request, lang: Lang) -> Request | Reply:
        """The request marked as coming from an admin of its chat, or the platform's refusal.

        Private chats are their user's own; elsewhere the adapter may already vouch
        (``sender_is_admin``) or the platform is asked (:meth:`PlatformOps.is_admin`).
        """
        if request.is_private or request.sender_is_admin:
            return request
        try:
            admin = bool(request.user_id) and await self.ops.is_admin(request.chat.chat_id, request.user_id)
        except Exception:
            log.exception("admin check failed: platform=%s chat=%s", request.platform, request.chat.chat_id)
            return Reply(notice=t(lang, "internal_error"))
        if not admin:
            return Reply(notice=t(lang, self.refusal))
        return replace(request, sender_is_admin=True)

    async def db(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run one (synchronous) store call in a worker thread, so the event loop the delivery
        engine shares keeps serving deliveries and other replies while the database works."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def handle_action(self, request: Request, action: str, value: str) -> Reply:
        """Answer a button press (``action``/``value`` from :class:`~briefcast.render.document.Button`)."""
        lang = self.language(request)
        limited = self._limited(request, lang)
        if limited is not None:
            return limited
        handler = _ACTIONS.get(action)
        if handler is None:
            return Reply(notice=t(lang, "button_expired"))
        if action in ADMIN_ACTIONS:
            vouched = await self._vouch(request, lang)
            if isinstance(vouched, Reply):
                return vouched
            request = vouched

        async def run(c: Commands, r: Request, lg: Lang) -> Reply:
            return await handler(c, r, lg, value)

        return await self._run(None, request, lang, run)

    def _limited(self, request: Request, lang: Lang) -> Reply | None:
        verdict = self.limiter.check(request.sender_key)
        if verdict == "allow":
            return None
        return Reply(notice=t(lang, "rate_limited")) if verdict == "warn" else Reply()

    async def _run(self, spec: CommandSpec | None, request: Request, lang: Lang, handler: Handler) -> Reply:
        """Run a handler; bad input becomes a usage reply, anything else a logged apology."""
        try:
            return await handler(self, request, lang)
        except UsageError as e:
            return Reply(notice=self._usage_text(spec, lang, t(lang, e.key, **e.fields)))
        except Refusal as e:
            return Reply(notice=t(lang, e.key, **e.fields))
        except InvalidWatch as e:
            msg = t(lang, f"watch_{e.reason}", value=e.value, limit=e.limit)
            return Reply(notice=self._usage_text(spec, lang, msg))
        except WatchLimitReached as e:
            return Reply(notice=t(lang, "watch_limit", limit=e.limit, prefix=self.prefix))
        except (InvalidTime, InvalidTimezone, UnknownSector) as e:
            key = {InvalidTime: "bad_time", InvalidTimezone: "bad_timezone"}.get(type(e), "unknown_sector")
            msg = t(lang, key, value=e.value, name=e.value, choices=", ".join(self.catalogue.keys))
            return Reply(notice=self._usage_text(spec, lang, msg))
        except StoreInputError as e:
            return Reply(notice=self._usage_text(spec, lang, str(e)))
        except Exception:
            log.exception(
                "command failed: platform=%s chat=%s command=%r",
                request.platform,
                request.chat.chat_id,
                request.command,
            )
            return Reply(notice=t(lang, "internal_error"))

    def _usage_text(self, spec: CommandSpec | None, lang: Lang, message: str) -> str:
        if spec is None or not spec.usage(lang):
            return message
        usage = f"{self.prefix}{spec.name} {spec.usage(lang)}".strip()
        return f"{message}\n{t(lang, 'usage', usage=usage)}"

    # -- helpers shared by handlers ------------------------------------------

    async def latest(self) -> StoredIssue:
        # The hot path of every sector command: answered on the loop from the Store's copy when it
        # was confirmed newest within the last second (no database call, no thread hop: at
        # hundreds of commands/s the hop queued behind the GIL, p99 34 -> 309 ms), else off the loop.
        issue = self.store.latest_issue_if_recent(LATEST_MAX_AGE) or await self.db(self.store.latest_issue)
        if issue is None:
            raise Refusal("no_issue")
        return issue

    def sector_buttons(
        self,
        briefing: Briefing | None,
        *,
        lang: Lang,
        exclude: str | None = None,
        issue_id: int | None = None,
    ) -> tuple[tuple[Button, ...], ...]:
        """One button per sector (of the issue when given, else of the catalogue), labelled in ``lang``.

        An issue's buttons carry short references (:func:`compose.section_ref`), so any heading fits
        Telegram's 64-byte callback data, and distinct labels.
        """
        if briefing is None:
            buttons = [
                Button(
                    _short(f"{s.emoji} {s.name(lang)}".strip(), BUTTON_TEXT_MAX), action="sector", value=s.key
                )
                for s in self.catalogue
            ]
        else:
            labels = []
            for section in briefing.delivered_sections:
                sector = self.catalogue.get(section.key) if section.known else None
                label = (
                    f"{sector.emoji} {sector.name(lang)}"
                    if sector is not None
                    else f"{section.emoji} {section.name}"
                )
                labels.append(label.strip() or section.key)
            excluded = briefing.section(exclude) if exclude is not None else None
            buttons = compose.section_buttons(
                briefing,
                labels=labels,
                exclude=excluded.key if excluded is not None else exclude,
                issue_id=issue_id,
            )
        return tuple(tuple(buttons[i : i + BUTTONS_PER_ROW]) for i in range(0, len(buttons), BUTTONS_PER_ROW))

    def sector_reply(self, issue: StoredIssue, key: str, lang: Lang, *, latest: bool, public: bool) -> Reply:
        sector = self.catalogue.get(key)
        section = issue.briefing.section(key)
        if section is None:
            name = sector.name(lang) if sector is not None else key
            return Reply(notice=t(lang, "no_section", issue=_issue_label(issue), sector=name))
        buttons = self.sector_buttons(
            issue.briefing, lang=lang, exclude=key, issue_id=None if latest else issue.id
        )
        doc = compose.section_document(issue.briefing, section, lang=lang, buttons=buttons)
        return Reply(documents=(doc,), ephemeral=not public)

    async def target_chat(self, request: Request, target: str | None, lang: Lang) -> tuple[ChatRef, str, str]:
        """The chat whose subscriptions a request changes, after the permission checks.

        Returns ``(ref, kind, title)``. Without ``target`` it is the request's own
        chat (thread included): free in private chats, admins only elsewhere.
        With ``target`` (``@channel`` / id, from a private chat) the user must be
        an admin there and the bot must be able to post there.
        """
        if target is None:
            # the dispatcher checked the sender (CommandSpec.needs_admin / ADMIN_ACTIONS) and vouched
            # for it; a handler reaching here without that (a command not declared so) is refused
            if not (request.is_private or request.sender_is_admin):
                raise Refusal(self.refusal)
            return request.chat, request.chat_kind, request.chat_title
        if not request.is_private:
            raise Refusal("target_here_only")
        info = await self.ops.resolve_channel(target)
        if info is None:
            raise Refusal("channel_not_found", ref=target)
        if not await self.ops.is_admin(info.chat_id, request.user_id):
            raise Refusal("channel_not_admin", title=info.title or target)
        if not await self.ops.bot_can_post(info.chat_id):
            raise Refusal("channel_cannot_post", title=info.title or target)
        ref = ChatRef(request.platform, info.chat_id, workspace=request.chat.workspace)
        return ref, info.kind, info.title

    def where(self, request: Request, ref: ChatRef, title: str, lang: Lang) -> str:
        if ref.chat_id == request.chat.chat_id:
            return t(lang, "where_here")
        return t(lang, "where_chat", title=title or ref.chat_id)

    def here(self, request: Request, lang: Lang) -> str:
        """How the asking chat is called: this chat (Telegram), this channel / our DM (Slack)."""
        if self.platform == "slack":
            return t(lang, "here_dm" if request.is_private else "here_channel")
        return t(lang, "here_chat")

    def of_where(self, request: Request, ref: ChatRef, title: str, lang: Lang) -> str:
        """The chat a change is about, as a noun: "this chat" or the quoted title of a managed channel."""
        if ref.chat_id == request.chat.chat_id:
            return self.here(request, lang)
        return t(lang, "quoted", title=title or ref.chat_id)

    def help_footer(self, lang: Lang) -> str:
        """The help page's last line, true for this platform (Slack has no private chats or group admins)."""
        return t(lang, "help_footer_slack" if self.platform == "slack" else "help_footer")

    def sector_names(self, keys: Sequence[str], lang: Lang) -> str:
        if set(keys) >= set(self.catalogue.keys):
            return t(lang, "all_sectors")
        sep = "、" if lang == "zh" else ", "
        names = []
        for k in keys:
            s = self.catalogue.get(k)
            names.append(f"{s.emoji} {s.name(lang)}".strip() if s is not None else k)
        return sep.join(names)

    def schedule_text(self, sub: SubscriptionRecord, lang: Lang) -> str:
        if sub.mode == "publish":
            text = t(lang, "schedule_publish")
        elif sub.mode == "weekly":
            text = schedule_weekly(lang, sub.time, sub.timezone, sub.days)
        else:
            text = schedule_at(lang, sub.time, sub.timezone, sub.days)
        if sub.quiet:
            start, end = sub.quiet.split("-")
            text += t(lang, "schedule_quiet", start=start, end=end)
        return text

    async def subscriptions_document(self, request: Request, lang: Lang) -> Document | None:
        """The subscriptions visible from this chat, with toggles for this chat's own one."""
        own = [
            s
            for s in await self.db(
                self.store.subscriptions_for_chat,
                request.platform,
                request.chat.chat_id,
                request.chat.workspace,
            )
            if s.active
        ]
        others: list[SubscriptionRecord] = []
        if request.is_private and request.user_id:
            seen = {s.id for s in own}
            others = [
                s
                for s in await self.db(self.store.subscriptions_created_by, request.platform, request.user_id)
                if s.active and s.id not in seen and s.chat.chat_id != request.chat.chat_id
            ]
        if not own and not others:
            return None
        items: list[ListItem] = []
        topic_names: dict[tuple[str, str], dict[str, str]] = {}
        for s in [*own, *others]:
            if s.chat.chat_id == request.chat.chat_id:
                where = self.here(request, lang)
            else:
                where = s.chat_title or s.chat.chat_id
            if s.chat.thread_id:
                name = await self._topic_name(s.chat, topic_names)
                where += f" · {name or t(lang, 'subs_topic', thread=s.chat.thread_id)}"
            badges = self.settings_badges(s, lang)
            runs = (
                Run(where, frozenset({"bold"})),
                Run(
                    f" — {self.sector_names(s.sectors, lang)} — {self.schedule_text(s, lang)}"
                    + (f" — {badges}" if badges else "")
                ),
            )
            items.append(ListItem(runs))
        current = next((s for s in own if s.chat.thread_id == request.chat.thread_id), None)
        enabled = set(current.sectors) if current is not None else set()
        toggles = [
            Button(
                f"{'✅' if s.key in enabled else '➕'} {s.name(lang)}",
                action="toggle",
                value=s.key,
            )
            for s in self.catalogue
        ]
        rows = tuple(tuple(toggles[i : i + BUTTONS_PER_ROW]) for i in range(0, len(toggles), BUTTONS_PER_ROW))
        blocks: list[Block] = [ListBlock(tuple(items))]
        watcher = await self.db(self.store.watcher_for_chat, request.chat)
        if watcher is not None and watcher.words:
            line = t(lang, "subs_watches", words=_list_of(lang, watcher.phrases), prefix=self.prefix)
            blocks.append(Paragraph((Run(line),)))
        return Document(
            title=t(lang, "subs_title"),
            blocks=tuple(blocks),
            footer=t(lang, "subs_toggle_hint"),
            buttons=rows,
        )

    async def _topic_name(self, chat: ChatRef, cache: dict[tuple[str, str], dict[str, str]]) -> str:
        """The name /topics gave a forum topic ("" when briefcast did not create it)."""
        key = (chat.chat_id, chat.workspace)
        if key not in cache:
            forum = ChatRef(chat.platform, chat.chat_id, workspace=chat.workspace)
            cache[key] = {tp.thread_id: tp.name for tp in await self.db(self.store.forum_topics, forum)}
        return cache[key].get(chat.thread_id or "", "")

    async def current_subscription(self, ref: ChatRef) -> SubscriptionRecord | None:
        """The active subscription of exactly this chat and thread (None if there is none)."""
        return next(
            (
                s
                for s in await self.db(
                    self.store.subscriptions_for_chat, ref.platform, ref.chat_id, ref.workspace
                )
                if s.active and s.chat.thread_id == ref.thread_id
            ),
            None,
        )

    # -- watches ---------------------------------------------------------------

    def watch_document(self, issue: StoredIssue, passages: Sequence[Passage], lang: Lang) -> Document:
        """An issue's matches for some watched words, as this platform shows them."""
        return compose.watch_document(
            issue.briefing,
            passages,
            lang=lang,
            issue_id=issue.id,
            prefix=self.prefix,
            catalogue=self.catalogue,
        )

    def watches_document(self, request: Request, watcher: WatcherRecord, lang: Lang) -> Document:
        """The watched words, a remove button each, and a button to switch publish/daily."""
        if not watcher.words:
            body = Paragraph((Run(t(lang, "watch_none", prefix=self.prefix, limit=MAX_WATCHES_PER_CHAT)),))
            return Document(title=t(lang, "watches_title"), blocks=(body,))
        items = tuple(ListItem((Run(w.phrase),), number=i + 1) for i, w in enumerate(watcher.words))
        mode = Paragraph((Run(_mode_text(self, lang, watcher.mode), frozenset({"italic"})),))
        removes = [
            Button(_short(f"✖ {w.phrase}", BUTTON_TEXT_MAX), action="unwatch", value=str(w.id))
            for w in watcher.words
        ]
        rows = [tuple(removes[i : i + BUTTONS_PER_ROW]) for i in range(0, len(removes), BUTTONS_PER_ROW)]
        other = "publish" if watcher.mode == "daily" else "daily"
        rows.append((Button(t(lang, f"btn_watch_{other}"), action="wmode", value=other),))
        return Document(
            title=t(lang, "watches_title"),
            blocks=(ListBlock(items, ordered=True), mode),
            footer=t(
                lang, "watches_footer", n=len(watcher.words), limit=MAX_WATCHES_PER_CHAT, prefix=self.prefix
            ),
            buttons=tuple(rows),
        )

    # -- settings --------------------------------------------------------------

    def settings_values(self, sub: SubscriptionRecord, lang: Lang) -> list[tuple[str, str]]:
        """``(label, value)`` for each setting this platform has."""
        out = [(t(lang, "settings_variant"), t(lang, f"variant_{sub.variant}"))]
        if supports(self.platform, "silent"):
            out.append((t(lang, "settings_silent"), t(lang, "silent_on" if sub.silent else "silent_off")))
        if supports(self.platform, "previews"):
            out.append((t(lang, "settings_previews"), t(lang, "on" if sub.previews else "off")))
        return out

    def settings_summary(self, sub: SubscriptionRecord, lang: Lang) -> str:
        sep = "，" if lang == "zh" else ", "
        return sep.join(
            f"{label}{t(lang, 'colon')}{value}" for label, value in self.settings_values(sub, lang)
        )

    def settings_badges(self, sub: SubscriptionRecord, lang: Lang) -> str:
        """The settings that differ from the defaults, short (for subscription lists); "" if none."""
        out = []
        if sub.variant == "compact":
            out.append(t(lang, "badge_compact"))
        if sub.silent and supports(self.platform, "silent"):
            out.append(t(lang, "badge_silent"))
        if sub.previews and supports(self.platform, "previews"):
            out.append(t(lang, "badge_previews"))
        return " · ".join(out)

    def settings_document(
        self, request: Request, sub: SubscriptionRecord, title: str, lang: Lang
    ) -> Document:
        """The subscription's settings; buttons to change them when it is this chat's own."""
        items = tuple(
            ListItem((Run(label, frozenset({"bold"})), Run(f"{t(lang, 'colon')}{value}")))
            for label, value in self.settings_values(sub, lang)
        )
        heading = t(lang, "settings_title")
        if sub.chat.chat_id != request.chat.chat_id:
            heading += f" · {title or sub.chat.chat_id}"
        rows: list[tuple[Button, ...]] = []
        if sub.chat == request.chat:

            def choice(option: str, value: str, label: str, current: bool) -> Button:
                return Button(f"{'✅ ' if current else ''}{label}", action="set", value=f"{option}.{value}")

            rows.append(
                (
                    choice("variant", "full", t(lang, "variant_full"), sub.variant == "full"),
                    choice("variant", "compact", t(lang, "variant_compact"), sub.variant == "compact"),
                )
            )
            if supports(self.platform, "silent"):
                rows.append(
                    (
                        choice("silent", "0", t(lang, "silent_off"), not sub.silent),
                        choice("silent", "1", t(lang, "silent_on"), sub.silent),
                    )
                )
            if supports(self.platform, "previews"):
                rows.append(
                    (
                        choice("previews", "0", t(lang, "previews_off"), not sub.previews),
                        choice("previews", "1", t(lang, "previews_on"), sub.previews),
                    )
                )
        return Document(
            title=heading,
            blocks=(ListBlock(items),),
            footer=t(
                lang,
                "settings_hint_slack" if self.platform == "slack" else "settings_hint",
                prefix=self.prefix,
            ),
            buttons=tuple(rows),
        )

    # -- welcome ---------------------------------------------------------------

    def welcome(self, request: Request) -> Reply:
        """The card posted once when the bot is added to a group: a subscribe button per sector.

        The buttons are the ``toggle`` buttons of /subscriptions, so only administrators (the
        platform's rule, as for /subscribe) can use them; others get the refusal as a toast.
        """
        lang = self.language(request)
        body = [
            Paragraph(
                (
                    Run(
                        t(
                            lang,
                            "welcome_group_body",
                            time=self.default_time,
                            tz=self.default_timezone,
                            prefix=self.prefix,
                        )
                    ),
                )
            )
        ]
        if request.is_forum and any(s.available_on(self.platform) for s in self.specs if s.name == "topics"):
            body.append(Paragraph((Run(t(lang, "welcome_group_forum", prefix=self.prefix)),)))
        toggles = [
            Button(
                _short(f"➕ {s.emoji} {s.name(lang)}".strip(), BUTTON_TEXT_MAX), action="toggle", value=s.key
            )
            for s in self.catalogue
        ]
        rows = tuple(tuple(toggles[i : i + BUTTONS_PER_ROW]) for i in range(0, len(toggles), BUTTONS_PER_ROW))
        title = t(lang, "welcome_group_title", title=request.chat_title or t(lang, "here_chat"))
        return Reply(documents=(Document(title=title, blocks=tuple(body), buttons=rows),), ephemeral=False)


def _issue_label(issue: StoredIssue) -> str:
    return issue.date.isoformat() if issue.date is not None else f"#{issue.id}"


# --------------------------------------------------------------- sector command


def _sector_spec(sector: Sector) -> CommandSpec:
    async def show(c: Commands, request: Request, lang: Lang) -> Reply:
        _, public = _split_public(request.args)
        return c.sector_reply(await c.latest(), sector.key, lang, latest=True, public=public)

    show.__doc__ = f"Show the {sector.key} section of the latest issue."
    return CommandSpec(
        name=sector.command,
        handler=show,
        description_zh=sector.description("zh"),
        description_en=sector.description("en"),
        aliases=sector.commands[1:],
        sector=sector.key,
        menu_aliases=sector.commands[1:],
    )


# ------------------------------------------------------------- static commands


@command("start", zh="开始使用，查看板块按钮", en="Start: welcome and sector buttons")
async def cmd_start(c: Commands, request: Request, lang: Lang) -> Reply:
    """Welcome the user and offer a button per sector."""
    issue = await c.db(c.store.latest_issue)
    body = Paragraph((Run(t(lang, "welcome_body", prefix=c.prefix)),))
    doc = Document(
        title=t(lang, "welcome_title"),
        blocks=(body,),
        buttons=c.sector_buttons(issue.briefing if issue is not None else None, lang=lang),
    )
    return Reply(documents=(doc,))


@command("help", zh="查看全部命令", en="List every command")
async def cmd_help(c: Commands, request: Request, lang: Lang) -> Reply:
    """One line per command: name, aliases, arguments and what it does."""
    items: list[ListItem] = []
    for spec in c.visible_specs:
        head = f"{c.prefix}{spec.name}"
        if spec.usage(lang):
            head += f" {spec.usage(lang)}"
        tail = f" — {spec.description(lang)}"
        if spec.aliases:
            tail += f" ({t(lang, 'alias')}: {', '.join(c.prefix + a for a in spec.aliases)})"
        items.append(ListItem((Run(head, frozenset({"code"})), Run(tail))))
    doc = Document(title=t(lang, "help_title"), blocks=(ListBlock(tuple(items)),), footer=c.help_footer(lang))
    return Reply(documents=(doc,))


@command("sectors", zh="查看全部板块", en="List the sectors")
async def cmd_sectors(c: Commands, request: Request, lang: Lang) -> Reply:
    """The catalogue: emoji, name, command and description of each sector."""
    items = []
    for s in c.catalogue:
        cmds = ", ".join(c.prefix + x for x in s.commands)
        items.append(
            ListItem(
                (
                    Run(f"{s.emoji} {s.name(lang)}".strip(), frozenset({"bold"})),
                    Run(f" {cmds} — {s.description(lang)}"),
                )
            )
        )
    doc = Document(
        title=t(lang, "sectors_title"),
        blocks=(ListBlock(tuple(items)),),
        buttons=c.sector_buttons(None, lang=lang),
    )
    return Reply(documents=(doc,))


@command("keywords", zh="本期关键词（点击查看相关段落）", en="Keywords of the issue (tap for passages)")
async def cmd_keywords(c: Commands, request: Request, lang: Lang) -> Reply:
    """The latest issue's keywords; each button carries ``<issue>.<index>`` so old buttons stay right."""
    issue = await c.latest()
    _, public = _split_public(request.args)
    if not issue.briefing.keywords:
        return Reply(notice=t(lang, "no_keywords"))
    doc = compose.keywords_document(issue.briefing, lang)
    rows = tuple(
        tuple(replace(b, value=f"{issue.id}.{b.value}") if b.action == "kw" else b for b in row)
        for row in doc.buttons
    )
    return Reply(documents=(replace(doc, buttons=rows),), ephemeral=not public)


@command("insight", zh="本期核心启示", en="Takeaways of the issue")
async def cmd_insight(c: Commands, request: Request, lang: Lang) -> Reply:
    """The latest issue's closing takeaways."""
    issue = await c.latest()
    _, public = _split_public(request.args)
    if not issue.briefing.takeaways:
        return Reply(notice=t(lang, "no_takeaways"))
    return Reply(documents=(compose.takeaways_document(issue.briefing, lang),), ephemeral=not public)


@command("latest", zh="最新一期概览", en="Overview of the latest issue")
async def cmd_latest(c: Commands, request: Request, lang: Lang) -> Reply:
    """Title, topics, one line per sector, a button per sector."""
    issue = await c.latest()
    _, public = _split_public(request.args)
    doc = compose.overview_document(issue.briefing, lang)
    # a position only names a section within one issue: pin such buttons to this one
    pinned = any(b.value.startswith("#") for row in doc.buttons for b in row)
    doc = replace(
        doc, buttons=c.sector_buttons(issue.briefing, lang=lang, issue_id=issue.id if pinned else None)
    )
    return Reply(documents=(doc,), ephemeral=not public)


@command(
    "issue",
    zh="查看往期简报",
    en="Show a past issue",
    usage_zh="日期|编号",
    usage_en="DATE|ID",
)
async def cmd_issue(c: Commands, request: Request, lang: Lang) -> Reply:
    """A past issue's overview; its sector buttons point at that issue, not the latest."""
    args, public = _split_public(request.args)
    if not args:
        raise UsageError("missing_args")
    ref = args[0]
    issue = published(await c.db(c.store.find_issue, ref))
    if issue is None:
        return Reply(notice=t(lang, "issue_not_found", ref=ref))
    doc = compose.overview_document(issue.briefing, lang)
    doc = replace(doc, buttons=c.sector_buttons(issue.briefing, lang=lang, issue_id=issue.id))
    return Reply(documents=(doc,), ephemeral=not public)


@command(
    "search",
    zh="全文搜索往期内容",
    en="Search the archive",
    usage_zh="关键词",
    usage_en="TEXT",
)
async def cmd_search(c: Commands, request: Request, lang: Lang) -> Reply:
    """Top full-text matches with their issue, sector, snippet and links."""
    args, public = _split_public(request.args)
    query = " ".join(args).strip()
    if not query:
        raise UsageError("missing_args")
    hits = await c.db(c.store.search, query, limit=5)
    if not hits:
        return Reply(notice=t(lang, "search_none", query=query))
    blocks: list[Block] = [_hit_paragraph(c, hit, lang) for hit in hits]
    doc = Document(title=t(lang, "search_title", query=_short(query, 64)), blocks=tuple(blocks))
    return Reply(documents=(doc,), ephemeral=not public)


def _hit_paragraph(c: Commands, hit: SearchHit, lang: Lang) -> Paragraph:
    sector = c.catalogue.get(hit.section_key)
    if hit.section_key == "intro":  # the issue's intro is indexed under this reserved key
        where = compose.intro_label(lang)
    elif sector is not None:
        where = f"{sector.emoji} {sector.name(lang)}".strip()
    else:
        where = hit.section_key
    when = hit.issue_date.isoformat() if hit.issue_date is not None else f"#{hit.issue_id}"
    runs: list[Run] = [
        Run(f"{when} · {where}", frozenset({"bold"})),
        Run("\n"),
        Run(_short(hit.snippet, 300)),
    ]
    for link in _unique_links(hit.links)[:3]:
        runs += [Run("\n"), Run("→ "), Run(_short(link.text or link.url, 80), url=link.url)]
    return Paragraph(tuple(runs))


def _unique_links(links: Sequence[Link]) -> list[Link]:
    seen: set[str] = set()
    out = []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            out.append(link)
    return out


@command(
    "subscribe",
    zh="订阅推送（默认全部板块、每天 08:00）",
    en="Subscribe (default: all sectors, daily 08:00)",
    usage_zh="[@频道] [板块...|all] [HH:MM] [周一,三,五|工作日|每天] [Area/City] [publish|每周]",
    usage_en="[@channel] [SECTOR...|all] [HH:MM] [mon,wed,fri|weekdays|daily] [Area/City] [publish|weekly]",
    changes_subscriptions=True,
    needs_admin=True,
    targets=True,
)
async def cmd_subscribe(c: Commands, request: Request, lang: Lang) -> Reply:
    """Subscribe this chat, this topic, or (from private) a channel the user administers."""
    parsed = parse_subscribe_args(request.args, c.catalogue)
    ref, kind, title = await c.target_chat(request, parsed.target, lang)
    await c.db(c.store.upsert_chat, ref, kind=kind, title=title, language=lang)
    sectors = parsed.sectors if parsed.sectors is not None else c.catalogue.keys
    sub = await c.db(
        c.store.subscribe,
        ref,
        sectors,
        time=parsed.time,
        timezone=parsed.timezone,
        mode=parsed.mode,
        created_by=request.user_id,
        days=parsed.days,
    )
    msg = t(
        lang,
        "subscribed",
        where=c.where(request, ref, title, lang),
        sectors=c.sector_names(sub.sectors, lang),
        schedule=c.schedule_text(sub, lang),
    )
    return Reply(notice=msg, ephemeral=False)


@command(
    "unsubscribe",
    zh="取消订阅",
    en="Unsubscribe",
    usage_zh="[@频道] [板块...|all]",
    usage_en="[@channel] [SECTOR...|all]",
    changes_subscriptions=True,
    needs_admin=True,
    targets=True,
)
async def cmd_unsubscribe(c: Commands, request: Request, lang: Lang) -> Reply:
    """Drop some sectors, or everything, from this chat's (or a managed channel's) subscription."""
    parsed = parse_subscribe_args(request.args, c.catalogue, schedule=False)
    ref, _kind, title = await c.target_chat(request, parsed.target, lang)
    where = c.where(request, ref, title, lang)
    if await c.current_subscription(ref) is None:
        return Reply(notice=_not_subscribed(c, request, ref, title, lang))
    sub = await c.db(c.store.unsubscribe, ref, parsed.sectors)
    if sub is None:
        return Reply(notice=_not_subscribed(c, request, ref, title, lang))
    if parsed.sectors is None or not sub.active:
        return Reply(
            notice=t(lang, "unsubscribed_all", where=c.of_where(request, ref, title, lang)), ephemeral=False
        )
    return Reply(
        notice=t(lang, "unsubscribed", where=where, sectors=c.sector_names(parsed.sectors, lang)),
        ephemeral=False,
    )


def _not_subscribed(c: Commands, request: Request, ref: ChatRef, title: str, lang: Lang) -> str:
    return t(lang, "not_subscribed", where=_cap(c.of_where(request, ref, title, lang)), prefix=c.prefix)


def _cap(text: str) -> str:
    """Sentence case for an English noun phrase at the start of a sentence ("this chat" -> "This chat")."""
    return text[:1].upper() + text[1:]


@command(
    "subscriptions",
    zh="查看订阅（私聊中含你管理的频道）",
    en="Show subscriptions (in private: also channels you manage)",
    aliases=("list",),
)
async def cmd_subscriptions(c: Commands, request: Request, lang: Lang) -> Reply:
    """This chat's subscriptions; in a private chat also the channels this user subscribed."""
    doc = await c.subscriptions_document(request, lang)
    if doc is None:
        return Reply(notice=t(lang, "subs_none", prefix=c.prefix))
    return Reply(documents=(doc,))


def _target_and_one_arg(args: Sequence[str]) -> tuple[str | None, str]:
    """``[@channel] VALUE``: the optional target and exactly one value (else a usage error)."""
    target, rest = _pop_target(args)
    if len(rest) != 1:
        raise UsageError("missing_args" if not rest else "unexpected_arg", value=" ".join(rest[1:]))
    return target, rest[0]


@command(
    "settime",
    zh="修改每日推送时间",
    en="Change the daily delivery time",
    usage_zh="HH:MM [@频道]",
    usage_en="HH:MM [@channel]",
    changes_subscriptions=True,
    needs_admin=True,
    targets=True,
)
async def cmd_settime(c: Commands, request: Request, lang: Lang) -> Reply:
    """Move the daily digest of this chat (or a managed channel) to another local time."""
    target, word = _target_and_one_arg(request.args)
    value = parse_time(word)
    return await _set_schedule(c, request, lang, target, time=value)


@command(
    "timezone",
    zh="修改时区",
    en="Change the time zone",
    usage_zh="Area/City [@频道]",
    usage_en="Area/City [@channel]",
    changes_subscriptions=True,
    needs_admin=True,
    targets=True,
)
async def cmd_timezone(c: Commands, request: Request, lang: Lang) -> Reply:
    """Set the IANA time zone the daily delivery time is read in."""
    target, word = _target_and_one_arg(request.args)
    value = parse_timezone(word)
    return await _set_schedule(c, request, lang, target, timezone=value)


@command(
    "quiet",
    zh="免打扰时段：发布即推送的消息延后到时段结束",
    en="Quiet hours: on-publish pushes wait until they end",
    usage_zh="HH:MM-HH:MM|off [@频道]",
    usage_en="HH:MM-HH:MM|off [@channel]",
    changes_subscriptions=True,
    needs_admin=True,
    targets=True,
)
async def cmd_quiet(c: Commands, request: Request, lang: Lang) -> Reply:
    """Set or clear this chat's quiet hours (read in its subscription's time zone)."""
    target, words = _pop_target(request.args)
    if not words:
        raise UsageError("missing_args")
    value = " ".join(words)
    try:
        quiet = validate.parse_quiet(value)
    except InvalidQuiet:
        raise UsageError("bad_quiet", value=value) from None
    ref, _kind, title = await c.target_chat(request, target, lang)
    sub = await c.db(c.store.set_quiet, ref, quiet)
    if sub is None or not sub.active:
        return Reply(notice=_not_subscribed(c, request, ref, title, lang))
    where = c.where(request, ref, title, lang)
    if not quiet:
        return Reply(notice=t(lang, "quiet_off", where=where), ephemeral=False)
    start, end = quiet.split("-")
    return Reply(
        notice=t(lang, "quiet_set", where=where, start=start, end=end, tz=sub.timezone), ephemeral=False
    )


def _pop_target(args: Sequence[str]) -> tuple[str | None, list[str]]:
    """A ``@channel`` / id argument anywhere in ``args``, and the other words."""
    target = next((a for a in args if _is_target(a)), None)
    return target, [a for a in args if a != target]


async def _set_schedule(
    c: Commands,
    request: Request,
    lang: Lang,
    target: str | None,
    *,
    time: str | None = None,
    timezone: str | None = None,
) -> Reply:
    ref, _kind, title = await c.target_chat(request, target, lang)
    # a time makes an on-publish subscription scheduled; a weekly roll-up stays weekly at the new time
    current = await c.current_subscription(ref) if time is not None else None
    mode = "scheduled" if time is not None and (current is None or current.mode != "weekly") else None
    sub = await c.db(c.store.set_schedule, ref, time=time, timezone=timezone, mode=mode)
    if sub is None or not sub.active:
        return Reply(notice=_not_subscribed(c, request, ref, title, lang))
    msg = t(
        lang, "schedule_set", where=c.where(request, ref, title, lang), schedule=c.schedule_text(sub, lang)
    )
    return Reply(notice=msg, ephemeral=False)


# ------------------------------------------------------------------ keyword watches

WATCH_DAILY_WORDS = frozenset(
    {"daily", "digest", "scheduled", "每天", "每日", "定时", "随推送", "随每日推送"}
)
_PHRASE_SEP = re.compile(r"[,，、;；]")
_QUOTE_CHARS = "\"'“”‘’「」『』《》"


def parse_watch_args(args: Sequence[str]) -> tuple[list[str], str | None]:
    """``/watch 钠电池, 固态电池 daily`` -> (["钠电池", "固态电池"], "daily").

    Phrases are separated by commas (spaces belong to the phrase: ``solid state battery``); a
    last word ``publish`` / ``daily`` (or 发布 / 每天 …) is the delivery mode unless quoted.
    """
    words = list(args)
    mode: str | None = None
    if words and words[-1][-1:] not in _QUOTE_CHARS:
        low = words[-1].lower()
        if low in PUBLISH_WORDS:
            mode = "publish"
        elif low in WATCH_DAILY_WORDS:
            mode = "daily"
        if mode is not None:
            words.pop()
    phrases = [p.strip() for p in _PHRASE_SEP.split(" ".join(words)) if p.strip()]
    return phrases, mode


def _mode_word(args: Sequence[str]) -> str | None:
    """``publish`` / ``daily`` when ``args`` is exactly one mode word, else None."""
    if len(args) != 1:
        return None
    low = args[0].lower()
    return "publish" if low in PUBLISH_WORDS else "daily" if low in WATCH_DAILY_WORDS else None


def _list_of(lang: Lang, items: Sequence[str]) -> str:
    quoted = [t(lang, "quoted", title=i) for i in items]
    return ("、" if lang == "zh" else ", ").join(quoted)


async def _watch_ref(c: Commands, request: Request, lang: Lang) -> ChatRef:
    """The chat (thread) whose watches a request changes, after the same checks as subscriptions."""
    ref, kind, title = await c.target_chat(request, None, lang)
    await c.db(c.store.upsert_chat, ref, kind=kind, title=title, language=lang)
    return ref


async def _has_daily_push(c: Commands, ref: ChatRef) -> bool:
    """Whether the chat (thread) has an active scheduled subscription for 'daily' matches to ride on."""
    return any(
        s.active and s.mode == "scheduled" and s.chat.thread_id == ref.thread_id
        for s in await c.db(c.store.subscriptions_for_chat, ref.platform, ref.chat_id, ref.workspace)
    )


def _mode_text(c: Commands, lang: Lang, mode: str) -> str:
    return t(lang, "watch_mode_daily" if mode == "daily" else "watch_mode_publish", prefix=c.prefix)


@command(
    "watch",
    zh="关注关键词：新一期提到它时把相关段落发给你",
    en="Watch a word: get the passages that mention it",
    usage_zh="词语[, 词语...] [publish|daily]",
    usage_en="WORD[, WORD...] [publish|daily]",
    changes_subscriptions=True,
    needs_admin=True,
)
async def cmd_watch(c: Commands, request: Request, lang: Lang) -> Reply:
    """Add watched words (plain text, never patterns) to this chat (thread).

    The reply also shows what the latest issue already says about them.
    """
    phrases, mode = parse_watch_args(request.args)
    if not phrases:
        raise UsageError("missing_args")
    parsed = [validate.parse_watch(p) for p in phrases]  # validate all before asking the platform
    ref = await _watch_ref(c, request, lang)
    if mode == "daily" and not await _has_daily_push(c, ref):
        raise Refusal("watch_daily_needs_subscription", prefix=c.prefix)
    result = await c.db(
        c.store.add_watches, ref, [p for p, _ in parsed], created_by=request.user_id, mode=mode
    )
    lines: list[str] = []
    if result.added:
        lines.append(t(lang, "watch_added", words=_list_of(lang, result.added)))
    if result.existing:
        lines.append(t(lang, "watch_existing", words=_list_of(lang, result.existing)))
    watcher = result.watcher
    lines.append(_mode_text(c, lang, watcher.mode))
    lines.append(t(lang, "watch_count", n=len(watcher.words), limit=MAX_WATCHES_PER_CHAT, prefix=c.prefix))
    documents: tuple[Document, ...] = ()
    issue = await c.db(c.store.latest_issue)
    if issue is not None and result.added:
        passages = watch_matches(issue.briefing, result.added)
        if passages:
            lines.append(t(lang, "watch_latest_preview", n=len(passages)))
            documents = (c.watch_document(issue, passages, lang),)
    return Reply(notice="\n".join(lines), documents=documents, ephemeral=False)


@command(
    "watches",
    zh="查看关注的关键词（可设置 publish 或 daily）",
    en="Your watched words (set publish or daily)",
    usage_zh="[publish|daily]",
    usage_en="[publish|daily]",
    changes_subscriptions=True,
    needs_admin=True,
    reads_bare=True,
)
async def cmd_watches(c: Commands, request: Request, lang: Lang) -> Reply:
    """List this chat's watched words with a remove button each; ``publish``/``daily`` switches the mode."""
    if request.args:
        mode = _mode_word(request.args)
        if mode is None:
            raise UsageError("unexpected_arg", value=" ".join(request.args))
        return await _set_watch_mode(c, request, lang, mode)
    watcher = await c.db(c.store.watcher_for_chat, request.chat)
    if watcher is None or not watcher.words:
        return Reply(notice=t(lang, "watch_none", prefix=c.prefix, limit=MAX_WATCHES_PER_CHAT))
    return Reply(documents=(c.watches_document(request, watcher, lang),))


async def _set_watch_mode(c: Commands, request: Request, lang: Lang, mode: str) -> Reply:
    ref, _kind, _title = await c.target_chat(request, None, lang)
    if mode == "daily" and not await _has_daily_push(c, ref):
        raise Refusal("watch_daily_needs_subscription", prefix=c.prefix)
    watcher = await c.db(c.store.set_watch_mode, ref, mode)
    if watcher is None or not watcher.words:
        return Reply(notice=t(lang, "watch_none", prefix=c.prefix, limit=MAX_WATCHES_PER_CHAT))
    return Reply(
        notice=_mode_text(c, lang, watcher.mode),
        documents=(c.watches_document(request, watcher, lang),),
        edit=True,
    )


@command(
    "unwatch",
    zh="取消关注关键词",
    en="Stop watching a word",
    usage_zh="词语[, 词语...]|all",
    usage_en="WORD[, WORD...]|all",
    changes_subscriptions=True,
    needs_admin=True,
)
async def cmd_unwatch(c: Commands, request: Request, lang: Lang) -> Reply:
    """Remove watched words (or ``all``) from this chat (thread)."""
    phrases, _ = parse_watch_args(request.args)
    if not phrases:
        raise UsageError("missing_args")
    ref, _kind, _title = await c.target_chat(request, None, lang)
    everything = len(phrases) == 1 and phrases[0].lower() in ALL_WORDS
    removed, left = await c.db(
        c.store.remove_watches, ref, None if everything else [validate.unquote(p) for p in phrases]
    )
    if not removed:
        key = "watch_none" if everything else "watch_not_found"
        return Reply(
            notice=t(lang, key, words=_list_of(lang, phrases), prefix=c.prefix, limit=MAX_WATCHES_PER_CHAT)
        )
    return Reply(
        notice=t(lang, "watch_removed", words=_list_of(lang, removed), n=left, prefix=c.prefix),
        ephemeral=False,
    )


# ------------------------------------------------------------------ settings

_ON = frozenset({"on", "yes", "true", "1", "开", "开启", "打开", "是"})
_OFF = frozenset({"off", "no", "false", "0", "关", "关闭", "否"})
_FULL = frozenset({"full", "完整", "全文"})
_COMPACT = frozenset({"compact", "short", "精简", "简洁", "简短"})
_SILENT = frozenset({"silent", "quiet", "mute", "静音", "免打扰"})
_PREVIEWS = frozenset({"previews", "preview", "links", "预览", "链接预览"})


@dataclass(frozen=True, slots=True)
class SettingsArgs:
    """Parsed ``/settings`` arguments; None = leave as it is."""

    target: str | None = None
    variant: str | None = None
    silent: bool | None = None
    previews: bool | None = None

    @property
    def empty(self) -> bool:
        return self.variant is None and self.silent is None and self.previews is None


def parse_settings_args(args: Sequence[str]) -> SettingsArgs:
    """``[@channel] [full|compact] [silent on|off] [previews on|off]`` in any order (on is the default)."""
    target, rest = _pop_target(args)
    variant: str | None = None
    silent: bool | None = None
    previews: bool | None = None
    words = [w.lower() for w in rest]
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        flag = True if nxt in _ON else False if nxt in _OFF else None
        if w in _FULL:
            variant = "full"
        elif w in _COMPACT:
            variant = "compact"
        elif w in _SILENT:
            silent = True if flag is None else flag
            i += flag is not None
        elif w in _PREVIEWS:
            previews = True if flag is None else flag
            i += flag is not None
        else:
            raise UsageError("unexpected_arg", value=rest[i])
        i += 1
    return SettingsArgs(target, variant, silent, previews)


@command(
    "settings",
    zh="推送设置：完整/精简摘要、静音推送、链接预览",
    en="Delivery settings: full or compact digest, silent pushes, link previews",
    usage_zh="[@频道] [full|compact] [silent on|off] [previews on|off]",
    usage_en="[@channel] [full|compact] [silent on|off] [previews on|off]",
    changes_subscriptions=True,
    needs_admin=True,
    targets=True,
    reads_bare=True,
)
async def cmd_settings(c: Commands, request: Request, lang: Lang) -> Reply:
    """Show this subscription's settings with buttons, or change them from the arguments."""
    parsed = parse_settings_args(request.args)
    if parsed.empty:
        ref, title = request.chat, request.chat_title
        if parsed.target is not None:
            ref, _kind, title = await c.target_chat(request, parsed.target, lang)
        sub = await c.current_subscription(ref)
        if sub is None:
            return Reply(notice=_not_subscribed(c, request, ref, title, lang))
        return Reply(documents=(c.settings_document(request, sub, title, lang),))
    return await _change_settings(c, request, lang, parsed)


async def _change_settings(c: Commands, request: Request, lang: Lang, parsed: SettingsArgs) -> Reply:
    if parsed.silent is not None and not supports(c.platform, "silent"):
        raise Refusal("settings_no_silent")
    ref, _kind, title = await c.target_chat(request, parsed.target, lang)
    sub = await c.db(
        c.store.set_options, ref, variant=parsed.variant, silent=parsed.silent, previews=parsed.previews
    )
    if sub is None or not sub.active:
        return Reply(notice=_not_subscribed(c, request, ref, title, lang))
    notice = t(
        lang,
        "settings_saved",
        where=c.where(request, ref, title, lang),
        summary=c.settings_summary(sub, lang),
    )
    return Reply(
        notice=notice, documents=(c.settings_document(request, sub, title, lang),), ephemeral=False, edit=True
    )


# ------------------------------------------------------------------ forum topics


@command(
    "topics",
    zh="论坛群组：为每个板块建一个话题并分别推送（off 取消）",
    en="Forum groups: one topic per sector, each with its own digest (off to undo)",
    usage_zh="[板块...|all] [HH:MM] [Area/City] [publish] | off",
    usage_en="[SECTOR...|all] [HH:MM] [Area/City] [publish] | off",
    changes_subscriptions=True,
    needs_admin=True,
    platforms=("telegram",),
)
async def cmd_topics(c: Commands, request: Request, lang: Lang) -> Reply:
    """Create (or reopen) a topic per sector and subscribe each to its sector; ``off`` closes them."""
    off = len(request.args) == 1 and request.args[0].lower() in ("off", "stop", "关闭", "取消")
    if request.is_private or request.chat_kind not in ("supergroup", "group"):
        raise Refusal("topics_not_group")
    parsed = parse_subscribe_args([] if off else request.args, c.catalogue)
    if parsed.target is not None:
        raise UsageError("unexpected_arg", value=parsed.target)
    await c.target_chat(request, None, lang)  # admins only
    if not request.is_forum:
        raise Refusal("topics_not_forum")
    if not isinstance(c.ops, ForumOps):
        raise Refusal("only_telegram")
    forum = ChatRef(request.platform, request.chat.chat_id, workspace=request.chat.workspace)
    await c.db(c.store.upsert_chat, forum, kind=request.chat_kind, title=request.chat_title, language=lang)
    if off:
        return await _topics_off(c, c.ops, request, lang, forum)
    return await _topics_on(c, c.ops, request, lang, forum, parsed)


async def _topics_on(
    c: Commands, ops: ForumOps, request: Request, lang: Lang, forum: ChatRef, parsed: SubscribeArgs
) -> Reply:
    wanted = set(parsed.sectors) if parsed.sectors is not None else set(c.catalogue.keys)
    keys = [k for k in c.catalogue.keys if k in wanted]  # topics appear in catalogue order
    known = {t_.sector: t_ for t_ in await c.db(c.store.forum_topics, forum)}
    created: list[str] = []
    reopened: list[str] = []
    kept: list[str] = []
    problem: TopicError | None = None
    threads: dict[str, str] = {}
    for i, key in enumerate(keys):
        sector = c.catalogue.get(key)
        if sector is None:
            continue
        name = _short(f"{sector.emoji} {sector.name(lang)}".strip(), TOPIC_NAME_MAX)
        topic = known.get(key)
        thread: str | None = None
        try:
            if topic is not None and topic.state == "open":
                thread = topic.thread_id
                kept.append(key)
            elif topic is not None:
                try:
                    await ops.reopen_topic(forum.chat_id, topic.thread_id)
                    thread = topic.thread_id
                    reopened.append(key)
                except TopicError as e:
                    if e.reason != "gone":
                        raise
            if thread is None:
                thread = await ops.create_topic(forum.chat_id, name, TOPIC_COLORS[i % len(TOPIC_COLORS)])
                created.append(key)
        except TopicError as e:
            problem = e
            break
        threads[key] = thread
        await c.db(c.store.save_forum_topic, forum, key, thread, name=name, created_by=request.user_id)
        await c.db(
            c.store.subscribe,
            replace(forum, thread_id=thread),
            [key],
            time=parsed.time,
            timezone=parsed.timezone,
            mode=parsed.mode,
            created_by=request.user_id,
            days=parsed.days,
        )
    lines: list[str] = []
    if created or reopened:
        ready = [k for k in keys if k in created or k in reopened]
        lines.append(t(lang, "topics_created", sectors=c.sector_names(ready, lang)))
    if kept:
        lines.append(t(lang, "topics_kept", sectors=c.sector_names(kept, lang)))
    done = [*created, *reopened, *kept]
    if done:
        sample = await c.current_subscription(replace(forum, thread_id=threads[done[0]]))
        if sample is not None:
            lines.append(t(lang, "topics_schedule", schedule=c.schedule_text(sample, lang), prefix=c.prefix))
    if problem is not None:
        lines.append(t(lang, f"topics_{problem.reason}" if problem.reason != "gone" else "topics_other"))
    general = await c.current_subscription(forum)
    if done and general is not None:
        lines.append(t(lang, "topics_general_kept", prefix=c.prefix))
    return Reply(notice="\n".join(lines), ephemeral=False)


async def _topics_off(c: Commands, ops: ForumOps, request: Request, lang: Lang, forum: ChatRef) -> Reply:
    open_topics = [tp for tp in await c.db(c.store.forum_topics, forum) if tp.state == "open"]
    if not open_topics:
        return Reply(notice=t(lang, "topics_none", prefix=c.prefix))
    closed: list[str] = []
    failed: list[str] = []
    for topic in open_topics:
        await c.db(c.store.unsubscribe, replace(forum, thread_id=topic.thread_id))
        try:
            await ops.close_topic(forum.chat_id, topic.thread_id)
        except TopicError as e:
            if e.reason != "gone":
                failed.append(topic.sector)
        await c.db(c.store.set_forum_topic_state, forum, topic.sector, "closed")
        closed.append(topic.sector)
    lines = [t(lang, "topics_closed", sectors=c.sector_names(closed, lang), prefix=c.prefix)]
    if failed:
        lines.append(t(lang, "topics_close_failed", sectors=c.sector_names(failed, lang)))
    return Reply(notice="\n".join(lines), ephemeral=False)


# ------------------------------------------------------------------ button actions

ActionHandler = Callable[[Commands, Request, Lang, str], Awaitable[Reply]]


def published(issue: StoredIssue | None) -> StoredIssue | None:
    """Drafts (uploads awaiting an operator's decision) are never shown to chat users."""
    return issue if issue is not None and issue.status == "published" else None


async def action_sector(c: Commands, request: Request, lang: Lang, value: str) -> Reply:
    """``sector:<key>`` (latest issue) or ``sector:<key>.<issue id>`` (a past issue)."""
    key, _, issue_ref = value.partition(".")
    if issue_ref:
        issue = published(await c.db(c.store.get_issue, int(issue_ref))) if issue_ref.isdigit() else None
        if issue is None:
            return Reply(notice=t(lang, "button_expired"))
        return c.sector_reply(issue, key, lang, latest=False, public=False)
    return c.sector_reply(await c.latest(), key, lang, latest=True, public=False)


async def action_keyword(c: Commands, request: Request, lang: Lang, value: str) -> Reply:
    """``kw:<issue id>.<index>`` (or a bare index = latest issue): every passage with that keyword."""
    issue_ref, _, index = value.rpartition(".")
    issue = (
        published(await c.db(c.store.get_issue, int(issue_ref))) if issue_ref.isdigit() else await c.latest()
    )
    if issue is None or not index.isdigit() or int(index) >= len(issue.briefing.keywords):
        return Reply(notice=t(lang, "keyword_gone"))
    keyword = issue.briefing.keywords[int(index)]
    return Reply(documents=(compose.keyword_passages_document(issue.briefing, keyword, lang),))


async def action_toggle(c: Commands, request: Request, lang: Lang, value: str) -> Reply:
    """``toggle:<sector>``: switch one sector of this chat's (topic's) subscription, then redraw the list."""
    sector = c.catalogue.get(value)
    if sector is None:
        return Reply(notice=t(lang, "button_expired"))
    ref, kind, title = await c.target_chat(request, None, lang)
    current = await c.current_subscription(ref)
    if current is not None and sector.key in current.sectors:
        await c.db(c.store.unsubscribe, ref, [sector.key])
        notice = t(lang, "toggled_off", sector=sector.name(lang))
    else:
        await c.db(c.store.upsert_chat, ref, kind=kind, title=title, language=lang)
        await c.db(c.store.subscribe, ref, [sector.key], created_by=request.user_id)
        notice = t(lang, "toggled_on", sector=sector.name(lang))
    doc = await c.subscriptions_document(request, lang)
    if doc is None:
        return Reply(notice=notice)
    return Reply(documents=(doc,), notice=notice, edit=True)


async def action_unwatch(c: Commands, request: Request, lang: Lang, value: str) -> Reply:
    """``unwatch:<watch id>``: stop watching one word, then redraw the list."""
    if not value.isdigit():
        return Reply(notice=t(lang, "button_expired"))
    ref, _kind, _title = await c.target_chat(request, None, lang)
    phrase = await c.db(c.store.remove_watch_by_id, ref, int(value))
    watcher = await c.db(c.store.watcher_for_chat, ref)
    if phrase is None or watcher is None:
        return Reply(notice=t(lang, "button_expired"))
    notice = t(lang, "watch_removed", words=_list_of(lang, [phrase]), n=len(watcher.words), prefix=c.prefix)
    return Reply(documents=(c.watches_document(request, watcher, lang),), notice=notice, edit=True)


async def action_watch_mode(c: Commands, request: Request, lang: Lang, value: str) -> Reply:
    """``wmode:publish|daily``: when this chat gets its matches."""
    if value not in validate.WATCH_MODES:
        return Reply(notice=t(lang, "button_expired"))
    return await _set_watch_mode(c, request, lang, value)


async def action_setting(c: Commands, request: Request, lang: Lang, value: str) -> Reply:
    """``set:variant.full|variant.compact|silent.0|silent.1|previews.0|previews.1``."""
    option, _, raw = value.partition(".")
    if option == "variant" and raw in validate.VARIANTS:
        parsed = SettingsArgs(variant=raw)
    elif option == "silent" and raw in ("0", "1"):
        parsed = SettingsArgs(silent=raw == "1")
    elif option == "previews" and raw in ("0", "1"):
        parsed = SettingsArgs(previews=raw == "1")
    else:
        return Reply(notice=t(lang, "button_expired"))
    return await _change_settings(c, request, lang, parsed)


# buttons that change a chat's subscriptions or watches: admins only, enforced by the dispatcher
ADMIN_ACTIONS: frozenset[str] = frozenset({"toggle", "unwatch", "wmode", "set"})

_ACTIONS: dict[str, ActionHandler] = {
    "sector": action_sector,
    "kw": action_keyword,
    "toggle": action_toggle,
    "unwatch": action_unwatch,
    "wmode": action_watch_mode,
    "set": action_setting,
}
