"""Builders shared by the tests: a fake ``PlatformOps``, ``Request``s, a manual clock and the sample issue."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from briefcast.bot.commands import ChannelInfo, Reply, Request, TopicError
from briefcast.briefing.parse import parse_markdown
from briefcast.render.text import render as render_text
from briefcast.store import ChatRef, Store, StoredIssue

USER = "7"
GROUP = "-100111"


class Clock:
    """Seconds that only move when a test says so (set ``now`` or call ``advance``)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Ops:
    """Platform answers decided by the test: who is admin where, which channels exist, where the bot may post.

    Every admin lookup is recorded in ``asked``. ``post_anywhere`` makes ``bot_can_post`` true for
    every chat; otherwise only the chats in ``postable``.
    """

    admins: set[tuple[str, str]] = field(default_factory=set)
    channels: dict[str, ChannelInfo] = field(default_factory=dict)
    postable: set[str] = field(default_factory=set)
    post_anywhere: bool = False
    asked: list[tuple[str, str]] = field(default_factory=list)

    async def is_admin(self, chat_id: str, user_id: str) -> bool:
        self.asked.append((chat_id, user_id))
        return (chat_id, user_id) in self.admins

    async def resolve_channel(self, ref: str) -> ChannelInfo | None:
        return self.channels.get(ref)

    async def bot_can_post(self, chat_id: str) -> bool:
        return self.post_anywhere or chat_id in self.postable


@dataclass
class ForumOpsFake(Ops):
    """``Ops`` with forum topics (``ForumOps``): created/closed/reopened topics are recorded.

    Created topics get thread ids ``next_thread + 1``, ``+ 2``, …; ``refuse`` makes creating one fail
    with that ``TopicError``; reopening a thread in ``deleted`` fails as a deleted topic does.
    """

    next_thread: int = 100
    created: list[tuple[str, str, int]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    refuse: str = ""

    async def create_topic(self, chat_id: str, name: str, icon_color: int) -> str:
        if self.refuse:
            raise TopicError(self.refuse)
        self.next_thread += 1
        self.created.append((chat_id, name, icon_color))
        return str(self.next_thread)

    async def close_topic(self, chat_id: str, thread_id: str) -> None:
        self.closed.append(thread_id)

    async def reopen_topic(self, chat_id: str, thread_id: str) -> None:
        if thread_id in self.deleted:
            raise TopicError("gone")
        self.reopened.append(thread_id)


def private(
    command: str = "",
    *args: str,
    lang: str | None = "en",
    user: str = USER,
    text: str = "",
    platform: str = "telegram",
) -> Request:
    """``/command args`` in ``user``'s private chat (a Slack DM ``D0DM`` when ``platform`` is slack)."""
    slack = platform == "slack"
    return Request(
        platform=platform,
        chat=ChatRef(platform, "D0DM" if slack else user),
        chat_kind="im" if slack else "private",
        user_id=user,
        command=command,
        args=tuple(args),
        text=text,
        language_code=lang,
    )


def group(
    command: str = "",
    *args: str,
    user: str = USER,
    chat_id: str = GROUP,
    thread: str | None = None,
    forum: bool = False,
    lang: str = "en",
) -> Request:
    """``/command args`` from ``user`` in the Telegram supergroup ``chat_id`` ("Team")."""
    return Request(
        platform="telegram",
        chat=ChatRef("telegram", chat_id, thread_id=thread),
        chat_kind="supergroup",
        user_id=user,
        command=command,
        args=tuple(args),
        language_code=lang,
        chat_title="Team",
        is_forum=forum,
    )


def text_of(reply: Reply) -> str:
    """A reply's notice and its documents rendered as plain text, one after the other."""
    return "\n".join([reply.notice, *(render_text(d) for d in reply.documents)])


def ingest_sample(store: Store, sample_md: Path) -> StoredIssue:
    """Publish the sample issue into ``store`` and return it as stored."""
    raw = sample_md.read_text(encoding="utf-8")
    result = store.ingest(parse_markdown(raw, source="sample"), raw=raw, source="sample")
    found = store.get_issue(result.issue_id)
    assert found is not None
    return found
