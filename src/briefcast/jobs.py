"""The process's one APScheduler: the slot tick and every source poll are jobs of the same scheduler.

The composition root (:func:`briefcast.app.assemble`) makes one :class:`Jobs` and hands it to the
delivery scheduler (:class:`briefcast.schedule.Scheduler`) and the source pollers
(:class:`briefcast.ingest.sources.SourcePolling`). Each user adds its jobs and calls
:meth:`Jobs.start`; the APScheduler ``AsyncIOScheduler`` (in UTC, on the running loop) starts with
the first user and shuts down with the last, so stopping one component leaves the others' jobs
running. A component built alone (a test, ``briefcast worker``) gets a ``Jobs`` of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any


class Jobs:
    """One ``AsyncIOScheduler`` shared by reference count; jobs are added and removed by id."""

    def __init__(self) -> None:
        self._aps: Any = None
        self._users = 0

    @property
    def aps(self) -> Any:
        """The APScheduler ``AsyncIOScheduler`` itself (made on first use), e.g. to add a listener."""
        return self._scheduler()

    def _scheduler(self) -> Any:
        if self._aps is None:
            from apscheduler.schedulers.asyncio import AsyncIOScheduler

            self._aps = AsyncIOScheduler(timezone=UTC)
        return self._aps

    def add(self, func: Callable[..., Any], trigger: Any, *, id: str, **options: Any) -> None:
        """Add (or replace) the job ``id``; it runs once the scheduler is started."""
        self._scheduler().add_job(func, trigger, id=id, replace_existing=True, **options)

    def remove(self, id: str) -> None:
        """Drop the job ``id`` if it is there."""
        if self._aps is not None and self._aps.get_job(id) is not None:
            self._aps.remove_job(id)

    def job_ids(self) -> list[str]:
        return [] if self._aps is None else [j.id for j in self._aps.get_jobs()]

    @property
    def running(self) -> bool:
        return self._aps is not None and bool(self._aps.running)

    def start(self) -> None:
        """One more user: the scheduler runs from the first call on."""
        self._users += 1
        aps = self._scheduler()
        if not aps.running:
            aps.start()

    def stop(self) -> None:
        """One user fewer: the last one shuts the scheduler down (pending runs are dropped)."""
        self._users = max(0, self._users - 1)
        if self._users == 0 and self._aps is not None:
            if self._aps.running:
                self._aps.shutdown(wait=False)
            self._aps = None
