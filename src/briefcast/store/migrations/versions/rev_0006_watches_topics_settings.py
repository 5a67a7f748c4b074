"""Keyword watches, forum topics per sector, per-subscription settings.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-05

* ``watcher`` (one per chat and thread: when matches are wanted) and ``watch`` (the words);
* ``forum_topic``: the topic /topics created for each sector of a forum supergroup;
* ``subscription.silent`` and ``subscription.previews`` (``/settings``), false for every
  existing subscription, which keeps today's behaviour (notifications on, no link previews).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.add_column(sa.Column("silent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("previews", sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        "watcher",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.Integer(), sa.ForeignKey("chat.id", ondelete="CASCADE"), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("chat_id", "thread_id", name="uq_watcher_chat_thread"),
    )
    op.create_table(
        "watch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "watcher_id", sa.Integer(), sa.ForeignKey("watcher.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("phrase", sa.String(200), nullable=False),
        sa.Column("needle", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("watcher_id", "needle", name="uq_watch_watcher_needle"),
    )
    op.create_table(
        "forum_topic",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.Integer(), sa.ForeignKey("chat.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sector", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("chat_id", "sector", name="uq_forum_topic_chat_sector"),
    )


def downgrade() -> None:
    op.drop_table("forum_topic")
    op.drop_table("watch")
    op.drop_table("watcher")
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("previews")
        batch.drop_column("silent")
