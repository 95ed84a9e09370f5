"""Pulling: what changed in a store since the base, staged for review per product.

Each remote product is compared three ways (see `three_way`) with its base and the catalog:
- a remote-only change becomes one `pull` row per product (operation `update`);
- a field both sides changed differently turns the product's push row into a `conflict` that
  names the fields and carries Shopify's values, so nothing is pushed over it;
- stock Shopify moved alone, and values both sides reached, become the new base at once;
- a product made by hand in Shopify is a `pull` create; one the catalog has under the same handle
  but this system never pushed is adopted (its remote state becomes the base, and staging then
  shows exactly what a push would change);
- a product the store lost is a `pull` delete: flagged for a person, never recreated silently.
A row already staged with the same content keeps its decision; a stale one is replaced.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cowans.catalog.snapshot import ProductSnapshot
from cowans.db.models import Product, StagedChangeStatus, Store, StoreProduct, SyncStaging
from cowans.shopify.products import RemoteProduct
from cowans.sync import snapshots
from cowans.sync.changes import RemoteIds
from cowans.sync.snapshots import FieldDiff
from cowans.sync.staging import stage_push
from cowans.sync.three_way import ThreeWay, compare, remote_snapshot, values_of

PULL = "pull"
PUSH = "push"
# Pull rows a new pull may replace; decided ones stay as they were decided.
OPEN_PULL = (StagedChangeStatus.PENDING, StagedChangeStatus.CONFLICT)
OPEN_PUSH = (
    StagedChangeStatus.PENDING,
    StagedChangeStatus.APPROVED,
    StagedChangeStatus.FAILED,
    StagedChangeStatus.CONFLICT,
)


@dataclass
class PullResult:
    compared: int = 0
    unchanged: int = 0
    pulled: int = 0
    conflicts: int = 0
    creates: int = 0
    deletes: int = 0
    adopted: int = 0
    confirmed_fields: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "unchanged": self.unchanged,
            "pulled": self.pulled,
            "conflicts": self.conflicts,
            "creates": self.creates,
            "deletes": self.deletes,
            "adopted": self.adopted,
            "confirmed_fields": self.confirmed_fields,
        }


@dataclass
class _Context:
    session: Session
    store: Store
    job_id: int | None
    result: PullResult
    locations: Collection[str] | None = None  # the store's location names
    restage: set[int] = field(default_factory=set)  # catalog ids whose push must be restaged
    conflicts: dict[str, FieldDiff] = field(default_factory=dict)  # by handle


def stage_pull(
    session: Session,
    store: Store,
    remotes: Iterable[RemoteProduct],
    *,
    job_id: int | None,
    result: PullResult | None = None,
    locations: Collection[str] | None = None,
) -> PullResult:
    """Compare a chunk of remote products and stage what differs. Called once per chunk.
    `locations`: the store's location names (stock elsewhere cannot be compared)."""
    context = _Context(session, store, job_id, result or PullResult(), locations)
    chunk = list(remotes)
    known = _known(session, store.id, chunk)
    products = _catalog(session, [remote.handle for remote in chunk])
    for remote in chunk:
        context.result.compared += 1
        _pull_product(context, remote, known.get(remote.id), products.get(remote.handle))
    _restage(context)
    return context.result


def stage_missing(
    session: Session, store: Store, handles: Sequence[str], *, job_id: int | None
) -> int:
    """Flag the store's products that Shopify no longer has: a pull delete each."""
    flagged = 0
    rows = session.scalars(
        select(StoreProduct).where(
            StoreProduct.store_id == store.id, StoreProduct.handle.in_(list(handles))
        )
    )
    for known in rows:
        changes = {"deleted": {"old": False, "new": True}}
        _put_pull_row(session, store, known.handle, known.product_id, "delete", changes, job_id)
        flagged += 1
    return flagged


def missing_handles(session: Session, store_id: int, seen_product_ids: set[str]) -> list[str]:
    """Handles the store had (per its bases) whose Shopify product a full pull did not see."""
    rows = session.execute(
        select(StoreProduct.handle, StoreProduct.shopify_product_id).where(
            StoreProduct.store_id == store_id, StoreProduct.base.is_not(None)
        )
    )
    return [handle for handle, remote_id in rows if remote_id not in seen_product_ids]


