"""Handlers of keyword watches: /watch, /watches, /unwatch."""

from __future__ import annotations

from briefcast.bot.commands.core import (
    Refusal,
    Reply,
    Request,
    UsageError,
    command,
)
from briefcast.bot.commands.parsing import (
    ALL_WORDS,
    _mode_word,
    parse_watch_args,
)
from briefcast.bot.commands.router import Commands, _list_of, _mode_text
from briefcast.briefing.watch import MAX_WATCHES_PER_CHAT, watch_matches
from briefcast.i18n import Lang, t
from briefcast.render.document import Document
from briefcast.store import validate
from briefcast.store.records import (
    ChatRef,
)


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
