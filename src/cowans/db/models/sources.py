"""Imports of the source feeds, their rejected rows, and what Xorosoft last said it stocks."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cowans.db.base import Base, utcnow
from cowans.db.types import JSONType, UTCDateTime


class Import(Base):
    """One run of an Etilize or Xorosoft import, with its report."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # etilize, xorosoft
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    source: Mapped[str] = mapped_column(String(20))  # upload, file, ftp, api
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rows: Mapped[int] = mapped_column(Integer, default=0)
    products: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    unmatched: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    locked_conflicts: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class ImportRowError(Base):
    __tablename__ = "import_row_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)


class XorosoftItem(Base):
    """An item Cowan's stocks, as Xorosoft last reported it. The `*_key` columns hold the
    normalized identifiers matching looks up (trimmed, upper-case, no `-`, space or `/`)."""

    __tablename__ = "xorosoft_items"
    __table_args__ = (Index("ix_xorosoft_items_base_key_item_number", "base_key", "item_number"),)

    item_number: Mapped[str] = mapped_column(String(255), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(255), index=True)
    base_part_number: Mapped[str] = mapped_column(String(255), default="")
    base_key: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    upc: Mapped[str] = mapped_column(String(64), default="")
    vendor_product_number: Mapped[str] = mapped_column(String(255), default="")
    # {location: quantity on hand}
    stock: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
