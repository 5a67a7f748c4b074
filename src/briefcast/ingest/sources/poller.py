"""The source poller base: health bookkeeping of a poll (failures, backoff, disable, alert) for every kind."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import httpx

from briefcast.errors import SourceError
from briefcast.ingest.service import IngestOutcome, IngestService
from briefcast.ingest.sources.config import SourceConfig
from briefcast.ingest.sources.fetching import USER_AGENT, Fetched, fetch
from briefcast.jobs import Jobs
from briefcast.store import Store
from briefcast.store.sources import SourceState, source_state, sync_source, update_source

log = logging.getLogger(__name__)

Clock = Callable[[], float]
AlertCallback = Callable[[str, str], object]
"""``alert(source_name, message)`` when a source is disabled after repeated failures (may be async)."""

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


class PollFailure(Exception):
    """A failed poll; ``recorded`` when the service already wrote the ingest event."""

    def __init__(self, reason: str, *, recorded: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.recorded = recorded


@dataclass
class Polled:
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
        state = source_state(self.store, self.name)
        if state is None:
            sync_source(self.store, self.config)
            state = source_state(self.store, self.name)
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
        except PollFailure as f:
            return await self._failed(state, started, f.reason, recorded=f.recorded)
        except SourceError as e:
            return await self._failed(state, started, str(e), recorded=False)
        except Exception as e:  # a bug must not kill the scheduler job; keep it visible
            log.exception("source %s: poll crashed", self.name)
            return await self._failed(
                state, started, f"unexpected error: {type(e).__name__}: {e}", recorded=False
            )
        return self._succeeded(done, started)

    async def _poll(self, state: SourceState) -> Polled:
        raise NotImplementedError

    def _succeeded(self, done: Polled, started: float) -> PollResult:
        self.next_attempt_at = 0.0
        updates: dict[str, Any] = {
            "status": "ok",
            "failures": 0,
            "last_success_at": datetime.fromtimestamp(started, UTC),
            **done.updates,
        }
        if done.warning:
            updates["last_error"] = done.warning
        update_source(self.store, self.name, **updates)
        status: PollStatus = "not-modified" if done.not_modified else "ok"
        return PollResult(self.name, status, tuple(done.outcomes), reason=done.warning, pending=done.pending)

    async def _failed(self, state: SourceState, started: float, reason: str, *, recorded: bool) -> PollResult:
        failures = state.failures + 1
        if not recorded:
            self.service.record_failure(self.name, reason, source=self.config.location)
        self.next_attempt_at = started + self.backoff_delay(failures)
        if failures >= self.config.max_failures:
            update_source(self.store, self.name, status="disabled", failures=failures, last_error=reason)
            message = (
                f"source {self.name!r} disabled after {failures} consecutive failures; last error: {reason}. "
                f"Fix it, then run: briefcast sources --enable {self.name}"
            )
            log.error(message)
            await self._alert(message)
            return PollResult(self.name, "disabled", reason=reason)
        update_source(self.store, self.name, status="error", failures=failures, last_error=reason)
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

    async def _fetch_location(self, client: httpx.AsyncClient, state: SourceState) -> Fetched:
        """The source's URL with a conditional GET from the saved validators (URL and feed sources)."""
        return await fetch(
            client,
            self.config.location,
            etag=state.etag,
            last_modified=state.last_modified,
            timeout=self.config.timeout,
            max_bytes=self.config.max_bytes,
        )
