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

import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from briefcast.bot.i18n import Lang, pick_language, t
from briefcast.bot.ratelimit import RateLimiter
from briefcast.briefing.model import Block, Briefing, Link, ListBlock, ListItem, Paragraph, Run
from briefcast.briefing.sectors import Sector, SectorCatalogue, default_catalogue
from briefcast.errors import BriefcastError
from briefcast.render import compose
from briefcast.render.document import Button, Document, notice_document
from briefcast.store.errors import InvalidTime, InvalidTimezone, StoreInputError, UnknownSector
from briefcast.store.records import (
    ChatRecord,
    ChatRef,
    SearchHit,
    StoredIssue,
    SubscriptionRecord,
)

log = logging.getLogger(__name__)

ChatKind = Literal["private", "group", "supergroup", "channel", "slack_channel", "im"]
PRIVATE_KINDS: frozenset[str] = frozenset({"private", "im"})

_HHMM = re.compile(r"^(\d{1,2})[:：](\d{2})$")
_LOOKS_LIKE_TIME = re.compile(r"^\d{1,2}[:：]\d{1,2}$")
_NUMERIC_ID = re.compile(r"^-?\d{5,}$")
ALL_WORDS = frozenset({"all", "全部", "所有", "*"})
PUBLISH_WORDS = frozenset({"publish", "onpublish", "on-publish", "on_publish", "instant", "发布", "即时"})
SCHEDULED_WORDS = frozenset({"scheduled", "daily", "定时", "每天"})
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


class CommandStore(Protocol):
    """The part of :class:`briefcast.store.Store` the bot layer uses (narrow, so a test store fits)."""

    def latest_issue(self) -> StoredIssue | None: ...
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
    needs_admin: bool = False
    sector: str | None = None
    # aliases that also appear in platform menus (sector aliases like /finance do; "list" does not)
    menu_aliases: tuple[str, ...] = ()

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


