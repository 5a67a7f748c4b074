"""Handler of delivery settings: /settings (full or compact digest, silent pushes, link previews)."""

from __future__ import annotations

from briefcast.bot.commands.core import (
    Refusal,
    Reply,
    Request,
    command,
)
from briefcast.bot.commands.parsing import (
    SettingsArgs,
    parse_settings_args,
)
from briefcast.bot.commands.router import Commands
from briefcast.bot.commands.subscriptions import _not_subscribed
from briefcast.i18n import Lang, t
from briefcast.render.options import supports


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
