"""Operator document upload: a ``.md`` / ``.html`` file sent to the bot -> preview -> publish.

The flow, shared by the Telegram and Slack adapters (which only download the
file and send what this module returns):

1. :meth:`PublishFlow.screen` — before anything is downloaded: the sender must
   be a configured operator, the file a Markdown or HTML document, and not over
   the size cap. A refusal is a polite notice in the sender's language; nothing
   is stored for a non-operator, not even an audit line.
2. :meth:`PublishFlow.receive` — the bytes are parsed
   (:meth:`IngestService.parse_bytes`) and stored as a **draft** issue
   (``publish=False``), so the pending upload survives restarts and replicas
   between the preview and the button press: the buttons carry only the draft's
   id (``pub:<id>``, well under Telegram's 64-byte ``callback_data``). The
   operator gets every sector exactly as subscribers will receive it
   (:func:`briefcast.ingest.preview.build_preview`, the delivery renderers),
   then a summary with three buttons.
3. :meth:`PublishFlow.act` — the button press.

What the two publish buttons mean. The scheduler's minute tick
(:func:`briefcast.store.outbox.enqueue_due`) already delivers the latest
published issue to *on-publish* subscriptions, hook or no hook, so "publish
without the on-publish push" would only delay those subscribers by up to a
minute — not a choice worth a button. The distinction made instead is about
*scheduled* subscribers:

* **Publish at scheduled times** (``pubsched``) = publish like any other source
  does (:meth:`IngestService.publish`: the draft becomes published and the
  on-publish hook runs). Every subscriber receives it as they chose: on-publish
  subscriptions at once, scheduled ones at their next delivery time.
* **Publish now** (``pub``) = the same, and then every active subscription with
  a sector in the issue that has no delivery of it yet is enqueued at once
  (:func:`briefcast.store.outbox.enqueue_now`, what ``briefcast push`` does),
  whatever its schedule. The delivery engine picks the rows up at its next poll.
  Like an operator push, this reaches subscribers who received an earlier
  revision of the same issue again (the summary says so for revisions).
* **Discard** (``discard``) = the draft is not published; subscribers never see
  drafts (the tick and the on-publish pass only take published issues).

This module never imports ``telegram`` or ``slack_*``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from briefcast.bot.commands import Reply, Request
from briefcast.briefing.model import Briefing, ListBlock, ListItem, Paragraph, Run
from briefcast.errors import BriefingError, SourceError
from briefcast.i18n import Lang, pick_language, t
from briefcast.ingest.preview import IssuePreview, build_preview
from briefcast.ingest.service import IngestOutcome, IngestService, TooLarge, kind_for
from briefcast.render.document import Button, Document
from briefcast.store.records import StoredIssue

log = logging.getLogger(__name__)

ACTION_PUBLISH_NOW = "pub"
ACTION_PUBLISH_SCHEDULED = "pubsched"
ACTION_DISCARD = "discard"
ACTIONS: frozenset[str] = frozenset({ACTION_PUBLISH_NOW, ACTION_PUBLISH_SCHEDULED, ACTION_DISCARD})
"""Button actions this module answers; adapters route them here instead of the command layer."""

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class UploadInfo:
    """What the platform says about a sent file before it is downloaded."""

    name: str
    size: int | None = None
    mime_type: str = ""


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What to answer an upload with: the preview messages first, then ``reply`` (summary or error).

    ``preview`` holds ready platform payloads (sendMessage / chat.postMessage
    parameters without the chat); ``issue_id`` is the draft the buttons act on.
    """

    reply: Reply
    preview: tuple[Payload, ...] = ()
    issue_id: int | None = None


def format_size(n: int) -> str:
    """``10_000_000`` -> ``"10 MB"``; ``1536`` -> ``"1.5 KB"`` (decimal units, as file managers show)."""
    for unit, factor in (("MB", 1_000_000), ("KB", 1_000)):
        if n >= factor:
            return f"{n / factor:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} B"


def _notice(text: str) -> Reply:
    return Reply(notice=text, ephemeral=False)


