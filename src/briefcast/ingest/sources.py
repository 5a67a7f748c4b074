"""Polled sources: a folder of files, one URL, an RSS/Atom feed.

Each ``[[source]]`` table of ``config/briefcast.toml`` becomes a
:class:`SourcePoller`; :meth:`SourcePoller.register` adds it to the APScheduler
``AsyncIOScheduler`` as an interval job. A poll never raises: whatever goes
wrong is written to the ``source`` row (``status``, ``last_error``,
``failures``) and to ``ingest_event`` rows, so ``briefcast sources`` can show it.

Health model (same for every kind):

* a poll that ends well (including "304 Not Modified" and "no new files")
  resets ``failures`` to 0 and sets ``status = "ok"``;
* a failed poll (unreachable, timeout, HTTP error, too large, unreadable
  folder, content that is not a briefing) increments ``failures``, sets
  ``status = "error"`` and backs off: the next attempt waits
  ``interval * 2 ** (failures - 1)`` seconds, capped at ``backoff_max``;
* after ``max_failures`` consecutive failures the source is ``"disabled"``:
  an ERROR log record and the optional alert callback tell the operator, and
  polling stops until :func:`enable_source` (``briefcast sources --enable``) or
  a configuration change of its kind/location.

A bad *file* in a folder or a bad *entry* in a feed is recorded (event +
``last_error``) without failing the whole source.

Folder sources do not read a file that is still being written: a file is read
once its size and modification time are unchanged between two polls, or its
modification time is at least ``settle_seconds`` (default 5 s) in the past.
A file is read again only when its size or modification time changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urljoin

import feedparser
import httpx
from sqlmodel import Session, select

from briefcast import __version__
from briefcast.errors import ConfigError, SourceError
from briefcast.ingest.capped import OverCap, aread_capped
from briefcast.ingest.service import (
    DEFAULT_MAX_BYTES,
    IngestOutcome,
    IngestService,
    Kind,
    charset_of,
    kind_for,
)
from briefcast.jobs import Jobs
from briefcast.store import Store
from briefcast.store.db import writer
from briefcast.store.tables import SourceRow, now, utc

log = logging.getLogger(__name__)

SourceKind = Literal["folder", "url", "feed"]
Clock = Callable[[], float]
AlertCallback = Callable[[str, str], object]
"""``alert(source_name, message)`` when a source is disabled after repeated failures (may be async)."""

USER_AGENT = f"briefcast/{__version__} (+source poller)"
FOLDER_SUFFIXES = (".md", ".markdown", ".html", ".htm")
_TEMP_SUFFIXES = ("~", ".tmp", ".part", ".partial", ".swp", ".crdownload", ".download")
_TAG = re.compile(r"<[^>]+>")


# -------------------------------------------------------------------- config


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One ``[[source]]`` table. ``location`` is the folder path or the URL."""

    name: str
    kind: SourceKind
    location: str
    interval: float = 300.0
    enabled: bool = True
    publish: bool = True
    timeout: float = 20.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_failures: int = 5
    backoff_max: float = 3600.0
    settle_seconds: float = 5.0
    min_entry_chars: int = 500
    max_entries: int = 20

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> SourceConfig:
        """Validate one table; raises :class:`ConfigError` naming the source and the bad key."""
        name = str(raw.get("name", "")).strip()
        if not name:
            raise ConfigError("every [[source]] needs a name")
        kind = str(raw.get("kind", "")).strip()
        if kind not in ("folder", "url", "feed"):
            raise ConfigError(f"source {name!r}: kind must be folder, url or feed, not {kind!r}")
        key = "path" if kind == "folder" else "url"
        location = str(raw.get(key) or raw.get("location") or "").strip()
        if not location:
            raise ConfigError(f"source {name!r}: set {key} = ...")
        if kind != "folder" and not location.startswith(("http://", "https://")):
            raise ConfigError(f"source {name!r}: url must start with http:// or https://")
        known = {f for f in cls.__dataclass_fields__ if f not in ("name", "kind", "location")}
        unknown = set(raw) - known - {"name", "kind", "path", "url", "location"}
        if unknown:
            raise ConfigError(f"source {name!r}: unknown setting(s) {', '.join(sorted(unknown))}")
        opts: dict[str, Any] = {}
        for f in known:
            if f not in raw:
                continue
            default: Any = cls.__dataclass_fields__[f].default
            try:
                value = raw[f] if isinstance(default, bool) else type(default)(raw[f])
            except (TypeError, ValueError):
                raise ConfigError(f"source {name!r}: {f} must be a {type(default).__name__}") from None
            if isinstance(default, bool) and not isinstance(value, bool):
                raise ConfigError(f"source {name!r}: {f} must be true or false")
            if not isinstance(default, bool) and value <= 0:
                raise ConfigError(f"source {name!r}: {f} must be positive")
            opts[f] = value
        return cls(name=name, kind=kind, location=location, **opts)  # type: ignore[arg-type]


