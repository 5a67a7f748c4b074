"""The Store: every query briefcast runs, behind a small synchronous API of frozen records.

Its query families live beside it (:mod:`.issues`, :mod:`.subscriptions`, :mod:`.watchers`,
the outbox in :mod:`.outbox`, read models in :mod:`.read_models`); this class joins the
per-object ones into the one object the rest of briefcast is handed.
"""

from __future__ import annotations

from briefcast.store.issues import IssueStore
from briefcast.store.subscriptions import SubscriptionStore
from briefcast.store.watchers import WatcherStore


class Store(IssueStore, SubscriptionStore, WatcherStore):
    """Persistence for issues, chats, subscriptions and deliveries. Thread-safe; one per process."""
