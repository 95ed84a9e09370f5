"""Indexes for the catalog list, its search and the staged-changes review at 100,000 products.

- products: the list counts the live catalog (`deleted_at IS NULL`) on every page, and its
  filters narrow by vendor, type and status. Each index below answers a count or a page of ids
  from the index alone, where the single-column indexes made SQLite read every matching row
  (about 3 KB each, provenance included): 100 ms per count at 100,000 products.
- sync_staging: the product list's sync-status filter asks which products have an open change
  in the active stores, and the review's text search matches a change's handle or its product:
  both are answered from an index, where they read every row (kilobytes of JSON each).
- text search, a case-insensitive substring of the title, handle, vendor or a SKU: a narrow
  copy of those fields, `product_search`, kept up to date by triggers: on SQLite an FTS5 table
  with the trigram tokenizer, on PostgreSQL a table with trigram GIN indexes (pg_trgm), which
  `ILIKE '%...%'` uses as it is. Either is created only where the database offers it (FTS5
  compiled in; pg_trgm installable); without it the search scans, as before.

A later migration that rebuilds `products` or `product_variants` with SQLite's batch mode
(copy and rename) drops the SQLite triggers: it must create them again (`SQLITE_TRIGGERS`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy import exc, text

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

OLD_PRODUCT_INDEXES = {
    "ix_products_vendor": ["vendor"],
    "ix_products_product_type": ["product_type"],
    "ix_products_status": ["status"],
}
PRODUCT_INDEXES = {
    "ix_products_deleted_at_id": ["deleted_at", "id"],
    "ix_products_vendor_filters": ["vendor", "product_type", "status", "deleted_at"],
    "ix_products_product_type_filters": ["product_type", "status", "deleted_at"],
    "ix_products_status_filters": ["status", "deleted_at"],
}

# Each product's SKUs, one a line: a search cannot match across two of them.
SQLITE_TRIGGERS = {
    "product_search_insert": """
        AFTER INSERT ON products BEGIN
            INSERT INTO product_search (rowid, title, handle, vendor, skus)
            VALUES (new.id, new.title, new.handle, new.vendor, (
                SELECT group_concat(sku, char(10)) FROM product_variants
                WHERE product_id = new.id));
        END""",
    "product_search_update": """
        AFTER UPDATE OF title, handle, vendor ON products BEGIN
            UPDATE product_search SET title = new.title, handle = new.handle, vendor = new.vendor
            WHERE rowid = new.id;
        END""",
    "product_search_delete": """
        AFTER DELETE ON products BEGIN
            DELETE FROM product_search WHERE rowid = old.id;
        END""",
    "product_search_variant_insert": """
        AFTER INSERT ON product_variants BEGIN
            UPDATE product_search SET skus = (
                SELECT group_concat(sku, char(10)) FROM product_variants
                WHERE product_id = new.product_id)
            WHERE rowid = new.product_id;
        END""",
    "product_search_variant_update": """
        AFTER UPDATE OF sku, product_id ON product_variants BEGIN
            UPDATE product_search SET skus = (
                SELECT group_concat(sku, char(10)) FROM product_variants
                WHERE product_id = old.product_id)
            WHERE rowid = old.product_id;
            UPDATE product_search SET skus = (
                SELECT group_concat(sku, char(10)) FROM product_variants
                WHERE product_id = new.product_id)
            WHERE rowid = new.product_id;
        END""",
    "product_search_variant_delete": """
        AFTER DELETE ON product_variants BEGIN
            UPDATE product_search SET skus = (
                SELECT group_concat(sku, char(10)) FROM product_variants
                WHERE product_id = old.product_id)
            WHERE rowid = old.product_id;
        END""",
}
SQLITE_BACKFILL = """
    INSERT INTO product_search (rowid, title, handle, vendor, skus)
    SELECT id, title, handle, vendor, (
        SELECT group_concat(sku, char(10)) FROM product_variants
        WHERE product_id = products.id)
    FROM products"""
# PostgreSQL: the same narrow copy as a table, kept by triggers, with a trigram GIN index per
# column. On the products themselves the indexes found the rows, but every match had to be
# checked again in its row (trigrams only narrow), and those rows are kilobytes each: a
# search matching 7,000 products read 11,000 pages. Here 100,000 products are 1,500 pages.
POSTGRES_SEARCH = (
    """CREATE TABLE product_search (
        product_id integer PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
        title text NOT NULL, handle text NOT NULL, vendor text NOT NULL, skus text)""",
    """CREATE FUNCTION product_search_product() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO product_search (product_id, title, handle, vendor, skus)
        VALUES (NEW.id, NEW.title, NEW.handle, NEW.vendor, (
            SELECT string_agg(sku, E'\\n') FROM product_variants WHERE product_id = NEW.id))
        ON CONFLICT (product_id) DO UPDATE
        SET title = EXCLUDED.title, handle = EXCLUDED.handle, vendor = EXCLUDED.vendor;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER product_search_product
        AFTER INSERT OR UPDATE OF title, handle, vendor ON products
        FOR EACH ROW EXECUTE FUNCTION product_search_product()""",
    """CREATE FUNCTION product_search_variant() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE product_search SET skus = (
                SELECT string_agg(sku, E'\\n') FROM product_variants
                WHERE product_id = OLD.product_id)
            WHERE product_id = OLD.product_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            UPDATE product_search SET skus = (
                SELECT string_agg(sku, E'\\n') FROM product_variants
                WHERE product_id = NEW.product_id)
            WHERE product_id = NEW.product_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER product_search_variant
        AFTER INSERT OR UPDATE OF sku, product_id OR DELETE ON product_variants
        FOR EACH ROW EXECUTE FUNCTION product_search_variant()""",
    """INSERT INTO product_search (product_id, title, handle, vendor, skus)
    SELECT id, title, handle, vendor, (
        SELECT string_agg(sku, E'\\n') FROM product_variants WHERE product_id = products.id)
    FROM products""",
    *(
        f"CREATE INDEX ix_product_search_{column}_trgm ON product_search "
        f"USING gin ({column} gin_trgm_ops)"
        for column in ("title", "handle", "vendor", "skus")
    ),
)


def upgrade() -> None:
    for name in OLD_PRODUCT_INDEXES:
        op.drop_index(name, table_name="products")
    for name, columns in PRODUCT_INDEXES.items():
        op.create_index(name, "products", columns)
    op.drop_index("ix_sync_staging_store_id_status", table_name="sync_staging")
    op.create_index(
        "ix_sync_staging_store_id_status_product_id",
        "sync_staging",
        ["store_id", "status", "product_id"],
    )
    op.create_index("ix_sync_staging_handle_product_id", "sync_staging", ["handle", "product_id"])
    if op.get_bind().dialect.name == "sqlite":
        _create_sqlite_search()
    else:
        _create_postgres_search()


def _create_sqlite_search() -> None:
    bind = op.get_bind()
    try:
        bind.execute(
            text(
                "CREATE VIRTUAL TABLE product_search USING fts5("
                "title, handle, vendor, skus, tokenize = 'trigram')"
            )
        )
    except exc.OperationalError:  # no FTS5 or no trigram tokenizer (SQLite < 3.34)
        log.warning("SQLite offers no FTS5 trigram index: the product search will scan")
        return
    for name, body in SQLITE_TRIGGERS.items():
        bind.execute(text(f"CREATE TRIGGER {name} {body}"))
    bind.execute(text(SQLITE_BACKFILL))


def _create_postgres_search() -> None:
    """pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may install it.
    A server without the contrib package, or a role that may not, keeps the scanning search."""
    bind = op.get_bind()
    offered = bind.scalar(
        text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")
    )
    if not offered:
        log.warning("PostgreSQL offers no pg_trgm: the product search will scan")
        return
    try:
        with bind.begin_nested():
            bind.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except exc.DBAPIError:
        log.warning("pg_trgm could not be installed: the product search will scan")
        return
    for statement in POSTGRES_SEARCH:
        bind.execute(text(statement))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            bind.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        bind.execute(text("DROP TABLE IF EXISTS product_search"))
    else:
        bind.execute(text("DROP TABLE IF EXISTS product_search"))
        bind.execute(text("DROP FUNCTION IF EXISTS product_search_product() CASCADE"))
        bind.execute(text("DROP FUNCTION IF EXISTS product_search_variant() CASCADE"))
    op.drop_index("ix_sync_staging_handle_product_id", table_name="sync_staging")
    op.drop_index("ix_sync_staging_store_id_status_product_id", table_name="sync_staging")
    op.create_index("ix_sync_staging_store_id_status", "sync_staging", ["store_id", "status"])
    for name in PRODUCT_INDEXES:
        op.drop_index(name, table_name="products")
    for name, columns in OLD_PRODUCT_INDEXES.items():
        op.create_index(name, "products", columns)
