"""The planner alone: which requests a set of changes becomes, without a store."""

from dataclasses import replace
from decimal import Decimal

import pytest

from cowans.catalog.snapshot import MetafieldSnapshot, ProductSnapshot, VariantSnapshot
from cowans.config import Settings
from cowans.sync.changes import Operation, ProductChange, RemoteIds
from cowans.sync.planner import Phase, StoreConditions, Strategy, WorkKind, plan_changes

LOCATIONS = {"Main": "gid://shopify/Location/1", "Front": "gid://shopify/Location/2"}
CONDITIONS = StoreConditions(LOCATIONS)


def snapshot(n: int, **fields) -> ProductSnapshot:
    variant = VariantSnapshot(
        sku=f"S-{n}", price=Decimal("5.00"), inventory={"Main": 3, "Front": 4}
    )
    return ProductSnapshot(
        handle=f"p-{n}", title=f"P {n}", tags=("a",), variants=(variant,), **fields
    )


def remote(n: int) -> RemoteIds:
    return RemoteIds(
        f"gid://shopify/Product/{n}",
        {f"S-{n}": f"gid://shopify/ProductVariant/{n}"},
        {f"S-{n}": f"gid://shopify/InventoryItem/{n}"},
    )


def update(n: int, desired: ProductSnapshot, base: ProductSnapshot | None = None) -> ProductChange:
    return ProductChange(
        f"c{n}", Operation.UPDATE, desired.handle, desired, base or snapshot(n), remote(n)
    )


def restock(n: int, main: int) -> ProductChange:
    base = snapshot(n)
    variant = replace(base.variants[0], inventory={"Main": main, "Front": 4})
    return update(n, replace(base, variants=(variant,)), base)


def kinds(plan) -> list[WorkKind]:
    return [step.kind for step in plan.steps]


def test_a_create_is_one_product_set_with_stock_and_metafields() -> None:
    desired = snapshot(
        1, metafields=(MetafieldSnapshot("custom", "color", "single_line_text_field", "red"),)
    )
    plan = plan_changes(
        [ProductChange("c1", Operation.CREATE, "p-1", desired)], Strategy.BALANCED, CONDITIONS
    )
    (step,) = plan.steps
    assert step.kind is WorkKind.PRODUCT_SET
    assert step.phase is Phase.STRUCTURE
    values = step.variables["input"]
    assert step.variables["identifier"] == {"handle": "p-1"}
    assert values["variants"][0]["inventoryQuantities"] == [
        {"locationId": LOCATIONS["Front"], "name": "available", "quantity": 4},
        {"locationId": LOCATIONS["Main"], "name": "available", "quantity": 3},
    ]
    assert values["metafields"][0]["value"] == "red"


def test_each_field_goes_to_its_cheapest_mutation() -> None:
    base = snapshot(1)
    variant = replace(base.variants[0], price=Decimal("6.50"), inventory={"Main": 9, "Front": 4})
    desired = replace(base, title="New", tags=("b",), variants=(variant,))
    plan = plan_changes([update(1, desired, base)], Strategy.BALANCED, CONDITIONS)
    by_kind = {step.kind: step for step in plan.steps}
    assert set(by_kind) == {
        WorkKind.PRODUCT_UPDATE,
        WorkKind.VARIANTS,
        WorkKind.TAGS_ADD,
        WorkKind.TAGS_REMOVE,
        WorkKind.INVENTORY,
    }
    assert by_kind[WorkKind.PRODUCT_UPDATE].variables == {
        "product": {"id": "gid://shopify/Product/1", "title": "New"}
    }
    assert by_kind[WorkKind.VARIANTS].variables["variants"] == [
        {"id": "gid://shopify/ProductVariant/1", "price": "6.50"}
    ]
    quantities = by_kind[WorkKind.INVENTORY].variables["input"]["quantities"]
    assert quantities == [
        {
            "inventoryItemId": "gid://shopify/InventoryItem/1",
            "locationId": LOCATIONS["Main"],
            "quantity": 9,
            "changeFromQuantity": 3,
        }
    ], "only what moved, compared with the base"
    assert plan.steps[-1].kind is WorkKind.INVENTORY, "stock after the fields"


def test_a_structural_change_is_a_product_set_keeping_variant_ids() -> None:
    base = snapshot(1)
    extra = VariantSnapshot(
        sku="S-1b", price=Decimal("7.00"), option_values=("Big",), inventory={"Main": 8}
    )
    desired = replace(
        base,
        option_names=("Size",),
        variants=(replace(base.variants[0], option_values=("Small",)), extra),
    )
    (step,) = plan_changes([update(1, desired, base)], Strategy.BALANCED, CONDITIONS).steps
    existing, new = step.variables["input"]["variants"]
    assert existing["id"] == "gid://shopify/ProductVariant/1"
    assert "inventoryQuantities" not in existing, "existing stock is not overwritten by productSet"
    assert new["inventoryQuantities"] == [
        {"locationId": LOCATIONS["Main"], "name": "available", "quantity": 8}
    ]
    assert "metafields" not in step.variables["input"], (
        "would delete the merchant's other metafields"
    )


