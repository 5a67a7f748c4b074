"""The configured sources as a runtime component: a poller per enabled source, one scheduler job each."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from briefcast.ingest.service import IngestService
from briefcast.ingest.sources.config import load_source_configs
from briefcast.ingest.sources.poller import AlertCallback, Clock, SourcePoller
from briefcast.jobs import Jobs
from briefcast.store.sources import sync_source


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
