"""The Store: every query briefcast runs, behind a small synchronous API of frozen records.

Sessions are short and scoped to one method, so records never carry lazy
state. Write methods run in one transaction each (``BEGIN IMMEDIATE`` on
SQLite, see :mod:`briefcast.store.db`); inserts that may race with another
process rely on unique constraints plus ``ON CONFLICT DO NOTHING`` or a retry,
never on a read-then-write check alone.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from briefcast.briefing.model import Briefing, Section
from briefcast.briefing.sectors import SectorCatalogue, default_catalogue, slugify
from briefcast.briefing.watch import MAX_WATCHES_PER_CHAT, normalise_phrase
from briefcast.config import Settings, load_settings
from briefcast.store import db
from briefcast.store.errors import InvalidDays, UnknownSector, WatchLimitReached
from briefcast.store.records import (
    ChatRecord,
    ChatRef,
    DeliveryRecord,
    ForumTopicRecord,
    IngestResult,
    IngestStatus,
    SearchHit,
    StoredIssue,
    SubscriptionRecord,
    WatchAdded,
    WatcherRecord,
    WatchRecord,
)
from briefcast.store.search import (
    best_passage,
    fts_query,
    like_pattern,
    query_terms,
    section_search_text,
    snippet,
    snippet_links,
)
from briefcast.store.tables import (
    METADATA,
    ChatRow,
    DeliveryRow,
    ForumTopicRow,
    IngestEventRow,
    IssueRow,
    SectionRow,
    SubscriptionRow,
    WatcherRow,
    WatchRow,
    now,
    utc,
)
from briefcast.store.validate import (
    ALL_DAYS,
    WEEKLY_DEFAULT_DAYS,
    parse_days,
    parse_mode,
    parse_quiet,
    parse_time,
    parse_timezone,
    parse_variant,
    parse_watch,
    parse_watch_mode,
)

_TRAILING_WS = re.compile(r"[ \t\f\v]+$", re.MULTILINE)
FTS_MIN_TERM = 3  # the trigram tokenizer cannot match fewer characters
MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number cannot be an id


def is_id(value: int) -> bool:
    """Whether ``value`` can be a row id (PostgreSQL refuses to compare INTEGER with a larger number)."""
    return 0 < value <= MAX_ID


def normalise_raw(raw: str) -> str:
    """NFC, ``\\r\\n``/``\\r`` -> ``\\n``, trailing whitespace stripped per line and at the end."""
    t = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    return _TRAILING_WS.sub("", t).strip("\n")


def content_hash(raw: str) -> str:
    """SHA-256 of the normalised raw source: the same newsletter re-sent is recognised as such."""
    return hashlib.sha256(normalise_raw(raw).encode("utf-8")).hexdigest()


def issue_identity(briefing: Briefing) -> str:
    """``YYYY-MM-DD:title-slug`` — what makes two ingestions revisions of one issue."""
    day = briefing.date.isoformat() if briefing.date else "undated"
    return f"{day}:{slugify(briefing.title)}"[:200]


class Store:
    """Persistence for issues, chats, subscriptions and deliveries. Thread-safe; one per process."""

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
    ) -> Store:
        """Connect to ``url`` (default: the settings' database URL) and bring the schema up to date."""
        settings = settings or load_settings()
        engine = db.create_engine(url or settings.database_url)
        if migrate:
            db.upgrade(engine)
        return cls(engine, settings=settings, catalogue=catalogue)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
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

    # -------------------------------------------------------------------- issues

    def ingest(self, briefing: Briefing, *, raw: str, source: str = "", publish: bool = True) -> IngestResult:
        """Store an issue: ``new``, a ``revision`` of the same date+title, or a ``duplicate`` (no write).

        Two processes ingesting the same text at once collide on the unique
        content hash; the loser retries and reports ``duplicate``.
        """
        self._forget_latest()
        for attempt in range(3):
            try:
                return self._ingest_once(briefing, raw=raw, source=source, publish=publish)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _ingest_once(self, briefing: Briefing, *, raw: str, source: str, publish: bool) -> IngestResult:
        digest = content_hash(raw) if raw.strip() else briefing.content_hash()
        identity = issue_identity(briefing)
        with self._write() as s:
            dup = s.exec(select(IssueRow).where(IssueRow.content_hash == digest)).first()
            if dup is not None:
                assert dup.id is not None
                return IngestResult(dup.id, dup.revision, "duplicate", _model_sectors(dup.model))
            top = s.exec(select(sa.func.max(IssueRow.revision)).where(IssueRow.identity == identity)).one()
            revision = (top or 0) + 1
            stamp = now()
            row = IssueRow(
                identity=identity,
                revision=revision,
                content_hash=digest,
                title=briefing.title,
                date=briefing.date,
                language=briefing.language,
                source=source or briefing.source,
                raw=raw,
                model=briefing.to_dict(),
                status="published" if publish else "draft",
                created_at=stamp,
                published_at=stamp if publish else None,
            )
            s.add(row)
            s.flush()
            assert row.id is not None
            for pos, sec in enumerate(briefing.sections):
                s.add(_section_row(row.id, pos, sec))
            intro = briefing.intro_section()
            if intro is not None:  # the intro is searchable too (position -1, key "intro")
                s.add(_section_row(row.id, -1, intro))
            status: IngestStatus = "revision" if revision > 1 else "new"
            s.add(IngestEventRow(source=row.source, at=stamp, status=status, issue_id=row.id))
            return IngestResult(row.id, revision, status, briefing.sector_keys)

    def publish_issue(self, issue_id: int) -> StoredIssue | None:
        """Mark a draft published (no-op if it already is)."""
        self._forget_latest()
        if not is_id(issue_id):
            return None
        with self._write() as s:
            row = s.get(IssueRow, issue_id)
            if row is None:
                return None
            if row.status != "published":
                row.status, row.published_at = "published", now()
                s.add(row)
            s.flush()
            return _issue(row)

    def discard_draft(self, issue_id: int) -> bool:
        """Delete a draft issue with its sections (and so its search rows); never a published one.

        Deletes are explicit rather than left to ``ON DELETE CASCADE``, which SQLite only
        honours with ``PRAGMA foreign_keys``; ingest events keep their history, unlinked.
        """
        self._forget_latest()
        if not is_id(issue_id):
            return False
        with self._write() as s:
            row = s.get(IssueRow, issue_id)
            if row is None or row.status != "draft":
                return False
            s.execute(sa.delete(SectionRow).where(col(SectionRow.issue_id) == issue_id))
            s.execute(sa.delete(DeliveryRow).where(col(DeliveryRow.issue_id) == issue_id))
            s.execute(
                sa.update(IngestEventRow)
                .where(col(IngestEventRow.issue_id) == issue_id)
                .values(issue_id=None)
            )
            s.delete(row)
            return True

    def log_ingest_event(
        self, source: str, status: str, reason: str = "", issue_id: int | None = None
    ) -> None:
        """Record an ingestion outcome that did not go through :meth:`ingest` (failures, skips)."""
        with self._write() as s:
            s.add(IngestEventRow(source=source, status=status, reason=reason, issue_id=issue_id))

    def get_issue(self, issue_id: int) -> StoredIssue | None:
        if not is_id(issue_id):
            return None  # e.g. /issue 99999999999999999999 or a forged button: no such issue
        with self._read() as s:
            row = s.get(IssueRow, issue_id)
            return _issue(row) if row else None

    def latest_issue(self) -> StoredIssue | None:
        """The newest published issue: latest date, then the last ingested (= newest revision).

        Every sector command asks for it, so only the newest id is queried (one indexed column)
        and the parsed issue is kept while that id stays the newest: a published issue's row
        never changes, so the copy cannot go stale.
        """
        checked = time.monotonic()
        with self.engine.connect() as conn:  # Core, not an ORM session: this runs per command
            newest = conn.execute(_NEWEST_PUBLISHED).scalar()
        if newest is None:
            self._latest, self._latest_seen = None, -math.inf
            return None
        cached = self._latest
        if cached is None or cached.id != newest:
            with self._read() as s:
                row = s.get(IssueRow, newest)
                cached = _issue(row) if row else None
        self._latest, self._latest_seen = cached, checked
        return cached

    def latest_issue_if_recent(self, max_age: float) -> StoredIssue | None:
        """The newest issue as :meth:`latest_issue` found it at most ``max_age`` seconds ago, without
        touching the database; None when it has not been checked that recently (or there is none).

        Sector commands answer from it on the event loop (no thread hop per command); an issue
        published by this Store clears it at once, one published by another process is seen
        within ``max_age``.
        """
        if self._latest is not None and time.monotonic() - self._latest_seen <= max_age:
            return self._latest
        return None

    def _forget_latest(self) -> None:
        self._latest_seen = -math.inf

    def find_issue(self, ref: str) -> StoredIssue | None:
        """``"12"``/``"#12"`` (id), ``"2026-11-28"`` (newest published revision that day), ``"latest"``."""
        r = ref.strip().lstrip("#")
        if r in ("", "latest"):
            return self.latest_issue()
        if r.isdigit():
            return self.get_issue(int(r))
        try:
            day = date.fromisoformat(r)
        except ValueError:
            return None
        with self._read() as s:
            row = s.exec(
                select(IssueRow)
                .where(IssueRow.date == day)
                .order_by(col(IssueRow.status) == "published", col(IssueRow.id))
            ).all()
            return _issue(row[-1]) if row else None

    def list_issues(self, limit: int = 20) -> list[StoredIssue]:
        """Every stored revision (drafts included), newest first."""
        with self._read() as s:
            rows = s.exec(select(IssueRow).order_by(*_NEWEST_FIRST).limit(limit)).all()
            return [_issue(r) for r in rows]

    # ------------------------------------------------------------ public archive
    # Read-only queries of the public archive and feeds (briefcast.archive): published issues
    # only, each as its newest published revision. Drafts are invisible here, whatever the id.

    def published_issues(
        self, limit: int = 20, offset: int = 0, *, sector: str | None = None
    ) -> list[StoredIssue]:
        """The newest published revision of every issue, newest first; ``sector``: only issues with
        that section. Drafts, and revisions superseded by a newer published one, never appear."""
        if limit <= 0:
            return []
        with self._read() as s:
            rows = s.exec(
                select(IssueRow)
                .where(*_archived(sector))
                .order_by(*_NEWEST_FIRST)
                .offset(max(0, offset))
                .limit(limit)
            ).all()
            return [_issue(r) for r in rows]

    def count_published_issues(self, *, sector: str | None = None) -> int:
        """How many issues :meth:`published_issues` can list (for paging)."""
        with self._read() as s:
            n = s.exec(select(sa.func.count()).select_from(IssueRow).where(*_archived(sector))).one()
            return int(n)

    def published_issue(self, ref: str) -> StoredIssue | None:
        """The issue the archive shows at ``/issues/{ref}``, as its newest published revision.

        ``ref`` is the id of any *published* revision (a draft's id gives None, as does an
        unknown one) or a date, which names the issue first published with that date (see
        :meth:`issue_date_owners`); anything else gives None.
        """
        r = ref.strip()
        with self._read() as s:
            identity: str | None
            if r.isascii() and r.isdigit():
                if int(r) > MAX_ID:
                    return None  # PostgreSQL would refuse the query ("integer out of range")
                row = s.get(IssueRow, int(r))
                if row is None or row.status != "published":
                    return None
                identity = row.identity
            else:
                try:
                    day = date.fromisoformat(r)
                except ValueError:
                    return None
                identity = self._date_owners(s, [day]).get(day)
                if identity is None:
                    return None
            newest = s.exec(
                select(IssueRow)
                .where(IssueRow.identity == identity, IssueRow.status == "published")
                .order_by(col(IssueRow.revision).desc())
                .limit(1)
            ).first()
            return _issue(newest) if newest is not None else None

    def issue_date_owners(self, days: Sequence[date]) -> dict[date, str]:
        """For each date, the identity of the issue published first with it (earliest publication,
        then lowest id): the one ``/issues/<date>`` shows. A later issue of the same day is reached
        by id. Once an issue owns a date it keeps it (published issues are never deleted)."""
        with self._read() as s:
            return self._date_owners(s, days)

    def _date_owners(self, s: Session, days: Sequence[date]) -> dict[date, str]:
        wanted = sorted(set(days))
        if not wanted:
            return {}
        rows = s.execute(
            sa.select(
                col(IssueRow.date),
                col(IssueRow.identity),
                sa.func.min(col(IssueRow.published_at)),
                sa.func.min(col(IssueRow.id)),
            )
            .where(col(IssueRow.status) == "published", col(IssueRow.date).in_(wanted))
            .group_by(col(IssueRow.date), col(IssueRow.identity))
        ).all()
        owners: dict[date, tuple[datetime, int, str]] = {}
        for day, identity, first, low in rows:
            if day is None:
                continue
            key = (utc(first) or now(), int(low), str(identity))
            if day not in owners or key < owners[day]:
                owners[day] = key
        return {day: key[2] for day, key in owners.items()}

    # -------------------------------------------------------------------- search

    def _has_fts(self, s: Session) -> bool:
        if self._fts is None:
            self._fts = self.dialect == "sqlite" and sa.inspect(s.connection()).has_table("section_fts")
        return self._fts

    def search(self, query: str, limit: int = 5) -> list[SearchHit]:
        """Sections of published issues containing every term of ``query``, latest issues first.

        Only the newest published revision of each issue is searched. Terms of
        three or more characters use the FTS5 trigram index on SQLite (the GIN
        trigram index serves ILIKE on PostgreSQL); shorter terms such as "储能"
        fall back to LIKE / ILIKE, which is correct, just unindexed.
        """
        terms = query_terms(query)
        if not terms or limit <= 0:
            return []
        newer = aliased(IssueRow)
        superseded = (
            sa.select(sa.literal(1))
            .where(
                col(newer.identity) == col(IssueRow.identity),
                col(newer.revision) > col(IssueRow.revision),
                col(newer.status) == "published",
            )
            .exists()
        )
        with self._read() as s:
            stmt = (
                select(SectionRow, IssueRow)
                .join(IssueRow, col(SectionRow.issue_id) == col(IssueRow.id))
                .where(IssueRow.status == "published", ~superseded)
            )
            if self._has_fts(s) and all(len(t) >= FTS_MIN_TERM for t in terms):
                matching: sa.Select[Any] = (
                    sa.select(sa.column("rowid"))
                    .select_from(sa.table("section_fts"))
                    .where(sa.text("section_fts MATCH :q").bindparams(q=fts_query(terms)))
                )
                stmt = stmt.where(col(SectionRow.id).in_(matching))
            else:
                for t in terms:
                    stmt = stmt.where(col(SectionRow.text).ilike(like_pattern(t), escape="\\"))
            stmt = stmt.order_by(*_NEWEST_FIRST, col(SectionRow.position)).limit(limit)
            rows = s.exec(stmt).all()
        hits: list[SearchHit] = []
        for sec_row, issue_row in rows:
            section = Section.from_dict(sec_row.data)
            found = best_passage(section, terms)
            text, links = found if found else (sec_row.text, ())
            snip = snippet(text, terms)
            assert issue_row.id is not None
            hits.append(
                SearchHit(
                    issue_row.id,
                    issue_row.title,
                    issue_row.date,
                    sec_row.key,
                    snip,
                    snippet_links(snip, links),
                )
            )
        return hits

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

    def upsert_chat(
        self, ref: ChatRef, *, kind: str, title: str = "", language: str | None = None
    ) -> ChatRecord:
        """Create or refresh a chat; hearing from a chat makes it active again."""
        with self._write() as s:
            row = self._ensure_chat(s, ref, kind)
            row.kind = kind or row.kind
            row.title = title or row.title
            row.language = language if language is not None else row.language
            row.active, row.deactivated_reason = True, ""
            row.updated_at = now()
            s.add(row)
            s.flush()
            return _chat_record(row)

    def get_chat(self, platform: str, chat_id: str, workspace: str = "") -> ChatRecord | None:
        with self._read() as s:
            row = self._chat(s, platform, chat_id, workspace)
            return _chat_record(row) if row else None

    def deactivate_chat(self, platform: str, chat_id: str, reason: str, workspace: str = "") -> int:
        """Stop sending to a chat (blocked, kicked, not found); returns how many subscriptions stopped."""
        with self._write() as s:
            chat = self._chat(s, platform, chat_id, workspace)
            if chat is None:
                return 0
            stamp = now()
            chat.active, chat.deactivated_reason, chat.updated_at = False, reason, stamp
            s.add(chat)
            subs = s.exec(
                select(SubscriptionRow).where(SubscriptionRow.chat_id == chat.id, col(SubscriptionRow.active))
            ).all()
            for sub in subs:
                sub.active, sub.reason, sub.updated_at = False, reason, stamp
                s.add(sub)
            return len(subs)

    def migrate_chat(self, platform: str, old_chat_id: str, new_chat_id: str, workspace: str = "") -> int:
        """Follow a chat to its new id (Telegram group -> supergroup); returns subscriptions carried over.

        If the new chat is unknown the row is simply renamed. If it already
        exists (someone subscribed there too), each old subscription moves to it,
        or merges its sectors into the subscription for the same thread; the old
        chat is then deactivated.
        """
        with self._write() as s:
            old = self._chat(s, platform, old_chat_id, workspace)
            if old is None or old_chat_id == new_chat_id:
                return 0
            stamp = now()
            target = self._chat(s, platform, new_chat_id, workspace)
            if target is None:
                count = len(s.exec(select(SubscriptionRow).where(SubscriptionRow.chat_id == old.id)).all())
                old.external_id, old.active, old.deactivated_reason, old.updated_at = (
                    new_chat_id,
                    True,
                    "",
                    stamp,
                )
                s.add(old)
                return count
            moved = 0
            for sub in s.exec(select(SubscriptionRow).where(SubscriptionRow.chat_id == old.id)).all():
                twin = s.exec(
                    select(SubscriptionRow).where(
                        SubscriptionRow.chat_id == target.id, SubscriptionRow.thread_id == sub.thread_id
                    )
                ).first()
                if twin is None:
                    sub.chat_id, sub.updated_at = _id(target), stamp
                    s.add(sub)
                elif sub.active:
                    if twin.active:
                        twin.sectors = self._ordered([*twin.sectors, *sub.sectors])
                    else:
                        _copy_schedule(sub, twin)
                    twin.active, twin.reason, twin.updated_at = True, "", stamp
                    sub.active, sub.reason, sub.updated_at = False, f"migrated to {new_chat_id}", stamp
                    s.add_all([twin, sub])
                moved += 1
            self._move_watchers(s, old, target)
            self._move_topics(s, old, target)
            target.kind = target.kind or old.kind
            target.title = target.title or old.title
            target.language = target.language or old.language
            target.active, target.deactivated_reason, target.updated_at = True, "", stamp
            old.active, old.deactivated_reason, old.updated_at = False, f"migrated to {new_chat_id}", stamp
            s.add_all([target, old])
            return moved

    # ------------------------------------------------------------- subscriptions

    def resolve_sectors(self, names: Sequence[str]) -> tuple[str, ...]:
        """Sector keys in catalogue order from keys, names, aliases or "all"; empty means all."""
        if not names:
            return self.catalogue.keys
        keys: list[str] = []
        for n in names:
            if n.strip().lower() in ("all", "全部", "所有"):
                return self.catalogue.keys
            sector = self.catalogue.get(n) or self.catalogue.lookup(n)
            if sector is None:
                raise UnknownSector(n, self.catalogue.keys)
            keys.append(sector.key)
        return tuple(self._ordered(keys))

    def _ordered(self, keys: Sequence[str]) -> list[str]:
        order = {k: i for i, k in enumerate(self.catalogue.keys)}
        return sorted(set(keys), key=lambda k: (order.get(k, len(order)), k))

    def _sub(self, s: Session, ref: ChatRef) -> tuple[ChatRow, SubscriptionRow] | None:
        chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
        if chat is None:
            return None
        sub = s.exec(
            select(SubscriptionRow).where(
                SubscriptionRow.chat_id == chat.id, SubscriptionRow.thread_id == (ref.thread_id or "")
            )
        ).first()
        return (chat, sub) if sub else None

    def subscribe(
        self,
        ref: ChatRef,
        sectors: Sequence[str],
        *,
        time: str | None = None,
        timezone: str | None = None,
        mode: str | None = None,
        created_by: str = "",
        variant: str | None = None,
        days: int | str | None = None,
    ) -> SubscriptionRecord:
        """Add sectors to the chat's (thread's) subscription, creating it with the settings' defaults.

        Values are validated before anything is written (:class:`InvalidTime`,
        :class:`InvalidTimezone`, :class:`InvalidDays`, :class:`UnknownSector`, ...). ``days``:
        the allowed local weekdays, a mask (bit 0 = Monday) or words (``"mon,wed,fri"``); None
        keeps the subscription's (every day for a new one). Subscribing again
        re-activates a stopped subscription and its chat.
        """
        keys = self.resolve_sectors(sectors)
        hhmm = parse_time(time) if time is not None else None
        tz = parse_timezone(timezone) if timezone is not None else None
        md = parse_mode(mode) if mode is not None else None
        var = parse_variant(variant) if variant is not None else None
        mask = _days(days)
        with self._write() as s:
            chat = self._ensure_chat(s, ref)
            stamp = now()
            if not chat.active:
                chat.active, chat.deactivated_reason, chat.updated_at = True, "", stamp
                s.add(chat)
            self._insert_ignore(
                s,
                _table("subscription"),
                {
                    "chat_id": chat.id,
                    "thread_id": ref.thread_id or "",
                    "sectors": [],
                    "mode": "scheduled",
                    "time": parse_time(self.settings.default_time),
                    "timezone": parse_timezone(self.settings.default_timezone),
                    "variant": parse_variant(self.settings.delivery.variant),
                    "days": ALL_DAYS,
                    "active": False,
                    "reason": "",
                    "created_by": created_by,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "last_issue_id": None,
                },
            )
            found = self._sub(s, ref)
            assert found is not None
            _, sub = found
            sub.sectors = self._ordered([*sub.sectors, *keys]) if sub.active else list(keys)
            sub.time = hhmm or sub.time
            sub.timezone = tz or sub.timezone
            if mask is None and md is not None and md != sub.mode and "weekly" in (md, sub.mode):
                # "weekly" alone: Mondays; back from weekly to daily: every day again
                mask = WEEKLY_DEFAULT_DAYS if md == "weekly" else ALL_DAYS
            sub.mode = md or sub.mode
            sub.variant = var or sub.variant
            sub.days = mask if mask is not None else sub.days
            sub.created_by = sub.created_by or created_by
            sub.active, sub.reason, sub.updated_at = True, "", stamp
            s.add(sub)
            s.flush()
            return _sub_record(sub, chat)

    def unsubscribe(self, ref: ChatRef, sectors: Sequence[str] | None = None) -> SubscriptionRecord | None:
        """Remove some sectors (None: all); a subscription left without sectors becomes inactive."""
        drop = set(self.resolve_sectors(sectors)) if sectors else None
        with self._write() as s:
            found = self._sub(s, ref)
            if found is None:
                return None
            chat, sub = found
            sub.sectors = [] if drop is None else [k for k in sub.sectors if k not in drop]
            if not sub.sectors:
                sub.active, sub.reason = False, "unsubscribed"
            sub.updated_at = now()
            s.add(sub)
            s.flush()
            return _sub_record(sub, chat)

    def set_schedule(
        self,
        ref: ChatRef,
        *,
        time: str | None = None,
        timezone: str | None = None,
        mode: str | None = None,
        variant: str | None = None,
    ) -> SubscriptionRecord | None:
        """Change when/how an existing subscription is delivered; None if the chat has none."""
        hhmm = parse_time(time) if time is not None else None
        tz = parse_timezone(timezone) if timezone is not None else None
        md = parse_mode(mode) if mode is not None else None
        var = parse_variant(variant) if variant is not None else None
        with self._write() as s:
            found = self._sub(s, ref)
            if found is None:
                return None
            chat, sub = found
            sub.time = hhmm or sub.time
            sub.timezone = tz or sub.timezone
            sub.mode = md or sub.mode
            sub.variant = var or sub.variant
            sub.updated_at = now()
            s.add(sub)
            s.flush()
            return _sub_record(sub, chat)

    def set_quiet(self, ref: ChatRef, quiet: str) -> SubscriptionRecord | None:
        """Set (``"22:00-07:00"``) or clear (``"off"`` / ``""``) the quiet hours of a chat's
        (topic's) subscription; None if it has none. Raises :class:`InvalidQuiet`."""
        value = parse_quiet(quiet) if quiet else ""
        with self._write() as s:
            found = self._sub(s, ref)
            if found is None:
                return None
            chat, sub = found
            sub.quiet, sub.updated_at = value, now()
            s.add(sub)
            s.flush()
            return _sub_record(sub, chat)

    def _subs(self, *conds: Any, limit: int | None = None) -> list[SubscriptionRecord]:
        with self._read() as s:
            stmt = (
                select(SubscriptionRow, ChatRow)
                .join(ChatRow, col(SubscriptionRow.chat_id) == col(ChatRow.id))
                .where(*conds)
                .order_by(col(SubscriptionRow.id))
            )
            if limit is not None:
                stmt = stmt.limit(limit)
            rows = s.exec(stmt).all()
            return [_sub_record(sub, chat) for sub, chat in rows]

    def get_subscription(self, subscription_id: int) -> SubscriptionRecord | None:
        if not is_id(subscription_id):
            return None
        found = self._subs(col(SubscriptionRow.id) == subscription_id)
        return found[0] if found else None

    def subscriptions_for_chat(
        self, platform: str, chat_id: str, workspace: str = ""
    ) -> list[SubscriptionRecord]:
        """All subscriptions of a chat (every thread, active or not)."""
        return self._subs(
            col(ChatRow.platform) == platform,
            col(ChatRow.external_id) == chat_id,
            col(ChatRow.workspace) == workspace,
        )

    def subscriptions_created_by(self, platform: str, user_id: str) -> list[SubscriptionRecord]:
        """Subscriptions a user created on a platform (active or not), e.g. for "my subscriptions"."""
        return self._subs(col(ChatRow.platform) == platform, col(SubscriptionRow.created_by) == user_id)

    def active_subscriptions(
        self, platform: str | None = None, *, after: int = 0, limit: int | None = None
    ) -> list[SubscriptionRecord]:
        """Subscriptions to deliver: active, in an active chat; by id, one page if ``limit`` is given
        (keyset paging: ``after`` = the last id of the previous page, so page N costs what page 1 does)."""
        conds: list[Any] = [col(SubscriptionRow.active), col(ChatRow.active)]
        if platform is not None:
            conds.append(col(ChatRow.platform) == platform)
        if after:
            conds.append(col(SubscriptionRow.id) > after)
        return self._subs(*conds, limit=limit)

    # -------------------------------------------------------- subscription options

    def set_options(
        self,
        ref: ChatRef,
        *,
        variant: str | None = None,
        silent: bool | None = None,
        previews: bool | None = None,
    ) -> SubscriptionRecord | None:
        """``/settings``: digest variant, silent pushes, link previews; None if the chat has none."""
        var = parse_variant(variant) if variant is not None else None
        with self._write() as s:
            found = self._sub(s, ref)
            if found is None:
                return None
            chat, sub = found
            sub.variant = var or sub.variant
            if silent is not None:
                sub.silent = silent
            if previews is not None:
                sub.previews = previews
            sub.updated_at = now()
            s.add(sub)
            s.flush()
            return _sub_record(sub, chat)

    # ------------------------------------------------------------------- watches

    def _watcher(self, s: Session, chat: ChatRow, thread_id: str | None) -> WatcherRow | None:
        return s.exec(
            select(WatcherRow).where(WatcherRow.chat_id == chat.id, WatcherRow.thread_id == (thread_id or ""))
        ).first()

    def _watcher_record(self, s: Session, watcher: WatcherRow, chat: ChatRow) -> WatcherRecord:
        words = s.exec(
            select(WatchRow).where(WatchRow.watcher_id == watcher.id).order_by(col(WatchRow.id))
        ).all()
        return _watcher_record(watcher, chat, words)

    def add_watches(
        self, ref: ChatRef, phrases: Sequence[str], *, created_by: str = "", mode: str | None = None
    ) -> WatchAdded:
        """Watch words in a chat (thread); already watched ones are reported, not duplicated.

        Every phrase is validated first (:class:`InvalidWatch`); if the chat would watch more
        than :data:`~briefcast.briefing.watch.MAX_WATCHES_PER_CHAT` words nothing is added
        (:class:`WatchLimitReached`). ``mode`` (``publish`` | ``daily``) sets when matches arrive;
        a new watcher starts with ``publish``.
        """
        parsed = [parse_watch(p) for p in phrases]
        md = parse_watch_mode(mode) if mode is not None else None
        with self._write() as s:
            chat = self._ensure_chat(s, ref)
            stamp = now()
            self._insert_ignore(
                s,
                _table("watcher"),
                {
                    "chat_id": chat.id,
                    "thread_id": ref.thread_id or "",
                    "mode": md or "publish",
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            )
            watcher = self._watcher(s, chat, ref.thread_id)
            assert watcher is not None
            have = {
                w.needle: w.phrase
                for w in s.exec(select(WatchRow).where(WatchRow.watcher_id == watcher.id)).all()
            }
            added: list[str] = []
            existing: list[str] = []
            fresh: dict[str, str] = {}
            for phrase, needle in parsed:
                if needle in have:
                    existing.append(have[needle])
                elif needle not in fresh:
                    fresh[needle] = phrase
            if fresh and len(have) + len(fresh) > MAX_WATCHES_PER_CHAT:
                raise WatchLimitReached(next(iter(fresh.values())), MAX_WATCHES_PER_CHAT)
            for needle, phrase in fresh.items():
                self._insert_ignore(
                    s,
                    _table("watch"),
                    {
                        "watcher_id": watcher.id,
                        "phrase": phrase,
                        "needle": needle,
                        "created_by": created_by,
                        "created_at": stamp,
                    },
                )
                added.append(phrase)
            if md is not None and watcher.mode != md:
                watcher.mode = md
            watcher.updated_at = stamp
            s.add(watcher)
            s.flush()
            return WatchAdded(tuple(added), tuple(existing), self._watcher_record(s, watcher, chat))

    def remove_watches(
        self, ref: ChatRef, phrases: Sequence[str] | None = None
    ) -> tuple[tuple[str, ...], int]:
        """Stop watching some words (None: all). Returns (the phrases removed, how many are left)."""
        with self._write() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            watcher = self._watcher(s, chat, ref.thread_id) if chat is not None else None
            if watcher is None:
                return (), 0
            rows = s.exec(select(WatchRow).where(WatchRow.watcher_id == watcher.id)).all()
            wanted = None if phrases is None else {normalise_phrase(p) for p in phrases}
            gone = [r for r in rows if wanted is None or r.needle in wanted]
            for r in gone:
                s.delete(r)
            return tuple(r.phrase for r in gone), len(rows) - len(gone)

    def remove_watch_by_id(self, ref: ChatRef, watch_id: int) -> str | None:
        """Stop watching one word by its id (a button), only within the chat (thread) that owns it."""
        with self._write() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            watcher = self._watcher(s, chat, ref.thread_id) if chat is not None else None
            row = s.get(WatchRow, watch_id) if is_id(watch_id) else None
            if watcher is None or row is None or row.watcher_id != watcher.id:
                return None
            s.delete(row)
            return row.phrase

    def set_watch_mode(self, ref: ChatRef, mode: str) -> WatcherRecord | None:
        """Deliver the chat's matches on publish or with its daily digest; None if it watches nothing."""
        md = parse_watch_mode(mode)
        with self._write() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            watcher = self._watcher(s, chat, ref.thread_id) if chat is not None else None
            if chat is None or watcher is None:
                return None
            watcher.mode, watcher.updated_at = md, now()
            s.add(watcher)
            s.flush()
            return self._watcher_record(s, watcher, chat)

    def watcher_for_chat(self, ref: ChatRef) -> WatcherRecord | None:
        """The words one chat (thread) watches, or None when it never watched any."""
        with self._read() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            watcher = self._watcher(s, chat, ref.thread_id) if chat is not None else None
            if chat is None or watcher is None:
                return None
            return self._watcher_record(s, watcher, chat)

    def watchers(self, platform: str | None = None, *, active_only: bool = True) -> list[WatcherRecord]:
        """Every chat (thread) watching at least one word, oldest first.

        ``active_only`` (the default, what a sender wants) leaves out chats the bot was removed from.
        """
        with self._read() as s:
            stmt = (
                select(WatcherRow, ChatRow)
                .join(ChatRow, col(WatcherRow.chat_id) == col(ChatRow.id))
                .order_by(col(WatcherRow.id))
            )
            if platform is not None:
                stmt = stmt.where(col(ChatRow.platform) == platform)
            if active_only:
                stmt = stmt.where(col(ChatRow.active))
            pairs = s.exec(stmt).all()
            ids = [w.id for w, _ in pairs]
            words: dict[int, list[WatchRow]] = {}
            if ids:
                for row in s.exec(
                    select(WatchRow).where(col(WatchRow.watcher_id).in_(ids)).order_by(col(WatchRow.id))
                ).all():
                    words.setdefault(row.watcher_id, []).append(row)
            return [_watcher_record(w, chat, words.get(_id(w), [])) for w, chat in pairs if words.get(_id(w))]

    def _move_watchers(self, s: Session, old: ChatRow, target: ChatRow) -> None:
        """migrate_chat into an existing chat: carry the old chat's watches over (merged per thread)."""
        for watcher in s.exec(select(WatcherRow).where(WatcherRow.chat_id == old.id)).all():
            twin = self._watcher(s, target, watcher.thread_id)
            if twin is None:
                watcher.chat_id = _id(target)
                s.add(watcher)
                continue
            have = {w.needle for w in s.exec(select(WatchRow).where(WatchRow.watcher_id == twin.id)).all()}
            for w in s.exec(select(WatchRow).where(WatchRow.watcher_id == watcher.id)).all():
                if w.needle in have:
                    s.delete(w)
                else:
                    w.watcher_id = _id(twin)
                    s.add(w)
            s.flush()
            s.delete(watcher)

    # --------------------------------------------------------------- forum topics

    def forum_topics(self, ref: ChatRef) -> list[ForumTopicRecord]:
        """The topics /topics created in a forum supergroup (open and closed), in catalogue order."""
        with self._read() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            if chat is None:
                return []
            rows = s.exec(select(ForumTopicRow).where(ForumTopicRow.chat_id == chat.id)).all()
            order = {k: i for i, k in enumerate(self.catalogue.keys)}
            rows = sorted(rows, key=lambda r: (order.get(r.sector, len(order)), r.sector))
            return [_topic_record(r, chat) for r in rows]

    def save_forum_topic(
        self, ref: ChatRef, sector: str, thread_id: str, *, name: str = "", created_by: str = ""
    ) -> ForumTopicRecord:
        """Remember (or replace) the open topic of ``sector`` in a forum supergroup."""
        with self._write() as s:
            chat = self._ensure_chat(s, ChatRef(ref.platform, ref.chat_id, workspace=ref.workspace))
            stamp = now()
            row = s.exec(
                select(ForumTopicRow).where(ForumTopicRow.chat_id == chat.id, ForumTopicRow.sector == sector)
            ).first()
            if row is None:
                row = ForumTopicRow(
                    chat_id=_id(chat),
                    sector=sector,
                    thread_id=thread_id,
                    created_by=created_by,
                    created_at=stamp,
                )
            row.thread_id, row.name, row.state, row.updated_at = thread_id, name, "open", stamp
            s.add(row)
            s.flush()
            return _topic_record(row, chat)

    def set_forum_topic_state(self, ref: ChatRef, sector: str, state: str) -> ForumTopicRecord | None:
        """Mark a sector's topic ``open`` or ``closed``; None if there is none."""
        if state not in ("open", "closed"):
            raise ValueError(f"topic state must be open or closed, not {state!r}")
        with self._write() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            if chat is None:
                return None
            row = s.exec(
                select(ForumTopicRow).where(ForumTopicRow.chat_id == chat.id, ForumTopicRow.sector == sector)
            ).first()
            if row is None:
                return None
            row.state, row.updated_at = state, now()
            s.add(row)
            s.flush()
            return _topic_record(row, chat)

    def _move_topics(self, s: Session, old: ChatRow, target: ChatRow) -> None:
        """migrate_chat into an existing chat: topics follow unless the target has one for the sector."""
        taken = {
            r.sector for r in s.exec(select(ForumTopicRow).where(ForumTopicRow.chat_id == target.id)).all()
        }
        for row in s.exec(select(ForumTopicRow).where(ForumTopicRow.chat_id == old.id)).all():
            if row.sector in taken:
                s.delete(row)
            else:
                row.chat_id = _id(target)
                s.add(row)

    # ---------------------------------------------------------------- deliveries

    def enqueue_delivery(
        self, issue_id: int, subscription_id: int, *, next_attempt_at: datetime | None = None
    ) -> DeliveryRecord:
        """The outbox row for (issue, subscription), created ``pending`` if missing (idempotent).

        One row per issue identity: if the subscription already has another revision of this
        issue, that row is returned and nothing is inserted (nobody gets the same issue twice).
        """
        stamp = now()
        with self._write() as s:
            identity = s.exec(select(IssueRow.identity).where(IssueRow.id == issue_id)).one()
            platform = s.exec(
                select(ChatRow.platform)
                .join(SubscriptionRow, col(SubscriptionRow.chat_id) == ChatRow.id)
                .where(SubscriptionRow.id == subscription_id)
            ).one()
            self._insert_ignore(
                s,
                _table("delivery"),
                {
                    "issue_id": issue_id,
                    "subscription_id": subscription_id,
                    "identity": identity,
                    "platform": platform,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": next_attempt_at or stamp,
                    "lease_owner": "",
                    "lease_until": None,
                    "parts_total": 0,
                    "parts_sent": 0,
                    "message_ids": [],
                    "last_error": "",
                    "created_at": stamp,
                    "updated_at": stamp,
                    "sent_at": None,
                },
            )
            row = s.exec(
                select(DeliveryRow).where(
                    DeliveryRow.identity == identity, DeliveryRow.subscription_id == subscription_id
                )
            ).one()
            return _delivery_record(row)

    def list_deliveries(self, status: str | None = None, issue_id: int | None = None) -> list[DeliveryRecord]:
        with self._read() as s:
            stmt = select(DeliveryRow).order_by(col(DeliveryRow.id))
            if status is not None:
                stmt = stmt.where(DeliveryRow.status == status)
            if issue_id is not None:
                stmt = stmt.where(DeliveryRow.issue_id == issue_id)
            return [_delivery_record(r) for r in s.exec(stmt).all()]


# ------------------------------------------------------------------ row -> record


def _table(name: str) -> sa.Table:
    return METADATA.tables[name]


def _id(
    row: IssueRow | ChatRow | SubscriptionRow | DeliveryRow | WatcherRow | WatchRow | ForumTopicRow,
) -> int:
    assert row.id is not None, "row not flushed"
    return row.id


def _model_sectors(model: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(s["key"]) for s in model.get("sections", ()))


def _section_row(issue_id: int, position: int, section: Section) -> SectionRow:
    return SectionRow(
        issue_id=issue_id,
        position=position,
        key=section.key,
        name=section.name,
        headline=section.headline,
        text=section_search_text(section),
        data=section.to_dict(),
    )


_ISSUE = IssueRow.__table__  # type: ignore[attr-defined]
# An issue's day: the date it states, else the day it was published (or stored, for a draft). An
# undated issue published today is newer than one dated last week; "NULLS LAST" on the stated date
# alone kept every undated issue behind every dated one, so it could never become the latest.
_ISSUE_DAY = sa.func.coalesce(
    _ISSUE.c.date, sa.func.date(_ISSUE.c.published_at), sa.func.date(_ISSUE.c.created_at)
)
_NEWEST_FIRST = (_ISSUE_DAY.desc(), _ISSUE.c.id.desc())
_NEWEST_PUBLISHED = (
    sa.select(_ISSUE.c.id).where(_ISSUE.c.status == "published").order_by(*_NEWEST_FIRST).limit(1)
)


def _archived(sector: str | None = None) -> tuple[Any, ...]:
    """WHERE terms of the public archive: published, not superseded by a newer published
    revision of the same issue, and (``sector``) having that section."""
    newer = aliased(IssueRow)
    superseded = (
        sa.select(sa.literal(1))
        .where(
            col(newer.identity) == col(IssueRow.identity),
            col(newer.revision) > col(IssueRow.revision),
            col(newer.status) == "published",
        )
        .exists()
    )
    terms: list[Any] = [col(IssueRow.status) == "published", ~superseded]
    if sector is not None:
        terms.append(
            sa.select(sa.literal(1))
            .where(col(SectionRow.issue_id) == col(IssueRow.id), col(SectionRow.key) == sector)
            .exists()
        )
    return tuple(terms)


def _issue(row: IssueRow) -> StoredIssue:
    created = utc(row.created_at)
    assert created is not None
    return StoredIssue(
        id=_id(row),
        identity=row.identity,
        revision=row.revision,
        date=row.date,
        title=row.title,
        briefing=Briefing.from_dict(row.model),
        content_hash=row.content_hash,
        source=row.source,
        created_at=created,
        published_at=utc(row.published_at),
        status=row.status,
    )


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


def _sub_record(sub: SubscriptionRow, chat: ChatRow) -> SubscriptionRecord:
    return SubscriptionRecord(
        id=_id(sub),
        chat=ChatRef(chat.platform, chat.external_id, sub.thread_id or None, chat.workspace),
        chat_kind=chat.kind,
        chat_title=chat.title,
        sectors=tuple(sub.sectors),
        time=sub.time,
        timezone=sub.timezone,
        mode=sub.mode,
        variant=sub.variant,
        active=sub.active and chat.active,
        reason=sub.reason or ("" if chat.active else chat.deactivated_reason),
        created_by=sub.created_by,
        language=chat.language,
        last_issue_id=sub.last_issue_id,
        silent=bool(sub.silent),
        previews=bool(sub.previews),
        quiet=sub.quiet or "",
        days=int(sub.days if sub.days is not None else ALL_DAYS),
    )


def _days(days: int | str | None) -> int | None:
    """A weekday mask from a mask or words; None stays None. Raises :class:`InvalidDays`."""
    if days is None:
        return None
    if isinstance(days, str):
        return parse_days(days)
    if not 0 < days <= ALL_DAYS:
        raise InvalidDays(str(days))
    return days


def _copy_schedule(src: SubscriptionRow, dst: SubscriptionRow) -> None:
    dst.sectors = list(src.sectors)
    dst.time, dst.timezone, dst.mode, dst.variant = src.time, src.timezone, src.mode, src.variant
    dst.silent, dst.previews, dst.quiet, dst.days = src.silent, src.previews, src.quiet, src.days


def _delivery_record(row: DeliveryRow) -> DeliveryRecord:
    created, updated = utc(row.created_at), utc(row.updated_at)
    assert created is not None and updated is not None
    return DeliveryRecord(
        id=_id(row),
        issue_id=row.issue_id,
        subscription_id=row.subscription_id,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=utc(row.next_attempt_at),
        lease_owner=row.lease_owner,
        lease_until=utc(row.lease_until),
        parts_total=row.parts_total,
        parts_sent=row.parts_sent,
        message_ids=tuple(str(m) for m in row.message_ids),
        last_error=row.last_error,
        created_at=created,
        updated_at=updated,
        sent_at=utc(row.sent_at),
        kind=row.kind or "digest",
        watcher_id=row.watcher_id,
        corrects_id=row.corrects_id,
        detail=tuple(str(x) for x in (row.detail or ())),
    )


def _watcher_record(watcher: WatcherRow, chat: ChatRow, words: Sequence[WatchRow]) -> WatcherRecord:
    return WatcherRecord(
        id=_id(watcher),
        chat=ChatRef(chat.platform, chat.external_id, watcher.thread_id or None, chat.workspace),
        chat_kind=chat.kind,
        chat_title=chat.title,
        language=chat.language,
        mode=watcher.mode,
        words=tuple(
            WatchRecord(
                id=_id(w),
                phrase=w.phrase,
                needle=w.needle,
                created_by=w.created_by,
                created_at=utc(w.created_at) or now(),
            )
            for w in words
        ),
        chat_active=chat.active,
    )


def _topic_record(row: ForumTopicRow, chat: ChatRow) -> ForumTopicRecord:
    return ForumTopicRecord(
        id=_id(row),
        chat=ChatRef(chat.platform, chat.external_id, workspace=chat.workspace),
        sector=row.sector,
        thread_id=row.thread_id,
        name=row.name,
        state=row.state,
    )
