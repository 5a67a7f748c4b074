"""Persistence: SQLModel tables, the queries, migrations.

Import :class:`Store` and the records from here; the tables are private.
"""

from briefcast.store.errors import (
    InvalidMode,
    InvalidTime,
    InvalidTimezone,
    InvalidVariant,
    StoreInputError,
    UnknownSector,
)
from briefcast.store.issues import content_hash, issue_identity, normalise_raw
from briefcast.store.records import (
    ChatRecord,
    ChatRef,
    DeliveryRecord,
    IngestResult,
    IngestStatus,
    SearchHit,
    StoredIssue,
    SubscriptionRecord,
)
from briefcast.store.store import Store
from briefcast.store.validate import parse_time, parse_timezone

__all__ = [
    "ChatRecord",
    "ChatRef",
    "DeliveryRecord",
    "IngestResult",
    "IngestStatus",
    "InvalidMode",
    "InvalidTime",
    "InvalidTimezone",
    "InvalidVariant",
    "SearchHit",
    "Store",
    "StoreInputError",
    "StoredIssue",
    "SubscriptionRecord",
    "UnknownSector",
    "content_hash",
    "issue_identity",
    "normalise_raw",
    "parse_time",
    "parse_timezone",
]