def parse_time(value: str) -> str:
    """``"8:05"`` -> ``"08:05"``; anything outside 00:00-23:59 raises :class:`UsageError`."""
    m = _HHMM.match(value.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise UsageError("bad_time", value=value)
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def parse_timezone(value: str) -> str:
    """An IANA zone name (``Asia/Shanghai``, ``UTC``) or :class:`UsageError`."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError("bad_timezone", value=value) from None
    return value


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
    for w in words:
        low = w.lower()
        if low in ALL_WORDS:
            everything = True
        elif schedule and low in PUBLISH_WORDS:
            mode = "publish"
        elif schedule and low in SCHEDULED_WORDS:
            mode = "scheduled"
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
            if sector is None:
                raise UsageError("unknown_sector", name=w, choices=", ".join(catalogue.keys))
            if sector.key not in sectors:
                sectors.append(sector.key)
    chosen: tuple[str, ...] | None = None if everything or not sectors else tuple(sectors)
    if time_ is not None and mode is None:
        mode = "scheduled"
    return SubscribeArgs(target=target, sectors=chosen, time=time_, timezone=tz, mode=mode)


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
        for spec in self.specs:
            for n in (spec.name, *spec.menu_aliases):
                out.append((n, spec.description(lang)))
        return out

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
        limited = self._limited(request, lang)
        if limited is not None:
            return limited
        return await self._run(spec, request, lang, spec.handler)

    async def handle_action(self, request: Request, action: str, value: str) -> Reply:
        """Answer a button press (``action``/``value`` from :class:`~briefcast.render.document.Button`)."""
        lang = self.language(request)
        limited = self._limited(request, lang)
        if limited is not None:
            return limited
        handler = _ACTIONS.get(action)
        if handler is None:
            return Reply(notice=t(lang, "button_expired"))

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

    def latest(self) -> StoredIssue:
        issue = self.store.latest_issue()
        if issue is None:
            raise Refusal("no_issue")
        return issue

    def sector_buttons(
        self, briefing: Briefing | None, *, exclude: str | None = None, issue_id: int | None = None
    ) -> tuple[tuple[Button, ...], ...]:
        """One button per sector (of the issue when given, else of the catalogue).

        An issue's buttons carry short references (:func:`compose.section_ref`), so any heading fits
        Telegram's 64-byte callback data, and distinct labels.
        """
        if briefing is None:
            buttons = [
                Button(
                    _short(f"{s.emoji} {s.name('zh')}".strip(), BUTTON_TEXT_MAX), action="sector", value=s.key
                )
                for s in self.catalogue
            ]
        else:
            lang = self._issue_lang(briefing)
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

    @staticmethod
    def _issue_lang(briefing: Briefing | None) -> str:
        return briefing.language if briefing is not None else "zh"

    def sector_reply(self, issue: StoredIssue, key: str, lang: Lang, *, latest: bool, public: bool) -> Reply:
        sector = self.catalogue.get(key)
        section = issue.briefing.section(key)
        if section is None:
            name = sector.name(lang) if sector is not None else key
            return Reply(notice=t(lang, "no_section", issue=_issue_label(issue), sector=name))
        buttons = self.sector_buttons(issue.briefing, exclude=key, issue_id=None if latest else issue.id)
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
            trusted = request.is_private or request.sender_is_admin
            if not trusted and not await self._user_is_admin(request):
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

    async def _user_is_admin(self, request: Request) -> bool:
        return bool(request.user_id) and await self.ops.is_admin(request.chat.chat_id, request.user_id)

    def where(self, request: Request, ref: ChatRef, title: str, lang: Lang) -> str:
        if ref.chat_id == request.chat.chat_id:
            return t(lang, "where_here")
        return t(lang, "where_chat", title=title or ref.chat_id)

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
            return t(lang, "schedule_publish")
        return t(lang, "schedule_daily", time=sub.time, tz=sub.timezone)

    def subscriptions_document(self, request: Request, lang: Lang) -> Document | None:
        """The subscriptions visible from this chat, with toggles for this chat's own one."""
        own = [
            s
            for s in self.store.subscriptions_for_chat(
                request.platform, request.chat.chat_id, request.chat.workspace
            )
            if s.active
        ]
        others: list[SubscriptionRecord] = []
        if request.is_private and request.user_id:
            seen = {s.id for s in own}
            others = [
                s
                for s in self.store.subscriptions_created_by(request.platform, request.user_id)
                if s.active and s.id not in seen and s.chat.chat_id != request.chat.chat_id
            ]
        if not own and not others:
            return None
        items: list[ListItem] = []
        for s in [*own, *others]:
            if s.chat.chat_id == request.chat.chat_id:
                where = t(lang, "subs_this_chat")
            else:
                where = s.chat_title or s.chat.chat_id
            if s.chat.thread_id:
                where += f" · {t(lang, 'subs_topic', thread=s.chat.thread_id)}"
            runs = (
                Run(where, frozenset({"bold"})),
                Run(f" — {self.sector_names(s.sectors, lang)} — {self.schedule_text(s, lang)}"),
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
        return Document(
            title=t(lang, "subs_title"),
            blocks=(ListBlock(tuple(items)),),
            footer=t(lang, "subs_toggle_hint"),
            buttons=rows,
        )


def _issue_label(issue: StoredIssue) -> str:
    return issue.date.isoformat() if issue.date is not None else f"#{issue.id}"


# --------------------------------------------------------------- sector command


def _sector_spec(sector: Sector) -> CommandSpec:
    async def show(c: Commands, request: Request, lang: Lang) -> Reply:
        _, public = _split_public(request.args)
        return c.sector_reply(c.latest(), sector.key, lang, latest=True, public=public)

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
    issue = c.store.latest_issue()
    body = Paragraph((Run(t(lang, "welcome_body", prefix=c.prefix)),))
    doc = Document(
        title=t(lang, "welcome_title"),
        blocks=(body,),
        buttons=c.sector_buttons(issue.briefing if issue is not None else None),
    )
    return Reply(documents=(doc,))


@command("help", zh="查看全部命令", en="List every command")
async def cmd_help(c: Commands, request: Request, lang: Lang) -> Reply:
    """One line per command: name, aliases, arguments and what it does."""
    items: list[ListItem] = []
    for spec in c.specs:
        head = f"{c.prefix}{spec.name}"
        if spec.usage(lang):
            head += f" {spec.usage(lang)}"
        tail = f" — {spec.description(lang)}"
        if spec.aliases:
            tail += f" ({t(lang, 'alias')}: {', '.join(c.prefix + a for a in spec.aliases)})"
        items.append(ListItem((Run(head, frozenset({"code"})), Run(tail))))
    doc = Document(
        title=t(lang, "help_title"), blocks=(ListBlock(tuple(items)),), footer=t(lang, "help_footer")
    )
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
        title=t(lang, "sectors_title"), blocks=(ListBlock(tuple(items)),), buttons=c.sector_buttons(None)
    )
    return Reply(documents=(doc,))


@command("keywords", zh="本期关键词（点击查看相关段落）", en="Keywords of the issue (tap for passages)")
async def cmd_keywords(c: Commands, request: Request, lang: Lang) -> Reply:
    """The latest issue's keywords; each button carries ``<issue>.<index>`` so old buttons stay right."""
    issue = c.latest()
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
    issue = c.latest()
    _, public = _split_public(request.args)
    if not issue.briefing.takeaways:
        return Reply(notice=t(lang, "no_takeaways"))
    return Reply(documents=(compose.takeaways_document(issue.briefing, lang),), ephemeral=not public)


@command("latest", zh="最新一期概览", en="Overview of the latest issue")
async def cmd_latest(c: Commands, request: Request, lang: Lang) -> Reply:
    """Title, topics, one line per sector, a button per sector."""
    issue = c.latest()
    _, public = _split_public(request.args)
    doc = compose.overview_document(issue.briefing, lang)
    if any(b.value.startswith("#") for row in doc.buttons for b in row):
        # a position only names a section within one issue: pin such buttons to this one
        doc = compose.overview_document(issue.briefing, lang, issue_id=issue.id)
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
    issue = published(c.store.find_issue(ref))
    if issue is None:
        return Reply(notice=t(lang, "issue_not_found", ref=ref))
    doc = compose.overview_document(issue.briefing, lang)
    doc = replace(doc, buttons=c.sector_buttons(issue.briefing, issue_id=issue.id))
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
    hits = c.store.search(query, limit=5)
    if not hits:
        return Reply(notice=t(lang, "search_none", query=query))
    blocks: list[Block] = [_hit_paragraph(c, hit, lang) for hit in hits]
    doc = Document(title=t(lang, "search_title", query=_short(query, 64)), blocks=tuple(blocks))
    return Reply(documents=(doc,), ephemeral=not public)


def _hit_paragraph(c: Commands, hit: SearchHit, lang: Lang) -> Paragraph:
    sector = c.catalogue.get(hit.section_key)
    where = f"{sector.emoji} {sector.name(lang)}".strip() if sector is not None else hit.section_key
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
    usage_zh="[@频道] [板块...|all] [HH:MM] [Area/City] [publish]",
    usage_en="[@channel] [SECTOR...|all] [HH:MM] [Area/City] [publish]",
    changes_subscriptions=True,
    needs_admin=True,
)
async def cmd_subscribe(c: Commands, request: Request, lang: Lang) -> Reply:
    """Subscribe this chat, this topic, or (from private) a channel the user administers."""
    parsed = parse_subscribe_args(request.args, c.catalogue)
    ref, kind, title = await c.target_chat(request, parsed.target, lang)
    c.store.upsert_chat(ref, kind=kind, title=title, language=lang)
    sectors = parsed.sectors if parsed.sectors is not None else c.catalogue.keys
    sub = c.store.subscribe(
        ref,
        sectors,
        time=parsed.time,
        timezone=parsed.timezone,
        mode=parsed.mode,
        created_by=request.user_id,
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
)
async def cmd_unsubscribe(c: Commands, request: Request, lang: Lang) -> Reply:
    """Drop some sectors, or everything, from this chat's (or a managed channel's) subscription."""
    parsed = parse_subscribe_args(request.args, c.catalogue, schedule=False)
    ref, _kind, title = await c.target_chat(request, parsed.target, lang)
    where = c.where(request, ref, title, lang)
    sub = c.store.unsubscribe(ref, parsed.sectors)
    if sub is None:
        return Reply(notice=_not_subscribed(c, request, ref, title, lang))
    if parsed.sectors is None or not sub.active:
        return Reply(
            notice=t(lang, "unsubscribed_all", where=where or t(lang, "where_here")), ephemeral=False
        )
    return Reply(
        notice=t(lang, "unsubscribed", where=where, sectors=c.sector_names(parsed.sectors, lang)),
        ephemeral=False,
    )


