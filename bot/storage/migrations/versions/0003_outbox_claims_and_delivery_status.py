"""outbox claims and delivery status

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 20:38:02.553006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("delivery", sa.String(length=12), nullable=True))
        # The sender reads a channel's pending rows in (priority, id) order.
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_due", ["channel", "status", "priority", "id"],
                              unique=False)
        batch_op.create_index("ix_outbox_address", ["channel", "address", "status"],
                              unique=False)
        batch_op.create_index("ix_outbox_provider", ["channel", "provider_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_provider")
        batch_op.drop_index("ix_outbox_address")
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_due", ["channel", "status", "priority", "available_at"],
                              unique=False)
        batch_op.drop_column("delivery")
        batch_op.drop_column("claim_token")
