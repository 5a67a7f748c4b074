"""Polled sources: a folder of files, one URL, an RSS/Atom feed (config, fetching, pollers, the component).

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
  polling stops until :func:`~briefcast.store.sources.enable_source` (``briefcast sources --enable``) or
  a configuration change of its kind/location.

A bad *file* in a folder or a bad *entry* in a feed is recorded (event +
``last_error``) without failing the whole source.

Folder sources do not read a file that is still being written: a file is read
once its size and modification time are unchanged between two polls, or its
modification time is at least ``settle_seconds`` (default 5 s) in the past.
A file is read again only when its size or modification time changes.
"""

from briefcast.ingest.sources.config import SourceConfig, SourceKind, load_source_configs
from briefcast.ingest.sources.fetching import Fetched, HttpStatusError, fetch
from briefcast.ingest.sources.folder import FolderPoller
from briefcast.ingest.sources.poller import AlertCallback, PollResult, SourcePoller
from briefcast.ingest.sources.polling import SourcePolling, build_pollers
from briefcast.ingest.sources.remote import FeedPoller, UrlPoller
from briefcast.store.sources import SourceStatus, enable_source, sources_status, sync_source

__all__ = [
    "AlertCallback",
    "FeedPoller",
    "Fetched",
    "FolderPoller",
    "HttpStatusError",
    "PollResult",
    "SourceConfig",
    "SourceKind",
    "SourcePoller",
    "SourcePolling",
    "SourceStatus",
    "UrlPoller",
    "build_pollers",
    "enable_source",
    "fetch",
    "load_source_configs",
    "sources_status",
    "sync_source",
]