def _not_subscribed(c: Commands, request: Request, ref: ChatRef, title: str, lang: Lang) -> str:
    cap = t(lang, "where_here_cap") if ref.chat_id == request.chat.chat_id else f"{title or ref.chat_id} "
    return t(lang, "not_subscribed", where_cap=cap, prefix=c.prefix)


@command(
    "subscriptions",
    zh="查看订阅（私聊中含你管理的频道）",
    en="Show subscriptions (in private: also channels you manage)",
    aliases=("list",),
)
async def cmd_subscriptions(c: Commands, request: Request, lang: Lang) -> Reply:
    """This chat's subscriptions; in a private chat also the channels this user subscribed."""
    doc = c.subscriptions_document(request, lang)
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
)
async def cmd_timezone(c: Commands, request: Request, lang: Lang) -> Reply:
    """Set the IANA time zone the daily delivery time is read in."""
    target, word = _target_and_one_arg(request.args)
    value = parse_timezone(word)
    return await _set_schedule(c, request, lang, target, timezone=value)


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
    mode = "scheduled" if time is not None else None
    sub = c.store.set_schedule(ref, time=time, timezone=timezone, mode=mode)
    if sub is None or not sub.active:
        return Reply(notice=_not_subscribed(c, request, ref, title, lang))
    msg = t(
        lang, "schedule_set", where=c.where(request, ref, title, lang), schedule=c.schedule_text(sub, lang)
    )
    return Reply(notice=msg, ephemeral=False)


