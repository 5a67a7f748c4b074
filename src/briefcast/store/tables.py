"""SQLModel tables: the whole schema, shared by the queries and checked against the migrations.

Conventions that keep SQLite and PostgreSQL behaving alike:

* timestamps are timezone-aware UTC (``DateTime(timezone=True)``); SQLite gives
  them back naive, so :func:`utc` re-attaches UTC when reading;
* "no thread" / "no workspace" are stored as ``""``, never NULL, because NULLs
  are distinct in unique constraints and would allow duplicate subscriptions;
* JSON columns are ``JSONB`` on PostgreSQL and ``JSON`` (text) on SQLite;
* every constraint and index has an explicit name so the migrations can refer to it.

These classes are private to :mod:`briefcast.store`; callers get records.
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """The same instant as an aware UTC datetime (SQLite returns naive values; naive means UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc(value: datetime | None) -> datetime | None:
    """:func:`as_utc`, passing ``None`` through (nullable columns)."""
    return None if value is None else as_utc(value)


def _ts(nullable: bool = False) -> Any:
    """A timestamp column: aware UTC, ``now()`` by default unless nullable."""
    if nullable:
        return Field(default=None, sa_type=sa.DateTime(timezone=True), nullable=True)
    return Field(default_factory=now, sa_type=sa.DateTime(timezone=True), nullable=False)


class IssueRow(SQLModel, table=True):
    """One revision of one issue. ``identity`` (date + title slug) groups revisions."""

    __tablename__ = "issue"
    __table_args__ = (
        sa.UniqueConstraint("identity", "revision", name="uq_issue_identity_revision"),
        sa.UniqueConstraint("content_hash", name="uq_issue_content_hash"),
        sa.Index("ix_issue_date", "date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    identity: str = Field(max_length=200)
    revision: int = 1
    content_hash: str = Field(max_length=64)
    title: str = Field(sa_type=sa.Text)
    date: dt.date | None = Field(default=None, nullable=True)
    language: str = Field(default="zh", max_length=16)
    source: str = Field(default="", sa_type=sa.Text)
    raw: str = Field(default="", sa_type=sa.Text)
    model: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    status: str = Field(default="published", max_length=16)  # draft | published
    created_at: datetime = _ts()
    published_at: datetime | None = _ts(nullable=True)


class SectionRow(SQLModel, table=True):
    """One section of an issue revision; ``text`` is the plain text the search indexes."""

    __tablename__ = "section"
    __table_args__ = (
        sa.UniqueConstraint("issue_id", "position", name="uq_section_issue_position"),
        sa.Index("ix_section_key", "key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(sa_column_args=[sa.ForeignKey("issue.id", ondelete="CASCADE")])
    position: int
    key: str = Field(max_length=64)
    name: str = Field(default="", sa_type=sa.Text)
    headline: str = Field(default="", sa_type=sa.Text)
    text: str = Field(default="", sa_type=sa.Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class ChatRow(SQLModel, table=True):
    """A Telegram chat/channel or a Slack channel (``workspace`` = team id, "" for Telegram)."""

    __tablename__ = "chat"
    __table_args__ = (
        sa.UniqueConstraint(
            "platform", "workspace", "external_id", name="uq_chat_platform_workspace_external"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(default="", max_length=64)
    external_id: str = Field(max_length=64)
    kind: str = Field(default="", max_length=32)
    title: str = Field(default="", sa_type=sa.Text)
    language: str | None = Field(default=None, max_length=16, nullable=True)
    active: bool = True
    deactivated_reason: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class SubscriptionRow(SQLModel, table=True):
    """What one chat (thread) receives, when and how. One row per (chat, thread)."""

    __tablename__ = "subscription"
    __table_args__ = (sa.UniqueConstraint("chat_id", "thread_id", name="uq_subscription_chat_thread"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column_args=[sa.ForeignKey("chat.id", ondelete="CASCADE")])
    thread_id: str = Field(default="", max_length=64)
    sectors: list[str] = Field(default_factory=list, sa_type=JSONType)
    mode: str = Field(default="scheduled", max_length=16)  # scheduled | publish
    time: str = Field(default="08:00", max_length=5)  # HH:MM local
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    variant: str = Field(default="full", max_length=16)  # full | compact
    # /settings (revision 0006): push without a notification sound; show link previews
    silent: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    previews: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # /quiet (revision 0009): "HH:MM-HH:MM" in ``timezone``, "" for none; on-publish pushes wait
    quiet: str = Field(default="", max_length=11, sa_column_kwargs={"server_default": ""})
    # weekday schedules (revision 0010): allowed local weekdays, bit 0 = Monday ... bit 6 = Sunday;
    # 127 = every day. Scheduled pushes go out at the first allowed day's slot.
    days: int = Field(default=127, sa_column_kwargs={"server_default": "127"})
    active: bool = True
    reason: str = Field(default="", sa_type=sa.Text)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    last_issue_id: int | None = Field(
        default=None, nullable=True, sa_column_args=[sa.ForeignKey("issue.id", ondelete="SET NULL")]
    )


class DeliveryRow(SQLModel, table=True):
    """The outbox: one row per (issue, subscription); its status makes sending resumable and once-only.

    ``kind`` (revision 0009): ``digest`` (an issue pushed to a subscription), ``watch`` (the
    passages mentioning a watcher's words: ``watcher_id`` set, ``subscription_id`` NULL, one row
    per (issue, watcher)) or ``correction`` (a revision applied by editing the messages of the
    delivery ``corrects_id``; ``detail`` lists what was done per part).
    """

    __tablename__ = "delivery"
    __table_args__ = (
        sa.UniqueConstraint("issue_id", "subscription_id", name="uq_delivery_issue_subscription"),
        sa.UniqueConstraint("issue_id", "watcher_id", name="uq_delivery_issue_watcher"),
        # one delivery per issue identity, whatever the revision (revision 0008): the enqueue paths
        # rely on it (INSERT ... ON CONFLICT DO NOTHING), and a corrected revision is not re-sent
        sa.UniqueConstraint("subscription_id", "identity", name="uq_delivery_subscription_identity"),
        # id too: claims order by (next_attempt_at, id), so PostgreSQL reads the index in order
        # instead of sorting every pending row before its LIMIT (revision 0002)
        sa.Index("ix_delivery_status_next_id", "status", "next_attempt_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(sa_column_args=[sa.ForeignKey("issue.id", ondelete="CASCADE")])
    subscription_id: int | None = Field(
        default=None,
        nullable=True,
        sa_column_args=[sa.ForeignKey("subscription.id", ondelete="CASCADE")],
    )
    kind: str = Field(default="digest", max_length=16, sa_column_kwargs={"server_default": "digest"})
    watcher_id: int | None = Field(
        default=None,
        nullable=True,
        sa_column_args=[sa.ForeignKey("watcher.id", ondelete="CASCADE", name="fk_delivery_watcher")],
    )
    corrects_id: int | None = Field(
        default=None,
        nullable=True,
        sa_column_args=[sa.ForeignKey("delivery.id", ondelete="SET NULL", name="fk_delivery_corrects")],
    )
    detail: list[str] | None = Field(default=None, nullable=True, sa_type=JSONType)
    # revision 0008: the issue's identity (one delivery per subscription and identity) and the
    # chat's platform, copied at enqueue so the dashboard and /metrics count without joins
    identity: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    platform: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
    status: str = Field(default="pending", max_length=16)  # pending|claimed|sent|failed|skipped
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(nullable=True)
    lease_owner: str = Field(default="", max_length=128)
    lease_until: datetime | None = _ts(nullable=True)
    parts_total: int = 0
    parts_sent: int = 0
    message_ids: list[str] = Field(default_factory=list, sa_type=JSONType)
    last_error: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)


class WorkerRow(SQLModel, table=True):
    """A live delivery engine (``briefcast run/worker/push``): who it is and its last heartbeat.

    Another process frees the claims and the sender lease of an owner whose process is gone
    (same host: PID, boot id, pid namespace, start time) or whose heartbeat lapsed; see
    briefcast.store.outbox.liveness. ``status`` lists its bot-level faults (a paused platform).
    """

    __tablename__ = "worker"

    owner: str = Field(primary_key=True, max_length=128)
    host: str = Field(max_length=128)
    pid: int
    boot_id: str = Field(max_length=64)
    pid_ns: str = Field(max_length=64)
    pid_start: str = Field(max_length=32)
    started_at: datetime = _ts()
    heartbeat_at: datetime = _ts()
    status: str = Field(default="", max_length=1000, sa_column_kwargs={"server_default": ""})


class SenderLeaseRow(SQLModel, table=True):
    """Which worker may send to a platform right now (one sender per bot token; the others stand by).

    Platform limits (Telegram: 30 msg/s per bot) are paced inside one engine, so two engines
    sending at once would each use the whole budget. The holder renews ``expires_at``; a standby
    takes over once it lapses (crash) or is given back (clean stop). See briefcast.store.outbox.senders.
    """

    __tablename__ = "sender_lease"

    platform: str = Field(primary_key=True, max_length=32)
    owner: str = Field(max_length=128)
    expires_at: datetime = _ts()
    acquired_at: datetime = _ts()


class SourceRow(SQLModel, table=True):
    """A polled source (folder, URL, feed) and its conditional-request / health state."""

    __tablename__ = "source"
    __table_args__ = (sa.UniqueConstraint("name", name="uq_source_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    kind: str = Field(max_length=16)  # folder | url | feed
    location: str = Field(sa_type=sa.Text)
    etag: str = Field(default="", sa_type=sa.Text)
    last_modified: str = Field(default="", max_length=64)
    status: str = Field(default="ok", max_length=16)
    last_success_at: datetime | None = _ts(nullable=True)
    last_error: str = Field(default="", sa_type=sa.Text)
    failures: int = 0
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class IngestEventRow(SQLModel, table=True):
    """An audit line per ingestion attempt (what arrived from where, and what became of it)."""

    __tablename__ = "ingest_event"
    __table_args__ = (sa.Index("ix_ingest_event_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(default="", sa_type=sa.Text)
    at: datetime = _ts()
    status: str = Field(max_length=16)  # new | revision | duplicate | failed
    reason: str = Field(default="", sa_type=sa.Text)
    issue_id: int | None = Field(
        default=None, nullable=True, sa_column_args=[sa.ForeignKey("issue.id", ondelete="SET NULL")]
    )


class WatcherRow(SQLModel, table=True):
    """A chat (thread) that watches words, and when it wants the matches (revision 0006).

    ``mode``: ``publish`` = as soon as an issue is published, ``daily`` = with the chat's next
    scheduled digest. One row per (chat, thread), like subscriptions; the words are ``watch`` rows.
    """

    __tablename__ = "watcher"
    __table_args__ = (sa.UniqueConstraint("chat_id", "thread_id", name="uq_watcher_chat_thread"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column_args=[sa.ForeignKey("chat.id", ondelete="CASCADE")])
    thread_id: str = Field(default="", max_length=64)
    mode: str = Field(default="publish", max_length=16)  # publish | daily
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class WatchRow(SQLModel, table=True):
    """One watched word or phrase: as typed (``phrase``) and normalised (``needle``, unique per watcher)."""

    __tablename__ = "watch"
    __table_args__ = (sa.UniqueConstraint("watcher_id", "needle", name="uq_watch_watcher_needle"),)

    id: int | None = Field(default=None, primary_key=True)
    watcher_id: int = Field(sa_column_args=[sa.ForeignKey("watcher.id", ondelete="CASCADE")])
    phrase: str = Field(max_length=200)
    needle: str = Field(max_length=200)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = _ts()


class ForumTopicRow(SQLModel, table=True):
    """A forum topic briefcast created for a sector with /topics (revision 0006).

    ``state`` is ``open`` or ``closed`` (``/topics off`` closes the topic and stops its
    subscription; ``/topics`` reopens it rather than creating a second one).
    """

    __tablename__ = "forum_topic"
    __table_args__ = (sa.UniqueConstraint("chat_id", "sector", name="uq_forum_topic_chat_sector"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column_args=[sa.ForeignKey("chat.id", ondelete="CASCADE")])
    sector: str = Field(max_length=64)
    thread_id: str = Field(max_length=64)
    name: str = Field(default="", sa_type=sa.Text)
    state: str = Field(default="open", max_length=16)  # open | closed
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


METADATA = SQLModel.metadata
TABLES = (
    "issue",
    "section",
    "chat",
    "subscription",
    "delivery",
    "source",
    "ingest_event",
    "watcher",
    "watch",
    "forum_topic",
)
