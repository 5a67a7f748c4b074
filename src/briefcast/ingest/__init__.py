"""Ingestion and publishing: polled sources, the issue API, the shared ingest service, previews.

Every origin (folder, URL, feed, ``POST /api/issues``, a document sent to a
bot) goes through :class:`IngestService`, so dedupe, revisions, the audit
trail and the on-publish hook behave the same everywhere.
"""

from briefcast.ingest.service import IngestOutcome, IngestService
from briefcast.ingest.sources import (
    PollResult,
    SourceConfig,
    SourcePoller,
    SourceStatus,
    build_pollers,
    enable_source,
    load_source_configs,
    sources_status,
)
from briefcast.store.sources import IngestEvent, recent_events

__all__ = [
    "IngestEvent",
    "IngestOutcome",
    "IngestService",
    "PollResult",
    "SourceConfig",
    "SourcePoller",
    "SourceStatus",
    "build_pollers",
    "enable_source",
    "load_source_configs",
    "recent_events",
    "sources_status",
]