def handles_of_remote_ids(session: Session, store_id: int, remote_ids: Iterable[str]) -> list[str]:
    ids = list(remote_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(StoreProduct.handle).where(
                StoreProduct.store_id == store_id, StoreProduct.shopify_product_id.in_(ids)
            )
        )
    )


# One product ------------------------------------------------------------------------------------


def _known(session: Session, store_id: int, chunk: list[RemoteProduct]) -> dict[str, StoreProduct]:
    """Store rows by Shopify id, found by id or by handle (a row created before the id was
    known, or one whose product was recreated in Shopify)."""
    rows = session.scalars(
        select(StoreProduct).where(
            StoreProduct.store_id == store_id,
            StoreProduct.handle.in_([remote.handle for remote in chunk])
            | StoreProduct.shopify_product_id.in_([remote.id for remote in chunk]),
        )
    )
    by_handle = {remote.handle: remote.id for remote in chunk}
    # The handle wins: it is how pushes address a product, so a product recreated in Shopify
    # under the same handle is the same product here.
    return {by_handle.get(row.handle) or row.shopify_product_id or "": row for row in rows}


def _catalog(session: Session, handles: list[str]) -> dict[str, Product]:
    return {
        product.handle: product
        for product in session.scalars(
            select(Product)
            .where(Product.handle.in_(handles))
            .options(
                selectinload(Product.variants),
                selectinload(Product.images),
                selectinload(Product.metafields),
            )
        )
    }


def _pull_product(
    context: _Context, remote: RemoteProduct, known: StoreProduct | None, product: Product | None
) -> None:
    live = product if product is not None and product.deleted_at is None else None
    if known is None or not known.base:
        _first_sight(context, remote, known, live)
        return
    base = snapshots.from_json(known.base)
    theirs = remote_snapshot(remote, base)
    ours = snapshots.desired_snapshot(live, context.store.location_map or {}) if live else None
    compared = compare(base, ours, theirs, context.locations)
    _remember(known, remote, base=_confirmed_base(base, compared, theirs))
    context.result.confirmed_fields += len(compared.confirmed)
    if live is not None and (compared.confirmed or compared.conflicts):
        context.restage.add(live.id)
    if live is not None and compared.conflicts:
        context.conflicts[known.handle] = compared.conflicts
    if not compared.pulled and not compared.conflicts:
        _withdraw_pull_row(context.session, context.store.id, known.handle)
        context.result.unchanged += 1
        return
    if compared.pulled and live is not None:
        _put_pull_row(
            context.session,
            context.store,
            known.handle,
            live.id,
            "update",
            compared.pulled,
            context.job_id,
            remote=theirs,
        )
        context.result.pulled += 1
    else:
        _withdraw_pull_row(context.session, context.store.id, known.handle)


def _confirmed_base(base: ProductSnapshot, compared: ThreeWay, theirs: ProductSnapshot) -> Any:
    if not compared.confirmed:
        return base
    return snapshots.with_fields(base, compared.confirmed, theirs)


def _first_sight(
    context: _Context, remote: RemoteProduct, known: StoreProduct | None, live: Product | None
) -> None:
    """A remote product without a base: adopted when the catalog has its handle, else a
    product someone made in Shopify, staged as a pull create."""
    theirs = remote_snapshot(remote, None)
    if live is not None:
        if known is None:
            known = StoreProduct(store_id=context.store.id, handle=remote.handle)
            context.session.add(known)
        known.product_id = live.id
        _remember(known, remote, base=theirs)
        context.restage.add(live.id)
        context.result.adopted += 1
        return
    if _rejected_create(context.session, context.store.id, remote.handle):
        context.result.unchanged += 1
        return
    if known is None:  # remembered without a base: its ids, for when it is approved
        known = StoreProduct(store_id=context.store.id, handle=remote.handle)
        context.session.add(known)
    _remember(known, remote, base=None)
    changes = snapshots.diff({}, snapshots.fields_of(theirs))
    _put_pull_row(
        context.session,
        context.store,
        remote.handle,
        None,
        "create",
        changes,
        context.job_id,
        remote=theirs,
    )
    context.result.creates += 1


