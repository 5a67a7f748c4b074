"""Handlers of button presses (sector, keyword, toggle, unwatch, watch mode, setting), by action name."""

from __future__ import annotations

from briefcast.bot.commands.core import (
    _ACTIONS,
    Reply,
    Request,
)
from briefcast.bot.commands.parsing import (
    SettingsArgs,
)
from briefcast.bot.commands.reading import published
from briefcast.bot.commands.router import Commands, _list_of
from briefcast.bot.commands.settings import _change_settings
from briefcast.bot.commands.watches import _set_watch_mode
from briefcast.i18n import Lang, t
from briefcast.render import compose
from briefcast.store import validate


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


_ACTIONS.update(
    {
        "sector": action_sector,
        "kw": action_keyword,
        "toggle": action_toggle,
        "unwatch": action_unwatch,
        "wmode": action_watch_mode,
        "set": action_setting,
    }
)
