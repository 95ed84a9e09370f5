"""Writing a feed's view of a product into the catalog, field by field.

A field a person locked keeps its value; the disagreement is returned for the import report.
Every changed field records where its value came from (provenance), and every change makes a
version with the field diffs. A product whose feed content hash did not change is left alone:
re-importing the same feed writes nothing.

New products, most of a first import, are built as plain rows (`new_product_rows`) and written
by `insert_new_products` a batch at a time with bulk INSERTs: the ORM's unit of work spent about
2 ms a product on them (attribute events, cascades, flush bookkeeping for some fifteen rows
each), and building the ORM objects only to read their columns back cost most of the rest.
`NewProduct.build` is the same product as ORM objects, for a caller that adds one product to a
session; the rows must stay exactly its columns (tests/integration/test_bulk_create.py).
"""

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, insert, inspect
from sqlalchemy.orm import Session

from cowans.catalog.feed import (
    PRODUCT_FIELDS,
    VARIANT_FIELDS,
    FeedProduct,
    comparable,
    content_hash_of,
)
from cowans.db.models import (
    Product,
    ProductImage,
    ProductMetafield,
    ProductVariant,
    ProductVersion,
)

SPECIFICATION_TYPE = "list.single_line_text_field"


@dataclass
class UpsertResult:
    created: bool = False
    changed: list[str] = field(default_factory=list)
    locked_disagreements: list[dict[str, Any]] = field(default_factory=list)


def current_values(product: Product) -> dict[str, Any]:
    """The product as the feeds see it, under the field names of catalog.feed."""
    values: dict[str, Any] = {name: getattr(product, name) for name in PRODUCT_FIELDS}
    variant = product.variants[0] if product.variants else None
    for name in VARIANT_FIELDS:
        values[name] = getattr(variant, name) if variant is not None else None
    values["images"] = [[i.src, i.position, i.alt_text] for i in product.images]
    values["specifications"] = [
        [m.key, m.value] for m in product.metafields if m.namespace == "custom"
    ]
    return values


def _first_variant(product: Product) -> ProductVariant:
    if not product.variants:
        product.variants.append(ProductVariant(sku="", position=1))
    return product.variants[0]


def set_field(product: Product, name: str, value: Any) -> None:
    if name in PRODUCT_FIELDS:
        setattr(product, name, list(value) if name == "tags" else value)
    elif name in VARIANT_FIELDS:
        setattr(_first_variant(product), name, dict(value) if name == "inventory" else value)
    elif name == "images":
        product.images = [
            ProductImage(src=src, position=position, alt_text=alt) for src, position, alt in value
        ]
    elif name == "specifications":
        kept = [m for m in product.metafields if m.namespace != "custom"]
        product.metafields = kept + [
            ProductMetafield(namespace="custom", key=key, type=SPECIFICATION_TYPE, value=list(vals))
            for key, vals in value
        ]
    else:
        raise ValueError(f"unknown catalog field {name}")


def apply_feed_product(
    session: Session,
    product: Product | None,
    feed: FeedProduct,
    *,
    source: str,
    import_id: int | None,
    moment: datetime,
    keep_hash: bool = True,
) -> UpsertResult:
    """Create or update one product from a feed. `keep_hash` stores the feed's content hash
    (an Etilize import; an Xorosoft refresh brings only some fields)."""
    if product is None:
        new = NewProduct.build(feed, source=source, import_id=import_id, moment=moment)
        session.add(new.product)
        if new.version is not None:
            session.add(new.version)
        return new.result
    if keep_hash and product.content_hash == feed.content_hash() and not product.locks:
        return UpsertResult()
    result = UpsertResult()
    changes = _apply_values(
        product, current_values(product), feed, result, source, import_id, moment
    )
    if keep_hash:
        product.content_hash = feed.content_hash()
    if changes:
        record_version(session, product, changes, moment, source=source, import_id=import_id)
    result.changed = sorted(changes)
    return result


