"""translation cache

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 20:31:01.122739
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "translation_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_language", sa.String(length=10), nullable=False),
        sa.Column("target_language", sa.String(length=10), nullable=False),
        sa.Column("model_version", sa.String(length=60), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("translation", sa.Text(), nullable=False),
        sa.Column("created_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "source_language",
            "target_language",
            "model_version",
            "text_hash",
            name="uq_translation_cache_key",
        ),
    )
    with op.batch_alter_table("translation_cache", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_translation_cache_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("translation_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_translation_cache_created_at"))

    op.drop_table("translation_cache")
