"""Corrections in place: a revision of an issue already delivered edits the messages sent.

When a revision of an issue is published, every subscription that was sent an earlier revision
gets one ``correction`` row in the outbox (:mod:`briefcast.store.outbox.corrections`) instead of
a second copy: ``corrects_id`` points at the original digest delivery, whose ``message_ids`` are the
messages to edit. The engine claims, rate-limits, retries and records it like any delivery;
this module decides what each part does (:func:`plan`, :func:`apply_part`):

* same number of parts as the original: each part edits its original message
  (``editMessageText`` / ``chat.update``). "message is not modified" counts as done
  (``unchanged``). A message that can no longer be edited (deleted, too old, not editable)
  gets the short localized "corrected" notice as a reply instead (``notice``), once per
  correction; further such parts are recorded ``uneditable``;
* a different number of parts (a section grew past a message, or one was removed): nothing
  is edited, one notice replies to the first original message.

``delivery.detail`` keeps what each part did (``briefcast deliveries``, the dashboard).
Corrections never chain: a third revision edits the original messages again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from briefcast.briefing.model import Paragraph, Run
from briefcast.i18n import t
from briefcast.render.document import Button, Document
from briefcast.store.records import StoredIssue

# Private keys of a correction step (never sent to a platform).
EDIT = "_edit"  # the message id this part edits
NOTICE = "_notice"  # the notice payload to reply with if the edit is impossible
REPLY_TO = "_reply_to"  # a notice step: the message id it replies to

EDITED, UNCHANGED, NOTICE_SENT, UNEDITABLE = "edited", "unchanged", "notice", "uneditable"

Payload = Mapping[str, Any]


class EditingTransport(Protocol):
    platform: str

    async def send(self, target: Any, payload: Payload) -> str: ...

    async def edit(self, target: Any, message_id: str, payload: Payload) -> str: ...


class EditImpossible(Exception):
    """The platform refused to edit this message for good (gone, too old, not editable)."""

    def __init__(self, reason: str, *, gone: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.gone = gone


def plan(row: Any, parts: Sequence[Payload], notice: Payload) -> list[dict[str, Any]]:
    """The steps of a correction: one edit per part, or one notice if the part count changed."""
    originals = list(row.edit_ids)
    if originals and len(originals) == len(parts):
        return [{**p, EDIT: mid, NOTICE: notice} for p, mid in zip(parts, originals, strict=True)]
    return [{**notice, REPLY_TO: originals[0] if originals else ""}]


def _public(payload: Payload) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if not k.startswith("_")}


async def apply_part(transport: Any, target: Any, step: Payload, detail: list[str]) -> str:
    """Do one step; append what was done to ``detail``; return the message id it concerns.

    Platform failures other than "cannot edit" (flood control, server errors, a chat that is
    gone) raise :class:`SendError`, which the engine handles like a failed send (a retry
    repeats the step: editing twice is harmless).
    """
    if EDIT not in step:
        mid = await _notice(transport, target, step, str(step.get(REPLY_TO, "")), gone=False)
        detail.append(NOTICE_SENT)
        return mid
    original = str(step[EDIT])
    try:
        edit = getattr(transport, "edit", None)
        if edit is None:
            raise EditImpossible(f"the {transport.platform} transport cannot edit messages")
        result = await edit(target, original, _public(step))
    except EditImpossible as e:
        if NOTICE_SENT in detail:
            detail.append(UNEDITABLE)
            return original
        await _notice(transport, target, step[NOTICE], original, gone=e.gone)
        detail.append(NOTICE_SENT)
        return original
    detail.append(result)
    return original


async def _notice(
    transport: EditingTransport, target: Any, payload: Payload, reply_to: str, *, gone: bool
) -> str:
    body = _public(payload)
    if reply_to and not gone:
        if transport.platform == "telegram":
            body["reply_parameters"] = {"message_id": int(reply_to), "allow_sending_without_reply": True}
        elif transport.platform == "slack" and not getattr(target, "thread_id", ""):
            body["thread_ts"] = reply_to.split("/")[-1]
    return await transport.send(target, body)


def notice_document(
    issue: StoredIssue | None, *, lang: str, public_url: str = "", prefix: str = "/"
) -> Document:
    """The short "this issue was corrected" message (with a link to the archive page if public)."""
    from briefcast.archive.urls import issue_url

    title = issue.title if issue is not None else ""
    revision = issue.revision if issue is not None else 2
    blocks = (
        Paragraph((Run(t(lang, "corrected_body", title=title, revision=revision)),)),
        Paragraph((Run(t(lang, "corrected_where", prefix=prefix), frozenset({"italic"})),)),
    )
    buttons: tuple[tuple[Button, ...], ...] = ()
    if public_url and issue is not None:
        buttons = ((Button(t(lang, "read_issue"), url=issue_url(public_url, issue.id, lang=lang)),),)
    return Document(title=t(lang, "corrected_title"), blocks=blocks, buttons=buttons)


__all__ = [
    "EDITED",
    "NOTICE_SENT",
    "UNCHANGED",
    "UNEDITABLE",
    "EditImpossible",
    "apply_part",
    "notice_document",
    "plan",
]
