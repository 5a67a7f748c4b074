"""Keyword-watch and forum-topic queries: what a chat watches, the topics /topics created."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from briefcast.briefing.watch import MAX_WATCHES_PER_CHAT, normalise_phrase
from briefcast.store.base import StoreBase, _id, _table, is_id
from briefcast.store.errors import WatchLimitReached
from briefcast.store.records import (
    ChatRef,
    ForumTopicRecord,
    WatchAdded,
    WatcherRecord,
    WatchRecord,
)
from briefcast.store.tables import (
    ChatRow,
    ForumTopicRow,
    WatcherRow,
    WatchRow,
    now,
    utc,
)
from briefcast.store.validate import (
    parse_watch,
    parse_watch_mode,
)


class WatcherStore(StoreBase):
    """Keyword watches per chat (thread) and a forum's per-sector topics."""

    # ------------------------------------------------------------------- watches

    def _watcher_record(self, s: Session, watcher: WatcherRow, chat: ChatRow) -> WatcherRecord:
        words = s.exec(
            select(WatchRow).where(WatchRow.watcher_id == watcher.id).order_by(col(WatchRow.id))
        ).all()
        return _watcher_record(watcher, chat, words)

    def add_watches(
        self, ref: ChatRef, phrases: Sequence[str], *, created_by: str = "", mode: str | None = None
    ) -> WatchAdded:
        """Watch words in a chat (thread); already watched ones are reported, not duplicated.

        Every phrase is validated first (:class:`InvalidWatch`); if the chat would watch more
        than :data:`~briefcast.briefing.watch.MAX_WATCHES_PER_CHAT` words nothing is added
        (:class:`WatchLimitReached`). ``mode`` (``publish`` | ``daily``) sets when matches arrive;
        a new watcher starts with ``publish``.
        """
        parsed = [parse_watch(p) for p in phrases]
        md = parse_watch_mode(mode) if mode is not None else None
        with self._write() as s:
            chat = self._ensure_chat(s, ref)
            stamp = now()
            self._insert_ignore(
                s,
                _table("watcher"),
                {
                    "chat_id": chat.id,
                    "thread_id": ref.thread_id or "",
                    "mode": md or "publish",
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            )
            watcher = _watcher(s, chat, ref.thread_id)
            assert watcher is not None
            have = {
                w.needle: w.phrase
                for w in s.exec(select(WatchRow).where(WatchRow.watcher_id == watcher.id)).all()
            }
            added: list[str] = []
            existing: list[str] = []
            fresh: dict[str, str] = {}
            for phrase, needle in parsed:
                if needle in have:
                    existing.append(have[needle])
                elif needle not in fresh:
                    fresh[needle] = phrase
            if fresh and len(have) + len(fresh) > MAX_WATCHES_PER_CHAT:
                raise WatchLimitReached(next(iter(fresh.values())), MAX_WATCHES_PER_CHAT)
            for needle, phrase in fresh.items():
                self._insert_ignore(
                    s,
                    _table("watch"),
                    {
                        "watcher_id": watcher.id,
                        "phrase": phrase,
                        "needle": needle,
                        "created_by": created_by,
                        "created_at": stamp,
                    },
                )
                added.append(phrase)
            if md is not None and watcher.mode != md:
                watcher.mode = md
            watcher.updated_at = stamp
            s.add(watcher)
            s.flush()
            return WatchAdded(tuple(added), tuple(existing), self._watcher_record(s, watcher, chat))

    def remove_watches(
        self, ref: ChatRef, phrases: Sequence[str] | None = None
    ) -> tuple[tuple[str, ...], int]:
        """Stop watching some words (None: all). Returns (the phrases removed, how many are left)."""
        with self._write() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            watcher = _watcher(s, chat, ref.thread_id) if chat is not None else None
            if watcher is None:
                return (), 0
            rows = s.exec(select(WatchRow).where(WatchRow.watcher_id == watcher.id)).all()
            wanted = None if phrases is None else {normalise_phrase(p) for p in phrases}
            gone = [r for r in rows if wanted is None or r.needle in wanted]
            for r in gone:
                s.delete(r)
            return tuple(r.phrase for r in gone), len(rows) - len(gone)

    def remove_watch_by_id(self, ref: ChatRef, watch_id: int) -> str | None:
        """Stop watching one word by its id (a button), only within the chat (thread) that owns it."""
        with self._write() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            watcher = _watcher(s, chat, ref.thread_id) if chat is not None else None
            row = s.get(WatchRow, watch_id) if is_id(watch_id) else None
            if watcher is None or row is None or row.watcher_id != watcher.id:
                return None
            s.delete(row)
            return row.phrase

    def set_watch_mode(self, ref: ChatRef, mode: str) -> WatcherRecord | None:
        """Deliver the chat's matches on publish or with its daily digest; None if it watches nothing."""
        md = parse_watch_mode(mode)
        with self._write() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            watcher = _watcher(s, chat, ref.thread_id) if chat is not None else None
            if chat is None or watcher is None:
                return None
            watcher.mode, watcher.updated_at = md, now()
            s.add(watcher)
            s.flush()
            return self._watcher_record(s, watcher, chat)

    def watcher_for_chat(self, ref: ChatRef) -> WatcherRecord | None:
        """The words one chat (thread) watches, or None when it never watched any."""
        with self._read() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            watcher = _watcher(s, chat, ref.thread_id) if chat is not None else None
            if chat is None or watcher is None:
                return None
            return self._watcher_record(s, watcher, chat)

    def watchers(self, platform: str | None = None, *, active_only: bool = True) -> list[WatcherRecord]:
        """Every chat (thread) watching at least one word, oldest first.

        ``active_only`` (the default, what a sender wants) leaves out chats the bot was removed from.
        """
        with self._read() as s:
            stmt = (
                select(WatcherRow, ChatRow)
                .join(ChatRow, col(WatcherRow.chat_id) == col(ChatRow.id))
                .order_by(col(WatcherRow.id))
            )
            if platform is not None:
                stmt = stmt.where(col(ChatRow.platform) == platform)
            if active_only:
                stmt = stmt.where(col(ChatRow.active))
            pairs = s.exec(stmt).all()
            ids = [w.id for w, _ in pairs]
            words: dict[int, list[WatchRow]] = {}
            if ids:
                for row in s.exec(
                    select(WatchRow).where(col(WatchRow.watcher_id).in_(ids)).order_by(col(WatchRow.id))
                ).all():
                    words.setdefault(row.watcher_id, []).append(row)
            return [_watcher_record(w, chat, words.get(_id(w), [])) for w, chat in pairs if words.get(_id(w))]

    # --------------------------------------------------------------- forum topics

    def forum_topics(self, ref: ChatRef) -> list[ForumTopicRecord]:
        """The topics /topics created in a forum supergroup (open and closed), in catalogue order."""
        with self._read() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            if chat is None:
                return []
            rows = s.exec(select(ForumTopicRow).where(ForumTopicRow.chat_id == chat.id)).all()
            order = {k: i for i, k in enumerate(self.catalogue.keys)}
            rows = sorted(rows, key=lambda r: (order.get(r.sector, len(order)), r.sector))
            return [_topic_record(r, chat) for r in rows]

    def save_forum_topic(
        self, ref: ChatRef, sector: str, thread_id: str, *, name: str = "", created_by: str = ""
    ) -> ForumTopicRecord:
        """Remember (or replace) the open topic of ``sector`` in a forum supergroup."""
        with self._write() as s:
            chat = self._ensure_chat(s, ChatRef(ref.platform, ref.chat_id, workspace=ref.workspace))
            stamp = now()
            row = s.exec(
                select(ForumTopicRow).where(ForumTopicRow.chat_id == chat.id, ForumTopicRow.sector == sector)
            ).first()
            if row is None:
                row = ForumTopicRow(
                    chat_id=_id(chat),
                    sector=sector,
                    thread_id=thread_id,
                    created_by=created_by,
                    created_at=stamp,
                )
            row.thread_id, row.name, row.state, row.updated_at = thread_id, name, "open", stamp
            s.add(row)
            s.flush()
            return _topic_record(row, chat)

    def set_forum_topic_state(self, ref: ChatRef, sector: str, state: str) -> ForumTopicRecord | None:
        """Mark a sector's topic ``open`` or ``closed``; None if there is none."""
        if state not in ("open", "closed"):
            raise ValueError(f"topic state must be open or closed, not {state!r}")
        with self._write() as s:
            chat = self._chat(s, ref.platform, ref.chat_id, ref.workspace)
            if chat is None:
                return None
            row = s.exec(
                select(ForumTopicRow).where(ForumTopicRow.chat_id == chat.id, ForumTopicRow.sector == sector)
            ).first()
            if row is None:
                return None
            row.state, row.updated_at = state, now()
            s.add(row)
            s.flush()
            return _topic_record(row, chat)


def _watcher(s: Session, chat: ChatRow, thread_id: str | None) -> WatcherRow | None:
    return s.exec(
        select(WatcherRow).where(WatcherRow.chat_id == chat.id, WatcherRow.thread_id == (thread_id or ""))
    ).first()


def move_watchers(s: Session, old: ChatRow, target: ChatRow) -> None:
    """migrate_chat into an existing chat: carry the old chat's watches over (merged per thread)."""
    for watcher in s.exec(select(WatcherRow).where(WatcherRow.chat_id == old.id)).all():
        twin = _watcher(s, target, watcher.thread_id)
        if twin is None:
            watcher.chat_id = _id(target)
            s.add(watcher)
            continue
        have = {w.needle for w in s.exec(select(WatchRow).where(WatchRow.watcher_id == twin.id)).all()}
        for w in s.exec(select(WatchRow).where(WatchRow.watcher_id == watcher.id)).all():
            if w.needle in have:
                s.delete(w)
            else:
                w.watcher_id = _id(twin)
                s.add(w)
        s.flush()
        s.delete(watcher)


def move_topics(s: Session, old: ChatRow, target: ChatRow) -> None:
    """migrate_chat into an existing chat: topics follow unless the target has one for the sector."""
    taken = {r.sector for r in s.exec(select(ForumTopicRow).where(ForumTopicRow.chat_id == target.id)).all()}
    for row in s.exec(select(ForumTopicRow).where(ForumTopicRow.chat_id == old.id)).all():
        if row.sector in taken:
            s.delete(row)
        else:
            row.chat_id = _id(target)
            s.add(row)


def _watcher_record(watcher: WatcherRow, chat: ChatRow, words: Sequence[WatchRow]) -> WatcherRecord:
    return WatcherRecord(
        id=_id(watcher),
        chat=ChatRef(chat.platform, chat.external_id, watcher.thread_id or None, chat.workspace),
        chat_kind=chat.kind,
        chat_title=chat.title,
        language=chat.language,
        mode=watcher.mode,
        words=tuple(
            WatchRecord(
                id=_id(w),
                phrase=w.phrase,
                needle=w.needle,
                created_by=w.created_by,
                created_at=utc(w.created_at) or now(),
            )
            for w in words
        ),
        chat_active=chat.active,
    )


def _topic_record(row: ForumTopicRow, chat: ChatRow) -> ForumTopicRecord:
    return ForumTopicRecord(
        id=_id(row),
        chat=ChatRef(chat.platform, chat.external_id, workspace=chat.workspace),
        sector=row.sector,
        thread_id=row.thread_id,
        name=row.name,
        state=row.state,
    )
