"""Finding products: the catalog list with search, filters and pages, and where each product
stands with each store (its sync status).

A product's sync status with a store, from the most to the least urgent:

- `conflict`: an open staged change for the store is a conflict (edited on both sides);
- `pending`: an open staged change (pending review, approved but not pushed yet, or a push
  that failed and waits for another try): the store does not show the catalog's values yet;
- `synced`: nothing open, and the store has the product (pushed, or pulled and adopted);
- `never_synced`: nothing open, and the product never reached the store.

The catalog may not import the sync layer, so it reads the sync tables (db models) directly;
`OPEN_CHANGE` mirrors the statuses `cowans.sync.staging` treats as not yet in the store (a
test keeps the two equal).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from cowans.catalog.errors import CatalogErrorCode
from cowans.db.migrate import SEARCH_TABLE
from cowans.db.models import (
    Product,
    ProductVariant,
    StagedChangeStatus,
    Store,
    StoreProduct,
    SyncStaging,
)
from cowans.errors import NotFound

MAX_PAGE_SIZE = 200
# A pasted list beyond this is a spreadsheet column, not a selection to look up one by one.
MAX_SKU_LOOKUP = 25_000
# The SKUs a lookup names as missing: enough to fix a paste, not a second copy of it.
MAX_MISSING_LISTED = 200


class SyncState(StrEnum):
    CONFLICT = "conflict"
    PENDING = "pending"
    SYNCED = "synced"
    NEVER_SYNCED = "never_synced"


OPEN_CHANGE = (
    StagedChangeStatus.PENDING,
    StagedChangeStatus.APPROVED,
    StagedChangeStatus.FAILED,
    StagedChangeStatus.CONFLICT,
)


@dataclass(frozen=True)
class ProductFilter:
    query: str = ""
    status: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    # Exact SKUs (as pasted from a spreadsheet): products with a variant of one of them.
    skus: tuple[str, ...] = ()
    # A SyncState value. `pending` also matches conflicts: both wait for someone.
    sync_status: str | None = None
    # The store `sync_status` is about; without one, every active store.
    store_id: int | None = None


def literal_pattern(text: str) -> str:
    """A search term matched literally: % and _ are not wildcards to the person typing them."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Text search ------------------------------------------------------------------------------------

# Where a product's text is searched: the columns of migration 0008's search table.
SEARCH_FIELDS = ("title", "handle", "vendor", "skus")
# A trigram index can only look up text of three characters or more; shorter text scans.
TRIGRAM = 3
# Migration 0008's narrow copy of the searched fields: an FTS5 table on SQLite (its rowid is
# the product's id), a table with trigram indexes on PostgreSQL.
_SEARCH = table(
    SEARCH_TABLE,
    column("rowid", Integer),
    column("product_id", Integer),
    *(column(name) for name in SEARCH_FIELDS),
)
_SEARCH_INDEX_KEY = "cowans.search_index"


class SearchIndex(StrEnum):
    NONE = "none"  # scan: LIKE over the products' rows
    FTS5 = "fts5"  # SQLite: product_search is an FTS5 table (trigram tokenizer)
    TRIGRAM = "trigram"  # PostgreSQL: product_search has pg_trgm GIN indexes


def search_index(session: Session) -> SearchIndex:
    """The text index this database has, found once per connection (migration 0008 makes one
    only where the database offers it)."""
    connection = session.connection()
    found = connection.info.get(_SEARCH_INDEX_KEY)
    if found is None:
        if connection.dialect.name == "sqlite":
            exists_sql = "SELECT count(*) FROM sqlite_master WHERE name = :name"
            kind = SearchIndex.FTS5
        else:
            exists_sql = "SELECT count(*) FROM pg_tables WHERE tablename = :name"
            kind = SearchIndex.TRIGRAM
        present = connection.execute(text(exists_sql), {"name": SEARCH_TABLE}).scalar()
        found = connection.info[_SEARCH_INDEX_KEY] = kind if present else SearchIndex.NONE
    return SearchIndex(found)


