"""The dispatcher enforces what a command declares, and store work never blocks the event loop.

``CommandSpec.needs_admin`` is the single source of the admin rule: the dispatcher
(:meth:`Commands._dispatch`) refuses a group non-admin before the handler runs. Which
commands change a chat's subscriptions is derived here from behaviour (an admin's
command changes the stored state) and checked against the declarations.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

import briefcast.bot.commands.core as commands_module
from briefcast.bot.commands import (
    ADMIN_ACTIONS,
    Commands,
    Reply,
    Request,
    command,
)
from briefcast.briefing.parse import parse_markdown
from briefcast.config import Settings
from briefcast.i18n import Lang, t
from briefcast.store import ChatRef, Store, StoredIssue
from factories import ForumOpsFake, group, ingest_sample

GROUP_ADMIN = "1"
GROUP_MEMBER = "2"


def new_commands(store: Store, ops: ForumOpsFake) -> Commands:
    return Commands(store=store, ops=ops, platform="telegram", commands_per_minute=0)


# ------------------------------------------------------------------ a throwaway command


@pytest.fixture
def probe_runs(monkeypatch: pytest.MonkeyPatch) -> list[Request]:
    """Declare ``/probe`` (needs_admin=True) for one test; the list records each run of its handler."""
    monkeypatch.setattr(commands_module, "_STATIC", list(commands_module._STATIC))
    runs: list[Request] = []

    @command("probe", zh="测试", en="Probe", needs_admin=True)
    async def probe(c: Commands, request: Request, lang: Lang) -> Reply:
        runs.append(request)
        return Reply(notice="probe ran")

    return runs


async def test_dispatcher_refuses_a_group_non_admin_before_the_handler(
    store: Store, probe_runs: list[Request]
) -> None:
    ops = ForumOpsFake(admins={("-100500", GROUP_ADMIN)})
    commands = new_commands(store, ops)

    refused = await commands.handle(group("probe", chat_id="-100500", user=GROUP_MEMBER, forum=True))
    assert refused.notice == t("en", "not_admin")
    assert probe_runs == []  # the handler never ran
    assert ops.asked == [("-100500", GROUP_MEMBER)]  # through PlatformOps.is_admin

    ok = await commands.handle(group("probe", chat_id="-100500", user=GROUP_ADMIN, forum=True))
    assert ok.notice == "probe ran"
    assert len(probe_runs) == 1 and probe_runs[0].sender_is_admin  # vouched for by the dispatcher

    # a private chat is its user's own; an adapter's guarantee (a channel post) needs no lookup
    private = Request(platform="telegram", chat=ChatRef("telegram", "42"), chat_kind="private", user_id="42")
    assert (await commands.handle(replace(private, command="probe"))).notice == "probe ran"
    vouched = replace(group("probe", chat_id="-100501", user="", forum=True), sender_is_admin=True)
    asked = len(ops.asked)
    assert (await commands.handle(vouched)).notice == "probe ran"
    assert len(ops.asked) == asked


async def test_the_platform_refusal_key_is_used(store: Store, probe_runs: list[Request]) -> None:
    commands = Commands(store=store, ops=ForumOpsFake(), platform="slack", refusal="not_permitted")
    reply = await commands.handle(group("probe", chat_id="C1", user=GROUP_MEMBER, forum=True))
    assert reply.notice == t("en", "not_permitted")
    assert probe_runs == []


# ------------------------------------------------------------------ declarations match behaviour

ARG_CANDIDATES: tuple[tuple[str, ...], ...] = (
    (),
    ("energy",),
    ("all",),
    ("09:30",),
    ("Europe/Paris",),
    ("22:00-07:00",),
    ("off",),
    ("battery",),
    ("lithium",),
    ("compact",),
    ("previews", "on"),
    ("daily",),
    ("publish",),
)


def snapshot(store: Store, chat_id: str) -> object:
    """What a chat has stored: its subscriptions (every thread), watches and forum topics."""
    ref = ChatRef("telegram", chat_id)
    subs = sorted(
        (
            s.chat.thread_id or "",
            s.sectors,
            s.time,
            s.timezone,
            s.mode,
            s.variant,
            s.silent,
            s.previews,
            s.quiet,
            s.active,
        )
        for s in store.subscriptions_for_chat("telegram", chat_id)
    )
    watcher = store.watcher_for_chat(ref)
    watches = (watcher.mode, watcher.phrases) if watcher is not None else None
    topics = sorted((tp.sector, tp.state) for tp in store.forum_topics(ref))
    return subs, watches, topics


def seed(store: Store, chat_id: str) -> int:
    """A subscribed group watching one word; returns the watch's id (for the unwatch button)."""
    ref = ChatRef("telegram", chat_id)
    store.upsert_chat(ref, kind="supergroup", title="Team")
    store.subscribe(ref, ["energy", "finance"], time="08:00", timezone="Asia/Shanghai", mode="scheduled")
    added = store.add_watches(ref, ["battery"], mode="publish")
    return added.watcher.words[0].id