def load_source_configs(raw: Sequence[Mapping[str, Any]]) -> list[SourceConfig]:
    """All ``[[source]]`` tables (``Settings.sources``), validated; names must be unique."""
    configs = [SourceConfig.from_mapping(r) for r in raw]
    seen: set[str] = set()
    for c in configs:
        if c.name in seen:
            raise ConfigError(f"two sources are named {c.name!r}; names must be unique")
        seen.add(c.name)
    return configs


# -------------------------------------------------------------- source table


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


@contextmanager
def _write(store: Store) -> Iterator[Session]:
    """A write transaction that takes SQLite's write lock up front (as the store's own writes do)."""
    with Session(writer(store.engine), expire_on_commit=False) as session, session.begin():
        yield session


def sources_status(store: Store) -> list[SourceStatus]:
    """Every known source with its health, by name (for the ``briefcast sources`` command)."""
    with Session(store.engine) as session:
        rows = session.exec(select(SourceRow).order_by(SourceRow.name)).all()
        return [_status_of(r) for r in rows]


def enable_source(store: Store, name: str) -> bool:
    """Re-enable a source disabled after failures (resets the failure count); False if unknown."""
    with _write(store) as session:
        row = session.exec(select(SourceRow).where(SourceRow.name == name)).first()
        if row is None:
            return False
        row.status, row.failures, row.updated_at = "ok", 0, now()
        session.add(row)
        return True


def sync_source(store: Store, config: SourceConfig) -> SourceStatus:
    """Create or update the row of a configured source.

    A changed kind or location is a different source: its validators
    (ETag / Last-Modified), failure count and disabled state are reset.
    """
    with _write(store) as session:
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


@dataclass(frozen=True, slots=True)
class _State:
    status: str
    failures: int
    etag: str
    last_modified: str


def _load_state(store: Store, name: str) -> _State | None:
    with Session(store.engine) as session:
        row = session.exec(select(SourceRow).where(SourceRow.name == name)).first()
        if row is None:
            return None
        return _State(row.status, row.failures, row.etag, row.last_modified)


def _update(store: Store, name: str, **values: Any) -> None:
    with _write(store) as session:
        row = session.exec(select(SourceRow).where(SourceRow.name == name)).one()
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_at = now()
        session.add(row)


# ----------------------------------------------------------------- fetching


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched HTTP resource; ``not_modified`` for a 304 answer to a conditional GET."""

    url: str
    content: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    timeout: float = 20.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Fetched:
    """GET ``url`` conditionally, streaming and stopping at ``max_bytes``; raises :class:`SourceError`.

    ``timeout`` bounds the whole exchange (a server trickling bytes forever
    is cut off too), not only each socket operation.
    """
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(client, url, headers, timeout, max_bytes)
    except TimeoutError:
        raise SourceError(f"timed out after {timeout:g} s fetching {url}") from None
    except httpx.TimeoutException:
        raise SourceError(f"timed out after {timeout:g} s fetching {url}") from None
    except httpx.HTTPError as e:
        raise SourceError(f"could not fetch {url}: {type(e).__name__}: {e}") from None


async def _fetch(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], timeout: float, max_bytes: int
) -> Fetched:
    async with client.stream("GET", url, headers=headers, timeout=timeout, follow_redirects=True) as resp:
        if resp.status_code == 304:
            return Fetched(url=url, not_modified=True)
        if resp.status_code >= 400:
            raise HttpStatusError(
                resp.status_code, f"HTTP {resp.status_code} {resp.reason_phrase} from {url}"
            )
        try:
            content = await aread_capped(resp, max_bytes)
        except OverCap as e:
            size = f" is {e.declared:,} bytes," if e.declared is not None else " is"
            how = "" if e.declared is not None else " (stopped reading)"
            raise SourceError(f"{url}{size} over the {max_bytes:,}-byte limit{how}") from None
        return Fetched(
            url=str(resp.url),
            content=content,
            content_type=resp.headers.get("content-type", ""),
            etag=resp.headers.get("etag", ""),
            last_modified=resp.headers.get("last-modified", ""),
        )


class HttpStatusError(SourceError):
    """An HTTP error answer; ``permanent`` for client errors that retrying will not fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        return 400 <= self.status < 500 and self.status not in (408, 425, 429)


