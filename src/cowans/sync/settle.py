"""What a decision on a remote change does: to the catalog, to the base, to the push.

- An approved pull change reaches the catalog at once (a create makes the product), locked like
  a person's edit; the base takes Shopify's values, since Shopify has them.
- A rejected pull update moves the base as well: staging then shows the push that restores
  the catalog's values, for review. A rejected pull delete forgets the base, so staging offers
  to create the product again.
- A conflict resolution settles each field: `local` keeps the catalog's value, `remote` takes
  Shopify's into the catalog, `{"value": v}` puts v in both. Either way the base takes the
  remote value that was seen, so the push overwrites exactly what the person looked at, and a
  later edit in Shopify is a conflict again.
Some fields have no place in the catalog (collections follow the product type, stock belongs
to Xorosoft, `compare_at_price`): taking Shopify's value for them changes only this push and
the base; the next import may propose the catalog's value again.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowans.catalog.editing import (
    apply_reviewed_values,
    create_reviewed_product,
    delete_product,
    load_product,
)
from cowans.catalog.snapshot import ProductSnapshot
from cowans.db.models import Product, StagedChangeStatus, Store, StoreProduct, SyncStaging
from cowans.errors import InvalidInput, NotFound
from cowans.sync import snapshots
from cowans.sync.errors import SyncErrorCode
from cowans.sync.staging import stage_push
from cowans.sync.three_way import is_stock

SOURCE = "shopify"
PRODUCT_FIELDS = snapshots.PRODUCT_FIELDS
CATALOG_VARIANT_FIELDS = ("price", "barcode", "inventory_policy", "weight_grams", "taxable")

Resolution = str | Mapping[str, Any]


# Pull changes -----------------------------------------------------------------------------------


def settle_pull(session: Session, row: SyncStaging, *, approved: bool, user_id: int) -> None:
    """Carry out a decision on a pull change (the row's status is the caller's)."""
    store = session.get(Store, row.store_id)
    known = _store_product(session, row.store_id, row.handle)
    assert store is not None
    if row.operation_type == "create":
        if approved:
            _create(session, store, row, known, user_id)
    elif row.operation_type == "delete":
        _delete(session, store, row, known, approved=approved, user_id=user_id)
    else:
        _update(session, store, row, known, approved=approved, user_id=user_id)


def _update(
    session: Session,
    store: Store,
    row: SyncStaging,
    known: StoreProduct | None,
    *,
    approved: bool,
    user_id: int,
) -> None:
    theirs = snapshots.from_json(row.desired) if row.desired else None
    remote_values = {name: change.get("new") for name, change in (row.changes or {}).items()}
    product = _live_product(session, row.product_id)
    if approved and product is not None:
        values = catalog_values(remote_values, product)
        if values:
            apply_reviewed_values(session, product, values, user_id, SOURCE)
    if known is not None and known.base:
        base = snapshots.from_json(known.base)
        known.base = snapshots.to_json(snapshots.with_fields(base, remote_values, theirs))
    if product is not None:
        _restage(session, store, row, product.id)


def _create(
    session: Session, store: Store, row: SyncStaging, known: StoreProduct | None, user_id: int
) -> None:
    assert row.desired is not None
    theirs = snapshots.from_json(row.desired)
    product = create_reviewed_product(
        session, row.handle, snapshot_values(theirs, store.location_map or {}), user_id, SOURCE
    )
    session.refresh(product, ["variants", "images", "metafields"])
    if known is None:
        known = StoreProduct(store_id=store.id, handle=row.handle)
        session.add(known)
    known.product_id = product.id
    known.base = snapshots.to_json(snapshots.desired_snapshot(product, store.location_map or {}))
    row.product_id = product.id
    session.flush()
    # What the catalog could not take (extra variants, other metafields) shows as a push.
    _restage(session, store, row, product.id)


def _delete(
    session: Session,
    store: Store,
    row: SyncStaging,
    known: StoreProduct | None,
    *,
    approved: bool,
    user_id: int,
) -> None:
    product = _live_product(session, row.product_id)
    if known is not None:
        session.delete(known)
        session.flush()
    if approved and product is not None:
        delete_product(session, product.id, user_id)
    if product is not None:
        _restage(session, store, row, product.id)


def _restage(session: Session, store: Store, row: SyncStaging, product_id: int) -> None:
    """The product's push as the decision left it, staged as part of the pull that found
    the change (no staging job per decision)."""
    stage_push(session, store, product_ids=[product_id], within_job=row.sync_job_id)


# Conflict resolutions ---------------------------------------------------------------------------


def resolve_conflict(
    session: Session, row: SyncStaging, resolution: Mapping[str, Resolution] | None, user_id: int
) -> bool:
    """Settle every conflicting field of a push change; False (nothing changed) when a field
    has no resolution. The row's `changes` become what the push will now send."""
    fields = list(row.conflict_fields or [])
    if not fields:
        return True  # Shopify refused a stale write: approving again means "check and retry"
    if not resolution or not set(fields) <= set(resolution):
        return False
    changes = row.changes or {}
    chosen: dict[str, Any] = {}
    seen: dict[str, Any] = {}
    for name in fields:
        remote = changes.get(name, {}).get("remote")
        seen[name] = remote
        chosen[name] = _chosen_value(row, name, resolution[name], changes.get(name, {}), remote)
    store = session.get(Store, row.store_id)
    assert store is not None
    product = _live_product(session, row.product_id)
    taken = {name: value for name, value in chosen.items() if resolution[name] != "local"}
    if product is not None and taken:
        values = catalog_values(taken, product)
        if values:
            apply_reviewed_values(session, product, values, user_id, "user")
    _acknowledge(session, row, seen, chosen)
    for name in fields:
        choice = resolution[name]
        changes.setdefault(name, {})["resolution"] = choice if isinstance(choice, str) else "value"
    return True


