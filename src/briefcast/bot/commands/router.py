"""The command router: class Commands dispatches a Request to its handler and holds the helpers
handlers share (target chats, sector buttons, subscription, watch and settings documents).

This module never imports ``telegram`` or ``slack_*``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import ParamSpec, TypeVar

from briefcast.bot.commands import core
from briefcast.bot.commands.core import (
    _ACTIONS,
    ADMIN_ACTIONS,
    BUTTON_TEXT_MAX,
    BUTTONS_PER_ROW,
    LATEST_MAX_AGE,
    CommandSpec,
    CommandStore,
    Handler,
    PlatformOps,
    Refusal,
    Reply,
    Request,
    UsageError,
    _short,
)
from briefcast.bot.commands.parsing import (
    _is_target,
    _split_public,
)
from briefcast.bot.ratelimit import RateLimiter
from briefcast.briefing.model import Block, Briefing, ListBlock, ListItem, Paragraph, Run
from briefcast.briefing.sectors import Sector, SectorCatalogue, default_catalogue
from briefcast.briefing.watch import MAX_WATCHES_PER_CHAT, Passage
from briefcast.i18n import Lang, pick_language, schedule_at, schedule_weekly, t
from briefcast.render import compose
from briefcast.render.document import Button, Document
from briefcast.render.options import supports
from briefcast.store.errors import (
    InvalidTime,
    InvalidTimezone,
    InvalidWatch,
    StoreInputError,
    UnknownSector,
    WatchLimitReached,
)
from briefcast.store.records import (
    ChatRef,
    StoredIssue,
    SubscriptionRecord,
    WatcherRecord,
)

log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_R = TypeVar("_R")


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
    # Instance wrappers of handle/handle_action (metrics.instrument_commands), re-applied to every
    # per-request view made by with_ops so a view is counted like the table it copies.
    wrappers: list[Callable[[Commands], None]] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        sector_specs = [_sector_spec(s) for s in self.catalogue]
        static = list(core._STATIC)  # read at construction: tests may swap the registry
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
        for name in ("handle", "handle_action"):  # a wrapper on self closes over self: rebuild it
            view.__dict__.pop(name, None)
        for wrap in self.wrappers:
            wrap(view)
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


def _list_of(lang: Lang, items: Sequence[str]) -> str:
    quoted = [t(lang, "quoted", title=i) for i in items]
    return ("、" if lang == "zh" else ", ").join(quoted)


def _mode_text(c: Commands, lang: Lang, mode: str) -> str:
    return t(lang, "watch_mode_daily" if mode == "daily" else "watch_mode_publish", prefix=c.prefix)


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
