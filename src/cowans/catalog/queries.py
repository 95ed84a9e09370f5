"""Finding products: the catalog list with search, filters and pages."""

from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from cowans.db.models import Product, ProductVariant

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class ProductFilter:
    query: str = ""
    status: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    # Exact SKUs (as pasted from a spreadsheet): products with a variant of one of them.
    skus: tuple[str, ...] = ()


def _escaped(text: str) -> str:
    """A search term matched literally: % and _ are not wildcards to the person typing them."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(statement: Select, filters: ProductFilter) -> Select:
    statement = statement.where(Product.deleted_at.is_(None))
    if filters.query.strip():
        term = f"%{_escaped(filters.query.strip())}%"
        by_sku = select(ProductVariant.product_id).where(
            ProductVariant.sku.ilike(term, escape="\\")
        )
        statement = statement.where(
            or_(
                Product.title.ilike(term, escape="\\"),
                Product.handle.ilike(term, escape="\\"),
                Product.vendor.ilike(term, escape="\\"),
                Product.id.in_(by_sku),
            )
        )
    if filters.skus:
        with_sku = select(ProductVariant.product_id).where(ProductVariant.sku.in_(filters.skus))
        statement = statement.where(Product.id.in_(with_sku))
    for column, value in (
        (Product.status, filters.status),
        (Product.vendor, filters.vendor),
        (Product.product_type, filters.product_type),
    ):
        if value:
            statement = statement.where(column == value)
    return statement


def matching_ids(filters: ProductFilter) -> Select:
    """The ids of every product the filters select, as a query: a batch over a filter copies
    them inside the database instead of through the process."""
    return _filtered(select(Product.id), filters)


def search_products(
    session: Session, filters: ProductFilter, page: int, page_size: int
) -> tuple[list[Product], int]:
    total = session.scalar(_filtered(select(func.count(Product.id)), filters)) or 0
    statement = (
        _filtered(select(Product), filters)
        .order_by(Product.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
        .options(selectinload(Product.variants))
    )
    return list(session.scalars(statement)), total