def test_stock_is_packed_250_quantities_to_a_call_with_stable_keys() -> None:
    changes = [restock(n, 100 + n) for n in range(600)]
    plan = plan_changes(changes, Strategy.BALANCED, CONDITIONS)
    sizes = [len(step.variables["input"]["quantities"]) for step in plan.steps]
    assert sizes == [250, 250, 100]
    keys = [step.variables["key"] for step in plan.steps]
    assert len(set(keys)) == 3
    again = plan_changes(changes, Strategy.BALANCED, CONDITIONS)
    assert [step.variables["key"] for step in again.steps] == keys, (
        "a replanned retry reuses its keys"
    )
    other = plan_changes([restock(n, 200 + n) for n in range(600)], Strategy.BALANCED, CONDITIONS)
    assert not set(keys) & {step.variables["key"] for step in other.steps}


def test_many_metafields_of_one_product_are_split_in_25s() -> None:
    base = snapshot(1)
    specs = tuple(
        MetafieldSnapshot("custom", f"spec{i}", "single_line_text_field", str(i)) for i in range(60)
    )
    plan = plan_changes(
        [update(1, replace(base, metafields=specs), base)], Strategy.BALANCED, CONDITIONS
    )
    assert [len(step.variables["metafields"]) for step in plan.steps] == [25, 25, 10]


def test_small_mutations_are_aliased_within_the_limits() -> None:
    changes = [update(n, replace(snapshot(n), title=f"T{n}")) for n in range(23)]
    balanced = plan_changes(changes, Strategy.BALANCED, replace(CONDITIONS, bulk_threshold=10_000))
    assert [len(step.works) for step in balanced.steps] == [10, 10, 3]
    assert balanced.steps[0].document.text.count("productUpdate(") == 10
    capped = plan_changes(
        changes, Strategy.BALANCED, replace(CONDITIONS, bulk_threshold=10_000, max_aliases=4)
    )
    assert max(len(step.works) for step in capped.steps) == 4
    cheap_cap = plan_changes(changes, Strategy.SPEED, replace(CONDITIONS, max_request_cost=50))
    assert all(step.predicted_cost <= 50 for step in cheap_cap.steps)


@pytest.mark.parametrize(
    ("strategy", "count", "bulk"),
    [
        (Strategy.COST, 20, True),
        (Strategy.BALANCED, 20, False),
        (Strategy.BALANCED, 200, True),
        (Strategy.SPEED, 100, False),
        (Strategy.SPEED, 1000, True),
        (Strategy.NAIVE, 1000, False),
    ],
)
def test_bulk_threshold_depends_on_the_strategy(strategy: Strategy, count: int, bulk: bool) -> None:
    changes = [update(n, replace(snapshot(n), title=f"T{n}")) for n in range(count)]
    plan = plan_changes(changes, strategy, CONDITIONS)
    assert any(step.is_bulk for step in plan.steps) is bulk


def test_naive_sends_three_calls_per_product_in_product_order() -> None:
    changes = [restock(n, 50) for n in range(3)]
    plan = plan_changes(changes, Strategy.NAIVE, CONDITIONS)
    assert kinds(plan) == [WorkKind.PRODUCT_UPDATE, WorkKind.VARIANTS, WorkKind.INVENTORY] * 3
    assert [step.works[0].handle for step in plan.steps][:3] == ["p-0"] * 3
    assert (
        plan.predicted_cost
        > 5 * plan_changes(changes, Strategy.BALANCED, CONDITIONS).predicted_cost
    )


def test_a_change_without_remote_ids_is_reported_not_planned() -> None:
    lost = ProductChange("c9", Operation.UPDATE, "p-9", snapshot(9), snapshot(9), None)
    plan = plan_changes([lost, restock(1, 7)], Strategy.BALANCED, CONDITIONS)
    assert list(plan.unplannable) == ["c9"]
    assert kinds(plan) == [WorkKind.INVENTORY]


def test_summary_and_settings() -> None:
    plan = plan_changes([restock(n, 1) for n in range(3)], Strategy.COST, CONDITIONS)
    summary = plan.summary()
    assert summary["requests"] == 1
    assert summary["predicted_cost"] == plan.steps[0].predicted_cost > 0
    settings = Settings(_env_file=None, graphql_max_complexity=500, graphql_batch_size=7)
    conditions = StoreConditions.from_settings(settings, LOCATIONS, restore_rate=1000.0)
    assert (conditions.max_request_cost, conditions.max_aliases, conditions.restore_rate) == (
        500,
        7,
        1000.0,
    )