def text_match(
    words: str, index: SearchIndex, fields: Sequence[str] = SEARCH_FIELDS
) -> Select[tuple[int]]:
    """The ids of the products with `words` in one of `fields`: a case-insensitive substring,
    `%` and `_` taken literally. By the index where there is one, else by scanning."""
    pattern = f"%{literal_pattern(words)}%"
    if index is SearchIndex.FTS5:
        return select(_SEARCH.c.rowid).where(_fts_condition(words, pattern, fields))
    if index is SearchIndex.TRIGRAM:
        # The narrow copy: each column's trigram index finds its matches (a bitmap OR of
        # them), and checking a match again reads a small row, not a product's.
        return select(_SEARCH.c.product_id).where(
            or_(*(_SEARCH.c[field].ilike(pattern, escape="\\") for field in fields))
        )
    return select(Product.id).where(or_(*(_scan_matching(field, pattern) for field in fields)))


def _fts_condition(words: str, pattern: str, fields: Sequence[str]) -> ColumnElement[bool]:
    if len(words) >= TRIGRAM:
        # A quoted FTS5 phrase is a run of trigrams: the substring itself, in those columns.
        quoted = words.replace('"', '""')
        phrase = f'{{{" ".join(fields)}}} : "{quoted}"'
        return literal_column(SEARCH_TABLE).op("MATCH")(phrase)
    # Too short for trigrams: LIKE over the index's own copy of the text, which is far
    # smaller than the products' rows.
    return or_(*(_SEARCH.c[field].ilike(pattern, escape="\\") for field in fields))


def _scan_matching(field: str, pattern: str) -> ColumnElement[bool]:
    if field == "skus":
        with_sku = select(ProductVariant.product_id).where(
            ProductVariant.sku.ilike(pattern, escape="\\")
        )
        return Product.id.in_(with_sku)
    return getattr(Product, field).ilike(pattern, escape="\\")


def _in_stores(column: Any, store_id: int | None) -> ColumnElement[bool]:
    """`column` (a store id) is the given store, or any active store when none is given: a
    store switched off no longer counts towards what is pending."""
    if store_id is not None:
        return column == store_id
    return column.in_(select(Store.id).where(Store.is_active.is_(True)))


# `Product.id IN (...)` rather than a correlated EXISTS: SQLite ran the EXISTS once per product
# (300 ms at 100,000 products) where the IN reads the few open changes. The subqueries never
# yield NULL, so their NOT IN means "not among them".


def _with_open_change(store_id: int | None, *statuses: StagedChangeStatus) -> Select[Any]:
    return select(SyncStaging.product_id).where(
        SyncStaging.product_id.is_not(None),
        SyncStaging.status.in_(statuses or OPEN_CHANGE),
        _in_stores(SyncStaging.store_id, store_id),
    )


def _in_store(store_id: int | None) -> Select[Any]:
    """The products the store has: a push or an adopting pull linked its row to the product."""
    return select(StoreProduct.product_id).where(
        StoreProduct.product_id.is_not(None), _in_stores(StoreProduct.store_id, store_id)
    )


def _sync_condition(state: SyncState, store_id: int | None) -> ColumnElement[bool]:
    if state is SyncState.CONFLICT:
        return Product.id.in_(_with_open_change(store_id, StagedChangeStatus.CONFLICT))
    if state is SyncState.PENDING:
        return Product.id.in_(_with_open_change(store_id))
    nothing_open = Product.id.not_in(_with_open_change(store_id))
    if state is SyncState.SYNCED:
        return and_(nothing_open, Product.id.in_(_in_store(store_id)))
    return and_(nothing_open, Product.id.not_in(_in_store(store_id)))


def _filtered(
    statement: Select[Any], filters: ProductFilter, index: SearchIndex = SearchIndex.NONE
) -> Select[Any]:
    statement = statement.where(Product.deleted_at.is_(None))
    if filters.query.strip():
        statement = statement.where(Product.id.in_(text_match(filters.query.strip(), index)))
    if filters.skus:
        with_sku = select(ProductVariant.product_id).where(ProductVariant.sku.in_(filters.skus))
        statement = statement.where(Product.id.in_(with_sku))
    for column_, value in (
        (Product.status, filters.status),
        (Product.vendor, filters.vendor),
        (Product.product_type, filters.product_type),
    ):
        if value:
            statement = statement.where(column_ == value)
    if filters.sync_status:
        statement = statement.where(
            _sync_condition(SyncState(filters.sync_status), filters.store_id)
        )
    return statement


def check_filter(session: Session, filters: ProductFilter) -> None:
    """A filter about a store that does not exist is the caller's mistake, said as such,
    instead of a list that is silently empty."""
    if filters.store_id is None:
        return
    # Its id only: loading the store would decrypt its Shopify token for nothing.
    if session.scalar(select(Store.id).where(Store.id == filters.store_id)) is None:
        raise NotFound(
            CatalogErrorCode.STORE_NOT_FOUND,
            f"No store with id {filters.store_id}.",
            {"store_id": filters.store_id},
        )


