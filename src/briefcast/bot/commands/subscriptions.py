"""Handlers of subscriptions: /subscribe, /unsubscribe, /subscriptions, /settime, /timezone, /quiet."""

from __future__ import annotations

from briefcast.bot.commands.core import (
    Reply,
    Request,
    UsageError,
    command,
)
from briefcast.bot.commands.parsing import (
    _pop_target,
    _target_and_one_arg,
    parse_subscribe_args,
    parse_time,
    parse_timezone,
)
from briefcast.bot.commands.router import Commands
from briefcast.i18n import Lang, t
from briefcast.store import validate
from briefcast.store.errors import (
    InvalidQuiet,
)
from briefcast.store.records import (
    ChatRef,
)


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
    # the store decides the mode: a time makes an on-publish subscription scheduled, weekly stays weekly
    sub = await c.db(c.store.set_schedule, ref, time=time, timezone=timezone)
    if sub is None or not sub.active:
        return Reply(notice=_not_subscribed(c, request, ref, title, lang))
    msg = t(
        lang, "schedule_set", where=c.where(request, ref, title, lang), schedule=c.schedule_text(sub, lang)
    )
    return Reply(notice=msg, ephemeral=False)
