"""Staging pushes: what would change in a store, one reviewable row per product.

For each selected product the catalog's desired snapshot is compared with the store's base
(what this system last pushed or confirmed there). A product the store lacks is a create, a
product deleted from the catalog that the store has is a delete, any other difference an update
listing each field old -> new. An unchanged product stages nothing, and a pending change it had
is withdrawn (the catalog went back to what the store shows). A change that is already staged
with the same fields keeps its row and its decision; one whose fields moved is staged afresh and
must be reviewed again: an approval covers exactly what was shown.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, insert, select
from sqlalchemy.orm import Session

from cowans.catalog.queries import ProductFilter, matching_ids
from cowans.catalog.rows import ChildRows, products_with_children
from cowans.db.models import (
    JobState,
    Product,
    ProductImage,
    ProductMetafield,
    ProductVariant,
    StagedChangeStatus,
    Store,
    StoreProduct,
    SyncJob,
    SyncStaging,
)
from cowans.errors import InvalidInput, NotFound
from cowans.sync import snapshots
from cowans.sync.approval import approving_rule
from cowans.sync.errors import SyncErrorCode

CHUNK = 500
PUSH = "push"
# Push changes that have not reached the store yet; restaging replaces or withdraws them.
OPEN = (
    StagedChangeStatus.PENDING,
    StagedChangeStatus.APPROVED,
    StagedChangeStatus.FAILED,
    StagedChangeStatus.CONFLICT,
)
# What a pull or a resolution adds to a change's fields; restaging compares without them.
ANNOTATIONS = ("remote", "resolution")


@dataclass
class StageResult:
    sync_job_id: int
    staged: int = 0
    unchanged: int = 0
    kept: int = 0
    operations: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPERATIONS, 0))
    auto_approved: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "staged": self.staged,
            "unchanged": self.unchanged,
            "kept": self.kept,
            "operations": self.operations,
            "auto_approved": self.auto_approved,
        }


OPERATIONS = ("create", "update", "delete")


def resolve_store(session: Session, store_id: int | None) -> Store:
    """The store named, or the only active one when none is named."""
    if store_id is not None:
        store = session.get(Store, store_id)
        if store is None:
            raise NotFound(SyncErrorCode.STORE_NOT_FOUND, f"No store with id {store_id}.")
        return store
    stores = list(session.scalars(select(Store).where(Store.is_active.is_(True)).limit(2)))
    if len(stores) != 1:
        raise InvalidInput(
            SyncErrorCode.STORE_REQUIRED,
            "Name the store (store_id): "
            + ("none is connected yet." if not stores else "several are connected."),
        )
    return stores[0]


def stage_push(
    session: Session,
    store: Store,
    *,
    product_ids: Iterable[int] | None = None,
    filters: ProductFilter | None = None,
    created_by: int | None = None,
    within_job: int | None = None,
) -> StageResult:
    """Stage the differences of the selection (all products when neither ids nor filters).
    Staging is recorded as a `sync.stage` job of its own, unless it is a step of another job
    (`within_job`: a pull restaging the products it compared), whose id the rows then carry."""
    if within_job is not None:
        result = StageResult(within_job)
        for ids in _id_chunks(session, product_ids, filters):
            _stage_chunk(session, store, ids, result)
        return result
    job = SyncJob(
        kind="sync.stage",
        state=JobState.RUNNING,
        store_id=store.id,
        created_by=created_by,
        config={
            "product_ids": product_ids is not None,
            "filter": vars(filters) if filters else None,
        },
        started_at=_now(),
    )
    session.add(job)
    session.flush()
    result = StageResult(job.id)
    for ids in _id_chunks(session, product_ids, filters):
        _stage_chunk(session, store, ids, result)
    job.state, job.finished_at = JobState.COMPLETED, _now()
    job.total = job.processed = job.succeeded = result.staged + result.unchanged + result.kept
    job.result = result.summary()
    return result


def _now() -> datetime:
    return datetime.now(UTC)


def _selection(filters: ProductFilter | None) -> Select[Any]:
    """Ids to compare, deleted products included (they may need a staged delete)."""
    live = matching_ids(filters or ProductFilter())
    if filters is not None and filters != ProductFilter():
        return live
    return select(Product.id)


def _id_chunks(
    session: Session, product_ids: Iterable[int] | None, filters: ProductFilter | None
) -> Iterator[list[int]]:
    """The ids to compare, CHUNK at a time in id order. Given ids are the caller's list already;
    a selection is paged through by id, so a catalog of any size is never listed whole."""
    if product_ids is not None:
        given = sorted(set(product_ids))
        for start in range(0, len(given), CHUNK):
            yield given[start : start + CHUNK]
        return
    selection = _selection(filters)
    last = 0
    while ids := list(
        session.scalars(selection.where(Product.id > last).order_by(Product.id).limit(CHUNK))
    ):
        yield ids
        last = ids[-1]


# The columns staging compares, read as plain rows: building ORM objects for a whole catalog
# (a product, its variant, images and specifications) was half the time of staging it.
PRODUCT_COLUMNS = (
    Product.id,
    Product.handle,
    Product.title,
    Product.body_html,
    Product.vendor,
    Product.product_type,
    Product.tags,
    Product.status,
    Product.seo_title,
    Product.seo_description,
    Product.deleted_at,
)
VARIANT_COLUMNS = (
    ProductVariant.product_id,
    ProductVariant.sku,
    ProductVariant.price,
    ProductVariant.compare_at_price,
    ProductVariant.barcode,
    ProductVariant.inventory_policy,
    ProductVariant.option1_name,
    ProductVariant.option1_value,
    ProductVariant.weight_grams,
    ProductVariant.taxable,
    ProductVariant.inventory,
)
IMAGE_COLUMNS = (ProductImage.product_id, ProductImage.src, ProductImage.alt_text)
METAFIELD_COLUMNS = (
    ProductMetafield.product_id,
    ProductMetafield.namespace,
    ProductMetafield.key,
    ProductMetafield.type,
    ProductMetafield.value,
)


@dataclass(slots=True)
class StagedProduct:
    """A product as staging reads it: the `PRODUCT_COLUMNS` of its row (in that order) and its
    children's rows, in the order of the ORM relationships (variants and images by position,
    specifications by id)."""

    id: int
    handle: str
    title: str
    body_html: str
    vendor: str
    product_type: str
    tags: list[str]
    status: str
    seo_title: str
    seo_description: str
    deleted_at: datetime | None
    variants: list[Row[Any]] = field(default_factory=list)
    images: list[Row[Any]] = field(default_factory=list)
    metafields: list[Row[Any]] = field(default_factory=list)


_CHILDREN = (
    ChildRows("variants", VARIANT_COLUMNS, (ProductVariant.position, ProductVariant.id)),
    ChildRows("images", IMAGE_COLUMNS, (ProductImage.position, ProductImage.id)),
    ChildRows("metafields", METAFIELD_COLUMNS, (ProductMetafield.id,)),
)


def _load_products(session: Session, ids: list[int]) -> list[StagedProduct]:
    loaded = products_with_children(session, StagedProduct, PRODUCT_COLUMNS, ids, _CHILDREN)
    return list(loaded.values())


@dataclass(frozen=True, slots=True)
class _Known:
    """What the store has of a product: its id there and its base."""

    shopify_product_id: str | None
    base: dict[str, Any] | None


def _stage_chunk(session: Session, store: Store, ids: list[int], result: StageResult) -> None:
    known = {
        product_id: _Known(shopify_id, base)
        for product_id, shopify_id, base in session.execute(
            select(
                StoreProduct.product_id, StoreProduct.shopify_product_id, StoreProduct.base
            ).where(StoreProduct.store_id == store.id, StoreProduct.product_id.in_(ids))
        )
    }
    open_changes = {
        row.product_id: row
        for row in session.scalars(
            select(SyncStaging).where(
                SyncStaging.store_id == store.id,
                SyncStaging.direction == PUSH,
                SyncStaging.product_id.in_(ids),
                SyncStaging.status.in_(OPEN),
            )
        )
    }
    staged: list[dict[str, Any]] = []
    for product in _load_products(session, ids):
        row = _stage_product(session, store, product, known.get(product.id), open_changes, result)
        if row is not None:
            staged.append(row)
    session.flush()  # the withdrawn rows go first, as they did when rows were added one by one
    if staged:
        session.execute(insert(SyncStaging), staged)


def _stage_product(
    session: Session,
    store: Store,
    product: StagedProduct,
    known: _Known | None,
    open_changes: dict[int | None, SyncStaging],
    result: StageResult,
) -> dict[str, Any] | None:
    """The staged row of one product (None: nothing to stage), withdrawing what it replaces."""
    operation, changes, desired = _difference(product, known, store)
    previous = open_changes.get(product.id)
    if operation is None:
        if previous is not None:
            session.delete(previous)
        result.unchanged += 1
        return None
    if (
        previous is not None
        and _plain(previous.changes) == changes
        and previous.operation_type == operation
    ):
        result.kept += 1
        return None
    if previous is not None:
        session.delete(previous)
    rule = approving_rule(operation, changes, store.approval_rules or [])
    result.staged += 1
    result.operations[operation] += 1
    result.auto_approved += bool(rule)
    return {
        "sync_job_id": result.sync_job_id,
        "product_id": product.id,
        "store_id": store.id,
        "handle": product.handle,
        "shopify_product_id": known.shopify_product_id if known else None,
        "direction": PUSH,
        "operation_type": operation,
        "changes": changes,
        "desired": snapshots.to_json(desired) if desired else None,
        "status": StagedChangeStatus.APPROVED if rule else StagedChangeStatus.PENDING,
        "approval_rule": rule,
        "approved_at": _now() if rule else None,
    }


def _plain(changes: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {key: value for key, value in change.items() if key not in ANNOTATIONS}
        for name, change in (changes or {}).items()
    }


def _difference(
    product: StagedProduct, known: _Known | None, store: Store
) -> tuple[str | None, dict[str, Any], Any]:
    """(operation or None, field changes, desired snapshot) for one product."""
    base = snapshots.from_json(known.base) if known and known.base else None
    if product.deleted_at is not None:
        if base is None:
            return None, {}, None
        return "delete", {"deleted": {"old": False, "new": True}}, None
    desired = snapshots.desired_snapshot(product, store.location_map or {})
    changes = snapshots.diff(snapshots.fields_of(base), snapshots.fields_of(desired))
    if not changes:
        return None, {}, desired
    return ("create" if base is None else "update"), changes, desired