def _remember(known: StoreProduct, remote: RemoteProduct, *, base: ProductSnapshot | None) -> None:
    ids = RemoteIds(
        remote.id,
        {v.sku: v.id for v in remote.variants if v.sku},
        {v.sku: v.inventory_item_id for v in remote.variants if v.sku},
    )
    known.base = snapshots.to_json(base) if base is not None else None
    known.shopify_product_id = ids.product_id
    known.variant_ids = dict(ids.variant_ids)
    known.inventory_item_ids = dict(ids.inventory_item_ids)
    known.remote_updated_at = remote.updated_at
    known.pulled_at = datetime.now(UTC)


def _rejected_create(session: Session, store_id: int, handle: str) -> bool:
    return (
        session.scalar(
            select(SyncStaging.id).where(
                SyncStaging.store_id == store_id,
                SyncStaging.direction == PULL,
                SyncStaging.operation_type == "create",
                SyncStaging.handle == handle,
                SyncStaging.status == StagedChangeStatus.REJECTED,
            )
        )
        is not None
    )


# Rows -------------------------------------------------------------------------------------------


def _open_pull_row(session: Session, store_id: int, handle: str) -> SyncStaging | None:
    return session.scalar(
        select(SyncStaging).where(
            SyncStaging.store_id == store_id,
            SyncStaging.direction == PULL,
            SyncStaging.handle == handle,
            SyncStaging.status.in_(OPEN_PULL),
        )
    )


def _put_pull_row(
    session: Session,
    store: Store,
    handle: str,
    product_id: int | None,
    operation: str,
    changes: dict[str, Any],
    job_id: int | None,
    *,
    remote: ProductSnapshot | None = None,
) -> None:
    """Stage a pull change, keeping the row (and its decision) if it shows the same thing."""
    previous = _open_pull_row(session, store.id, handle)
    if previous is not None:
        if previous.operation_type == operation and previous.changes == changes:
            return
        session.delete(previous)
    session.add(
        SyncStaging(
            sync_job_id=job_id,
            product_id=product_id,
            store_id=store.id,
            handle=handle,
            direction=PULL,
            operation_type=operation,
            changes=changes,
            desired=snapshots.to_json(remote) if remote is not None else None,
            status=StagedChangeStatus.PENDING,
        )
    )


def _withdraw_pull_row(session: Session, store_id: int, handle: str) -> None:
    previous = _open_pull_row(session, store_id, handle)
    if previous is not None:
        session.delete(previous)


def _restage(context: _Context) -> None:
    """Refresh the push rows of products whose base moved, then mark the conflicts on them."""
    if not context.restage:
        return
    context.session.flush()
    stage_push(
        context.session,
        context.store,
        product_ids=sorted(context.restage),
        within_job=context.job_id,
    )
    context.session.flush()
    for handle, conflicts in context.conflicts.items():
        row = open_push_row(context.session, context.store.id, handle)
        if row is not None:
            mark_conflict(row, conflicts)
            context.result.conflicts += 1


def open_push_row(session: Session, store_id: int, handle: str) -> SyncStaging | None:
    return session.scalar(
        select(SyncStaging).where(
            SyncStaging.store_id == store_id,
            SyncStaging.direction == PUSH,
            SyncStaging.handle == handle,
            SyncStaging.status.in_(OPEN_PUSH),
        )
    )


def mark_conflict(row: SyncStaging, conflicts: FieldDiff, reason: str | None = None) -> None:
    """Hold a push change back: the fields both sides changed, with Shopify's values, wait for
    a person's resolution."""
    changes = {name: dict(change) for name, change in (row.changes or {}).items()}
    for name, remote in values_of(conflicts, "remote").items():
        changes.setdefault(name, {"old": conflicts[name]["old"], "new": conflicts[name]["new"]})
        changes[name]["remote"] = remote
    row.changes = changes
    row.conflict_fields = sorted(conflicts)
    row.status = StagedChangeStatus.CONFLICT
    row.error = reason