def _apply_values(
    product: Product,
    current: dict[str, Any],
    feed: FeedProduct,
    result: UpsertResult,
    source: str,
    import_id: int | None,
    moment: datetime,
) -> dict[str, list[Any]]:
    """Set the feed's values that differ from `current` and are not locked; their diffs."""
    changes: dict[str, list[Any]] = {}
    provenance = dict(product.provenance or {})
    for name, new in feed.values.items():
        old = current.get(name)
        if comparable(old) == comparable(new):
            continue
        if name in (product.locks or {}):
            result.locked_disagreements.append(
                {"field": name, "feed_value": comparable(new), "kept_value": comparable(old)}
            )
            continue
        set_field(product, name, new)
        changes[name] = [comparable(old), comparable(new)]
        provenance[name] = {
            "source": feed.sources.get(name, source),
            "import_id": import_id,
            "at": moment.isoformat(),
        }
    _record_match(product, feed)
    if changes:
        product.provenance = provenance
    return changes


@dataclass
class NewProduct:
    """A product the catalog does not have yet, with its first version, built outside any
    session exactly as `apply_feed_product` builds one."""

    product: Product
    version: ProductVersion | None
    result: UpsertResult

    @classmethod
    def build(
        cls, feed: FeedProduct, *, source: str, import_id: int | None, moment: datetime
    ) -> "NewProduct":
        product = Product(handle=feed.handle, title="", provenance={}, locks={}, version=0)
        result = UpsertResult(created=True)
        changes = _apply_values(product, {}, feed, result, source, import_id, moment)
        product.content_hash = feed.content_hash()
        version = None
        if changes:
            version = _next_version(product, changes, moment, source=source, import_id=import_id)
        result.changed = sorted(changes)
        return cls(product, version, result)


Row = dict[str, Any]


@dataclass
class NewProductRows:
    """A new product as the rows `insert_new_products` writes for it: the columns
    `NewProduct.build` would set on its ORM objects, without making them."""

    product: Row
    variants: list[Row]
    images: list[Row]
    metafields: list[Row]
    version: Row | None
    result: UpsertResult


def new_product_rows(
    feed: FeedProduct, *, source: str, import_id: int | None, moment: datetime
) -> NewProductRows:
    """`NewProduct.build` as plain rows: every value the feed brings (a new product has no
    value to keep, no lock and nothing to compare but None) with its provenance and the first
    version's diff."""
    rows = NewProductRows(
        product={"handle": feed.handle, "title": "", "provenance": {}, "locks": {}, "version": 0},
        variants=[],
        images=[],
        metafields=[],
        version=None,
        result=UpsertResult(created=True),
    )
    comparables = {name: comparable(value) for name, value in feed.values.items()}
    provenance: dict[str, Any] = {}
    at = moment.isoformat()
    for name, value in feed.values.items():
        if value is None:
            continue
        _set_row_field(rows, name, value)
        provenance[name] = {
            "source": feed.sources.get(name, source),
            "import_id": import_id,
            "at": at,
        }
    changes = {name: [None, comparables[name]] for name in provenance}
    product = rows.product
    if feed.match_method:
        product.update(
            etilize_sku=feed.etilize_sku,
            match_method=feed.match_method,
            matched_field=feed.matched_field,
        )
    product["content_hash"] = content_hash_of(comparables)
    if changes:
        product.update(provenance=provenance, version=1, updated_at=moment)
        rows.version = {
            "version": 1,
            "source": source,
            "import_id": import_id,
            "user_id": None,
            "changes": changes,
            "created_at": moment,
        }
    rows.result.changed = sorted(changes)
    return rows


