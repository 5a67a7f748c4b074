"""Sender lease: one worker at a time sends to each platform.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

The engine paces platform-wide limits (Telegram: 30 msg/s per bot, 1000/s with paid broadcast)
in process. Several workers on one database each paced the whole budget, so N workers sent N
times too fast. The holder of a platform's row sends; the others stand by and take over when it
lapses or is released.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sender_lease",
        sa.Column("platform", sa.String(length=32), primary_key=True),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sender_lease")
