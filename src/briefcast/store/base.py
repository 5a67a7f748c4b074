"""What every part of the Store shares: the engine, short sessions, chat lookup, row ids.

Sessions are short and scoped to one method, so records never carry lazy
state. Write methods run in one transaction each (``BEGIN IMMEDIATE`` on
SQLite, see :mod:`briefcast.store.db`); inserts that may race with another
process rely on unique constraints plus ``ON CONFLICT DO NOTHING`` or a retry,
never on a read-then-write check alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from briefcast.briefing.sectors import SectorCatalogue, default_catalogue
from briefcast.config import Settings, load_settings
from briefcast.store import db
from briefcast.store.records import (
    ChatRecord,
    ChatRef,
    StoredIssue,
)
from briefcast.store.tables import (
    METADATA,
    ChatRow,
    DeliveryRow,
    ForumTopicRow,
    IssueRow,
    SubscriptionRow,
    WatcherRow,
    WatchRow,
    now,
)

FTS_MIN_TERM = 3  # the trigram tokenizer cannot match fewer characters
MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number cannot be an id


def is_id(value: int) -> bool:
    """Whether ``value`` can be a row id (PostgreSQL refuses to compare INTEGER with a larger number)."""
    return 0 < value <= MAX_ID


class StoreBase:
    """The connection half of :class:`~briefcast.store.Store`; the query families extend it."""

    def __init__(
        self,
        engine: Engine,
        *,
        settings: Settings | None = None,
        catalogue: SectorCatalogue | None = None,
    ) -> None:
        self.engine = engine
        self._writer = db.writer(engine)
        self.settings = settings or Settings()
        self.catalogue = catalogue or default_catalogue()
        self._fts: bool | None = None
        self._latest: StoredIssue | None = None  # the parsed newest issue, reused while still newest
        self._latest_seen = -math.inf  # time.monotonic() of the last check that it is still newest

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        migrate: bool = True,
        settings: Settings | None = None,
        catalogue: SectorCatalogue | None = None,
    ) -> Self:
        """Connect to ``url`` (default: the settings' database URL) and bring the schema up to date."""
        settings = settings or load_settings()
        engine = db.create_engine(url or settings.database_url)
        if migrate:
            db.upgrade(engine)
        return cls(engine, settings=settings, catalogue=catalogue)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def upgrade(self) -> None:
        """Run the migrations up to head (idempotent)."""
        db.upgrade(self.engine)
        self._fts = None

    # ------------------------------------------------------------------ sessions

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine) as s:
            yield s

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            yield s

    def _insert_ignore(self, s: Session, table: sa.Table, values: dict[str, Any]) -> None:
        """INSERT … ON CONFLICT DO NOTHING (both dialects support it)."""
        stmt: Any
        if self.dialect == "postgresql":
            stmt = pg_dialect.insert(table).values(**values).on_conflict_do_nothing()
        else:
            stmt = sqlite_dialect.insert(table).values(**values).on_conflict_do_nothing()
        s.execute(stmt)

    # --------------------------------------------------------------------- chats

    def _chat(self, s: Session, platform: str, chat_id: str, workspace: str = "") -> ChatRow | None:
        return s.exec(
            select(ChatRow).where(
                ChatRow.platform == platform, ChatRow.workspace == workspace, ChatRow.external_id == chat_id
            )
        ).first()

    def _ensure_chat(self, s: Session, ref: ChatRef, kind: str = "") -> ChatRow:
        stamp = now()
        self._insert_ignore(
            s,
            _table("chat"),
            {
                "platform": ref.platform,
                "workspace": ref.workspace,
                "external_id": ref.chat_id,
                "kind": kind,
                "title": "",
                "language": None,
                "active": True,
                "deactivated_reason": "",
                "created_at": stamp,
                "updated_at": stamp,
            },
        )
        row = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
        assert row is not None
        return row


def _table(name: str) -> sa.Table:
    return METADATA.tables[name]


def _id(
    row: IssueRow | ChatRow | SubscriptionRow | DeliveryRow | WatcherRow | WatchRow | ForumTopicRow,
) -> int:
    assert row.id is not None, "row not flushed"
    return row.id


def _chat_record(row: ChatRow) -> ChatRecord:
    return ChatRecord(
        id=_id(row),
        platform=row.platform,
        workspace=row.workspace,
        chat_id=row.external_id,
        kind=row.kind,
        title=row.title,
        language=row.language,
        active=row.active,
        deactivated_reason=row.deactivated_reason,
    )
