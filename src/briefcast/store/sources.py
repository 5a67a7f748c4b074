"""Queries of the polled sources' rows (health, ETag / Last-Modified, failures) and the ingest audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import col, select

from briefcast.store.store import Store
from briefcast.store.tables import IngestEventRow, SourceRow, now, utc


class SourceSpec(Protocol):
    """What :func:`sync_source` needs of a configured source (``briefcast.ingest.SourceConfig``)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def enabled(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One row of ``briefcast sources``."""

    name: str
    kind: str
    location: str
    status: str  # new | ok | error | disabled | paused
    last_success_at: datetime | None
    last_error: str
    failures: int
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class SourceState:
    """What a poll reads before it starts: health and the conditional-GET validators."""

    status: str
    failures: int
    etag: str
    last_modified: str


@dataclass(frozen=True, slots=True)
class IngestEvent:
    """One ``ingest_event`` row as a plain value."""

    id: int
    source: str
    at: datetime
    status: str
    reason: str
    issue_id: int | None


def _status_of(row: SourceRow) -> SourceStatus:
    return SourceStatus(
        name=row.name,
        kind=row.kind,
        location=row.location,
        status=row.status,
        last_success_at=utc(row.last_success_at),
        last_error=row.last_error,
        failures=row.failures,
        updated_at=utc(row.updated_at),
    )


def sources_status(store: Store) -> list[SourceStatus]:
    """Every known source with its health, by name (for the ``briefcast sources`` command)."""
    with store._read() as session:
        rows = session.exec(select(SourceRow).order_by(SourceRow.name)).all()
        return [_status_of(r) for r in rows]


def enable_source(store: Store, name: str) -> bool:
    """Re-enable a source disabled after failures (resets the failure count); False if unknown."""
    with store._write() as session:
        row = session.exec(select(SourceRow).where(SourceRow.name == name)).first()
        if row is None:
            return False
        row.status, row.failures, row.updated_at = "ok", 0, now()
        session.add(row)
        return True


def sync_source(store: Store, config: SourceSpec) -> SourceStatus:
    """Create or update the row of a configured source.

    A changed kind or location is a different source: its validators
    (ETag / Last-Modified), failure count and disabled state are reset.
    """
    with store._write() as session:
        row = session.exec(select(SourceRow).where(SourceRow.name == config.name)).first()
        stamp = now()
        if row is None:
            row = SourceRow(name=config.name, kind=config.kind, location=config.location, status="new")
            row.created_at = stamp
        elif (row.kind, row.location) != (config.kind, config.location):
            row.kind, row.location = config.kind, config.location
            row.etag, row.last_modified, row.failures, row.status = "", "", 0, "new"
        if not config.enabled:
            row.status = "paused"
        elif row.status == "paused":
            row.status = "ok"
        row.updated_at = stamp
        session.add(row)
        session.flush()
        return _status_of(row)


def source_state(store: Store, name: str) -> SourceState | None:
    """The named source's health and validators; None if it has no row yet."""
    with store._read() as session:
        row = session.exec(select(SourceRow).where(SourceRow.name == name)).first()
        if row is None:
            return None
        return SourceState(row.status, row.failures, row.etag, row.last_modified)


def update_source(store: Store, name: str, **values: Any) -> None:
    """Set columns of the named source's row (which must exist) and stamp ``updated_at``."""
    with store._write() as session:
        row = session.exec(select(SourceRow).where(SourceRow.name == name)).one()
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_at = now()
        session.add(row)


def recent_events(store: Store, *, source: str | None = None, limit: int = 20) -> list[IngestEvent]:
    """The latest ingest events, newest first; ``source`` keeps labels starting with it (a folder, a URL…).

    Events are labelled with the issue's source: the file path or URL for
    polled sources, ``api`` / ``api:<label>`` for the API.
    """
    with store._read() as session:
        stmt = select(IngestEventRow)
        if source is not None:
            stmt = stmt.where(col(IngestEventRow.source).startswith(source, autoescape=True))
        stmt = stmt.order_by(col(IngestEventRow.id).desc()).limit(limit)
        rows = session.exec(stmt).all()
        return [
            IngestEvent(
                id=r.id or 0,
                source=r.source,
                at=utc(r.at) or r.at,
                status=r.status,
                reason=r.reason,
                issue_id=r.issue_id,
            )
            for r in rows
        ]