def _chosen_value(
    row: SyncStaging, name: str, choice: Resolution, change: Mapping[str, Any], remote: Any
) -> Any:
    if choice == "local":
        return change.get("new")
    if choice == "remote":
        return remote
    if isinstance(choice, Mapping) and "value" in choice:
        return entered_value(row, name, choice["value"])
    raise InvalidInput(
        SyncErrorCode.INVALID_RESOLUTION,
        f"Change {row.id}, field {name}: resolve with local, remote or {{'value': ...}}.",
    )


STATUSES = ("active", "draft", "archived")
INVENTORY_POLICIES = ("deny", "continue")
DECIMAL_VARIANT_FIELDS = ("price", "compare_at_price", "weight_grams")


def entered_value(row: SyncStaging, name: str, value: Any) -> Any:
    """A value a person typed for a field, in the field's flat form (prices as plain strings,
    stock as whole numbers), or a clear 422: a typo must not reach the catalog, the push or a
    500."""

    def refuse(expected: str) -> InvalidInput:
        return InvalidInput(
            SyncErrorCode.INVALID_RESOLUTION,
            f"Change {row.id} ({row.handle}), {name}: enter {expected}.",
            {"id": row.id, "field": name},
        )

    attribute = name.rsplit(".", 1)[-1]
    if is_stock(name):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise refuse("a whole number of items")
        try:
            return int(str(value).strip())
        except ValueError:
            raise refuse("a whole number of items") from None
    if name.startswith("variants.") and attribute in DECIMAL_VARIANT_FIELDS:
        if value is None or value == "":
            if attribute == "price":
                raise refuse("a price such as 12.50")
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if isinstance(value, bool) or not number.is_finite() or number < 0:
            what = "a weight in grams" if attribute == "weight_grams" else "a price such as 12.50"
            raise refuse(what) from None
        return format(number.normalize(), "f")
    if name.startswith("variants.") and attribute == "taxable":
        if not isinstance(value, bool):
            raise refuse("true or false")
        return value
    if name.startswith("variants.") and attribute == "inventory_policy":
        if value not in INVENTORY_POLICIES:
            raise refuse("deny or continue")
        return value
    if name in ("tags", "collections"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise refuse("a list of words")
        return sorted({v.strip() for v in value if v.strip()})
    if name == "images":
        pairs = isinstance(value, list) and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) for v in p)
            for p in value
        )
        if not pairs:
            raise refuse("a list of [address, alt text] pairs")
        return value
    if name == "status":
        if value not in STATUSES:
            raise refuse("active, draft or archived")
        return value
    if name.startswith("metafields.") and value is None:
        return None  # removes the metafield
    if not isinstance(value, str):
        raise refuse("text")
    return value


