"""The subscription commands: ``subs list / add / remove`` and ``watches``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from briefcast.cli.base import app, context_of, fail, friendly

subs_app = typer.Typer(help="Operator view of subscriptions.", no_args_is_help=True)
app.add_typer(subs_app, name="subs")


def _chat_ref(chat: str, thread: str | None) -> Any:
    import re

    from briefcast.store.records import ChatRef

    platform, sep, rest = chat.partition(":")
    usage = "CHAT must be telegram:CHAT_ID or slack:TEAM/CHANNEL (e.g. telegram:-1001234, slack:T01/C02)"
    if not sep or platform not in ("telegram", "slack") or not rest:
        raise fail(usage, code=2)
    workspace, _, chat_id = rest.rpartition("/") if platform == "slack" else ("", "", rest)
    # a Telegram chat id is an integer (or @channelusername); a Slack id is letters and digits
    ok = (
        re.fullmatch(r"-?\d{1,18}|@[A-Za-z][A-Za-z0-9_]{3,31}", chat_id)
        if platform == "telegram"
        else re.fullmatch(r"[A-Z0-9]{2,32}", chat_id)
        and (not workspace or re.fullmatch(r"[A-Z0-9]{2,32}", workspace))
    )
    if not ok:
        raise fail(f"{chat!r} is not a valid chat id; {usage}", code=2)
    return ChatRef(platform, chat_id, thread, workspace)


def _on_days(days: int) -> str:
    """`` mon,wed,fri`` for a weekday schedule; nothing for every day (as before weekday schedules)."""
    from briefcast.store.validate import days_key

    key = days_key(days)
    return "" if key == "daily" else f" {key}"


@subs_app.command("list")
@friendly
def subs_list(
    ctx: typer.Context,
    platform: Annotated[str | None, typer.Option("--platform", help="telegram|slack")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="at most this many (one page)")] = 1000,
    after: Annotated[int, typer.Option("--after", min=0, help="start after this subscription id")] = 0,
) -> None:
    """List active subscriptions, a page at a time (--limit, --after ID for the next page)."""
    from briefcast.delivery import ops

    rows = ops.subs_list(context_of(ctx).open_store(), platform=platform, after=after, limit=limit + 1)
    if not rows:
        typer.echo("no active subscriptions" + (f" after id {after}" if after else ""))
        return
    more = len(rows) > limit
    rows = rows[:limit]
    for s in rows:
        where = f"{s.chat.platform}:{s.chat.workspace + '/' if s.chat.workspace else ''}{s.chat.chat_id}"
        thread = f" thread {s.chat.thread_id}" if s.chat.thread_id else ""
        when = _when(s.mode, s.time, s.timezone, s.days)
        options = f"{s.variant}{' silent' if s.silent else ''}{' previews' if s.previews else ''}"
        options += f" quiet {s.quiet}" if s.quiet else ""
        typer.echo(f"{s.id:>5}  {where}{thread}  {','.join(s.sectors)}  {when}  {options}  {s.chat_title}")
    if more:
        extra = f" --platform {platform}" if platform else ""
        typer.echo(f"(more: briefcast subs list{extra} --after {rows[-1].id})", err=True)


@app.command("watches")
@friendly
def watches(
    ctx: typer.Context,
    platform: Annotated[str | None, typer.Option("--platform", help="telegram|slack")] = None,
) -> None:
    """List the chats that watch keywords, with their words and when they get the matches."""
    store = context_of(ctx).open_store()
    rows = store.watchers(platform, active_only=False)
    if not rows:
        typer.echo("no watched words")
        return
    for w in rows:
        where = f"{w.chat.platform}:{w.chat.workspace + '/' if w.chat.workspace else ''}{w.chat.chat_id}"
        thread = f" thread {w.chat.thread_id}" if w.chat.thread_id else ""
        state = "" if w.chat_active else "  (inactive chat)"
        words = ", ".join(w.phrases)
        typer.echo(
            f"{w.id:>5}  {where}{thread}  {w.mode:<7}  {len(w.words):>2}  {words}  {w.chat_title}{state}"
        )


@subs_app.command("add")
@friendly
def subs_add(
    ctx: typer.Context,
    chat: Annotated[str, typer.Argument(help="telegram:CHAT_ID or slack:TEAM/CHANNEL")],
    sectors: Annotated[list[str] | None, typer.Argument(help="Sectors (default: all).")] = None,
    time: Annotated[str | None, typer.Option("--time", help="HH:MM local time.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="IANA time zone, e.g. Asia/Shanghai.")] = None,
    days: Annotated[
        str | None, typer.Option("--days", help="Weekdays: mon,wed,fri | weekdays | daily (default daily).")
    ] = None,
    on_publish: Annotated[
        bool, typer.Option("--on-publish", help="Push as soon as an issue is published.")
    ] = False,
    weekly: Annotated[
        bool,
        typer.Option(
            "--weekly", help="One roll-up of the issues since the last one, on --days (default mon)."
        ),
    ] = False,
    thread: Annotated[str | None, typer.Option("--thread", help="Forum topic (message_thread_id).")] = None,
    kind: Annotated[str, typer.Option("--kind", help="private|group|supergroup|channel")] = "",
) -> None:
    """Subscribe a chat (created if unknown)."""
    from briefcast.delivery import ops

    sub = ops.subs_add(
        context_of(ctx).open_store(),
        _chat_ref(chat, thread),
        sectors or [],
        kind=kind,
        time=time,
        timezone=tz,
        mode="publish" if on_publish else "weekly" if weekly else None,
        days=days,
    )
    typer.echo(
        f"subscription {sub.id}: {','.join(sub.sectors)} at "
        f"{_when(sub.mode, sub.time, sub.timezone, sub.days)}"
    )


def _when(mode: str, time: str, tz: str, days: int) -> str:
    """``on publish``, ``08:00 Asia/Shanghai on mon,wed,fri`` or ``weekly roll-up 09:00 UTC on mon``."""
    if mode == "publish":
        return "on publish"
    when = f"{time} {tz}{_on_days(days)}"
    return f"weekly roll-up {when}" if mode == "weekly" else when


@subs_app.command("remove")
@friendly
def subs_remove(
    ctx: typer.Context,
    chat: Annotated[
        str, typer.Argument(help="telegram:CHAT_ID, slack:TEAM/CHANNEL or the id `subs list` shows")
    ],
    sectors: Annotated[list[str] | None, typer.Argument(help="Sectors (default: all).")] = None,
    thread: Annotated[str | None, typer.Option("--thread")] = None,
) -> None:
    """Unsubscribe a chat from some or all sectors."""
    from briefcast.delivery import ops

    store = context_of(ctx).open_store()
    if chat.isdigit():  # the subscription id of `briefcast subs list`
        found = next((s for s in ops.subs_list(store) if s.id == int(chat)), None)
        if found is None:
            raise fail(f"there is no active subscription {chat} (see `briefcast subs list`)")
        ref = found.chat
    else:
        ref = _chat_ref(chat, thread)
    sub = ops.subs_remove(store, ref, sectors or None)
    if sub is None:
        raise fail(f"{chat} has no subscription")
    state = "active: " + ",".join(sub.sectors) if sub.active else "inactive"
    typer.echo(f"subscription {sub.id} is now {state}")