# ------------------------------------------------------------------ pollers


PollStatus = Literal["ok", "not-modified", "failed", "disabled", "backoff", "paused"]


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one :meth:`SourcePoller.poll_once` did."""

    source: str
    status: PollStatus
    outcomes: tuple[IngestOutcome, ...] = ()
    reason: str = ""
    pending: int = 0  # folder: files seen but not yet stable

    @property
    def ingested(self) -> tuple[IngestOutcome, ...]:
        """Outcomes that stored something new (a new issue or a revision)."""
        return tuple(o for o in self.outcomes if o.status in ("new", "revision"))


class _Failure(Exception):
    """A failed poll; ``recorded`` when the service already wrote the ingest event."""

    def __init__(self, reason: str, *, recorded: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.recorded = recorded


@dataclass
class _Done:
    """What a kind-specific poll produced: outcomes, row updates on success, a warning to keep."""

    outcomes: list[IngestOutcome] = field(default_factory=list)
    updates: dict[str, Any] = field(default_factory=dict)
    warning: str = ""
    pending: int = 0
    not_modified: bool = False


class SourcePoller:
    """Polls one source; subclasses implement :meth:`_poll` for their kind.

    ``clock`` (epoch seconds, default :func:`time.time`) drives backoff and the
    folder settle time, so tests move time instead of sleeping.
    """

    kinds: ClassVar[dict[str, type[SourcePoller]]] = {}
    kind: ClassVar[str] = ""

    def __init__(
        self,
        config: SourceConfig,
        service: IngestService,
        *,
        clock: Clock = time.time,
        alert: AlertCallback | None = None,
    ) -> None:
        self.config = config
        self.service = service
        self.clock = clock
        self.alert = alert
        self.next_attempt_at = 0.0
        self._lock = asyncio.Lock()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.kind:
            SourcePoller.kinds[cls.kind] = cls

    @classmethod
    def create(
        cls,
        config: SourceConfig,
        service: IngestService,
        *,
        clock: Clock = time.time,
        alert: AlertCallback | None = None,
    ) -> SourcePoller:
        """The poller for ``config.kind``."""
        return cls.kinds[config.kind](config, service, clock=clock, alert=alert)

    @property
    def store(self) -> Store:
        return self.service.store

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def job_id(self) -> str:
        return f"source:{self.name}"

    def register(self, jobs: Jobs) -> None:
        """Add an interval job (first run now) to the process's scheduler."""
        jobs.add(
            self.poll_once,
            "interval",
            seconds=self.config.interval,
            id=self.job_id,
            name=f"poll source {self.name}",
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
        )

    def backoff_delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures: interval doubled each time, capped."""
        cap = max(self.config.backoff_max, self.config.interval)
        return float(min(self.config.interval * 2 ** max(failures - 1, 0), cap))

    async def poll_once(self) -> PollResult:
        """Poll now (unless disabled, paused or backing off); never raises."""
        async with self._lock:
            try:
                return await self._poll_once()
            except Exception as e:  # e.g. the database is unreachable: log, and try again next tick
                log.exception("source %s: poll failed", self.name)
                return PollResult(self.name, "failed", reason=f"{type(e).__name__}: {e}")

    async def _poll_once(self) -> PollResult:
        state = _load_state(self.store, self.name)
        if state is None:
            sync_source(self.store, self.config)
            state = _load_state(self.store, self.name)
            assert state is not None
        if state.status == "disabled":
            return PollResult(self.name, "disabled", reason="disabled after repeated failures")
        if state.status == "paused" or not self.config.enabled:
            return PollResult(self.name, "paused", reason="enabled = false in the configuration")
        started = self.clock()
        # Half an interval of slack: a scheduler tick that lands a little before the
        # backoff deadline must not skip a whole extra interval.
        if started < self.next_attempt_at - self.config.interval / 2:
            wait = self.next_attempt_at - started
            return PollResult(self.name, "backoff", reason=f"backing off, next attempt in {wait:.0f} s")
        try:
            done = await self._poll(state)
        except _Failure as f:
            return await self._failed(state, started, f.reason, recorded=f.recorded)
        except SourceError as e:
            return await self._failed(state, started, str(e), recorded=False)
        except Exception as e:  # a bug must not kill the scheduler job; keep it visible
            log.exception("source %s: poll crashed", self.name)
            return await self._failed(
                state, started, f"unexpected error: {type(e).__name__}: {e}", recorded=False
            )
        return self._succeeded(done, started)

    async def _poll(self, state: _State) -> _Done:
        raise NotImplementedError

    def _succeeded(self, done: _Done, started: float) -> PollResult:
        self.next_attempt_at = 0.0
        updates: dict[str, Any] = {
            "status": "ok",
            "failures": 0,
            "last_success_at": datetime.fromtimestamp(started, UTC),
            **done.updates,
        }
        if done.warning:
            updates["last_error"] = done.warning
        _update(self.store, self.name, **updates)
        status: PollStatus = "not-modified" if done.not_modified else "ok"
        return PollResult(self.name, status, tuple(done.outcomes), reason=done.warning, pending=done.pending)

    async def _failed(self, state: _State, started: float, reason: str, *, recorded: bool) -> PollResult:
        failures = state.failures + 1
        if not recorded:
            self.service.record_failure(self.name, reason, source=self.config.location)
        self.next_attempt_at = started + self.backoff_delay(failures)
        if failures >= self.config.max_failures:
            _update(self.store, self.name, status="disabled", failures=failures, last_error=reason)
            message = (
                f"source {self.name!r} disabled after {failures} consecutive failures; last error: {reason}. "
                f"Fix it, then run: briefcast sources --enable {self.name}"
            )
            log.error(message)
            await self._alert(message)
            return PollResult(self.name, "disabled", reason=reason)
        _update(self.store, self.name, status="error", failures=failures, last_error=reason)
        log.warning(
            "source %s failed (%d/%d): %s; retry in %.0f s",
            self.name,
            failures,
            self.config.max_failures,
            reason,
            self.backoff_delay(failures),
        )
        return PollResult(self.name, "failed", reason=reason)

    async def _alert(self, message: str) -> None:
        if self.alert is None:
            return
        try:
            result = self.alert(self.name, message)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("alert callback failed for source %s", self.name)

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, timeout=self.config.timeout)

    async def _fetch_location(self, client: httpx.AsyncClient, state: _State) -> Fetched:
        """The source's URL with a conditional GET from the saved validators (URL and feed sources)."""
        return await fetch(
            client,
            self.config.location,
            etag=state.etag,
            last_modified=state.last_modified,
            timeout=self.config.timeout,
            max_bytes=self.config.max_bytes,
        )


