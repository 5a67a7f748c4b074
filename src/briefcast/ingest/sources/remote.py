"""URL and feed sources: one page fetched conditionally, or an RSS/Atom feed whose entries are issues."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import feedparser
import httpx

from briefcast.errors import SourceError
from briefcast.ingest.service import IngestOutcome, Kind, charset_of, kind_for
from briefcast.ingest.sources.fetching import HttpStatusError, fetch
from briefcast.ingest.sources.poller import Polled, PollFailure, SourcePoller
from briefcast.store.sources import SourceState

_TAG = re.compile(r"<[^>]+>")


class UrlPoller(SourcePoller):
    """One issue at one URL, fetched with a conditional GET."""

    kind = "url"

    async def _poll(self, state: SourceState) -> Polled:
        url = self.config.location
        async with self._client() as client:
            fetched = await self._fetch_location(client, state)
        if fetched.not_modified:
            return Polled(not_modified=True)
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
            raise PollFailure(outcome.reason, recorded=True)
        return Polled(
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

    async def _poll(self, state: SourceState) -> Polled:
        url = self.config.location
        async with self._client() as client:
            fetched = await self._fetch_location(client, state)
            if fetched.not_modified:
                return Polled(not_modified=True)
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
            done = Polled()
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
