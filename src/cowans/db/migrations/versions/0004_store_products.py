"""Sync: each store's products, ids and base; what a staged push sends; approval rules.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "store_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("handle", sa.String(length=255), nullable=False),
        sa.Column("shopify_product_id", sa.String(length=100), nullable=True),
        sa.Column("variant_ids", JSON, nullable=False),
        sa.Column("inventory_item_ids", JSON, nullable=False),
        sa.Column("base", JSON, nullable=True),
        sa.Column("remote_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_store_products_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_store_products_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_products")),
        sa.UniqueConstraint("store_id", "handle", name=op.f("uq_store_products_store_id_handle")),
    )
    op.create_index(
        "ix_store_products_store_id_product_id", "store_products", ["store_id", "product_id"]
    )
    # Server defaults let the new NOT NULL columns join tables that have rows.
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval_rules", JSON, nullable=False, server_default="[]"))
    with op.batch_alter_table("sync_staging", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handle", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("desired", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("approval_rules")
    with op.batch_alter_table("sync_staging", schema=None) as batch_op:
        batch_op.drop_column("desired")
        batch_op.drop_column("handle")
    op.drop_index("ix_store_products_store_id_product_id", table_name="store_products")
    op.drop_table("store_products")