class FolderPoller(SourcePoller):
    """New or changed ``.md`` / ``.html`` files of one folder (not recursive; hidden/temp files skipped)."""

    kind = "folder"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._seen: dict[Path, tuple[int, int]] = {}  # last observed (size, mtime_ns)
        self._done: dict[Path, tuple[int, int]] = {}  # (size, mtime_ns) last read

    def _candidates(self, folder: Path) -> list[Path]:
        try:
            entries = sorted(folder.iterdir())
        except OSError as e:
            raise SourceError(f"cannot list folder {folder}: {e.strerror or e}") from None
        return [
            p
            for p in entries
            if p.suffix.lower() in FOLDER_SUFFIXES
            and not p.name.startswith((".", "~"))
            and not p.name.endswith(_TEMP_SUFFIXES)
            and p.is_file()
        ]

    async def _poll(self, state: _State) -> _Done:
        folder = Path(self.config.location).expanduser()
        if not folder.is_dir():
            raise SourceError(f"folder {folder} does not exist or is not a directory")
        done = _Done()
        paths = self._candidates(folder)
        for gone in set(self._seen) - set(paths):
            self._seen.pop(gone, None)
            self._done.pop(gone, None)
        for path in paths:
            outcome = await self._poll_file(path, done)
            if outcome is not None:
                done.outcomes.append(outcome)
                if not outcome.ok:
                    done.warning = outcome.reason
        return done

    async def _poll_file(self, path: Path, done: _Done) -> IngestOutcome | None:
        try:
            st = path.stat()
        except OSError:
            return None  # deleted between listing and stat
        sig = (st.st_size, st.st_mtime_ns)
        if self._done.get(path) == sig:
            return None
        previous, self._seen[path] = self._seen.get(path), sig
        if previous != sig and self.clock() - st.st_mtime < self.config.settle_seconds:
            done.pending += 1  # possibly still being written: wait for it to settle
            return None
        if st.st_size > self.config.max_bytes:
            self._done[path] = sig
            reason = f"{path.name} is {st.st_size:,} bytes, over the {self.config.max_bytes:,}-byte limit"
            return self.service.record_failure(self.name, reason, source=str(path))
        try:
            data = await asyncio.to_thread(path.read_bytes)
            after = path.stat()
        except OSError as e:
            self._done[path] = sig
            reason = f"cannot read {path.name}: {e.strerror or e}"
            return self.service.record_failure(self.name, reason, source=str(path))
        if (after.st_size, after.st_mtime_ns) != sig:
            self._seen[path] = (after.st_size, after.st_mtime_ns)
            done.pending += 1  # changed while we read it
            return None
        self._done[path] = sig
        return await self.service.ingest_bytes(
            data,
            origin=self.name,
            source=str(path),
            kind=kind_for(path.name),
            name=path.name,
            publish=self.config.publish,
        )


