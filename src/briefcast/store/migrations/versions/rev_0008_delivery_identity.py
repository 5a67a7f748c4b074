"""Delivery identity and platform: one delivery per (subscription, issue identity), counts without joins.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

``delivery.identity`` is the identity (date + title slug) of the issue the row delivers, copied
from ``issue.identity``. The unique constraint ``(subscription_id, identity)`` lets the enqueue
paths use ``INSERT ... ON CONFLICT DO NOTHING`` instead of an anti-join over every delivery
(issue 14: PostgreSQL planned that anti-join as a nested loop re-reading the rows the same
statement had inserted — 269 s for one slot of 100k subscriptions), and it makes "nobody gets
the same issue twice" hold for revisions too: a corrected revision is not delivered again to a
subscriber who already has the issue.

``delivery.platform`` is the chat's platform, copied at enqueue (a chat never changes platform):
the dashboard and ``/metrics`` count deliveries per platform and status from this one table
instead of joining delivery, subscription and chat (a hash join that spilled to disk at 1M rows).

Existing databases may already hold two rows for one subscription and one identity (a revision
pushed with ``briefcast push`` before this revision). The oldest row keeps the plain identity;
the later ones get ``identity#<issue id>`` so the constraint can be created and history is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("identity", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("platform", sa.String(16), nullable=False, server_default=""))
    op.execute(
        "UPDATE delivery SET "
        "identity = (SELECT issue.identity FROM issue WHERE issue.id = delivery.issue_id), "
        "platform = (SELECT chat.platform FROM subscription JOIN chat ON chat.id = subscription.chat_id "
        "WHERE subscription.id = delivery.subscription_id)"
    )
    # Later rows for an identity a subscription already has: keep them, under a distinct identity.
    op.execute(
        "UPDATE delivery SET identity = identity || '#' || CAST(issue_id AS VARCHAR(20)) "
        "WHERE EXISTS (SELECT 1 FROM delivery AS d2 WHERE d2.subscription_id = delivery.subscription_id "
        "AND d2.identity = delivery.identity AND d2.id < delivery.id)"
    )
    with op.batch_alter_table("delivery") as batch:
        batch.create_unique_constraint("uq_delivery_subscription_identity", ["subscription_id", "identity"])


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_constraint("uq_delivery_subscription_identity", type_="unique")
        batch.drop_column("platform")
        batch.drop_column("identity")