def _set_row_field(rows: NewProductRows, name: str, value: Any) -> None:
    """`set_field` on rows (whose lists start empty)."""
    if name in PRODUCT_FIELDS:
        rows.product[name] = list(value) if name == "tags" else value
    elif name in VARIANT_FIELDS:
        if not rows.variants:
            rows.variants.append({"sku": "", "position": 1})
        rows.variants[0][name] = dict(value) if name == "inventory" else value
    elif name == "images":
        rows.images = [
            {"src": src, "position": position, "alt_text": alt} for src, position, alt in value
        ]
    elif name == "specifications":
        rows.metafields = [
            {"namespace": "custom", "key": key, "type": SPECIFICATION_TYPE, "value": list(vals)}
            for key, vals in value
        ]
    else:
        raise ValueError(f"unknown catalog field {name}")


def insert_new_products(session: Session, new: list[NewProductRows]) -> None:
    """Write new products and their variants, images, specifications and first versions with
    one bulk INSERT per table (the rows are given their product's id in place)."""
    if not new:
        return
    ids = _insert_rows(session, Product.__table__, [item.product for item in new], returning=True)
    children: dict[Table, list[Row]] = {
        ProductVariant.__table__: [],
        ProductImage.__table__: [],
        ProductMetafield.__table__: [],
        ProductVersion.__table__: [],
    }
    for product_id, item in zip(ids, new, strict=True):
        versions = [item.version] if item.version is not None else []
        for table, rows in (
            (ProductVariant.__table__, item.variants),
            (ProductImage.__table__, item.images),
            (ProductMetafield.__table__, item.metafields),
            (ProductVersion.__table__, versions),
        ):
            for row in rows:
                row["product_id"] = product_id
            children[table] += rows
    for table, rows in children.items():
        _insert_rows(session, table, rows)


def _insert_rows(
    session: Session, table: Table, rows: list[Row], *, returning: bool = False
) -> list[int]:
    """Core INSERTs of `rows` in their order, one per run of rows setting the same columns (a
    column a row leaves out gets its default, as the ORM's bulk INSERT does), and the new ids
    when `returning`. Core skips the ORM's per-row bookkeeping, a third of the cost."""
    ids: list[int] = []
    for _, run in itertools.groupby(rows, key=lambda row: row.keys()):
        batch = list(run)
        statement = insert(table)
        if returning:
            statement = statement.returning(table.c.id, sort_by_parameter_order=True)
            ids += session.execute(statement, batch).scalars().all()
        else:
            session.execute(statement, batch)
    return ids


def _columns(instance: Any) -> dict[str, Any]:
    """The column values set on an instance that was never flushed: what an INSERT of it
    writes (the columns' defaults fill in the rest, as a flush would). Kept for comparing
    `new_product_rows` with `NewProduct.build` (bench/api_load_bench.py does)."""
    state = inspect(instance)
    columns = state.mapper.column_attrs.keys()
    return {name: value for name, value in state.dict.items() if name in columns}


def record_version(
    session: Session,
    product: Product,
    changes: dict[str, list[Any]],
    moment: datetime,
    *,
    source: str,
    import_id: int | None = None,
    user_id: int | None = None,
) -> None:
    """Bump the product's version and keep its field diffs, whoever made the change."""
    session.add(
        _next_version(product, changes, moment, source=source, import_id=import_id, user_id=user_id)
    )


def _next_version(
    product: Product,
    changes: dict[str, list[Any]],
    moment: datetime,
    *,
    source: str,
    import_id: int | None = None,
    user_id: int | None = None,
) -> ProductVersion:
    product.version = (product.version or 0) + 1
    product.updated_at = moment
    return ProductVersion(
        product=product,
        version=product.version,
        source=source,
        import_id=import_id,
        user_id=user_id,
        changes=changes,
        created_at=moment,
    )


def _record_match(product: Product, feed: FeedProduct) -> None:
    if feed.match_method:
        product.etilize_sku = feed.etilize_sku
        product.match_method = feed.match_method
        product.matched_field = feed.matched_field


def decimal_or_none(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))