def matching_ids(filters: ProductFilter, session: Session | None = None) -> Select[Any]:
    """The ids of every product the filters select, as a query: a batch over a filter copies
    them inside the database instead of through the process. With the session, a text search
    uses the database's search index."""
    index = search_index(session) if session is not None else SearchIndex.NONE
    return _filtered(select(Product.id), filters, index)


@dataclass(frozen=True)
class ListedProduct:
    """A product as a list row shows it: its own columns, its first variant's SKU and price,
    and the stock of all its variants."""

    id: int
    handle: str
    title: str
    vendor: str
    product_type: str
    status: str
    published: bool
    tags: list[str]
    version: int
    locked_fields: list[str]
    updated_at: datetime
    sku: str | None
    price: Decimal | None
    inventory_total: int


# Plain rows, not ORM objects: a page of 50 products and their variants built as entities
# (identity map, instance state, relationship collections) cost more than its queries did.
_LISTED_COLUMNS = (
    Product.id,
    Product.handle,
    Product.title,
    Product.vendor,
    Product.product_type,
    Product.status,
    Product.published,
    Product.tags,
    Product.version,
    Product.locks,
    Product.updated_at,
)


def search_products(
    session: Session, filters: ProductFilter, page: int, page_size: int
) -> tuple[list[ListedProduct], int]:
    """A page of the products the filters select, in id order, and how many they select.
    The page's ids come first, from the indexes (a page far down the list skips ids, not
    rows), then the columns the list shows (not the wide ones: provenance, description)."""
    check_filter(session, filters)
    index = search_index(session)
    # count(*): SQLite counts index entries without reading each one's id, twice as fast.
    counting = select(func.count()).select_from(Product)
    total = session.scalar(_filtered(counting, filters, index)) or 0
    ids = list(
        session.scalars(
            _filtered(select(Product.id), filters, index)
            .order_by(Product.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    )
    return _listed(session, ids), total


def _listed(session: Session, ids: list[int]) -> list[ListedProduct]:
    if not ids:
        return []
    variants: dict[int, list[Any]] = {}
    for variant in session.execute(
        select(
            ProductVariant.product_id,
            ProductVariant.sku,
            ProductVariant.price,
            ProductVariant.inventory,
        )
        .where(ProductVariant.product_id.in_(ids))
        .order_by(ProductVariant.product_id, ProductVariant.position, ProductVariant.id)
    ):
        variants.setdefault(variant.product_id, []).append(variant)
    rows = {
        row.id: row for row in session.execute(select(*_LISTED_COLUMNS).where(Product.id.in_(ids)))
    }
    return [listed_product(rows[i], variants.get(i, [])) for i in ids if i in rows]


def listed_product(row: Any, variants: Sequence[Any]) -> ListedProduct:
    """The list's summary of a product: a row of `_LISTED_COLUMNS` or the `Product` itself,
    with its variants in position order (rows or objects with sku, price and inventory)."""
    first = variants[0] if variants else None
    return ListedProduct(
        id=row.id,
        handle=row.handle,
        title=row.title,
        vendor=row.vendor,
        product_type=row.product_type,
        status=row.status,
        published=row.published,
        tags=list(row.tags or []),
        version=row.version,
        locked_fields=sorted(row.locks or {}),
        updated_at=row.updated_at,
        sku=first.sku if first else None,
        price=first.price if first else None,
        inventory_total=sum(sum((v.inventory or {}).values()) for v in variants),
    )


# Sync status ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreSync:
    """Where one product stands with one store."""

    store_id: int
    store_name: str
    store_active: bool
    state: SyncState
    last_pushed_at: datetime | None
    last_pulled_at: datetime | None
    # The open change to look at (the most urgent one, newest among equals), if any.
    open_change_id: int | None
    open_change_status: str | None
    open_change_direction: str | None
    open_changes: int

    @property
    def last_synced_at(self) -> datetime | None:
        moments = [m for m in (self.last_pushed_at, self.last_pulled_at) if m is not None]
        return max(moments) if moments else None


def _state(open_statuses: Iterable[StagedChangeStatus], in_store: bool) -> SyncState:
    statuses = set(open_statuses)
    if StagedChangeStatus.CONFLICT in statuses:
        return SyncState.CONFLICT
    if statuses:
        return SyncState.PENDING
    return SyncState.SYNCED if in_store else SyncState.NEVER_SYNCED


def store_sync(session: Session, product_id: int) -> list[StoreSync]:
    """The product's sync status with every store (active ones, and any other that still has
    the product or an open change for it), in store order."""
    rows = list(
        session.scalars(
            select(SyncStaging)
            .where(SyncStaging.product_id == product_id, SyncStaging.status.in_(OPEN_CHANGE))
            .order_by(SyncStaging.id.desc())
        )
    )
    known = {
        row.store_id: row
        for row in session.scalars(
            select(StoreProduct).where(StoreProduct.product_id == product_id)
        )
    }
    involved = {row.store_id for row in rows} | set(known)
    stores = session.scalars(
        select(Store)
        .where(or_(Store.is_active.is_(True), Store.id.in_(involved)))
        .order_by(Store.id)
    )
    found = []
    for store in stores:
        open_rows = [row for row in rows if row.store_id == store.id]
        urgent = sorted(
            open_rows, key=lambda row: row.status is not StagedChangeStatus.CONFLICT
        )  # stable: newest first among equals
        first = urgent[0] if urgent else None
        in_store = known.get(store.id)
        found.append(
            StoreSync(
                store_id=store.id,
                store_name=store.name,
                store_active=store.is_active,
                state=_state((row.status for row in open_rows), in_store is not None),
                last_pushed_at=in_store.pushed_at if in_store else None,
                last_pulled_at=in_store.pulled_at if in_store else None,
                open_change_id=first.id if first else None,
                open_change_status=first.status.value if first else None,
                open_change_direction=first.direction if first else None,
                open_changes=len(open_rows),
            )
        )
    return found


def sync_states(
    session: Session, product_ids: Sequence[int], store_id: int | None = None
) -> dict[int, SyncState]:
    """Each product's sync status with the store, or the most urgent over the active stores:
    two queries for a whole page of the list."""
    if not product_ids:
        return {}
    open_statuses: dict[int, set[StagedChangeStatus]] = {}
    for product_id, status in session.execute(
        select(SyncStaging.product_id, SyncStaging.status).where(
            SyncStaging.product_id.in_(product_ids),
            SyncStaging.status.in_(OPEN_CHANGE),
            _in_stores(SyncStaging.store_id, store_id),
        )
    ):
        open_statuses.setdefault(product_id, set()).add(status)
    in_store = set(
        session.scalars(
            select(StoreProduct.product_id).where(
                StoreProduct.product_id.in_(product_ids),
                _in_stores(StoreProduct.store_id, store_id),
            )
        )
    )
    return {
        product_id: _state(open_statuses.get(product_id, ()), product_id in in_store)
        for product_id in product_ids
    }


# Facets and SKU lookups -------------------------------------------------------------------------


@dataclass(frozen=True)
class Facets:
    vendors: list[str]
    product_types: list[str]
    statuses: list[str]


def facets(session: Session) -> Facets:
    """The values the list's filters can take, from the live catalog, for pick lists."""

    def distinct(column: Any) -> list[str]:
        return [
            value
            for value in session.scalars(
                select(column).where(Product.deleted_at.is_(None)).distinct().order_by(column)
            )
            if value
        ]

    return Facets(
        vendors=distinct(Product.vendor),
        product_types=distinct(Product.product_type),
        statuses=distinct(Product.status),
    )


@dataclass(frozen=True)
class SkuLookup:
    product_ids: list[int]  # in the order of the SKUs, each product once
    found: int  # SKUs that name a live product
    missing: list[str]  # the first SKUs that do not, in the order given
    missing_total: int


def lookup_skus(session: Session, skus: Sequence[str]) -> SkuLookup:
    """Which of the pasted SKUs name a product in the catalog (deleted products do not): what a
    person checks before running a batch over them."""
    wanted = list(dict.fromkeys(sku.strip() for sku in skus if sku.strip()))
    owners: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(ProductVariant.sku, ProductVariant.product_id)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(
                ProductVariant.sku.in_(wanted[start : start + 500]),
                Product.deleted_at.is_(None),
            )
        )
        for sku, product_id in rows:
            owners[sku] = product_id
    missing = [sku for sku in wanted if sku not in owners]
    return SkuLookup(
        product_ids=list(dict.fromkeys(owners[sku] for sku in wanted if sku in owners)),
        found=len(wanted) - len(missing),
        missing=missing[:MAX_MISSING_LISTED],
        missing_total=len(missing),
    )
