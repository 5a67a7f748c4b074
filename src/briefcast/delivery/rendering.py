"""The render cache: a claimed row's messages, rendered once per issue, sectors, platform and language."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from briefcast.archive.urls import issue_url
from briefcast.config import Settings
from briefcast.delivery import corrections
from briefcast.render.document import Document
from briefcast.render.options import apply_delivery_options
from briefcast.store import outbox
from briefcast.store.outbox import Claimed
from briefcast.store.records import StoredIssue

Payload = Mapping[str, Any]
Renderer = Callable[[Document], list[dict[str, Any]]]

# Why a row of each kind is skipped when it renders to nothing.
_NOTHING = {
    "watch": "no watched word in this issue",
    outbox.ROLLUP: "none of the subscribed sectors is in these issues",
}


def nothing_to_send(kind: str) -> str:
    """The reason recorded for a row of ``kind`` whose render came out empty."""
    return _NOTHING.get(kind, "none of the subscribed sectors is in this issue")


def default_renderers() -> dict[str, Renderer]:
    """The platform renderers (pure functions Document -> payloads)."""
    from briefcast.render import slack, telegram

    return {"telegram": telegram.render, "slack": slack.render}


class _LRU(OrderedDict[Any, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or(self, key: Any, make: Callable[[], Any]) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        return self.put(key, make())

    def put(self, key: Any, value: Any) -> Any:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)
        return value


class Renders:
    """Issues, sections and whole digests in small LRUs, so a broadcast renders each variant once."""

    def __init__(self, settings: Settings, store: Any, renderers: Mapping[str, Renderer]) -> None:
        self.settings = settings
        self.store = store
        self.renderers = renderers
        self._issues: _LRU = _LRU(8)
        self._sections: _LRU = _LRU(256)
        self._digests: _LRU = _LRU(1024)

    def parts(self, row: Claimed) -> Sequence[Payload]:
        """What to send for ``row`` (the /settings options applied, a correction planned); empty:
        nothing to send (see :func:`nothing_to_send`)."""
        parts: Sequence[Payload]
        if row.kind == "watch":
            parts = self._watch_alert(row)
        elif row.kind == outbox.ROLLUP:
            parts = self._rollup(row)
        else:
            parts = self._digest(row)
        if not parts:
            return ()
        if row.silent or row.previews:  # /settings; the cached renders stay shared
            parts = apply_delivery_options(
                [dict(p) for p in parts], row.platform, silent=row.silent, previews=row.previews
            )
        if row.kind == "correction":
            parts = corrections.plan(row, parts, self._correction_notice(row))
        return parts

    def _watch_alert(self, row: Claimed) -> tuple[Payload, ...]:
        """The passages of the issue that mention the watcher's words (nothing when none does)."""
        issue = self._issue(row.issue_id)
        if issue is None:
            return ()
        from briefcast.render.compose import watch_alert

        lang = row.language or self.settings.default_language
        public = self.settings.public_url

        def section_url(key: str) -> str | None:
            return issue_url(public, issue.id, lang=lang, section=key) or None

        doc = watch_alert(
            issue.briefing, row.words, lang=lang, issue_id=issue.id,
            prefix="/" if row.platform == "telegram" else "/briefing ",
            section_url=section_url if public else None, catalogue=getattr(self.store, "catalogue", None),
        )  # fmt: skip
        return () if doc is None else tuple(self.renderers[row.platform](doc))

    def _rollup(self, row: Claimed) -> Sequence[Payload]:
        """A weekly roll-up: the issues listed in ``detail`` (oldest first), one line per sector.
        Rendered once per (issues, sectors, platform, language), like digests, not per subscriber."""
        lang = row.language or self.settings.default_language
        key = ("rollup", row.detail, row.sectors, row.platform, lang)
        parts: Sequence[Payload] = self._digests.get_or(key, lambda: self._render_rollup(row, lang))
        return parts

    def _render_rollup(self, row: Claimed, lang: str) -> tuple[Payload, ...]:
        from briefcast.render.compose import rollup_document

        issues = [i for i in (self._issue(int(x)) for x in row.detail if x.isdigit()) if i is not None]
        doc = rollup_document(
            [(i.id, i.briefing) for i in issues], row.sectors, lang=lang, public_url=self.settings.public_url,
            catalogue=getattr(self.store, "catalogue", None),
        )  # fmt: skip
        return () if doc is None else tuple(self.renderers[row.platform](doc))

    def _correction_notice(self, row: Claimed) -> Payload:
        """The short "this issue was corrected" reply, for a message that cannot be edited."""
        issue = self._issue(row.issue_id)
        lang = row.language or self.settings.default_language
        prefix = "/" if row.platform == "telegram" else "/briefing "
        doc = corrections.notice_document(
            issue, lang=lang, public_url=self.settings.public_url, prefix=prefix
        )
        return self.renderers[row.platform](doc)[0]

    def _issue(self, issue_id: int) -> StoredIssue | None:
        issue: StoredIssue | None = self._issues.get_or(issue_id, lambda: self.store.get_issue(issue_id))
        return issue

    def _digest(self, row: Claimed) -> Sequence[Payload]:
        """All parts for this subscription: its sectors present in the issue, in issue order."""
        variant = row.variant or self.settings.delivery.variant
        lang = row.language or self.settings.default_language
        key = (row.issue_id, row.sectors, row.platform, variant, lang)
        parts: Sequence[Payload] = self._digests.get_or(key, lambda: self._render_digest(row, variant, lang))
        return parts

    def _render_digest(self, row: Claimed, variant: str, lang: str) -> tuple[Payload, ...]:
        issue = self._issue(row.issue_id)
        if issue is None:
            return ()
        from briefcast.render.compose import digest_parts, with_issue_link  # sections in issue order

        out: list[Payload] = []
        delivered = (s.key for s in issue.briefing.delivered_sections)
        wanted = self.store.catalogue.received(row.sectors, delivered)
        for name, make in digest_parts(issue.briefing, wanted, lang=lang, compact=variant == "compact"):
            key = (row.issue_id, name, row.platform, variant, lang)
            cached = self._sections.get(key)
            if cached is None:
                # every sector's message ends with the "read the whole issue" button (public URL set)
                anchor = "" if name == "intro" else name.split("+")[0]
                doc = with_issue_link(make(), self.settings.public_url, issue.id, lang=lang, section=anchor)
                cached = tuple(self.renderers[row.platform](doc))
                self._sections.put(key, cached)
            out.extend(cached)
        return tuple(out)
