"""The GraphQL batch optimizer: the cheapest set of Shopify requests for a set of changes.

Each change is split into works, one per kind of Shopify operation that applies part of it:
- new products and structural changes (variants or options added/removed, images): `productSet`
  with a `handle` identifier, an idempotent upsert;
- scalar product fields: `productUpdate`; variant fields: `productVariantsBulkUpdate`, one work per
  product with all its variants; tags: `tagsAdd`/`tagsRemove`; metafields: `metafieldsSet`;
- collections (by title; `StoreConditions.collection_ids` knows their ids): a new product's are
  in its `productSet`; an update's moves are `collectionsToJoin`/`collectionsToLeave` of its
  `productUpdate`, the very call that changes the product type that usually causes them.
  (productSet's `collections` would replace the whole membership, and the async
  `collectionAddProductsV2`/`collectionRemoveProducts` would cost calls and a job to wait for);
- stock: `inventorySetQuantities` with `changeFromQuantity` (compare-and-set against the base)
  and an `@idempotent` key derived from the content, so a retry applies nothing twice;
- deletes: `productDelete`.
Works of a kind are then packed: stock up to 250 quantities a call, metafields up to 25, the rest
aliased several to a document within the query-cost cap; or, past a threshold that depends on the
strategy, sent as one bulk mutation, which costs almost no bucket points. The `naive` strategy
does what typical scripts do (three calls per product, one at a time) and exists only as a
benchmark baseline.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from cowans.catalog.snapshot import ProductSnapshot
from cowans.config import Settings
from cowans.shopify import mapping
from cowans.shopify.cost import estimate
from cowans.shopify.documents import Document, aliased, aliased_variables, load
from cowans.sync.changes import Operation, ProductChange

MAX_QUANTITIES_PER_CALL = 250
MAX_METAFIELDS_PER_CALL = 25
# What a bulk mutation costs in points: staged upload, start, a few polls.
BULK_PREDICTED_COST = 30
BULK_OVERHEAD_SECONDS = 1.5


class Strategy(StrEnum):
    SPEED = "speed"
    COST = "cost"
    BALANCED = "balanced"
    NAIVE = "naive"


class WorkKind(StrEnum):
    PRODUCT_SET = "product_set"
    PRODUCT_UPDATE = "product_update"
    VARIANTS = "variants"
    TAGS_ADD = "tags_add"
    TAGS_REMOVE = "tags_remove"
    METAFIELDS = "metafields"
    INVENTORY = "inventory"
    DELETE = "delete"


class Phase(IntEnum):
    """Structure first, then fields, then stock (it needs the variants), deletes last."""

    STRUCTURE = 1
    FIELDS = 2
    STOCK = 3
    DELETES = 4


DOCUMENTS = {
    WorkKind.PRODUCT_SET: "product_set",
    WorkKind.PRODUCT_UPDATE: "product_update",
    WorkKind.VARIANTS: "variants_bulk_update",
    WorkKind.TAGS_ADD: "tags_add",
    WorkKind.TAGS_REMOVE: "tags_remove",
    WorkKind.METAFIELDS: "metafields_set",
    WorkKind.INVENTORY: "inventory_set_quantities",
    WorkKind.DELETE: "product_delete",
}
PHASES = {
    WorkKind.PRODUCT_SET: Phase.STRUCTURE,
    WorkKind.INVENTORY: Phase.STOCK,
    WorkKind.DELETE: Phase.DELETES,
}
BULKABLE = frozenset(
    {
        WorkKind.PRODUCT_SET,
        WorkKind.PRODUCT_UPDATE,
        WorkKind.VARIANTS,
        WorkKind.TAGS_ADD,
        WorkKind.TAGS_REMOVE,
        WorkKind.METAFIELDS,
    }
)
ALIAS_LIMITS = {Strategy.SPEED: 25, Strategy.BALANCED: 10, Strategy.COST: 10, Strategy.NAIVE: 1}


@dataclass(frozen=True)
class StoreConditions:
    """What the planner knows of the store and the link to it."""

    location_ids: Mapping[str, str]
    bucket_maximum: float = 2000.0
    bucket_available: float = 2000.0
    restore_rate: float = 100.0
    max_request_cost: int = 1000
    latency_seconds: float = 0.1
    concurrency: int = 4
    bulk_rows_per_second: float = 500.0
    bulk_threshold: int | None = None  # works of a kind; overrides the strategy's own rule
    max_aliases: int = 50
    # Collection title -> id (shopify.collections): every title a change joins, and those it
    # leaves that still exist. A joined title missing here makes its change unplannable; a left
    # one is taken for deleted, since a product cannot be in a collection that is gone.
    collection_ids: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls, settings: Settings, location_ids: Mapping[str, str], **measured: Any
    ) -> "StoreConditions":
        """The planner's limits from GRAPHQL_MAX_COMPLEXITY and GRAPHQL_BATCH_SIZE; `measured`
        carries what the client knows of the store now (bucket, latency)."""
        return cls(
            location_ids,
            max_request_cost=settings.graphql_max_complexity,
            max_aliases=settings.graphql_batch_size,
            **measured,
        )


@dataclass(eq=False)  # identity: two works with equal fields are still two works
class Work:
    """One part of one change, for one kind of operation. `entries` are the inventory
    quantities or metafields it contributes to a shared call; other kinds use `variables`."""

    change_id: str
    handle: str
    kind: WorkKind
    variables: dict[str, Any] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    cost: int = 0


@dataclass
class Step:
    kind: WorkKind
    phase: Phase
    works: list[Work]
    document: Document
    variables: dict[str, Any] = field(default_factory=dict)
    bulk_lines: list[dict[str, Any]] | None = None
    predicted_cost: int = 0

    @property
    def is_bulk(self) -> bool:
        return self.bulk_lines is not None


@dataclass
class Plan:
    strategy: Strategy
    steps: list[Step]
    unplannable: dict[str, str]  # change id -> why
    predicted_seconds: float

    @property
    def predicted_cost(self) -> int:
        return sum(step.predicted_cost for step in self.steps)

    @property
    def request_count(self) -> int:
        return sum(4 if step.is_bulk else 1 for step in self.steps)

    def summary(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy.value,
            "predicted_cost": self.predicted_cost,
            "requests": self.request_count,
            "bulk_operations": sum(1 for step in self.steps if step.is_bulk),
            "predicted_seconds": round(self.predicted_seconds, 1),
            "unplannable": len(self.unplannable),
        }


# Works from changes ---------------------------------------------------------------------------


def is_structural(base: ProductSnapshot, desired: ProductSnapshot) -> bool:
    """Variants, options or images differ: the change is a productSet of the whole product."""
    return (
        base.option_names != desired.option_names
        or [v.sku for v in base.variants] != [v.sku for v in desired.variants]
        or [v.option_values for v in base.variants] != [v.option_values for v in desired.variants]
        or base.images != desired.images
    )


def collection_titles(changes: Sequence[ProductChange]) -> tuple[list[str], list[str]]:
    """(joined, left): the collection titles the changes put products in, which must exist
    before planning (`shopify.collections.ensure_collections`), and those they take products
    out of, which need only be found (`find_collections`: a deleted one is not brought back)."""
    joined: dict[str, None] = {}
    left: dict[str, None] = {}
    for change in changes:
        if change.desired is None or change.operation is Operation.DELETE:
            continue
        before = change.base.collections if change.base is not None else ()
        if change.operation is Operation.CREATE:
            before = ()
        joined.update(dict.fromkeys(t for t in change.desired.collections if t not in before))
        left.update(dict.fromkeys(t for t in before if t not in change.desired.collections))
    return list(joined), [title for title in left if title not in joined]


def _collection_ids(titles: Sequence[str], collection_ids: Mapping[str, str]) -> list[str]:
    missing = [title for title in titles if title not in collection_ids]
    if missing:
        names = ", ".join(repr(title) for title in missing)
        raise ValueError(f"No Shopify collection for {names}: not found, nor created")
    return [collection_ids[title] for title in titles]


def _membership(change: ProductChange, collection_ids: Mapping[str, str]) -> dict[str, list[str]]:
    """productUpdate fields moving the product between the collections its base and desired
    snapshots name (nothing when they name the same)."""
    base, desired = change.base, change.desired
    assert base is not None
    assert desired is not None
    joining = [title for title in desired.collections if title not in base.collections]
    leaving = [
        collection_ids[title]
        for title in base.collections
        if title not in desired.collections and title in collection_ids
    ]
    return mapping.collection_membership_input(_collection_ids(joining, collection_ids), leaving)


def _product_set_work(
    change: ProductChange,
    location_ids: Mapping[str, str],
    *,
    creating: bool,
    collection_ids: Mapping[str, str] | None = None,
) -> Work:
    """`collection_ids` is used on create only: an update moves collections by productUpdate."""
    desired = change.desired
    assert desired is not None
    known = set(change.remote.variant_ids) if change.remote else set()
    new_skus = None if creating else {v.sku for v in desired.variants if v.sku not in known}
    collections = _collection_ids(desired.collections, collection_ids or {}) if creating else []
    values = mapping.product_set_input(
        desired,
        location_ids,
        with_metafields=creating,
        stock_for_skus=new_skus,
        variant_ids=change.remote.variant_ids if change.remote else None,
        collection_ids=collections,
    )
    variables = {
        "identifier": {"handle": desired.handle},
        "input": values,
        "variants": max(1, len(desired.variants)),
    }
    return Work(change.change_id, change.handle, WorkKind.PRODUCT_SET, variables)


def _stock_entries(
    change: ProductChange, location_ids: Mapping[str, str], *, compare: bool
) -> list[dict[str, Any]]:
    base, desired, remote = change.base, change.desired, change.remote
    assert desired is not None
    assert remote is not None
    entries = []
    for variant in desired.variants:
        item = remote.inventory_item_ids.get(variant.sku)
        before = base.variant(variant.sku) if base else None
        if item is None or before is None:
            continue  # a new variant gets its stock from productSet
        for location, quantity in sorted(variant.inventory.items()):
            was = before.inventory.get(location, 0)
            if (quantity != was or not compare) and location in location_ids:
                entries.append(
                    {
                        "inventoryItemId": item,
                        "locationId": location_ids[location],
                        "quantity": quantity,
                        "changeFromQuantity": was if compare else None,
                    }
                )
    return entries


def _update_works(
    change: ProductChange, location_ids: Mapping[str, str], collection_ids: Mapping[str, str]
) -> list[Work]:
    base, desired, remote = change.base, change.desired, change.remote
    assert base is not None
    assert desired is not None
    assert remote is not None
    works: list[Work] = []

    def add(kind: WorkKind, **values: Any) -> None:
        works.append(Work(change.change_id, change.handle, kind, **values))

    membership = _membership(change, collection_ids)
    structural = is_structural(base, desired)
    if structural:
        works.append(_product_set_work(change, location_ids, creating=False))
        if membership:
            add(
                WorkKind.PRODUCT_UPDATE,
                variables={"product": {"id": remote.product_id, **membership}},
            )
    else:
        update = {**mapping.product_update_input(remote.product_id, base, desired), **membership}
        if len(update) > 1:
            add(WorkKind.PRODUCT_UPDATE, variables={"product": update})
        variants = [
            mapping.variant_update_input(remote.variant_ids[v.sku], before, v)
            for v in desired.variants
            if (before := base.variant(v.sku)) and mapping.variant_fields_changed(before, v)
        ]
        if variants:
            add(WorkKind.VARIANTS, variables={"productId": remote.product_id, "variants": variants})
        added = [t for t in desired.tags if t not in base.tags]
        removed = [t for t in base.tags if t not in desired.tags]
        if added:
            add(WorkKind.TAGS_ADD, variables={"id": remote.product_id, "tags": added})
        if removed:
            add(WorkKind.TAGS_REMOVE, variables={"id": remote.product_id, "tags": removed})
    base_fields = base.metafield_map()
    metafields = [
        {**mapping.metafield_input(m), "ownerId": remote.product_id}
        for key, m in desired.metafield_map().items()
        if base_fields.get(key) != m
    ]
    if metafields:
        add(WorkKind.METAFIELDS, entries=metafields)
    stock = _stock_entries(change, location_ids, compare=True)
    if stock:
        add(WorkKind.INVENTORY, entries=stock)
    return works


def _naive_works(
    change: ProductChange, location_ids: Mapping[str, str], collection_ids: Mapping[str, str]
) -> list[Work]:
    """A typical script: rewrite the product, then all its variants, then all its stock."""
    base, desired, remote = change.base, change.desired, change.remote
    assert base is not None
    assert desired is not None
    assert remote is not None
    empty = ProductSnapshot(handle=desired.handle, title="", status="")
    product = mapping.product_update_input(remote.product_id, empty, desired)
    product["tags"] = list(desired.tags)
    product.update(_membership(change, collection_ids))
    variants = [
        mapping.variant_update_input(remote.variant_ids[v.sku], mapping.blank_variant(v.sku), v)
        for v in desired.variants
        if v.sku in remote.variant_ids
    ]
    works = [
        Work(change.change_id, change.handle, WorkKind.PRODUCT_UPDATE, {"product": product}),
        Work(
            change.change_id,
            change.handle,
            WorkKind.VARIANTS,
            {"productId": remote.product_id, "variants": variants},
        ),
    ]
    stock = _stock_entries(change, location_ids, compare=False)
    if stock:
        works.append(Work(change.change_id, change.handle, WorkKind.INVENTORY, entries=stock))
    return works


def works_for(
    change: ProductChange,
    location_ids: Mapping[str, str],
    strategy: Strategy,
    collection_ids: Mapping[str, str] | None = None,
) -> list[Work]:
    """The works applying `change`; ValueError when it cannot be planned (why, for a person)."""
    collection_ids = collection_ids or {}
    if change.operation is Operation.CREATE:
        return [
            _product_set_work(change, location_ids, creating=True, collection_ids=collection_ids)
        ]
    if change.remote is None:
        raise ValueError(f"{change.handle} is not known in the store yet; it cannot be changed")
    if change.operation is Operation.DELETE:
        return [
            Work(
                change.change_id,
                change.handle,
                WorkKind.DELETE,
                {"input": {"id": change.remote.product_id}},
            )
        ]
    if strategy is Strategy.NAIVE:
        return _naive_works(change, location_ids, collection_ids)
    return _update_works(change, location_ids, collection_ids)


# Packing ---------------------------------------------------------------------------------------


def _work_cost(work: Work) -> int:
    document = load(DOCUMENTS[work.kind])
    return estimate(document, request_variables(work, [work]))


def request_variables(work: Work, group: Sequence[Work]) -> dict[str, Any]:
    """Variables of one request carrying the entries of `group` (or `work`'s own variables).
    Inventory and metafield works share calls; the other kinds send their own variables."""
    if work.kind is WorkKind.INVENTORY:
        quantities = [entry for member in group for entry in member.entries]
        return {
            "input": {"name": "available", "reason": "correction", "quantities": quantities},
            "key": _idempotency_key(group),
        }
    if work.kind is WorkKind.METAFIELDS:
        return {"metafields": [entry for member in group for entry in member.entries]}
    return work.variables


def _idempotency_key(group: Sequence[Work]) -> str:
    """The same stock moves from the same changes always get the same key, so a retry (even
    after a crash, from a replanned batch) is recognised by Shopify and applies nothing."""
    content = json.dumps(
        [[w.change_id, w.entries] for w in sorted(group, key=lambda w: w.change_id)], sort_keys=True
    )
    return "cowans-" + hashlib.sha256(content.encode()).hexdigest()[:40]


def _chunks_by_entries(works: list[Work], limit: int) -> list[list[Work]]:
    chunks: list[list[Work]] = [[]]
    size = 0
    for work in works:
        if size + len(work.entries) > limit and chunks[-1]:
            chunks.append([])
            size = 0
        chunks[-1].append(work)
        size += len(work.entries)
    return [chunk for chunk in chunks if chunk]


def _direct_steps(
    kind: WorkKind, works: list[Work], strategy: Strategy, conditions: StoreConditions
) -> list[Step]:
    phase = PHASES.get(kind, Phase.FIELDS)
    single = load(DOCUMENTS[kind])
    if kind in (WorkKind.INVENTORY, WorkKind.METAFIELDS):
        limit = MAX_QUANTITIES_PER_CALL if kind is WorkKind.INVENTORY else MAX_METAFIELDS_PER_CALL
        groups = (
            [[w] for w in works] if strategy is Strategy.NAIVE else _chunks_by_entries(works, limit)
        )
        return [
            Step(
                kind,
                phase,
                group,
                single,
                variables := request_variables(group[0], group),
                predicted_cost=estimate(single, variables),
            )
            for group in groups
        ]
    steps: list[Step] = []
    group: list[Work] = []
    budget = min(conditions.max_request_cost, conditions.bucket_maximum)
    alias_limit = min(ALIAS_LIMITS[strategy], conditions.max_aliases)
    for work in works:
        if group and (len(group) >= alias_limit or sum(w.cost for w in group) + work.cost > budget):
            steps.append(_aliased_step(kind, phase, group))
            group = []
        group.append(work)
    if group:
        steps.append(_aliased_step(kind, phase, group))
    return steps


def _aliased_step(kind: WorkKind, phase: Phase, group: list[Work]) -> Step:
    single = load(DOCUMENTS[kind])
    if len(group) == 1:
        return Step(kind, phase, group, single, group[0].variables, predicted_cost=group[0].cost)
    document = aliased(single, len(group))
    variables = aliased_variables([work.variables for work in group])
    return Step(
        kind, phase, group, document, variables, predicted_cost=estimate(document, variables)
    )


def _bulk_step(kind: WorkKind, works: list[Work]) -> Step:
    """One bulk mutation: a line per work (metafield works hold at most 25 entries each)."""
    lines = [request_variables(work, [work]) for work in works]
    phase = PHASES.get(kind, Phase.FIELDS)
    document = load(DOCUMENTS[kind])
    return Step(kind, phase, works, document, bulk_lines=lines, predicted_cost=BULK_PREDICTED_COST)


def _split(work: Work) -> list[Work]:
    """A work with more entries than one call takes becomes several works."""
    limit = {
        WorkKind.INVENTORY: MAX_QUANTITIES_PER_CALL,
        WorkKind.METAFIELDS: MAX_METAFIELDS_PER_CALL,
    }
    size = limit.get(work.kind)
    if size is None or len(work.entries) <= size:
        return [work]
    return [
        Work(work.change_id, work.handle, work.kind, entries=work.entries[start : start + size])
        for start in range(0, len(work.entries), size)
    ]


def _use_bulk(
    kind: WorkKind, works: list[Work], strategy: Strategy, conditions: StoreConditions
) -> bool:
    if kind not in BULKABLE or strategy is Strategy.NAIVE or len(works) < 2:
        return False
    if conditions.bulk_threshold is not None:
        return len(works) >= conditions.bulk_threshold
    direct_cost = sum(work.cost for work in works)
    if strategy is Strategy.COST:
        return direct_cost > 4 * BULK_PREDICTED_COST
    if strategy is Strategy.BALANCED:
        return direct_cost > conditions.bucket_maximum / 2
    # speed: bulk only when waiting for the bucket would take longer than the bulk itself
    waiting = max(0.0, direct_cost - conditions.bucket_available) / conditions.restore_rate
    return waiting > BULK_OVERHEAD_SECONDS + len(works) / conditions.bulk_rows_per_second


def plan_changes(
    changes: Sequence[ProductChange], strategy: Strategy, conditions: StoreConditions
) -> Plan:
    by_kind: dict[WorkKind, list[Work]] = {}
    unplannable: dict[str, str] = {}
    for change in changes:
        try:
            works = works_for(change, conditions.location_ids, strategy, conditions.collection_ids)
        except ValueError as exc:
            unplannable[change.change_id] = str(exc)
            continue
        for work in (part for whole in works for part in _split(whole)):
            work.cost = _work_cost(work)
            by_kind.setdefault(work.kind, []).append(work)
    steps: list[Step] = []
    for kind in WorkKind:
        works = by_kind.get(kind, [])
        if not works:
            continue
        if _use_bulk(kind, works, strategy, conditions):
            steps.append(_bulk_step(kind, works))
        else:
            steps += _direct_steps(kind, works, strategy, conditions)
    if strategy is Strategy.NAIVE:
        steps = _naive_order(steps)
    else:
        steps.sort(key=lambda step: step.phase)
    return Plan(strategy, steps, unplannable, _predicted_seconds(steps, strategy, conditions))


def _naive_order(steps: list[Step]) -> list[Step]:
    """A script goes product by product: all of one product's calls, then the next."""
    order: dict[str, int] = {}
    for step in steps:
        order.setdefault(step.works[0].change_id, len(order))
    return sorted(steps, key=lambda s: (s.phase == Phase.DELETES, order[s.works[0].change_id]))


def _predicted_seconds(steps: list[Step], strategy: Strategy, conditions: StoreConditions) -> float:
    direct = [step for step in steps if not step.is_bulk]
    cost = sum(step.predicted_cost for step in direct)
    waiting = max(0.0, cost - conditions.bucket_available) / conditions.restore_rate
    concurrency = 1 if strategy is Strategy.NAIVE else conditions.concurrency
    round_trips = len(direct) * conditions.latency_seconds / concurrency
    bulk = max(
        (
            BULK_OVERHEAD_SECONDS + len(s.bulk_lines or []) / conditions.bulk_rows_per_second
            for s in steps
            if s.is_bulk
        ),
        default=0.0,
    )
    return max(waiting, round_trips) + bulk
