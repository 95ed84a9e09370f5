"""The master catalog: what Cowan's sells, assembled from Etilize content and Xorosoft data."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cowans.db.base import Base, TimestampMixin, utcnow
from cowans.db.types import JSONType, UTCDateTime

MONEY = Numeric(12, 2)


class Product(TimestampMixin, Base):
    __tablename__ = "products"
    # The list counts and pages the live catalog (`deleted_at IS NULL`) by these filters; each
    # index answers from itself, without reading the wide rows. Migration 0008 also adds the
    # text search's index (FTS5 on SQLite, pg_trgm on PostgreSQL), which models cannot express.
    __table_args__ = (
        Index("ix_products_deleted_at_id", "deleted_at", "id"),
        Index("ix_products_vendor_filters", "vendor", "product_type", "status", "deleted_at"),
        Index("ix_products_product_type_filters", "product_type", "status", "deleted_at"),
        Index("ix_products_status_filters", "status", "deleted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    body_html: Mapped[str] = mapped_column(Text, default="")
    vendor: Mapped[str] = mapped_column(String(255), default="")
    product_type: Mapped[str] = mapped_column(String(255), default="")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(20), default="active")
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    seo_title: Mapped[str] = mapped_column(String(255), default="")
    seo_description: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    etilize_sku: Mapped[str] = mapped_column(String(255), default="")
    match_method: Mapped[str] = mapped_column(String(20), default="")
    matched_field: Mapped[str] = mapped_column(String(20), default="")
    # {field: {"source": "etilize"|"xorosoft"|"user", "import_id": n|None, "at": iso}}
    provenance: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # {field: {"by": user id, "at": iso}}: a person's edit the feeds must not overwrite
    locks: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)

    variants: Mapped[list["ProductVariant"]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductVariant.position"
    )
    images: Mapped[list["ProductImage"]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductImage.position"
    )
    # In the order they were written (a feed's column order): comparisons stay stable.
    metafields: Mapped[list["ProductMetafield"]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductMetafield.id"
    )


class ProductVariant(TimestampMixin, Base):
    __tablename__ = "product_variants"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str] = mapped_column(String(255), unique=True)
    barcode: Mapped[str] = mapped_column(String(255), default="")
    price: Mapped[Decimal | None] = mapped_column(MONEY)
    compare_at_price: Mapped[Decimal | None] = mapped_column(MONEY)
    inventory_policy: Mapped[str] = mapped_column(String(20), default="deny")
    taxable: Mapped[bool] = mapped_column(Boolean, default=True)
    requires_shipping: Mapped[bool] = mapped_column(Boolean, default=True)
    weight_grams: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    weight_unit: Mapped[str] = mapped_column(String(10), default="g")
    option1_name: Mapped[str] = mapped_column(String(255), default="Title")
    option1_value: Mapped[str] = mapped_column(String(255), default="Default Title")
    position: Mapped[int] = mapped_column(Integer, default=1)
    inventory: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)

    product: Mapped[Product] = relationship(back_populates="variants")


class ProductImage(Base):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    src: Mapped[str] = mapped_column(String(2048))
    position: Mapped[int] = mapped_column(Integer, default=1)
    alt_text: Mapped[str] = mapped_column(String(512), default="")

    product: Mapped[Product] = relationship(back_populates="images")


class ProductMetafield(Base):
    __tablename__ = "product_metafields"
    __table_args__ = (UniqueConstraint("product_id", "namespace", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    namespace: Mapped[str] = mapped_column(String(255), default="custom")
    key: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100), default="list.single_line_text_field")
    value: Mapped[Any] = mapped_column(JSONType)

    product: Mapped[Product] = relationship(back_populates="metafields")


class ProductVersion(Base):
    """One change to a product: which fields moved from what to what, and who moved them."""

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(String(20))  # etilize, xorosoft, user
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # field: [old, new]

    product: Mapped[Product] = relationship()
