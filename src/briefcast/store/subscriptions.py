"""Chat and subscription queries: who gets which sectors when, chat migration, the outbox row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from briefcast.slots import ALL_DAYS
from briefcast.store.base import StoreBase, _chat_record, _id, _table, is_id
from briefcast.store.errors import InvalidDays, UnknownSector
from briefcast.store.outbox.queries import delivery_record
from briefcast.store.records import (
    ChatRecord,
    ChatRef,
    DeliveryRecord,
    SubscriptionRecord,
)
from briefcast.store.tables import (
    ChatRow,
    DeliveryRow,
    IssueRow,
    SubscriptionRow,
    now,
)
from briefcast.store.validate import (
    WEEKLY_DEFAULT_DAYS,
    parse_days,
    parse_mode,
    parse_quiet,
    parse_time,
    parse_timezone,
    parse_variant,
)
from briefcast.store.watchers import move_topics, move_watchers


class SubscriptionStore(StoreBase):
    """Chats and their subscriptions (sectors, schedule, options) and single delivery rows."""

    def upsert_chat(
        self, ref: ChatRef, *, kind: str, title: str = "", language: str | None = None
    ) -> ChatRecord:
        """Create or refresh a chat; hearing from a chat makes it active again."""
        with self._write() as s:
            row = self._ensure_chat(s, ref, kind)
            row.kind = kind or row.kind
            row.title = title or row.title
            row.language = language if language is not None else row.language
            row.active, row.deactivated_reason = True, ""
            row.updated_at = now()
            s.add(row)
            s.flush()
            return _chat_record(row)

    def get_chat(self, platform: str, chat_id: str, workspace: str = "") -> ChatRecord | None:
        with self._read() as s:
            row = self._chat(s, platform, chat_id, workspace)
            return _chat_record(row) if row else None

    def deactivate_chat(self, platform: str, chat_id: str, reason: str, workspace: str = "") -> int:
        """Stop sending to a chat (blocked, kicked, not found); returns how many subscriptions stopped."""
        with self._write() as s:
            chat = self._chat(s, platform, chat_id, workspace)
            if chat is None:
                return 0
            stamp = now()
            chat.active, chat.deactivated_reason, chat.updated_at = False, reason, stamp
            s.add(chat)
            subs = s.exec(
                select(SubscriptionRow).where(SubscriptionRow.chat_id == chat.id, col(SubscriptionRow.active))
            ).all()
            for sub in subs:
                sub.active, sub.reason, sub.updated_at = False, reason, stamp
                s.add(sub)
            return len(subs)

    def migrate_chat(self, platform: str, old_chat_id: str, new_chat_id: str, workspace: str = "") -> int:
        """Follow a chat to its new id (Telegram group -> supergroup); returns subscriptions carried over.

        If the new chat is unknown the row is simply renamed. If it already
        exists (someone subscribed there too), each old subscription moves to it,
        or merges its sectors into the subscription for the same thread; the old
        chat is then deactivated.
        """
        with self._write() as s:
            old = self._chat(s, platform, old_chat_id, workspace)
            if old is None or old_chat_id == new_chat_id:
                return 0
            stamp = now()
            target = self._chat(s, platform, new_chat_id, workspace)
            if target is None:
                count = len(s.exec(select(SubscriptionRow).where(SubscriptionRow.chat_id == old.id)).all())
                old.external_id, old.active, old.deactivated_reason, old.updated_at = (
                    new_chat_id,
                    True,
                    "",
                    stamp,
                )
                s.add(old)
                return count
            moved = 0
            for sub in s.exec(select(SubscriptionRow).where(SubscriptionRow.chat_id == old.id)).all():
                twin = s.exec(
                    select(SubscriptionRow).where(
                        SubscriptionRow.chat_id == target.id, SubscriptionRow.thread_id == sub.thread_id
                    )
                ).first()
                if twin is None:
                    sub.chat_id, sub.updated_at = _id(target), stamp
                    s.add(sub)
                elif sub.active:
                    if twin.active:
                        twin.sectors = self._ordered([*twin.sectors, *sub.sectors])
                    else:
                        _copy_schedule(sub, twin)
                    twin.active, twin.reason, twin.updated_at = True, "", stamp
                    sub.active, sub.reason, sub.updated_at = False, f"migrated to {new_chat_id}", stamp
                    s.add_all([twin, sub])
                moved += 1
            move_watchers(s, old, target)
            move_topics(s, old, target)
            target.kind = target.kind or old.kind
            target.title = target.title or old.title
            target.language = target.language or old.language
            target.active, target.deactivated_reason, target.updated_at = True, "", stamp
            old.active, old.deactivated_reason, old.updated_at = False, f"migrated to {new_chat_id}", stamp
            s.add_all([target, old])
            return moved

    # ------------------------------------------------------------- subscriptions

    def resolve_sectors(self, names: Sequence[str]) -> tuple[str, ...]:
        """Sector keys in catalogue order from keys, names, aliases or "all"; empty means all."""
        if not names:
            return self.catalogue.keys
        keys: list[str] = []
        for n in names:
            if n.strip().lower() in ("all", "全部", "所有"):
                return self.catalogue.keys
            sector = self.catalogue.get(n) or self.catalogue.lookup(n)
            if sector is None:
                raise UnknownSector(n, self.catalogue.keys)
            keys.append(sector.key)
        return tuple(self._ordered(keys))

    def _ordered(self, keys: Sequence[str]) -> list[str]:
        order = {k: i for i, k in enumerate(self.catalogue.keys)}
        return sorted(set(keys), key=lambda k: (order.get(k, len(order)), k))

    def _sub(self, s: Session, ref: ChatRef) -> tuple[ChatRow, SubscriptionRow] | None:
        chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
        if chat is None:
            return None
        sub = s.exec(
            select(SubscriptionRow).where(
                SubscriptionRow.chat_id == chat.id, SubscriptionRow.thread_id == (ref.thread_id or "")
            )
        ).first()
        return (chat, sub) if sub else None

    def subscribe(
        self,
        ref: ChatRef,
        sectors: Sequence[str],
        *,
        time: str | None = None,
        timezone: str | None = None,
        mode: str | None = None,
        created_by: str = "",
        variant: str | None = None,
        days: int | str | None = None,
    ) -> SubscriptionRecord:
        """Add sectors to the chat's (thread's) subscription, creating it with the settings' defaults.

        Values are validated before anything is written (:class:`InvalidTime`,
        :class:`InvalidTimezone`, :class:`InvalidDays`, :class:`UnknownSector`, ...). ``days``:
        the allowed local weekdays, a mask (bit 0 = Monday) or words (``"mon,wed,fri"``); None
        keeps the subscription's (every day for a new one). Subscribing again
        re-activates a stopped subscription and its chat.
        """
        keys = self.resolve_sectors(sectors)
        hhmm = parse_time(time) if time is not None else None
        tz = parse_timezone(timezone) if timezone is not None else None
        md = parse_mode(mode) if mode is not None else None
        var = parse_variant(variant) if variant is not None else None
        mask = _days(days)
        with self._write() as s:
            chat = self._ensure_chat(s, ref)
            stamp = now()
            if not chat.active:
                chat.active, chat.deactivated_reason, chat.updated_at = True, "", stamp
                s.add(chat)
            self._insert_ignore(
                s,
                _table("subscription"),
                {
                    "chat_id": chat.id,
                    "thread_id": ref.thread_id or "",
                    "sectors": [],
                    "mode": "scheduled",
                    "time": parse_time(self.settings.default_time),
                    "timezone": parse_timezone(self.settings.default_timezone),
                    "variant": parse_variant(self.settings.delivery.variant),
                    "days": ALL_DAYS,
                    "active": False,
                    "reason": "",
                    "created_by": created_by,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "last_issue_id": None,
                },
            )
            found = self._sub(s, ref)
            assert found is not None
            _, sub = found
            sub.sectors = self._ordered([*sub.sectors, *keys]) if sub.active else list(keys)
            sub.time = hhmm or sub.time
            sub.timezone = tz or sub.timezone
            if mask is None and md is not None and md != sub.mode and "weekly" in (md, sub.mode):
                # "weekly" alone: Mondays; back from weekly to daily: every day again
                mask = WEEKLY_DEFAULT_DAYS if md == "weekly" else ALL_DAYS
            sub.mode = md or ("scheduled" if hhmm and sub.mode == "publish" else sub.mode)
            sub.variant = var or sub.variant
            sub.days = mask if mask is not None else sub.days
            sub.created_by = sub.created_by or created_by
            sub.active, sub.reason, sub.updated_at = True, "", stamp
            s.add(sub)
            s.flush()
            return _sub_record(sub, chat)

    def unsubscribe(self, ref: ChatRef, sectors: Sequence[str] | None = None) -> SubscriptionRecord | None:
        """Remove some sectors (None: all); a subscription left without sectors becomes inactive."""
        drop = set(self.resolve_sectors(sectors)) if sectors else None
        with self._write() as s:
            found = self._sub(s, ref)
            if found is None:
                return None
            chat, sub = found
            sub.sectors = [] if drop is None else [k for k in sub.sectors if k not in drop]
            if not sub.sectors:
                sub.active, sub.reason = False, "unsubscribed"
            sub.updated_at = now()
            s.add(sub)
            s.flush()
            return _sub_record(sub, chat)

    def set_schedule(
        self,
        ref: ChatRef,
        *,
        time: str | None = None,
        timezone: str | None = None,
        mode: str | None = None,
        variant: str | None = None,
    ) -> SubscriptionRecord | None:
        """Change when/how an existing subscription is delivered; None if the chat has none.

        A new ``time`` without a ``mode`` makes an on-publish subscription scheduled at that time;
        a weekly roll-up stays weekly (and a scheduled one scheduled).
        """
        hhmm = parse_time(time) if time is not None else None
        tz = parse_timezone(timezone) if timezone is not None else None
        md = parse_mode(mode) if mode is not None else None
        var = parse_variant(variant) if variant is not None else None
        with self._write() as s:
            found = self._sub(s, ref)
            if found is None:
                return None
            chat, sub = found
            sub.time = hhmm or sub.time
            sub.timezone = tz or sub.timezone
            sub.mode = md or ("scheduled" if hhmm and sub.mode == "publish" else sub.mode)
            sub.variant = var or sub.variant
            sub.updated_at = now()
            s.add(sub)
            s.flush()
            return _sub_record(sub, chat)

    def set_quiet(self, ref: ChatRef, quiet: str) -> SubscriptionRecord | None:
        """Set (``"22:00-07:00"``) or clear (``"off"`` / ``""``) the quiet hours of a chat's
        (topic's) subscription; None if it has none. Raises :class:`InvalidQuiet`."""
        value = parse_quiet(quiet) if quiet else ""
        with self._write() as s:
            found = self._sub(s, ref)
            if found is None:
                return None
            chat, sub = found
            sub.quiet, sub.updated_at = value, now()
            s.add(sub)
            s.flush()
            return _sub_record(sub, chat)

    def _subs(self, *conds: Any, limit: int | None = None) -> list[SubscriptionRecord]:
        with self._read() as s:
            stmt = (
                select(SubscriptionRow, ChatRow)
                .join(ChatRow, col(SubscriptionRow.chat_id) == col(ChatRow.id))
                .where(*conds)
                .order_by(col(SubscriptionRow.id))
            )
            if limit is not None:
                stmt = stmt.limit(limit)
            rows = s.exec(stmt).all()
            return [_sub_record(sub, chat) for sub, chat in rows]

    def get_subscription(self, subscription_id: int) -> SubscriptionRecord | None:
        if not is_id(subscription_id):
            return None
        found = self._subs(col(SubscriptionRow.id) == subscription_id)
        return found[0] if found else None

    def subscriptions_for_chat(
        self, platform: str, chat_id: str, workspace: str = ""
    ) -> list[SubscriptionRecord]:
        """All subscriptions of a chat (every thread, active or not)."""
        return self._subs(
            col(ChatRow.platform) == platform,
            col(ChatRow.external_id) == chat_id,
            col(ChatRow.workspace) == workspace,
        )

    def subscriptions_created_by(self, platform: str, user_id: str) -> list[SubscriptionRecord]:
        """Subscriptions a user created on a platform (active or not), e.g. for "my subscriptions"."""
        return self._subs(col(ChatRow.platform) == platform, col(SubscriptionRow.created_by) == user_id)

    def active_subscriptions(
        self, platform: str | None = None, *, after: int = 0, limit: int | None = None
    ) -> list[SubscriptionRecord]:
        """Subscriptions to deliver: active, in an active chat; by id, one page if ``limit`` is given
        (keyset paging: ``after`` = the last id of the previous page, so page N costs what page 1 does)."""
        conds: list[Any] = [col(SubscriptionRow.active), col(ChatRow.active)]
        if platform is not None:
            conds.append(col(ChatRow.platform) == platform)
        if after:
            conds.append(col(SubscriptionRow.id) > after)
        return self._subs(*conds, limit=limit)

    # -------------------------------------------------------- subscription options

    def set_options(
        self,
        ref: ChatRef,
        *,
        variant: str | None = None,
        silent: bool | None = None,
        previews: bool | None = None,
    ) -> SubscriptionRecord | None:
        """``/settings``: digest variant, silent pushes, link previews; None if the chat has none."""
        var = parse_variant(variant) if variant is not None else None
        with self._write() as s:
            found = self._sub(s, ref)
            if found is None:
                return None
            chat, sub = found
            sub.variant = var or sub.variant
            if silent is not None:
                sub.silent = silent
            if previews is not None:
                sub.previews = previews
            sub.updated_at = now()
            s.add(sub)
            s.flush()
            return _sub_record(sub, chat)

    # ---------------------------------------------------------------- deliveries

    def enqueue_delivery(
        self, issue_id: int, subscription_id: int, *, next_attempt_at: datetime | None = None
    ) -> DeliveryRecord:
        """The outbox row for (issue, subscription), created ``pending`` if missing (idempotent).

        One row per issue identity: if the subscription already has another revision of this
        issue, that row is returned and nothing is inserted (nobody gets the same issue twice).
        """
        stamp = now()
        with self._write() as s:
            identity = s.exec(select(IssueRow.identity).where(IssueRow.id == issue_id)).one()
            platform = s.exec(
                select(ChatRow.platform)
                .join(SubscriptionRow, col(SubscriptionRow.chat_id) == ChatRow.id)
                .where(SubscriptionRow.id == subscription_id)
            ).one()
            self._insert_ignore(
                s,
                _table("delivery"),
                {
                    "issue_id": issue_id,
                    "subscription_id": subscription_id,
                    "identity": identity,
                    "platform": platform,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": next_attempt_at or stamp,
                    "lease_owner": "",
                    "lease_until": None,
                    "parts_total": 0,
                    "parts_sent": 0,
                    "message_ids": [],
                    "last_error": "",
                    "created_at": stamp,
                    "updated_at": stamp,
                    "sent_at": None,
                },
            )
            row = s.exec(
                select(DeliveryRow).where(
                    DeliveryRow.identity == identity, DeliveryRow.subscription_id == subscription_id
                )
            ).one()
            return delivery_record(row)

    def list_deliveries(self, status: str | None = None, issue_id: int | None = None) -> list[DeliveryRecord]:
        with self._read() as s:
            stmt = select(DeliveryRow).order_by(col(DeliveryRow.id))
            if status is not None:
                stmt = stmt.where(DeliveryRow.status == status)
            if issue_id is not None:
                stmt = stmt.where(DeliveryRow.issue_id == issue_id)
            return [delivery_record(r) for r in s.exec(stmt).all()]


def _sub_record(sub: SubscriptionRow, chat: ChatRow) -> SubscriptionRecord:
    return SubscriptionRecord(
        id=_id(sub),
        chat=ChatRef(chat.platform, chat.external_id, sub.thread_id or None, chat.workspace),
        chat_kind=chat.kind,
        chat_title=chat.title,
        sectors=tuple(sub.sectors),
        time=sub.time,
        timezone=sub.timezone,
        mode=sub.mode,
        variant=sub.variant,
        active=sub.active and chat.active,
        reason=sub.reason or ("" if chat.active else chat.deactivated_reason),
        created_by=sub.created_by,
        language=chat.language,
        last_issue_id=sub.last_issue_id,
        silent=bool(sub.silent),
        previews=bool(sub.previews),
        quiet=sub.quiet or "",
        days=int(sub.days if sub.days is not None else ALL_DAYS),
    )


def _days(days: int | str | None) -> int | None:
    """A weekday mask from a mask or words; None stays None. Raises :class:`InvalidDays`."""
    if days is None:
        return None
    if isinstance(days, str):
        return parse_days(days)
    if not 0 < days <= ALL_DAYS:
        raise InvalidDays(str(days))
    return days


def _copy_schedule(src: SubscriptionRow, dst: SubscriptionRow) -> None:
    dst.sectors = list(src.sectors)
    dst.time, dst.timezone, dst.mode, dst.variant = src.time, src.timezone, src.mode, src.variant
    dst.silent, dst.previews, dst.quiet, dst.days = src.silent, src.previews, src.quiet, src.days