@pytest.fixture
def issue(store: Store, sample_md: Path) -> StoredIssue:
    return ingest_sample(store, sample_md)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_declared_admin_commands_are_exactly_those_that_change_a_chat(
    store: Store, issue: StoredIssue
) -> None:
    ops = ForumOpsFake()
    commands = new_commands(store, ops)
    chats = itertools.count(1)
    changing: set[str] = set()
    for spec in commands.specs:
        for args in ARG_CANDIDATES:
            n = next(chats)
            admin_chat, member_chat = f"-100{n}1", f"-100{n}2"
            seed(store, admin_chat)
            seed(store, member_chat)
            ops.admins.add((admin_chat, GROUP_ADMIN))
            before = snapshot(store, admin_chat)
            await commands.handle(group(spec.name, *args, chat_id=admin_chat, user=GROUP_ADMIN, forum=True))
            if snapshot(store, admin_chat) == before:
                continue
            changing.add(spec.name)
            # the same command from a member of an identical group: refused, nothing changed
            member_before = snapshot(store, member_chat)
            refused = await commands.handle(
                group(spec.name, *args, chat_id=member_chat, user=GROUP_MEMBER, forum=True)
            )
            assert refused.notice == t("en", "not_admin"), (spec.name, args, refused.notice)
            assert snapshot(store, member_chat) == member_before, (spec.name, args)
    declared = {s.name for s in commands.specs if s.changes_subscriptions}
    assert changing == declared
    assert {s.name for s in commands.specs if s.needs_admin} == declared
    # every one of them, from the list in the issue
    assert changing >= {"subscribe", "unsubscribe", "settime", "timezone", "quiet", "watch", "unwatch"}
    assert changing >= {"settings", "topics", "watches"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_admin_buttons_are_exactly_those_that_change_a_chat(store: Store, issue: StoredIssue) -> None:
    ops = ForumOpsFake()
    commands = new_commands(store, ops)
    chats = itertools.count(1)
    changing: set[str] = set()
    values = ("energy", "markets", "daily", "publish", "variant.compact", "previews.1", "1.0", "")
    for action in commands_module._ACTIONS:
        for value in (*values, "WATCH"):
            n = next(chats)
            admin_chat, member_chat = f"-200{n}1", f"-200{n}2"
            admin_watch = seed(store, admin_chat)
            member_watch = seed(store, member_chat)
            ops.admins.add((admin_chat, GROUP_ADMIN))
            before = snapshot(store, admin_chat)
            v = str(admin_watch) if value == "WATCH" else value
            await commands.handle_action(group(chat_id=admin_chat, user=GROUP_ADMIN, forum=True), action, v)
            if snapshot(store, admin_chat) == before:
                continue
            changing.add(action)
            member_before = snapshot(store, member_chat)
            v = str(member_watch) if value == "WATCH" else value
            refused = await commands.handle_action(
                group(chat_id=member_chat, user=GROUP_MEMBER, forum=True), action, v
            )
            assert refused.notice == t("en", "not_admin"), (action, value)
            assert snapshot(store, member_chat) == member_before, (action, value)
    assert changing == ADMIN_ACTIONS


# ------------------------------------------------------------------ the event loop stays free


class SlowStore(Store):
    """A real Store whose latest-issue query takes 200 ms (a slow database), blocking its thread."""

    entered: asyncio.Event
    loop: asyncio.AbstractEventLoop
    finished: threading.Event

    def latest_issue(self) -> StoredIssue | None:
        self.loop.call_soon_threadsafe(self.entered.set)
        time.sleep(0.2)  # the slow query itself, not synchronisation
        try:
            return super().latest_issue()
        finally:
            self.finished.set()


async def test_a_slow_store_call_does_not_block_the_event_loop(sqlite_url: str, sample_md: Path) -> None:
    store = SlowStore.open(sqlite_url, settings=Settings())
    try:
        raw = sample_md.read_text(encoding="utf-8")
        store.ingest(parse_markdown(raw, source="sample"), raw=raw, source="sample")
        store.loop = asyncio.get_running_loop()
        store.entered = asyncio.Event()
        store.finished = threading.Event()
        commands = new_commands(store, ForumOpsFake())
        other_ran = asyncio.Event()
        seen: dict[str, float | bool] = {}

        async def other_coroutine() -> None:
            """Another reply or a delivery sharing the loop: it must run while the query is under way."""
            await store.entered.wait()
            seen["query_still_running"] = not store.finished.is_set()
            seen["at"] = time.perf_counter()
            other_ran.set()

        other = asyncio.create_task(other_coroutine())
        handler = asyncio.create_task(
            commands.handle(
                Request(
                    platform="telegram",
                    chat=ChatRef("telegram", "42"),
                    chat_kind="private",
                    user_id="42",
                    command="latest",
                    language_code="en",
                )
            )
        )
        await asyncio.wait_for(store.entered.wait(), 5)
        entered_at = time.perf_counter()
        await asyncio.wait_for(other_ran.wait(), 5)
        assert seen["query_still_running"], "the other coroutine only ran after the store call finished"
        assert float(seen["at"]) - entered_at < 0.05
        reply = await asyncio.wait_for(handler, 5)
        assert reply.documents  # and the command still answered
        await other
    finally:
        store.close()


async def test_sector_commands_answer_from_the_recent_copy_without_a_thread_hop(
    store: Store, sample_md: Path
) -> None:
    """A sector command right after another one takes the Store's copy on the loop; an issue
    published through this Store is seen by the very next command."""
    raw = sample_md.read_text(encoding="utf-8")
    store.ingest(parse_markdown(raw, source="sample"), raw=raw, source="sample")
    assert store.latest_issue_if_recent(60.0) is None  # nothing checked yet
    first = store.latest_issue()
    assert first is not None and store.latest_issue_if_recent(60.0) is first
    revised = raw.replace("今日关键词", "今日关键词（更正）", 1)
    store.ingest(parse_markdown(revised, source="sample"), raw=revised, source="sample")
    assert store.latest_issue_if_recent(60.0) is None  # this Store published: the copy is dropped
    newest = store.latest_issue()
    assert newest is not None and newest.id != first.id
