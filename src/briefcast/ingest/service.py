"""Ingest one issue from any origin: bytes -> text -> :class:`Briefing` -> store, with an audit line.

Every way an issue arrives (a polled folder, URL or feed, ``POST /api/issues``,
a document sent to a bot) goes through :class:`IngestService`, so decoding,
size limits, dedupe, revisions, the ``ingest_event`` audit trail and the
on-publish hook behave the same everywhere.

Ingestion never raises for bad input: it returns an :class:`IngestOutcome`
whose ``status`` is ``"failed"`` and whose ``reason`` is a one-line,
operator-readable explanation. A failed ingest never touches issues already
stored, so an earlier good issue is never lost to a later bad one.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from briefcast.briefing.model import Briefing
from briefcast.briefing.parse import ParseOptions, parse_text
from briefcast.briefing.sectors import SectorCatalogue
from briefcast.briefing.source import decode_text
from briefcast.errors import BriefcastError, BriefingError, SourceError
from briefcast.render.fidelity import report_for
from briefcast.store import Store

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10_000_000
"""Size cap for one issue (10 MB): far above any real newsletter, small enough to never hurt the host."""

Kind = Literal["markdown", "html"]
OutcomeStatus = Literal["new", "revision", "duplicate", "failed"]
PublishedCallback = Callable[[int], object]
"""``hook(issue_id)`` after a *published* new issue or revision is stored; an awaitable result is awaited."""

_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".txt")
_HTML_SUFFIXES = (".html", ".htm", ".xhtml")


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What became of one ingest attempt.

    ``status`` ``"revision"`` means an issue with the same identity (date +
    title) was stored before with other content: the delivery engine must not
    send it again to subscribers who already received an earlier revision unless
    the operator asks (``briefcast push --issue``).
    """

    status: OutcomeStatus
    origin: str
    issue_id: int | None = None
    revision: int | None = None
    sectors: tuple[str, ...] = ()
    title: str = ""
    date: date | None = None
    published: bool = False
    reason: str = ""
    fidelity: Mapping[str, Any] | None = None
    """The issue's fidelity report (``FidelityReport.to_dict()``), for answers and logs."""

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    @property
    def is_revision(self) -> bool:
        return self.status == "revision"

    def describe(self) -> str:
        """One line for logs and the ``briefcast sources`` view."""
        if self.status == "failed":
            return f"failed: {self.reason}"
        rev = f" r{self.revision}" if self.revision and self.revision > 1 else ""
        return f"{self.status}: issue {self.issue_id}{rev} {self.title!r} ({', '.join(self.sectors)})"


class TooLarge(SourceError):
    """Input over the size cap (the API maps it to 413)."""


# ------------------------------------------------------------------ decoding


def kind_for(name: str = "", content_type: str = "") -> Kind | None:
    """``markdown`` / ``html`` from a file name or a media type; ``None`` = let the parser sniff."""
    mt = content_type.split(";", 1)[0].strip().lower()
    if mt in ("text/html", "application/xhtml+xml"):
        return "html"
    if mt in ("text/markdown", "text/x-markdown"):
        return "markdown"
    lower = name.lower().split("?", 1)[0].split("#", 1)[0]
    if lower.endswith(_HTML_SUFFIXES):
        return "html"
    if lower.endswith(_MARKDOWN_SUFFIXES[:3]):
        return "markdown"
    return None


def charset_of(content_type: str) -> str | None:
    """The ``charset`` parameter of a Content-Type header, if any."""
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def decode(data: bytes, *, charset: str | None = None, name: str = "input") -> str:
    """Text from bytes, strictly: BOM, declared charset, else UTF-8 (see :func:`decode_text`)."""
    return decode_text(data, name, charset)


FIDELITY_LOSSES_KEPT = 50
"""Losses per platform kept in the stored report (their count is always kept)."""


def read_issue(
    text: str,
    *,
    kind: Kind | None = None,
    source: str = "",
    catalogue: SectorCatalogue | None = None,
    options: ParseOptions | None = None,
) -> Briefing:
    """Parse an issue and attach its fidelity report: what every ingest path stores.

    ``briefcast ingest``, the issue API, polled sources and bot uploads all read
    issues here, so each stored issue carries the same measurement of what its
    readers receive (:func:`briefcast.render.fidelity.report_for`).
    """
    briefing = parse_text(text, kind=kind, source=source, catalogue=catalogue, options=options)
    report = report_for(briefing, text)
    return replace(briefing, fidelity=report.to_dict(limit=FIDELITY_LOSSES_KEPT))


# ------------------------------------------------------------------- service


