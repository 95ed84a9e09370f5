"""Collections in the push: a new product joins its type's collection in its productSet, a change
of type moves it with productUpdate, and a merchant's own collections are left alone."""

from dataclasses import replace
from typing import Any

import pytest

from cowans.catalog.snapshot import ProductSnapshot
from cowans.shopify.bulk import PollPolicy
from cowans.shopify.collections import ensure_collections, find_collections
from cowans.shopify.products import fetch_products_by_handles
from cowans.sync.changes import Operation, ProductChange, RemoteIds
from cowans.sync.planner import (
    Plan,
    StoreConditions,
    Strategy,
    WorkKind,
    collection_titles,
    plan_changes,
)
from cowans.sync.runner import PlanRunner, polling_bulk_runner
from shopify_emulator.app import EmulatorOptions
from tests.emulator.conftest import RunningEmulator
from tests.sync.harness import PushHarness, expected_state, product, shopify_state

LOCATIONS = {"Main Warehouse": "gid://shopify/Location/1"}
IDS = {
    "Paper": "gid://shopify/Collection/10",
    "Ink": "gid://shopify/Collection/11",
    "Pens": "gid://shopify/Collection/12",
}
QUICK_BULK = polling_bulk_runner(
    PollPolicy(first_seconds=0.05, max_seconds=0.2, timeout_seconds=60)
)
MERCHANT_JOIN = """
mutation Join($product: ProductUpdateInput!) {
  productUpdate(product: $product) { userErrors { field message } }
}
"""
MERCHANT_CREATE = """
mutation Create($collection: CollectionCreateInput!) {
  collectionCreate(collection: $collection) { collection { id } userErrors { field message } }
}
"""


def typed(snapshot: ProductSnapshot, product_type: str | None = None) -> ProductSnapshot:
    """The snapshot as the catalog makes it: in the one collection named after its type."""
    kind = product_type or snapshot.product_type
    return replace(snapshot, product_type=kind, collections=(kind,))


def remote(handle: str) -> RemoteIds:
    return RemoteIds(f"gid://shopify/Product/{len(handle)}")


def create(handle: str, **fields: Any) -> ProductChange:
    desired = typed(product(handle), **fields)
    return ProductChange(f"create-{handle}", Operation.CREATE, handle, desired)


def update(base: ProductSnapshot, desired: ProductSnapshot) -> ProductChange:
    handle = base.handle
    return ProductChange(
        f"update-{handle}", Operation.UPDATE, handle, desired, base, remote(handle)
    )


def plan(changes: list[ProductChange], strategy: Strategy = Strategy.BALANCED, **kw: Any) -> Plan:
    conditions = StoreConditions(LOCATIONS, collection_ids=IDS, **kw)
    return plan_changes(changes, strategy, conditions)


def works_of(planned: Plan, kind: WorkKind) -> list[dict[str, Any]]:
    return [w.variables for s in planned.steps if s.kind is kind for w in s.works]


# Planning ---------------------------------------------------------------------------------------


def test_a_create_names_its_collections_in_product_set() -> None:
    planned = plan([create("copy-paper")])
    (variables,) = works_of(planned, WorkKind.PRODUCT_SET)
    assert variables["input"]["collections"] == [IDS["Paper"]]


def test_a_product_without_type_joins_nothing() -> None:
    desired = replace(product("blank"), product_type="", collections=())
    planned = plan([ProductChange("c", Operation.CREATE, "blank", desired)])
    (variables,) = works_of(planned, WorkKind.PRODUCT_SET)
    assert "collections" not in variables["input"]


def test_a_title_without_id_fails_only_its_own_change() -> None:
    planned = plan([create("stapler", product_type="Staplers"), create("copy-paper")])
    assert list(planned.unplannable) == ["create-stapler"]
    assert "'Staplers'" in planned.unplannable["create-stapler"]
    assert [w.handle for s in planned.steps for w in s.works] == ["copy-paper"]


def test_a_type_change_moves_membership_in_the_same_product_update() -> None:
    base = typed(product("cartridge"))
    desired = typed(base, "Ink")
    planned = plan([update(base, desired)])
    assert [step.kind for step in planned.steps] == [WorkKind.PRODUCT_UPDATE]
    (variables,) = works_of(planned, WorkKind.PRODUCT_UPDATE)
    assert variables["product"] == {
        "id": remote("cartridge").product_id,
        "productType": "Ink",
        "collectionsToJoin": [IDS["Ink"]],
        "collectionsToLeave": [IDS["Paper"]],
    }