# ------------------------------------------------------------------ button actions

ActionHandler = Callable[[Commands, Request, Lang, str], Awaitable[Reply]]


def published(issue: StoredIssue | None) -> StoredIssue | None:
    """Drafts (uploads awaiting an operator's decision) are never shown to chat users."""
    return issue if issue is not None and issue.status == "published" else None


async def action_sector(c: Commands, request: Request, lang: Lang, value: str) -> Reply:
    """``sector:<key>`` (latest issue) or ``sector:<key>.<issue id>`` (a past issue)."""
    key, _, issue_ref = value.partition(".")
    if issue_ref:
        issue = published(c.store.get_issue(int(issue_ref))) if issue_ref.isdigit() else None
        if issue is None:
            return Reply(notice=t(lang, "button_expired"))
        return c.sector_reply(issue, key, lang, latest=False, public=False)
    return c.sector_reply(c.latest(), key, lang, latest=True, public=False)


async def action_keyword(c: Commands, request: Request, lang: Lang, value: str) -> Reply:
    """``kw:<issue id>.<index>`` (or a bare index = latest issue): every passage with that keyword."""
    issue_ref, _, index = value.rpartition(".")
    issue = published(c.store.get_issue(int(issue_ref))) if issue_ref.isdigit() else c.latest()
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
    current = next(
        (
            s
            for s in c.store.subscriptions_for_chat(request.platform, ref.chat_id, ref.workspace)
            if s.chat.thread_id == ref.thread_id and s.active
        ),
        None,
    )
    if current is not None and sector.key in current.sectors:
        c.store.unsubscribe(ref, [sector.key])
        notice = t(lang, "toggled_off", sector=sector.name(lang))
    else:
        c.store.upsert_chat(ref, kind=kind, title=title, language=lang)
        c.store.subscribe(ref, [sector.key], created_by=request.user_id)
        notice = t(lang, "toggled_on", sector=sector.name(lang))
    doc = c.subscriptions_document(request, lang)
    if doc is None:
        return Reply(notice=notice)
    return Reply(documents=(doc,), notice=notice, edit=True)


_ACTIONS: dict[str, ActionHandler] = {
    "sector": action_sector,
    "kw": action_keyword,
    "toggle": action_toggle,
}
