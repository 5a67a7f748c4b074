"""Keyword watches, the delivery side: an issue's matching passages queued for each watching chat.

When an issue is published (:func:`enqueue_watch_alerts`, called by the scheduler on publish and
on its minute tick), every chat that watches words gets one ``watch`` row in the outbox per issue
*identity* — a revision of the issue never alerts twice — provided a passage mentions one of its
words (:func:`briefcast.briefing.watch.watch_matches`). Watchers with no match get a ``skipped``
row ("no watched word in this issue"), so they are not examined again and an operator sees why
nothing was sent.

When it is sent depends on the watcher's mode:

* ``publish``: at once;
* ``daily``: a minute after the chat's daily digest slot for this issue (the first slot at or
  after publication of the chat's scheduled subscription in the same thread; without one, the
  configured default time and time zone), so the alert arrives with the daily push.

The engine renders the alert at send time (:func:`briefcast.render.compose.watch_alert`) in the
chat's language and sends it like a digest: leased, rate-limited, retried, recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from briefcast.briefing.watch import watch_matches
from briefcast.config import Settings
from briefcast.slots import ALL_DAYS, decide_publish, first_slot_at_or_after, parse_hhmm
from briefcast.store.outbox.watches import WatchAlert, alerted_watchers, insert_watch_alerts
from briefcast.store.records import WatcherRecord
from briefcast.store.tables import as_utc

# A daily alert goes this long after the digest slot, so it arrives after the digest.
DAILY_AFTER_DIGEST = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class WatchEnqueue:
    pending: int = 0
    skipped: int = 0


def enqueue_watch_alerts(
    store: Any, issue_id: int, *, now: datetime, grace: timedelta, settings: Settings
) -> WatchEnqueue:
    """Queue the alerts of published issue ``issue_id`` (idempotent; see the module docstring).

    An issue published longer than ``grace`` ago alerts nobody (like on-publish digests), and
    only words watched before the issue was published count (the scheduler's tick runs this
    again; ``/watch`` itself shows a new word's matches in the latest issue).
    """
    now = as_utc(now)
    issue = store.get_issue(issue_id)
    if issue is None or issue.status != "published" or issue.published_at is None:
        return WatchEnqueue()
    if decide_publish(as_utc(issue.published_at), now, grace) != "send":
        return WatchEnqueue()
    watchers: list[WatcherRecord] = store.watchers()
    if not watchers:
        return WatchEnqueue()
    had = alerted_watchers(store.engine, str(issue.identity))
    # Only words watched when the issue came out: /watch shows what the latest issue already says
    # about a new word, so a later word must not bring a second copy of that with the next tick.
    published = as_utc(issue.published_at)
    todo = [(w, _watched_by(w, published)) for w in watchers if w.id not in had]
    todo = [(w, words) for w, words in todo if words]
    if not todo:
        return WatchEnqueue()
    alerts: list[WatchAlert] = []
    for w, words in todo:
        found = bool(watch_matches(issue.briefing, words))
        at = now if not found or w.mode != "daily" else _daily_at(store, w, issue.published_at, settings)
        alerts.append(WatchAlert(watcher_id=w.id, platform=w.chat.platform, matched=found, at=at))
    pending, skipped = insert_watch_alerts(store.engine, issue_id, issue.identity, alerts, now=now)
    return WatchEnqueue(pending, skipped)


def _watched_by(watcher: WatcherRecord, published: datetime) -> tuple[str, ...]:
    """The watcher's words that were added before the issue was ``published``."""
    return tuple(w.phrase for w in watcher.words if as_utc(w.created_at) <= published)


def _daily_at(store: Any, watcher: WatcherRecord, published: datetime, settings: Settings) -> datetime:
    """When a ``daily`` watcher's alert for an issue published at ``published`` goes out."""
    at, tz, days = settings.default_time, settings.default_timezone, ALL_DAYS
    for sub in store.subscriptions_for_chat(
        watcher.chat.platform, watcher.chat.chat_id, watcher.chat.workspace
    ):
        if (sub.chat.thread_id or "") == (watcher.chat.thread_id or "") and sub.active:
            if sub.mode != "scheduled":
                return as_utc(published)
            at, tz, days = sub.time, sub.timezone, sub.days
            break
    slot = first_slot_at_or_after(as_utc(published), parse_hhmm(at), ZoneInfo(tz), days)
    return slot + DAILY_AFTER_DIGEST