class PublishFlow:
    """The platform-neutral upload-and-publish flow for one platform's operators.

    ``max_bytes`` is the size cap (defaults to the ingest service's); an adapter
    lowers it to what the platform lets a bot download. ``compact`` previews the
    compact digest variant (when that is the configured delivery variant).
    """

    def __init__(
        self,
        ingest: IngestService,
        *,
        platform: str,
        operators: Iterable[str],
        default_language: str = "zh",
        max_bytes: int | None = None,
        compact: bool = False,
    ) -> None:
        self.ingest = ingest
        self.store = ingest.store
        self.platform = platform
        self.operators = frozenset(str(o).strip() for o in operators if str(o).strip())
        self.default_language = default_language
        self.max_bytes = min(max_bytes, ingest.max_bytes) if max_bytes else ingest.max_bytes
        self.compact = compact

    # -- small answers -----------------------------------------------------------

    def language(self, request: Request) -> Lang:
        return pick_language(request.language_code, self.default_language)

    def is_operator(self, user_id: str) -> bool:
        return bool(user_id) and user_id in self.operators

    @staticmethod
    def handles(action: str) -> bool:
        """Whether a button action belongs to this flow (``pub`` / ``pubsched`` / ``discard``)."""
        return action in ACTIONS

    def download_failed(self, request: Request, upload: UploadInfo) -> Reply:
        """The notice when the adapter could not fetch the file from the platform."""
        return _notice(t(self.language(request), "upload_download_failed", name=upload.name))

    def preview_rejected(self, request: Request, count: int, reason: str) -> Reply:
        """The notice when the platform refused some preview messages (subscribers would lose them too)."""
        lang = self.language(request)
        return _notice(t(lang, "upload_preview_rejected", platform=self.platform, count=count, reason=reason))

    # -- 1. screening ------------------------------------------------------------

    def screen(self, request: Request, upload: UploadInfo) -> Reply | None:
        """A refusal (not an operator, wrong type, too large), or None when the file may be fetched."""
        lang = self.language(request)
        if not self.is_operator(request.user_id):
            log.info("%s upload from non-operator %s refused", self.platform, request.user_id or "?")
            return _notice(t(lang, "upload_not_operator"))
        if kind_for(upload.name, upload.mime_type) is None:
            return _notice(t(lang, "upload_wrong_type", name=upload.name or "?"))
        if upload.size is not None and upload.size > self.max_bytes:
            return self._too_large(lang, upload.name, upload.size)
        return None

    def _too_large(self, lang: Lang, name: str, size: int) -> Reply:
        return _notice(
            t(lang, "upload_too_large", name=name, size=format_size(size), limit=format_size(self.max_bytes))
        )

    # -- 2. parse, draft, preview --------------------------------------------------

    async def receive(self, request: Request, upload: UploadInfo, data: bytes) -> UploadResult:
        """Parse ``data``, store it as a draft, and build the preview and the summary with buttons.

        Screens again (an adapter may skip :meth:`screen` when it had nothing to
        screen before downloading), so a non-operator's bytes are never parsed.
        Never raises: a database failure becomes an apology (and a log line).
        """
        try:
            return await self._receive(request, upload, data)
        except Exception:
            log.exception("%s upload %r failed", self.platform, upload.name)
            return UploadResult(_notice(t(self.language(request), "internal_error")))

    async def _receive(self, request: Request, upload: UploadInfo, data: bytes) -> UploadResult:
        refused = self.screen(request, UploadInfo(upload.name, len(data), upload.mime_type))
        if refused is not None:
            return UploadResult(refused)
        lang = self.language(request)
        origin = f"{self.platform}-upload"
        source = f"{self.platform}:{request.user_id}:{upload.name}"
        parsed = await self._parse(lang, upload, data, origin=origin, source=source)
        if isinstance(parsed, Reply):
            return UploadResult(parsed)
        briefing, text = parsed
        outcome = await self.ingest.ingest_briefing(
            briefing, raw=text, origin=origin, source=source, publish=False
        )
        if not outcome.ok or outcome.issue_id is None:
            log.warning("storing the upload %s failed: %s", upload.name, outcome.reason)
            return UploadResult(_notice(t(lang, "internal_error")))
        stored = await asyncio.to_thread(self.store.get_issue, outcome.issue_id)
        if outcome.status == "duplicate" and stored is not None and stored.status == "published":
            return UploadResult(
                _notice(t(lang, "upload_duplicate", id=stored.id, title=stored.title)), issue_id=stored.id
            )
        # new, revision, or a re-sent draft that was never published: preview it (again)
        revision = stored.revision if stored is not None else (outcome.revision or 1)
        preview = build_preview(briefing, platforms=(self.platform,), lang=lang, compact=self.compact)
        summary = self.summary_document(briefing, preview, outcome, lang, revision=revision)
        return UploadResult(
            Reply(documents=(summary,), ephemeral=False),
            preview=tuple(preview.payloads(self.platform)),
            issue_id=outcome.issue_id,
        )

    async def _parse(
        self, lang: Lang, upload: UploadInfo, data: bytes, *, origin: str, source: str
    ) -> tuple[Briefing, str] | Reply:
        """The briefing and its text, or a polite notice (the failure is recorded as an ingest event)."""
        name = upload.name
        if not data.strip():
            self.ingest.record_failure(origin, f"{name} is empty", source=source)
            return _notice(t(lang, "upload_empty", name=name))
        try:
            return await asyncio.to_thread(
                self.ingest.parse_bytes, data, kind=kind_for(name, upload.mime_type), name=name, source=source
            )
        except TooLarge as e:
            self.ingest.record_failure(origin, str(e), source=source)
            return self._too_large(lang, name, len(data))
        except SourceError as e:  # undecodable bytes
            self.ingest.record_failure(origin, str(e), source=source)
            return _notice(t(lang, "upload_undecodable", name=name))
        except BriefingError as e:
            self.ingest.record_failure(origin, str(e), source=source)
            if "is empty" in str(e):
                return _notice(t(lang, "upload_empty", name=name))
            return _notice(t(lang, "upload_unparseable", name=name, reason=_reason(str(e), name)))
        except Exception as e:  # a parser bug: the operator gets an apology, the log the details
            log.exception("parsing the upload %s failed", name)
            self.ingest.record_failure(
                origin, f"{name}: could not be parsed ({type(e).__name__})", source=source
            )
            return _notice(t(lang, "internal_error"))

    def summary_document(
        self, briefing: Briefing, preview: IssuePreview, outcome: IngestOutcome, lang: Lang, *, revision: int
    ) -> Document:
        """The message after the preview: what was found, warnings, and the three buttons."""
        lines: list[str] = [t(lang, "upload_preview_intro")]
        lines.append(
            t(lang, "upload_date", date=briefing.date.isoformat())
            if briefing.date
            else t(lang, "upload_no_date")
        )
        sep = "、" if lang == "zh" else ", "
        names = sep.join(f"{s.emoji} {s.name}".strip() for s in briefing.sections)
        lines.append(t(lang, "upload_sectors", count=len(briefing.sections), names=names))
        lines.append(t(lang, "upload_messages", count=len(preview.payloads(self.platform))))
        if preview.fidelity:  # what readers receive of the file (issue #12)
            lines.append(preview.fidelity_line(lang))
        if revision > 1:
            lines.append(t(lang, "upload_revision", revision=revision))
            lines.append(t(lang, "upload_revision_push"))
        blocks: list[Paragraph | ListBlock] = [_paragraph(lines)]
        if preview.warnings:
            blocks.append(_paragraph([t(lang, "upload_warnings")]))
            blocks.append(ListBlock(tuple(ListItem((Run(w),)) for w in preview.warnings)))
        blocks.append(_paragraph([t(lang, "upload_choose")]))
        value = str(outcome.issue_id)
        buttons = (
            (Button(t(lang, "btn_publish_now"), ACTION_PUBLISH_NOW, value, style="primary"),),
            (Button(t(lang, "btn_publish_scheduled"), ACTION_PUBLISH_SCHEDULED, value),),
            (Button(t(lang, "btn_discard"), ACTION_DISCARD, value, style="danger"),),
        )
        title = t(lang, "upload_preview_title", title=briefing.title or "?")
        return Document(title=title, blocks=tuple(blocks), buttons=buttons)

    # -- 3. the buttons --------------------------------------------------------------

    async def act(self, request: Request, action: str, value: str) -> Reply:
        """Publish now / at scheduled times / discard the draft ``value``; the summary is redrawn.

        Never raises: a database failure becomes an apology (and a log line).
        """
        try:
            return await self._act(request, action, value)
        except Exception:
            log.exception("%s upload action %s:%s failed", self.platform, action, value)
            return Reply(notice=t(self.language(request), "internal_error"))

    async def _act(self, request: Request, action: str, value: str) -> Reply:
        lang = self.language(request)
        if not self.is_operator(request.user_id):
            return Reply(notice=t(lang, "upload_not_operator_action"))
        issue = await asyncio.to_thread(self.store.get_issue, int(value)) if value.isdigit() else None
        if issue is None or action not in ACTIONS:
            return Reply(notice=t(lang, "upload_gone"))
        if issue.status == "published":
            return self._result(t(lang, "upload_already_published", id=issue.id, title=issue.title))
        if action == ACTION_DISCARD:
            discarded = await asyncio.to_thread(self._discard, issue)
            log.info(
                "%s operator %s discarded draft %s (%s)", self.platform, request.user_id, issue.id, discarded
            )
            return self._result(t(lang, "upload_discarded", title=issue.title))
        await self.ingest.publish(issue.id)
        if action == ACTION_PUBLISH_NOW:
            count = await self.push_now(issue)
            text = t(lang, "upload_published_now", title=issue.title, id=issue.id, count=count)
        else:
            text = t(lang, "upload_published_scheduled", title=issue.title, id=issue.id)
        log.info("%s operator %s published issue %s (%s)", self.platform, request.user_id, issue.id, action)
        return self._result(text)

    async def push_now(self, issue: StoredIssue) -> int:
        """Enqueue ``issue`` for every active subscription of one of its sectors that lacks it.

        Returns how many subscriptions will receive it (delivery rows inserted now,
        plus those the on-publish hook already enqueued).
        """
        from briefcast.store import outbox  # the outbox is only needed on this path

        received = self.store.catalogue.received

        def push() -> int:
            # A page of subscriptions at a time (a million would not fit in the bot's memory), off
            # the event loop; then the batched enqueue and a count, both keyed by subscription id.
            targets: list[int] = []
            after = 0
            while page := self.store.active_subscriptions(after=after, limit=5000):
                targets.extend(s.id for s in page if received(s.sectors, issue.sectors))
                after = page[-1].id
            if not targets:
                return 0
            outbox.enqueue_now(self.store.engine, issue.id, now=datetime.now(UTC), subscription_ids=targets)
            return outbox.count_for(self.store.engine, issue.id, targets)

        return await asyncio.to_thread(push)

    def _discard(self, issue: StoredIssue) -> bool:
        """Delete the draft (never a published issue); sending the same file again starts afresh."""
        return self.store.discard_draft(issue.id)

    @staticmethod
    def _result(text: str) -> Reply:
        """Redraw the summary as the outcome, without buttons (so it cannot be pressed twice)."""
        return Reply(
            documents=(Document(title="", blocks=(_paragraph([text]),)),), ephemeral=False, edit=True
        )


def _paragraph(lines: list[str]) -> Paragraph:
    runs: list[Run] = []
    for i, line in enumerate(lines):
        if i:
            runs.append(Run("\n"))
        runs.append(Run(line))
    return Paragraph(tuple(runs))


def _reason(message: str, name: str) -> str:
    """The parser's reason without the repeated file name prefix."""
    prefix = f"{name}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