def test_a_structural_change_moves_membership_apart_from_product_set() -> None:
    """productSet's `collections` replaces every membership, the merchant's too: not sent."""
    base = typed(product("binder", "B-1"))
    desired = typed(product("binder", "B-1", "B-2"), "Pens")
    planned = plan([update(base, desired)])
    (product_set,) = works_of(planned, WorkKind.PRODUCT_SET)
    assert "collections" not in product_set["input"]
    assert product_set["input"]["productType"] == "Pens"
    (moves,) = works_of(planned, WorkKind.PRODUCT_UPDATE)
    assert moves["product"] == {
        "id": remote("binder").product_id,
        "collectionsToJoin": [IDS["Pens"]],
        "collectionsToLeave": [IDS["Paper"]],
    }


def test_a_collection_left_that_no_longer_exists_is_not_an_error() -> None:
    base = replace(typed(product("pen")), collections=("Paper", "Discontinued"))
    desired = typed(base, "Pens")
    planned = plan([update(base, desired)])
    assert planned.unplannable == {}
    (variables,) = works_of(planned, WorkKind.PRODUCT_UPDATE)
    assert variables["product"]["collectionsToLeave"] == [IDS["Paper"]]


def test_a_collection_joined_without_id_makes_the_update_unplannable() -> None:
    base = typed(product("pen"))
    planned = plan([update(base, typed(base, "Markers"))])
    assert list(planned.unplannable) == ["update-pen"]
    assert planned.steps == []


def test_unchanged_collections_send_nothing() -> None:
    base = typed(product("pad"))
    planned = plan([update(base, replace(base, title="Legal Pad"))])
    (variables,) = works_of(planned, WorkKind.PRODUCT_UPDATE)
    assert variables["product"] == {"id": remote("pad").product_id, "title": "Legal Pad"}


def test_the_naive_baseline_moves_membership_too() -> None:
    base = typed(product("toner"))
    planned = plan([update(base, typed(base, "Ink"))], Strategy.NAIVE)
    (variables, *_) = works_of(planned, WorkKind.PRODUCT_UPDATE)
    assert variables["product"]["collectionsToJoin"] == [IDS["Ink"]]
    assert variables["product"]["collectionsToLeave"] == [IDS["Paper"]]


def test_membership_moves_go_in_bulk_like_any_product_update() -> None:
    moves = [update(b := typed(product(f"p-{n}")), typed(b, "Ink")) for n in range(3)]
    (step,) = plan(moves, bulk_threshold=2).steps
    assert step.is_bulk
    assert step.bulk_lines is not None
    assert all(line["product"]["collectionsToJoin"] == [IDS["Ink"]] for line in step.bulk_lines)


def test_the_titles_to_ensure_and_to_find() -> None:
    base = typed(product("pen"))
    changes = [
        create("copy-paper"),
        create("marker", product_type="Markers"),
        update(base, typed(base, "Pens")),
        update(b := typed(product("ink"), "Ink"), replace(b, title="Ink, Black")),
        ProductChange("d", Operation.DELETE, "gone", base=typed(product("gone"), "Gone")),
    ]
    assert collection_titles(changes) == (["Paper", "Markers", "Pens"], [])
    assert collection_titles(changes[2:]) == (["Pens"], ["Paper"])


# Pushing to the emulator ------------------------------------------------------------------------


def memberships(emulator: RunningEmulator) -> dict[str, list[str]]:
    """Each product's collections, read from both sides of the emulator's membership."""
    data = emulator.shop().data
    by_product = {
        p.handle: sorted(data.collections[n].title for n in p.collection_numbers)
        for p in data.products.values()
    }
    by_collection: dict[str, list[str]] = {handle: [] for handle in by_product}
    for collection in data.collections.values():
        for number in collection.product_numbers:
            by_collection[data.products[number].handle].append(collection.title)
    assert {h: sorted(t) for h, t in by_collection.items()} == by_product
    return by_product


