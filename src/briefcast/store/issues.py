"""Issue queries: ingest and revisions, publishing, the latest issue, the public archive, search."""

from __future__ import annotations

import hashlib
import math
import re
import time
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from briefcast.briefing.model import Briefing, Section
from briefcast.briefing.sectors import slugify
from briefcast.store import schema
from briefcast.store.base import FTS_MIN_TERM, MAX_ID, StoreBase, _id, is_id
from briefcast.store.records import (
    IngestResult,
    IngestStatus,
    SearchHit,
    StoredIssue,
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
    DeliveryRow,
    IngestEventRow,
    IssueRow,
    SectionRow,
    now,
    utc,
)

_TRAILING_WS = re.compile(r"[ \t\f\v]+$", re.MULTILINE)


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


class IssueStore(StoreBase):
    """Issues: stored, revised, published, listed and searched."""

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
        with self._read() as s:
            stmt = (
                select(SectionRow, IssueRow)
                .join(IssueRow, col(SectionRow.issue_id) == col(IssueRow.id))
                .where(*_archived())
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


_ISSUE = schema.issues
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
