"""What a push would cost, predicted before it starts, without asking Shopify.

The push page shows the planner's prediction (points, requests, bulk operations, seconds) for
the store's approved, unapplied changes while a person chooses the workers, the batch size and
the strategy. It is a prediction, not a dry run: it reads the approved rows and the store's base
snapshots exactly as a push does (`sync.push.approved_changes`) and plans them with the same
planner and limits (`jobs.push`), but it neither contacts Shopify nor writes anything. So it
cannot know what only Shopify knows at push time, and assumes instead that:

- Shopify still shows each product as its base (a push first compares every update with the
  store and holds back conflicts, which then cost nothing);
- every location and collection the changes name exists. Their real ids are unknown, so
  stand-in ids take their place: an id changes neither how many calls a plan makes nor what
  they cost, only what they say;
- products and variants the base knows have ids in the store (stand-ins where none was
  recorded), so an update is planned as an update, never as unplannable for want of an id.

Bulk operations are counted as the planner counts them (four requests each); their real number
of polls depends on how fast Shopify runs them.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from cowans.config import Settings
from cowans.db.models import Store
from cowans.sync.changes import Operation, ProductChange, RemoteIds
from cowans.sync.planner import (
    Plan,
    StoreConditions,
    Strategy,
    collection_titles,
    plan_changes,
)
from cowans.sync.push import approved_changes

UNPLANNABLE_SHOWN = 20  # reasons returned; the count covers all of them
STAND_IN = "gid://shopify/{kind}/preview-{number}"


@dataclass(frozen=True)
class PushSettings:
    """A push's knobs as the job reads them: `max_workers` bounds the concurrency the planner
    assumes, `batch_size` the products aliased into one request (None: GRAPHQL_BATCH_SIZE)."""

    strategy: Strategy
    min_workers: int
    max_workers: int
    batch_size: int | None = None


def predict_push(
    session: Session, store: Store, push: PushSettings, settings: Settings
) -> dict[str, Any]:
    """The plan summary (`Plan.summary()`) of the store's approved, unapplied push changes, with
    what was planned (`changes`, `operations`, `by_kind`) and why some could not be. A
    prediction: see the module's docstring for what it assumes. Reads only."""
    changes = [with_stand_in_ids(change) for _, change in approved_changes(session, store.id)]
    plan = plan_changes(changes, push.strategy, conditions_for(changes, push, settings))
    handles = {change.change_id: change.handle for change in changes}
    operations = Counter(change.operation.value for change in changes)
    return {
        "store_id": store.id,
        "changes": len(changes),
        **plan.summary(),
        "operations": {op.value: operations.get(op.value, 0) for op in Operation},
        "by_kind": by_kind(plan),
        "steps": len(plan.steps),
        "workers": {"min": push.min_workers, "max": push.max_workers},
        "batch_size": push.batch_size or settings.graphql_batch_size,
        "unplannable_changes": [
            {"staged_id": _staged_id(change_id), "handle": handles[change_id], "reason": reason}
            for change_id, reason in list(plan.unplannable.items())[:UNPLANNABLE_SHOWN]
        ],
    }


def conditions_for(
    changes: Iterable[ProductChange], push: PushSettings, settings: Settings
) -> StoreConditions:
    """The limits `jobs.push` plans with (settings, the pool's maximum as concurrency, the
    batch size as the alias limit), with stand-in ids for the locations and collections the
    changes name."""
    changes = list(changes)
    joined, left = collection_titles(changes)
    conditions = StoreConditions.from_settings(
        settings,
        _stand_ins("Location", _location_names(changes)),
        concurrency=push.max_workers,
        collection_ids=_stand_ins("Collection", [*joined, *left]),
    )
    if push.batch_size:
        conditions = replace(conditions, max_aliases=push.batch_size)
    return conditions


def with_stand_in_ids(change: ProductChange) -> ProductChange:
    """An update or delete of a product the base knows, with ids for it and its base's variants
    wherever the store's row recorded none: the push reads them from Shopify."""
    if change.operation is Operation.CREATE or change.base is None:
        return change
    known = change.remote or RemoteIds(STAND_IN.format(kind="Product", number=change.change_id))
    variants, items = dict(known.variant_ids), dict(known.inventory_item_ids)
    for variant in change.base.variants:
        variants.setdefault(variant.sku, f"gid://shopify/ProductVariant/preview-{variant.sku}")
        items.setdefault(variant.sku, f"gid://shopify/InventoryItem/preview-{variant.sku}")
    return replace(change, remote=RemoteIds(known.product_id, variants, items))


def by_kind(plan: Plan) -> list[dict[str, Any]]:
    """Per kind of operation: works, requests (steps), bulk or not, and points, in plan order."""
    rows: dict[str, dict[str, Any]] = {}
    for step in plan.steps:
        row = rows.setdefault(
            step.kind.value,
            {"kind": step.kind.value, "works": 0, "steps": 0, "bulk": False, "predicted_cost": 0},
        )
        row["works"] += len(step.works)
        row["steps"] += 1
        row["bulk"] = row["bulk"] or step.is_bulk
        row["predicted_cost"] += step.predicted_cost
    return list(rows.values())


def _location_names(changes: Iterable[ProductChange]) -> list[str]:
    names: dict[str, None] = {}
    for change in changes:
        for snapshot in (change.base, change.desired):
            for variant in snapshot.variants if snapshot is not None else ():
                names.update(dict.fromkeys(variant.inventory))
    return list(names)


def _stand_ins(kind: str, names: Iterable[str]) -> Mapping[str, str]:
    return {name: STAND_IN.format(kind=kind, number=n) for n, name in enumerate(names, 1)}


def _staged_id(change_id: str) -> int | None:
    number = change_id.removeprefix("staged-")
    return int(number) if number.isdigit() else None
