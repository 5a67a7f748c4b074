"""Corrections in place: a revision of an issue already delivered edits the messages sent.

When a revision of an issue is published, every subscription that was sent an earlier revision
gets one ``correction`` row in the outbox (:func:`enqueue_corrections`) instead of a second
copy: ``corrects_id`` points at the original digest delivery, whose ``message_ids`` are the
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
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from briefcast.briefing.model import Paragraph, Run
from briefcast.i18n import t
from briefcast.render.document import Button, Document
from briefcast.store.db import writer
from briefcast.store.records import StoredIssue
from briefcast.store.tables import as_utc

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


# ----------------------------------------------------------------------------------- enqueue


def enqueue_corrections(engine: Engine, issue_id: int, *, now: datetime) -> int:
    """For a published revision ``issue_id``: one ``correction`` row per subscription that was sent
    (fully or in part) an earlier revision of the same issue. Idempotent; returns rows inserted.

    A subscription whose earlier delivery is still queued or being sent is not corrected yet (the
    scheduler's minute tick runs this again for the latest issue, and corrects it once that
    delivery is finished); one that was skipped or failed before any part went out has nothing
    to correct.
    """
    from briefcast.delivery.outbox import D, I, S

    now = as_utc(now)
    with writer(engine).begin() as conn:
        issue = conn.execute(
            sa.select(I.c.id, I.c.identity, I.c.revision).where(I.c.id == issue_id, I.c.status == "published")
        ).first()
        if issue is None or int(issue.revision) <= 1:
            return 0
        earlier = sa.select(I.c.id).where(I.c.identity == issue.identity, I.c.id != issue_id)
        mine = D.alias("mine")
        has_row = (
            sa.select(sa.literal(1))
            .where(mine.c.issue_id == issue_id, mine.c.subscription_id == D.c.subscription_id)
            .exists()
        )
        # the original digest of each subscription: the first one that sent a part
        originals = conn.execute(
            sa.select(D.c.subscription_id, sa.func.min(D.c.id).label("original"))
            .where(
                D.c.issue_id.in_(earlier),
                D.c.kind == "digest",
                D.c.parts_sent > 0,
                # finished (sent, or failed part-way): one still being sent is corrected by a later
                # scheduler tick, once it is done
                D.c.status.in_(["sent", "failed"]),
                D.c.subscription_id.is_not(None),
                ~has_row,
            )
            .group_by(D.c.subscription_id)
        ).all()
        if not originals:
            return 0
        from briefcast.delivery.outbox import C

        active = {
            int(r.id): str(r.platform)
            for r in conn.execute(
                sa.select(S.c.id, C.c.platform)
                .join(C, C.c.id == S.c.chat_id)
                .where(S.c.id.in_([int(o.subscription_id) for o in originals]), S.c.active.is_(True))
            )
        }
        # A correction is a row of its own next to the digest it edits: its identity is the
        # issue's marked with this revision's id, so the one-delivery-per-identity constraint
        # (revision 0008) keeps holding for digests while every revision can correct once.
        marked = correction_identity(str(issue.identity), issue_id)
        rows = [
            {
                "issue_id": issue_id,
                "subscription_id": int(o.subscription_id),
                "kind": "correction",
                "identity": marked,
                "platform": active[int(o.subscription_id)],
                "corrects_id": int(o.original),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "lease_owner": "",
                "parts_total": 0,
                "parts_sent": 0,
                "message_ids": [],
                "detail": [],
                "last_error": "",
                "created_at": now,
                "updated_at": now,
            }
            for o in originals
            if int(o.subscription_id) in active
        ]
        if not rows:
            return 0
        ins = (
            _insert(conn).values(rows).on_conflict_do_nothing(index_elements=["issue_id", "subscription_id"])
        )
        inserted = len(conn.execute(ins.returning(D.c.id)).all())
        # the subscriptions have this revision now: the slot path must not send it as a new copy
        conn.execute(
            sa.update(S)
            .where(S.c.id.in_([r["subscription_id"] for r in rows]))
            .where(sa.or_(S.c.last_issue_id.is_(None), S.c.last_issue_id < issue_id))
            .values(last_issue_id=issue_id, updated_at=now)
        )
    return inserted


def correction_identity(identity: str, issue_id: int) -> str:
    """``identity#<revision's issue id>`` within the column's 200 characters."""
    suffix = f"#{issue_id}"
    return identity[: 200 - len(suffix)] + suffix


def _insert(conn: sa.Connection) -> Any:
    from briefcast.delivery.outbox import D

    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(D)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(D)


__all__ = [
    "EDITED",
    "NOTICE_SENT",
    "UNCHANGED",
    "UNEDITABLE",
    "EditImpossible",
    "apply_part",
    "enqueue_corrections",
    "notice_document",
    "plan",
]