class UrlPoller(SourcePoller):
    """One issue at one URL, fetched with a conditional GET."""

    kind = "url"

    async def _poll(self, state: _State) -> _Done:
        url = self.config.location
        async with self._client() as client:
            fetched = await self._fetch_location(client, state)
        if fetched.not_modified:
            return _Done(not_modified=True)
        outcome = await self.service.ingest_bytes(
            fetched.content,
            origin=self.name,
            source=url,
            kind=kind_for(fetched.url, fetched.content_type),
            charset=charset_of(fetched.content_type),
            name=url,
            publish=self.config.publish,
        )
        if not outcome.ok:
            # Validators are not saved: the next poll fetches the page in full again.
            raise _Failure(outcome.reason, recorded=True)
        return _Done(
            outcomes=[outcome], updates={"etag": fetched.etag, "last_modified": fetched.last_modified}
        )


def _entry_body(entry: Mapping[str, Any]) -> tuple[str, Kind | None]:
    contents = entry.get("content") or []
    if contents:
        value, ctype = contents[0].get("value", ""), contents[0].get("type", "text/html")
    else:
        value = entry.get("summary", "")
        ctype = (entry.get("summary_detail") or {}).get("type", "text/html")
    kind: Kind | None = kind_for(content_type=str(ctype)) if str(ctype) != "text/plain" else None
    return str(value or ""), kind