class IngestService:
    """Parse and store issues; record an ``ingest_event`` row for every attempt.

    The store is synchronous and is called on the event loop thread (its
    writes are short; SQLite in-memory databases are bound to one thread).
    Decoding and parsing, which can take a while for a large issue, run in a
    worker thread so a poller or the API never stalls the loop.
    """

    def __init__(
        self,
        store: Store,
        *,
        catalogue: SectorCatalogue | None = None,
        on_published: PublishedCallback | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        options: ParseOptions | None = None,
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.on_published = on_published
        self.max_bytes = max_bytes
        self.options = options

    # -- parsing (pure; also used by the document-upload preview flow)

    def parse_bytes(
        self,
        data: bytes,
        *,
        kind: Kind | None = None,
        charset: str | None = None,
        name: str = "input",
        source: str = "",
    ) -> tuple[Briefing, str]:
        """The briefing and the decoded text; raises :class:`SourceError` / :class:`BriefingError`."""
        if len(data) > self.max_bytes:
            raise TooLarge(f"{name} is {len(data):,} bytes, over the {self.max_bytes:,}-byte limit")
        text = decode(data, charset=charset, name=name)
        return self.parse_str(text, kind=kind, name=name, source=source), text

    def parse_str(
        self, text: str, *, kind: Kind | None = None, name: str = "input", source: str = ""
    ) -> Briefing:
        """The briefing in ``text``; raises :class:`BriefingError` with the reason when there is none."""
        if not text.strip():
            raise BriefingError(f"{name} is empty")
        try:
            briefing = read_issue(
                text, kind=kind, source=source, catalogue=self.catalogue, options=self.options
            )
        except BriefingError as e:
            raise BriefingError(str(e) if name in str(e) else f"{name}: {e}") from None
        if not briefing.sections:
            raise BriefingError(f"{name} has no sector sections (expected '## <emoji> <sector>: …' headings)")
        return briefing

    # -- ingesting

    async def ingest_bytes(
        self,
        data: bytes,
        *,
        origin: str,
        source: str = "",
        kind: Kind | None = None,
        charset: str | None = None,
        name: str = "",
        publish: bool = True,
    ) -> IngestOutcome:
        """Decode, parse and store ``data``; never raises for bad input (see :class:`IngestOutcome`)."""
        label = name or source or origin
        try:
            briefing, text = await asyncio.to_thread(
                self.parse_bytes, data, kind=kind, charset=charset, name=label, source=source
            )
        except BriefcastError as e:
            return self.record_failure(origin, str(e), source=source)
        except Exception as e:  # a parser bug must not kill a poller; keep the reason for the operator
            log.exception("parser crashed on %s", label)
            return self.record_failure(
                origin, f"{label}: could not be parsed ({type(e).__name__})", source=source
            )
        return await self.ingest_briefing(briefing, raw=text, origin=origin, source=source, publish=publish)

    async def ingest_text(
        self,
        text: str,
        *,
        origin: str,
        source: str = "",
        kind: Kind | None = None,
        name: str = "",
        publish: bool = True,
    ) -> IngestOutcome:
        """Like :meth:`ingest_bytes` for text that is already decoded (JSON API bodies)."""
        label = name or source or origin
        size = len(text.encode("utf-8"))
        if size > self.max_bytes:
            reason = f"{label} is {size:,} bytes, over the {self.max_bytes:,}-byte limit"
            return self.record_failure(origin, reason, source=source)
        try:
            briefing = await asyncio.to_thread(self.parse_str, text, kind=kind, name=label, source=source)
        except BriefcastError as e:
            return self.record_failure(origin, str(e), source=source)
        except Exception as e:
            log.exception("parser crashed on %s", label)
            return self.record_failure(
                origin, f"{label}: could not be parsed ({type(e).__name__})", source=source
            )
        return await self.ingest_briefing(briefing, raw=text, origin=origin, source=source, publish=publish)

    async def ingest_briefing(
        self, briefing: Briefing, *, raw: str, origin: str, source: str = "", publish: bool = True
    ) -> IngestOutcome:
        """Store a parsed briefing, then run the on-publish hook for new published content.

        The store records the ``ingest_event`` of a new issue or revision itself
        (labelled with the issue's source); duplicates are recorded here.
        """
        label = source or origin
        try:
            result = self.store.ingest(briefing, raw=raw, source=label, publish=publish)
        except BriefcastError as e:
            return self.record_failure(origin, str(e), source=source)
        outcome = IngestOutcome(
            status=result.status,
            origin=origin,
            issue_id=result.issue_id,
            revision=result.revision,
            sectors=result.sectors,
            title=briefing.title,
            date=briefing.date,
            published=publish,
            fidelity=briefing.fidelity or None,
        )
        if result.status == "duplicate":
            self._record(label, "duplicate", f"same content as issue {result.issue_id}", result.issue_id)
        log.info("ingest %s (%s): %s", origin, label, outcome.describe())
        summary = (briefing.fidelity or {}).get("summary", {}).get("en")
        if summary and not briefing.fidelity.get("complete", True):
            log.warning("ingest %s (%s): %s", origin, label, summary)
        if publish and result.status != "duplicate":
            await self._notify(result.issue_id)
        return outcome

    async def publish(self, issue_id: int) -> bool:
        """Publish a stored draft (the bots' "Publish" button), run the on-publish hook; False if unknown."""
        before = self.store.get_issue(issue_id)
        if before is None:
            return False
        if before.status != "published":
            self.store.publish_issue(issue_id)
            await self._notify(issue_id)
        return True

    def record_failure(self, origin: str, reason: str, *, source: str = "") -> IngestOutcome:
        """Record a failed attempt (``ingest_event`` row + WARNING log) and return its outcome."""
        log.warning("ingest %s failed: %s", origin, reason)
        self._record(source or origin, "failed", reason, None)
        return IngestOutcome(status="failed", origin=origin, reason=reason)

    def _record(self, label: str, status: str, reason: str, issue_id: int | None) -> None:
        try:
            self.store.log_ingest_event(label, status, reason, issue_id)
        except Exception:  # the audit line is secondary: never lose the ingest result over it
            log.exception("could not record the ingest event for %s", label)

    async def _notify(self, issue_id: int) -> None:
        if self.on_published is None:
            return
        try:
            result = self.on_published(issue_id)
            if inspect.isawaitable(result):
                await result
        except Exception:  # the issue is stored; delivery can still pick it up on schedule
            log.exception("on_published hook failed for issue %s", issue_id)
