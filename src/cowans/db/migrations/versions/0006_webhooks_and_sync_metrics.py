"""Webhooks (each store's signing secret and subscriptions, events kept once per event id), a
running sync's performance figures, and room for `completed_with_errors` in the sync history.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_secret", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("webhook_subscriptions", JSON, nullable=False, server_default="[]")
        )
    with op.batch_alter_table("sync_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("metrics", JSON, nullable=False, server_default="{}"))
    with op.batch_alter_table("sync_history", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=20), type_=sa.String(length=30)
        )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("shopify_product_id", sa.String(length=100), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_webhook_events_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint(
            "store_id", "event_id", name=op.f("uq_webhook_events_store_id_event_id")
        ),
    )
    op.create_index(
        "ix_webhook_events_store_id_processed_at",
        "webhook_events",
        ["store_id", "processed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_events_store_id_processed_at", table_name="webhook_events")
    op.drop_table("webhook_events")
    with op.batch_alter_table("sync_history", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=30), type_=sa.String(length=20)
        )
    with op.batch_alter_table("sync_jobs", schema=None) as batch_op:
        batch_op.drop_column("metrics")
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("webhook_subscriptions")
        batch_op.drop_column("webhook_secret")
