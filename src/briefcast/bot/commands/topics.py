"""Handler of Telegram forum topics: /topics makes one topic per sector, each subscribed to it."""

from __future__ import annotations

from dataclasses import replace

from briefcast.bot.commands.core import (
    TOPIC_COLORS,
    TOPIC_NAME_MAX,
    ForumOps,
    Refusal,
    Reply,
    Request,
    TopicError,
    UsageError,
    _short,
    command,
)
from briefcast.bot.commands.parsing import (
    SubscribeArgs,
    parse_subscribe_args,
)
from briefcast.bot.commands.router import Commands
from briefcast.i18n import Lang, t
from briefcast.store.records import (
    ChatRef,
)


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