def _acknowledge(
    session: Session, row: SyncStaging, seen: dict[str, Any], chosen: dict[str, Any]
) -> None:
    """The base takes the remote values the person saw; the change sends the chosen ones."""
    known = _store_product(session, row.store_id, row.handle)
    base = snapshots.from_json(known.base) if known is not None and known.base else None
    if known is not None and base is not None:
        base = snapshots.with_fields(base, seen)
        known.base = snapshots.to_json(base)
    desired: ProductSnapshot | None = snapshots.from_json(row.desired) if row.desired else None
    if desired is not None:
        desired = snapshots.with_fields(desired, chosen, base)
        row.desired = snapshots.to_json(desired)
    fresh = snapshots.diff(snapshots.fields_of(base), snapshots.fields_of(desired))
    for name, change in fresh.items():
        previous = (row.changes or {}).get(name, {})
        if "remote" in previous:
            change["remote"] = previous["remote"]
    row.changes = fresh
    row.conflict_fields = []
    if not fresh and row.operation_type == "update":
        row.status, row.applied_at = StagedChangeStatus.APPLIED, datetime.now(UTC)


# Catalog field names ----------------------------------------------------------------------------


def catalog_values(values: Mapping[str, Any], product: Product) -> dict[str, Any]:
    """Flat snapshot fields as catalog fields, for those the catalog keeps (never stock:
    Xorosoft owns it)."""
    first = product.variants[0] if product.variants else None
    result: dict[str, Any] = {}
    specifications: dict[str, Any] | None = None
    for name, value in values.items():
        if name in PRODUCT_FIELDS:
            result[name] = list(value or []) if name == "tags" else value
        elif name == "images":
            result["images"] = [
                [src, index + 1, alt] for index, (src, alt) in enumerate(value or [])
            ]
        elif name.startswith(f"metafields.{snapshots.SPECIFICATION_NAMESPACE}."):
            if specifications is None:
                specifications = {
                    m.key: m.value
                    for m in product.metafields
                    if m.namespace == snapshots.SPECIFICATION_NAMESPACE
                }
            key = name.rsplit(".", 1)[-1]
            if value is None:
                specifications.pop(key, None)
            else:
                specifications[key] = _listed(value)
        elif first is not None and not is_stock(name):
            _variant_value(result, name, value, first.sku)
    if specifications is not None:
        result["specifications"] = [[key, _listed(v)] for key, v in specifications.items()]
    return result


def _variant_value(result: dict[str, Any], name: str, value: Any, sku: str) -> None:
    prefix = f"variants.{sku}."
    attribute = name.removeprefix(prefix)
    if name.startswith(prefix) and attribute in CATALOG_VARIANT_FIELDS:
        result[attribute] = snapshots.parsed_variant_value(attribute, value)


def _listed(value: Any) -> list[str]:
    """A specification's values: Shopify keeps a list metafield as a JSON array in a string."""
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(value)]


def snapshot_values(snapshot: ProductSnapshot, location_map: Mapping[str, str]) -> dict[str, Any]:
    """A whole remote product as catalog values, for a product made by hand in Shopify. The
    catalog keeps one variant per product: the first one."""
    reverse = {shop: xoro for xoro, shop in (location_map or {}).items()}
    values: dict[str, Any] = {name: getattr(snapshot, name) for name in PRODUCT_FIELDS}
    values["tags"] = list(snapshot.tags)
    values["images"] = [
        [image.src, index + 1, image.alt] for index, image in enumerate(snapshot.images)
    ]
    values["specifications"] = [
        [m.key, _listed(m.value)]
        for m in snapshot.metafields
        if m.namespace == snapshots.SPECIFICATION_NAMESPACE
    ]
    if snapshot.variants:
        variant = snapshot.variants[0]
        values |= {
            "sku": variant.sku,
            "price": variant.price,
            "barcode": variant.barcode,
            "inventory_policy": variant.inventory_policy,
            "weight_grams": variant.weight_grams,
            "taxable": variant.taxable,
            "inventory": {reverse.get(k, k): v for k, v in variant.inventory.items()},
            "option1_name": snapshot.option_names[0] if snapshot.option_names else "Title",
            "option1_value": variant.option_values[0] if variant.option_values else "",
        }
    return values


# Lookups ----------------------------------------------------------------------------------------


def _store_product(session: Session, store_id: int, handle: str) -> StoreProduct | None:
    return session.scalar(
        select(StoreProduct).where(StoreProduct.store_id == store_id, StoreProduct.handle == handle)
    )


def _live_product(session: Session, product_id: int | None) -> Product | None:
    """The catalog product, or None when there is none (any more)."""
    if product_id is None:
        return None
    try:
        return load_product(session, product_id)
    except NotFound:
        return None
