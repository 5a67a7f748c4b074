"""Weekday schedules: ``subscription.days``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

``subscription.days`` (``/subscribe energy 08:00 mon,wed,fri``): the local weekdays on which a
scheduled subscription's slot falls, a 7-bit mask (bit 0 = Monday ... bit 6 = Sunday). Every
existing subscription is backfilled with 127 (every day), which is what it had before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.add_column(sa.Column("days", sa.Integer(), nullable=False, server_default="127"))


def downgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("days")