class FeedPoller(SourcePoller):
    """An RSS/Atom feed whose entries are issues: embedded content if substantial, else the linked page.

    Entries are deduplicated by entry id (or link) plus a hash of what the
    entry says, so an unchanged entry is not re-fetched on every feed change;
    the store's content-hash dedupe catches the rest (e.g. after a restart).
    """

    kind = "feed"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._entries: dict[str, str] = {}  # entry key -> fingerprint last handled

    async def _poll(self, state: _State) -> _Done:
        url = self.config.location
        async with self._client() as client:
            fetched = await self._fetch_location(client, state)
            if fetched.not_modified:
                return _Done(not_modified=True)
            parsed = await asyncio.to_thread(
                feedparser.parse,
                fetched.content,
                response_headers={"content-location": fetched.url, "content-type": fetched.content_type},
            )
            entries = list(parsed.get("entries") or [])
            if not entries and (parsed.get("bozo") or not parsed.get("version")):
                exc = parsed.get("bozo_exception")
                detail = f": {exc}" if exc else ""
                raise SourceError(f"{url} is not a valid RSS/Atom feed{detail}")
            done = _Done()
            if parsed.get("bozo"):
                done.warning = f"feed has errors but was read: {parsed.get('bozo_exception')}"
            retry_later = False
            current = entries[: self.config.max_entries]
            for entry in reversed(current):  # oldest first
                outcome, transient = await self._entry(client, entry, fetched.url)
                retry_later = retry_later or transient
                if outcome is not None:
                    done.outcomes.append(outcome)
                    if not outcome.ok:
                        done.warning = outcome.reason
        keep = {self._key(e, fetched.url) for e in current}
        self._entries = {
            k: v for k, v in self._entries.items() if k in keep
        }  # forget entries gone from the feed
        if not retry_later:
            # Only remember the feed's validators when every entry was handled; otherwise a 304
            # would hide the entries whose linked page could not be fetched this time.
            done.updates = {"etag": fetched.etag, "last_modified": fetched.last_modified}
        return done

    @staticmethod
    def _link(entry: Mapping[str, Any], base: str) -> str:
        return urljoin(base, str(entry.get("link") or "")) if entry.get("link") else ""

    @classmethod
    def _key(cls, entry: Mapping[str, Any], base: str) -> str:
        """The entry's identity: its id (guid), else its link, else its title."""
        return str(entry.get("id") or cls._link(entry, base) or entry.get("title") or "")

    async def _entry(
        self, client: httpx.AsyncClient, entry: Mapping[str, Any], base: str
    ) -> tuple[IngestOutcome | None, bool]:
        """Ingest one entry; returns the outcome (None if unchanged) and whether to retry it later."""
        link = self._link(entry, base)
        key = self._key(entry, base)
        body, kind = _entry_body(entry)
        fingerprint = hashlib.sha256("\x00".join((key, link, body)).encode("utf-8")).hexdigest()
        if key and self._entries.get(key) == fingerprint:
            return None, False
        label = f"feed entry {str(entry.get('title') or key)[:80]!r}"
        source = link or f"{self.config.location}#{key}"
        if len(_TAG.sub("", body).strip()) >= self.config.min_entry_chars:
            outcome = await self.service.ingest_text(
                body, origin=self.name, source=source, kind=kind, name=label, publish=self.config.publish
            )
        elif link:
            try:
                page = await fetch(client, link, timeout=self.config.timeout, max_bytes=self.config.max_bytes)
            except SourceError as e:
                outcome = self.service.record_failure(self.name, f"{label}: {e}", source=link)
                if isinstance(e, HttpStatusError) and e.permanent:
                    self._entries[key] = fingerprint  # a 404 stays a 404: retry only if the entry changes
                    return outcome, False
                return outcome, True
            outcome = await self.service.ingest_bytes(
                page.content,
                origin=self.name,
                source=link,
                kind=kind_for(page.url, page.content_type),
                charset=charset_of(page.content_type),
                name=label,
                publish=self.config.publish,
            )
        else:
            outcome = self.service.record_failure(
                self.name, f"{label} has no content and no link", source=source
            )
        if key:
            self._entries[key] = fingerprint
        return outcome, False


def build_pollers(
    settings_sources: Sequence[Mapping[str, Any]],
    service: IngestService,
    *,
    clock: Clock = time.time,
    alert: AlertCallback | None = None,
) -> list[SourcePoller]:
    """Pollers for the enabled ``[[source]]`` tables; every configured source gets a row (paused too)."""
    pollers = []
    for config in load_source_configs(settings_sources):
        sync_source(service.store, config)
        if config.enabled:
            pollers.append(SourcePoller.create(config, service, clock=clock, alert=alert))
    return pollers


class SourcePolling:
    """A runtime component polling the configured sources: one job each on the process's scheduler."""

    name = "sources"

    def __init__(self, pollers: Sequence[SourcePoller], *, jobs: Jobs | None = None) -> None:
        self.pollers = list(pollers)
        self.jobs = jobs if jobs is not None else Jobs()
        self.started = False

    async def start(self) -> None:
        for poller in self.pollers:
            poller.register(self.jobs)
        self.jobs.start()
        self.started = True

    async def stop(self) -> None:
        if self.started:
            for poller in self.pollers:
                self.jobs.remove(poller.job_id)
            self.jobs.stop()
        self.started = False

    def routes(self) -> list[Any]:
        return []
