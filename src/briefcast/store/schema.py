"""The tables as SQLAlchemy Core objects, by name, and the delivery states: what every query uses.

The ORM classes live in :mod:`briefcast.store.tables`; Core statements (the outbox's batched
inserts and claims, the read models) use these ``Table`` objects, named after what they hold.
"""

from __future__ import annotations

from typing import Any

from briefcast.store.tables import (
    ChatRow,
    DeliveryRow,
    IssueRow,
    SenderLeaseRow,
    SubscriptionRow,
    WatcherRow,
    WatchRow,
    WorkerRow,
)

deliveries: Any = DeliveryRow.__table__  # type: ignore[attr-defined]
subscriptions: Any = SubscriptionRow.__table__  # type: ignore[attr-defined]
chats: Any = ChatRow.__table__  # type: ignore[attr-defined]
issues: Any = IssueRow.__table__  # type: ignore[attr-defined]
watchers: Any = WatcherRow.__table__  # type: ignore[attr-defined]
watches: Any = WatchRow.__table__  # type: ignore[attr-defined]
workers: Any = WorkerRow.__table__  # type: ignore[attr-defined]
sender_leases: Any = SenderLeaseRow.__table__  # type: ignore[attr-defined]

# delivery.status
PENDING, CLAIMED, SENT, FAILED, SKIPPED = "pending", "claimed", "sent", "failed", "skipped"
STATUSES = (PENDING, CLAIMED, SENT, FAILED, SKIPPED)
# delivery.platform / chat.platform
PLATFORMS = ("telegram", "slack")
