"""Worker liveness: every delivery engine registers itself and heartbeats.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

A claim lease (120 s by default) alone made the work of a SIGKILLed process wait two minutes.
Each engine now writes a ``worker`` row (host, pid, boot id, pid namespace, process start time)
and renews ``heartbeat_at`` every 2 s on the real clock; another process frees the claims and
the sender lease of an owner that is provably dead (same host: its PID is gone) or silent for
10 s. ``status`` carries the worker's bot-level faults (a paused platform) for operators.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker",
        sa.Column("owner", sa.String(length=128), primary_key=True),
        sa.Column("host", sa.String(length=128), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("boot_id", sa.String(length=64), nullable=False),
        sa.Column("pid_ns", sa.String(length=64), nullable=False),
        sa.Column("pid_start", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=1000), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("worker")
