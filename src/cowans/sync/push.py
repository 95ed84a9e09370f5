"""Pushing approved changes: from staged rows to planner changes, and outcomes back to rows.

A staged change carries the snapshot that was reviewed (`desired`); the store's row carries the
base and the Shopify ids. After a run, each change is `applied` (its snapshot becomes the new
base, with the ids Shopify gave), `failed` with Shopify's reason, or a `conflict` when Shopify
refused because the store changed since the base. Every write is idempotent (productSet by
handle, stock with changeFromQuantity and an idempotency key from the change), so a push that
is run again after a crash applies nothing twice.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, defer

from cowans.catalog.snapshot import ProductSnapshot
from cowans.db.models import StagedChangeStatus, StoreProduct, SyncStaging
from cowans.shopify.bulk import COLLECTIONS, MEDIA, METAFIELDS, PRODUCT_PARTS
from cowans.shopify.products import RemoteProduct
from cowans.sync import snapshots
from cowans.sync.changes import Operation, ProductChange, RemoteIds
from cowans.sync.planner import WorkKind, is_structural
from cowans.sync.runner import RunReport
from cowans.sync.snapshots import FieldDiff
from cowans.sync.three_way import compare, is_stock, remote_snapshot

PUSH = "push"
ID_CHUNK = 1000  # ids or handles per IN list


def change_id(row_id: int) -> str:
    return f"staged-{row_id}"


def _approved(store_id: int) -> ColumnElement[bool]:
    return and_(
        SyncStaging.store_id == store_id,
        SyncStaging.direction == PUSH,
        SyncStaging.status == StagedChangeStatus.APPROVED,
    )


def approved_ids(
    session: Session, store_id: int, ids: Sequence[int] | None = None
) -> list[tuple[int, int | None]]:
    """The ids of the store's approved push changes (of `ids` only, if given), in order, each
    with the job that last took it: what a push claims before it loads them a window at a
    time."""
    statement = select(SyncStaging.id, SyncStaging.sync_job_id).where(_approved(store_id))
    if ids:
        statement = statement.where(SyncStaging.id.in_(list(ids)))
    taken = session.execute(statement.order_by(SyncStaging.id))
    return [(row_id, job_id) for row_id, job_id in taken]


def approved_changes(
    session: Session, store_id: int, ids: Sequence[int] | None = None
) -> list[tuple[SyncStaging, ProductChange]]:
    """The store's approved, unapplied push changes (those of `ids` only, if given). The rows
    come without their JSON (the change holds the snapshot, as a push needs it): a push keeps
    them until their outcomes are written, and as dicts they were most of its memory."""
    statement = (
        select(SyncStaging, SyncStaging.desired)
        .options(defer(SyncStaging.desired), defer(SyncStaging.changes))
        .where(_approved(store_id))
        .order_by(SyncStaging.id)
    )
    if ids:
        ordered = sorted(set(ids))
        chunks = (ordered[at : at + ID_CHUNK] for at in range(0, len(ordered), ID_CHUNK))
        rows = [
            pair
            for chunk in chunks
            for pair in session.execute(statement.where(SyncStaging.id.in_(chunk))).all()
        ]
    else:
        rows = list(session.execute(statement).all())
    known = _store_products(session, store_id, [row.handle for row, _ in rows])
    return [(row, _change(row, desired, known.get(row.handle))) for row, desired in rows]


def _store_products(
    session: Session, store_id: int, handles: list[str], *, with_base: bool = True
) -> dict[str, StoreProduct]:
    """The store's rows of these products; `with_base=False` leaves their base unread, for a
    caller that only replaces it."""
    statement = select(StoreProduct)
    if not with_base:
        statement = statement.options(defer(StoreProduct.base))
    found: dict[str, StoreProduct] = {}
    for start in range(0, len(handles), ID_CHUNK):
        chunk = handles[start : start + ID_CHUNK]
        found.update(
            (row.handle, row)
            for row in session.scalars(
                statement.where(StoreProduct.store_id == store_id, StoreProduct.handle.in_(chunk))
            )
        )
    return found


def _change(
    row: SyncStaging, desired: dict[str, Any] | None, known: StoreProduct | None
) -> ProductChange:
    remote = None
    if known is not None and known.shopify_product_id:
        remote = RemoteIds(
            known.shopify_product_id, dict(known.variant_ids), dict(known.inventory_item_ids)
        )
    return ProductChange(
        change_id=change_id(row.id),
        operation=Operation(row.operation_type),
        handle=row.handle,
        desired=snapshots.from_json(desired) if desired else None,
        base=snapshots.from_json(known.base) if known is not None and known.base else None,
        remote=remote,
    )


@dataclass
class PushOutcome:
    applied: int = 0
    failed: int = 0
    conflicts: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)


def record_outcomes(
    session: Session,
    store_id: int,
    pushed: Iterable[tuple[SyncStaging, ProductChange]],
    report: RunReport,
) -> PushOutcome:
    """Write what happened to each change: its row's status, and the store's new base."""
    remote_ids = {
        outcome.work.handle: RemoteIds.from_product(outcome.payload["product"])
        for outcome in report.outcomes
        if outcome.ok
        and outcome.work.kind is WorkKind.PRODUCT_SET
        and (outcome.payload or {}).get("product")
    }
    failures: dict[str, list[str]] = report.failed_changes()
    conflicted = {o.work.change_id for o in report.outcomes if o.conflict}
    result = PushOutcome()
    now = datetime.now(UTC)
    pairs = list(pushed)
    known = _store_products(
        session, store_id, [change.handle for _, change in pairs], with_base=False
    )
    for row, change in pairs:
        errors = failures.get(change.change_id)
        if errors:
            conflict = change.change_id in conflicted
            row.status = StagedChangeStatus.CONFLICT if conflict else StagedChangeStatus.FAILED
            row.error = "; ".join(dict.fromkeys(errors))[:2000]
            result.conflicts += conflict
            result.failed += not conflict
            result.errors.append({"handle": change.handle, "error": row.error})
            continue
        row.status, row.applied_at, row.error = StagedChangeStatus.APPLIED, now, None
        _new_base(session, store_id, row, change, known.get(change.handle), remote_ids, now)
        result.applied += 1
    session.flush()
    return result


def _new_base(
    session: Session,
    store_id: int,
    row: SyncStaging,
    change: ProductChange,
    known: StoreProduct | None,
    remote_ids: dict[str, RemoteIds],
    moment: datetime,
) -> None:
    if change.operation is Operation.DELETE:
        if known is not None:
            session.delete(known)
        return
    if known is None:
        known = StoreProduct(store_id=store_id, handle=change.handle)
        session.add(known)
    assert change.desired is not None
    known.product_id = row.product_id
    known.base = snapshots.to_json(change.desired)
    known.pushed_at = moment
    ids = remote_ids.get(change.handle)
    if ids is not None:
        known.shopify_product_id = ids.product_id
        known.variant_ids = dict(ids.variant_ids)
        known.inventory_item_ids = dict(ids.inventory_item_ids)
    row.shopify_product_id = known.shopify_product_id


# The check before a push ------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteCheck:
    """What to do with an approved change, given what Shopify shows now: send `send` (the
    change, adjusted to leave Shopify's own edits alone), hold it back as a conflict, or
    nothing at all (`already_done`: a delete of what is gone). `vanished`: an update of a
    product deleted in Shopify, flagged by a pull delete instead of being recreated."""

    send: ProductChange | None = None
    conflicts: FieldDiff = field(default_factory=dict)
    already_done: bool = False
    vanished: bool = False


def guarded_by_its_writes(change: ProductChange) -> bool:
    """An update that only moves stock of variants the store has: its one write,
    inventorySetQuantities with changeFromQuantity, is compare-and-set, so Shopify itself
    refuses it (a conflict) where the stock moved since the base. Reading the product first
    would tell nothing more, as long as this system never sent the change before (a resumed
    push must read: its earlier attempt may have applied it)."""
    base, desired, remote = change.base, change.desired, change.remote
    if change.operation is not Operation.UPDATE or base is None or desired is None:
        return False
    if remote is None or any(v.sku not in remote.inventory_item_ids for v in desired.variants):
        return False
    changed = snapshots.diff(snapshots.fields_of(base), snapshots.fields_of(desired))
    return bool(changed) and all(is_stock(name) for name in changed)


def parts_to_read(changes: Iterable[ProductChange]) -> frozenset[str]:
    """The product lists (`shopify.bulk.PRODUCT_PARTS`) a check of these changes must read:
    those a change writes. A list nobody writes cannot be overwritten, so it need not be read
    (`check_against_remote(unread=...)` takes it as the base has it)."""
    parts: set[str] = set()
    for change in changes:
        if change.operation is not Operation.UPDATE or change.base is None:
            continue
        assert change.desired is not None
        if is_structural(change.base, change.desired):
            return PRODUCT_PARTS  # productSet sends the whole product
        changed = snapshots.diff(
            snapshots.fields_of(change.base), snapshots.fields_of(change.desired)
        )
        parts.update(part for name in changed if (part := _part_of(name)) is not None)
    return frozenset(parts)


def _part_of(field_name: str) -> str | None:
    if field_name.startswith("metafields."):
        return METAFIELDS
    return {"images": MEDIA, "collections": COLLECTIONS}.get(field_name)


def check_against_remote(
    change: ProductChange,
    remote: RemoteProduct | None,
    locations: Collection[str] | None = None,
    unread: Collection[str] = (),
) -> RemoteCheck:
    """Compare an update with the product as Shopify has it now, three ways. A field Shopify
    changed that the change also changes, differently, is a conflict; one only Shopify changed
    is kept as Shopify has it (the change is planned from Shopify's state, so stock is set
    compare-and-set against what is there). Images are not merged: an edit of them in Shopify
    holds the change back, since re-sending Shopify's own image addresses would add copies.
    `unread`: product lists the read left out (see `parts_to_read`), taken as the base has
    them."""
    if change.operation is Operation.CREATE:
        return RemoteCheck(send=change)
    if change.operation is Operation.DELETE:
        return RemoteCheck(already_done=True) if remote is None else RemoteCheck(send=change)
    if remote is None:
        return RemoteCheck(vanished=True)
    assert change.base is not None
    assert change.desired is not None
    theirs = _lend_unread(remote_snapshot(remote, change.base), change.base, unread)
    compared = compare(change.base, change.desired, theirs, locations)
    conflicts = dict(compared.conflicts)
    if "images" in compared.remote_changed and "images" not in conflicts:
        conflicts["images"] = {
            "old": snapshots.fields_of(change.base)["images"],
            "new": snapshots.fields_of(change.desired)["images"],
            "remote": compared.remote_changed["images"],
        }
    if conflicts:
        return RemoteCheck(conflicts=conflicts)
    ids = RemoteIds(
        remote.id,
        {v.sku: v.id for v in remote.variants if v.sku},
        {v.sku: v.inventory_item_id for v in remote.variants if v.sku},
    )
    return RemoteCheck(
        send=replace(
            change,
            desired=snapshots.with_fields(change.desired, compared.remote_only, theirs),
            base=snapshots.with_fields(change.base, compared.remote_changed, theirs),
            remote=ids,
        )
    )


def _lend_unread(
    theirs: ProductSnapshot, base: ProductSnapshot, unread: Collection[str]
) -> ProductSnapshot:
    lent: dict[str, Any] = {}
    if METAFIELDS in unread:
        lent["metafields"] = base.metafields
    if MEDIA in unread:
        lent["images"] = base.images
    if COLLECTIONS in unread:
        lent["collections"] = base.collections
    return replace(theirs, **lent) if lent else theirs
