"""Watch alerts and corrections through the outbox.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

The ``delivery`` table carries three kinds of rows now (``delivery.kind``):

* ``digest`` (every existing row): an issue pushed to a subscription, as before;
* ``watch``: the passages of an issue that mention a chat's watched words; such a row belongs
  to a watcher (``watcher_id``) rather than to a subscription, so ``subscription_id`` may be NULL;
* ``correction``: a revision of an already delivered issue, applied by editing the messages of
  the original delivery (``corrects_id``) in place.

``detail`` records, per part, what a correction did (``edited``, ``unchanged``, ``notice``).

``subscription.quiet`` (``/quiet 22:00-07:00``): quiet hours in the subscription's time zone,
``""`` (none) for every existing subscription.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.add_column(sa.Column("quiet", sa.String(11), nullable=False, server_default=""))
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="digest"))
        batch.add_column(
            sa.Column(
                "watcher_id",
                sa.Integer(),
                sa.ForeignKey("watcher.id", ondelete="CASCADE", name="fk_delivery_watcher"),
                nullable=True,
            )
        )
        batch.add_column(
            sa.Column(
                "corrects_id",
                sa.Integer(),
                sa.ForeignKey("delivery.id", ondelete="SET NULL", name="fk_delivery_corrects"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("detail", JSONType, nullable=True))
        batch.alter_column("subscription_id", existing_type=sa.Integer(), nullable=True)
        batch.create_unique_constraint("uq_delivery_issue_watcher", ["issue_id", "watcher_id"])


def downgrade() -> None:
    op.execute("DELETE FROM delivery WHERE subscription_id IS NULL")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_constraint("uq_delivery_issue_watcher", type_="unique")
        batch.alter_column("subscription_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("detail")
        batch.drop_column("corrects_id")
        batch.drop_column("watcher_id")
        batch.drop_column("kind")
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("quiet")