async def push(
    harness: PushHarness, desired: list[ProductSnapshot], **conditions: Any
) -> dict[str, str]:
    """As the push job does: the collections joined exist, those left are found, then the plan
    runs."""
    changes = harness.changes(desired)
    joined, left = collection_titles(changes)
    ids = await ensure_collections(harness.client, joined)
    ids |= await find_collections(harness.client, left)
    planned = harness.plan(changes, collection_ids=ids, **conditions)
    assert planned.unplannable == {}
    report = await PlanRunner(harness.client, bulk=harness.bulk, concurrency=4).run(planned)
    harness.remember(changes, report)
    assert report.failed_changes() == {}
    return ids


@pytest.fixture
async def harness(emulator: RunningEmulator):
    harness = PushHarness(emulator)
    yield harness
    await harness.client.close()


@pytest.mark.anyio
async def test_creates_land_in_their_type_collection(
    harness: PushHarness, emulator: RunningEmulator
) -> None:
    catalog = [typed(product("copy-paper")), typed(product("gel-pen"), "Pens")]
    await push(harness, catalog)
    assert memberships(emulator) == {"copy-paper": ["Paper"], "gel-pen": ["Pens"]}
    assert shopify_state(emulator) == expected_state(catalog)
    read = await fetch_products_by_handles(harness.client, ["copy-paper", "gel-pen"])
    assert {h: p.collections for h, p in read.items()} == {
        "copy-paper": ("Paper",),
        "gel-pen": ("Pens",),
    }
    # Pushing the same again has nothing to change: no collection to look up, no request.
    count = len(emulator.shop().data.collections)
    requests = harness.client.stats.requests
    await push(harness, catalog)
    assert len(emulator.shop().data.collections) == count
    assert harness.client.stats.requests == requests


@pytest.mark.anyio
@pytest.mark.parametrize("strategy", list(Strategy))
async def test_a_type_change_moves_membership_and_keeps_the_merchants(
    make_emulator, strategy: Strategy
) -> None:
    emulator = make_emulator()
    harness = PushHarness(emulator)
    catalog = [typed(product(f"cart-{n}", f"CT-{n}")) for n in range(4)]
    await push(harness, catalog)
    sale = emulator.gql(MERCHANT_CREATE, {"collection": {"title": "Sale"}})
    sale_id = sale["data"]["collectionCreate"]["collection"]["id"]
    product_id = harness.remote["cart-0"].product_id
    emulator.gql(MERCHANT_JOIN, {"product": {"id": product_id, "collectionsToJoin": [sale_id]}})

    moved = [typed(p, "Ink") for p in catalog[:3]] + [replace(catalog[3], title="Kept")]
    await push(harness, moved, strategy=strategy, bulk_threshold=10_000)
    await harness.client.close()
    assert memberships(emulator) == {
        "cart-0": ["Ink", "Sale"],
        "cart-1": ["Ink"],
        "cart-2": ["Ink"],
        "cart-3": ["Paper"],
    }
    assert {p.handle: p.product_type for p in emulator.shop().data.products.values()} == {
        "cart-0": "Ink",
        "cart-1": "Ink",
        "cart-2": "Ink",
        "cart-3": "Paper",
    }


@pytest.mark.anyio
async def test_a_structural_change_with_a_new_type_moves_membership(
    harness: PushHarness, emulator: RunningEmulator
) -> None:
    original = typed(product("binder", "B-1"))
    await push(harness, [original])
    bigger = typed(product("binder", "B-1", "B-2"), "Binders")
    await push(harness, [bigger])
    assert memberships(emulator) == {"binder": ["Binders"]}
    assert shopify_state(emulator) == expected_state([bigger])


@pytest.mark.anyio
async def test_bulk_creates_and_moves_reach_the_same_state(make_emulator) -> None:
    emulator = make_emulator(options=EmulatorOptions(bulk_rows_per_second=10_000))
    harness = PushHarness(emulator, bulk=QUICK_BULK)
    catalog = [typed(product(f"toner-{n}", f"TN-{n}"), f"Type {n % 3}") for n in range(9)]
    await push(harness, catalog, bulk_threshold=2)
    assert memberships(emulator) == {p.handle: [p.product_type] for p in catalog}
    moved = [typed(p, "Toner") for p in catalog]
    await push(harness, moved, bulk_threshold=2)
    await harness.client.close()
    assert memberships(emulator) == {p.handle: ["Toner"] for p in catalog}
    # One bulk operation each: the creates, then the product updates with their moves.
    assert emulator.shop().counters["mutation:bulkOperationRunMutation"] == 2
