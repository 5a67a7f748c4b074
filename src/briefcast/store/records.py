"""Frozen records the store hands out.

Callers never see ORM rows: a row is bound to a session and mutable, a record
is a plain value that can cross threads, async tasks and process boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from briefcast.briefing.model import Briefing, Link

IngestStatus = Literal["new", "revision", "duplicate"]


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a message goes: a chat on a platform, optionally a forum topic / thread.

    ``workspace`` is the Slack team id ("" for Telegram); ``thread_id`` is a
    Telegram ``message_thread_id`` or a Slack ``thread_ts``.
    """

    platform: str
    chat_id: str
    thread_id: str | None = None
    workspace: str = ""


@dataclass(frozen=True, slots=True)
class IngestResult:
    issue_id: int
    revision: int
    status: IngestStatus
    sectors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredIssue:
    id: int
    identity: str
    revision: int
    date: date | None
    title: str
    briefing: Briefing
    content_hash: str
    source: str
    created_at: datetime
    published_at: datetime | None
    status: str = "published"

    @property
    def sectors(self) -> tuple[str, ...]:
        return self.briefing.sector_keys


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching section; ``snippet`` is the sentence(s) around the match (<= ~200 chars)."""

    issue_id: int
    issue_title: str
    issue_date: date | None
    section_key: str
    snippet: str
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class ChatRecord:
    id: int
    platform: str
    workspace: str
    chat_id: str
    kind: str
    title: str
    language: str | None
    active: bool
    deactivated_reason: str


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    id: int
    chat: ChatRef
    chat_kind: str
    chat_title: str
    sectors: tuple[str, ...]
    time: str
    timezone: str
    mode: str
    variant: str
    active: bool
    reason: str
    created_by: str
    language: str | None
    last_issue_id: int | None
    silent: bool = False  # /settings: push without a notification sound (Telegram)
    previews: bool = False  # /settings: show link previews
    quiet: str = ""  # /quiet: "22:00-07:00" in ``timezone`` ("" none): on-publish pushes wait
    days: int = 127  # allowed local weekdays, bit 0 = Monday (briefcast.slots.ALL_DAYS)


@dataclass(frozen=True, slots=True)
class WatchRecord:
    """One watched word: ``phrase`` as typed, ``needle`` as matched (see briefcast.briefing.watch)."""

    id: int
    phrase: str
    needle: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WatcherRecord:
    """A chat (thread) and the words it watches; ``mode`` is ``publish`` or ``daily``.

    ``chat_active`` is false once the bot was removed from the chat (nothing is sent then).
    """

    id: int
    chat: ChatRef
    chat_kind: str
    chat_title: str
    language: str | None
    mode: str
    words: tuple[WatchRecord, ...]
    chat_active: bool = True

    @property
    def phrases(self) -> tuple[str, ...]:
        return tuple(w.phrase for w in self.words)


@dataclass(frozen=True, slots=True)
class WatchAdded:
    """What :meth:`Store.add_watches` did: the words added, those already watched, the watcher after."""

    added: tuple[str, ...]
    existing: tuple[str, ...]
    watcher: WatcherRecord


@dataclass(frozen=True, slots=True)
class ForumTopicRecord:
    """A forum topic created for one sector (``thread_id`` is Telegram's ``message_thread_id``)."""

    id: int
    chat: ChatRef  # the forum supergroup (no thread)
    sector: str
    thread_id: str
    name: str
    state: str  # open | closed


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    issue_id: int
    subscription_id: int | None  # None for a watch alert (``watcher_id`` set)
    status: str
    attempts: int
    next_attempt_at: datetime | None
    lease_owner: str
    lease_until: datetime | None
    parts_total: int
    parts_sent: int
    message_ids: tuple[str, ...]
    last_error: str
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    kind: str = "digest"  # digest | watch | correction
    watcher_id: int | None = None
    corrects_id: int | None = None  # correction: the delivery whose messages it edits
    detail: tuple[str, ...] = ()  # correction: per part, edited | unchanged | notice
