"""The delivery table as an outbox: enqueue, claim with a lease, record outcomes in batches.

One module per concern: :mod:`.enqueue` (daily slots, on-publish, weekly roll-ups, operator
pushes), :mod:`.claim` (claims under a lease, renewal, reclaiming expired leases, release),
:mod:`.outcomes` (what became of a send), :mod:`.queries` (listings, counts, retries, the next
due time); the watch alerts (:mod:`.watches`) and corrections (:mod:`.corrections`) enqueue
their own rows; :mod:`.senders` holds the per-platform sender leases and :mod:`.liveness` the
worker heartbeats. Each state change of a delivery is one row update guarded by ``lease_owner``.

All functions are synchronous (they run in a worker thread) and take an SQLAlchemy ``Engine``.
Timestamps are passed in from the caller's clock, never taken from the database, so tests can
control time. The delivery states and platforms are :mod:`briefcast.store.schema`'s.
"""

from briefcast.store.outbox.claim import Claimed, claim, reclaim_expired, release, renew
from briefcast.store.outbox.common import ENQUEUE_BATCH, PAUSED_PREFIX, ROLLUP
from briefcast.store.outbox.enqueue import (
    EnqueueResult,
    enqueue_due,
    enqueue_now,
    rollup_identity,
    rollup_issue_ids,
)
from briefcast.store.outbox.outcomes import Action, Outcome, apply
from briefcast.store.outbox.queries import (
    count_by_status,
    count_for,
    list_deliveries,
    next_due_at,
    retry_failed,
)
from briefcast.store.schema import CLAIMED, FAILED, PENDING, PLATFORMS, SENT, SKIPPED, STATUSES

__all__ = [
    "CLAIMED",
    "ENQUEUE_BATCH",
    "FAILED",
    "PAUSED_PREFIX",
    "PENDING",
    "PLATFORMS",
    "ROLLUP",
    "SENT",
    "SKIPPED",
    "STATUSES",
    "Action",
    "Claimed",
    "EnqueueResult",
    "Outcome",
    "apply",
    "claim",
    "count_by_status",
    "count_for",
    "enqueue_due",
    "enqueue_now",
    "list_deliveries",
    "next_due_at",
    "reclaim_expired",
    "release",
    "renew",
    "retry_failed",
    "rollup_identity",
    "rollup_issue_ids",
]
