"""Plans pushed to the emulator end in exactly the state the catalog asked for."""

from dataclasses import replace

import pytest

from cowans.shopify.bulk import PollPolicy
from cowans.sync.planner import Strategy, WorkKind
from cowans.sync.runner import polling_bulk_runner
from shopify_emulator.app import EmulatorOptions
from tests.emulator.conftest import RunningEmulator
from tests.sync.harness import (
    LOCATIONS,
    PushHarness,
    expected_state,
    product,
    shopify_state,
    with_variant,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def harness(emulator: RunningEmulator):
    harness = PushHarness(emulator)
    yield harness
    await harness.client.close()


async def test_create_then_update_every_kind_of_field(
    harness: PushHarness, emulator: RunningEmulator
) -> None:
    catalog = [product(f"notes-{n}", f"N-{n}-A", f"N-{n}-B") for n in range(6)]
    report = await harness.push(catalog)
    assert report.failed_changes() == {}
    assert shopify_state(emulator) == expected_state(catalog)

    changed = [
        replace(catalog[0], title="Sticky Notes, Yellow"),  # scalar field
        with_variant(catalog[1], "N-1-A", price=catalog[1].variants[0].price + 1),  # price
        with_variant(catalog[2], "N-2-B", inventory={LOCATIONS[0]: 40, LOCATIONS[1]: 0}),  # stock
        replace(catalog[3], tags=("office", "sale")),  # tags added
        replace(catalog[4], tags=()),  # tags removed
        replace(
            catalog[5],
            metafields=(
                *catalog[5].metafields,
                replace(catalog[5].metafields[0], key="size", value="3x3"),
            ),
        ),
    ]
    before = emulator.shop().counters.copy()
    report = await harness.push(changed)
    assert report.failed_changes() == {}
    assert shopify_state(emulator) == expected_state(changed)
    kinds = {outcome.work.kind for outcome in report.outcomes}
    assert kinds == {
        WorkKind.PRODUCT_UPDATE,
        WorkKind.VARIANTS,
        WorkKind.INVENTORY,
        WorkKind.TAGS_ADD,
        WorkKind.TAGS_REMOVE,
        WorkKind.METAFIELDS,
    }
    assert emulator.shop().counters["mutation:productSet"] == before["mutation:productSet"], (
        "field changes must not rewrite whole products"
    )
    # Pushing the same catalog again changes nothing and sends nothing.
    again = await harness.push(changed)
    assert again.requests == 0


async def test_structural_change_keeps_existing_stock_and_adds_the_new_variant(
    harness: PushHarness, emulator: RunningEmulator
) -> None:
    original = product("binder", "B-1")
    await harness.push([original])
    harness.base["binder"] = original
    bigger = product("binder", "B-1", "B-2", stock=5)
    report = await harness.push([bigger])
    assert report.failed_changes() == {}
    assert (
        shopify_state(emulator)["binder"]["variants"]
        == expected_state([bigger])["binder"]["variants"]
    )
    assert {o.work.kind for o in report.outcomes} == {WorkKind.PRODUCT_SET}


async def test_delete_and_a_repeated_delete(
    harness: PushHarness, emulator: RunningEmulator
) -> None:
    await harness.push([product("old-pen", "OP-1"), product("new-pen", "NP-1")])
    remote = harness.remote["old-pen"]
    report = await harness.push([], deletes=("old-pen",))
    assert report.failed_changes() == {}
    assert sorted(emulator.shop().data.handles) == ["new-pen"]
    # As if the answer to the delete had been lost and the job ran again.
    harness.remote["old-pen"] = remote
    harness.base["old-pen"] = product("old-pen", "OP-1")
    again = await harness.push([], deletes=("old-pen",))
    assert again.failed_changes() == {}


async def test_stale_stock_fails_only_its_own_product(
    harness: PushHarness, emulator: RunningEmulator
) -> None:
    catalog = [product(f"ink-{n}", f"INK-{n}") for n in range(5)]
    await harness.push(catalog)
    # A person sold or recounted ink-2 in Shopify since the last sync.
    shop = emulator.shop()
    item = int(harness.remote["ink-2"].inventory_item_ids["INK-2"].rsplit("/", 1)[1])
    location = next(n for n, loc in shop.data.locations.items() if loc.name == LOCATIONS[0])
    shop.data.inventory_levels[(item, location)].quantities["available"] = 1
    restocked = [
        with_variant(p, p.variants[0].sku, inventory={LOCATIONS[0]: 50, LOCATIONS[1]: 6})
        for p in catalog
    ]
    report = await harness.push(restocked)
    failed = report.failed_changes()
    assert len(failed) == 1
    (errors,) = failed.values()
    assert "changed in shopify since the last sync" in " ".join(errors).lower()
    assert [o.work.handle for o in report.outcomes if o.conflict] == ["ink-2"]
    state = shopify_state(emulator)
    assert state["ink-2"]["variants"]["INK-2"]["stock"][LOCATIONS[0]] == 1, (
        "never overwritten blindly"
    )
    for n in (0, 1, 3, 4):
        assert state[f"ink-{n}"]["variants"][f"INK-{n}"]["stock"][LOCATIONS[0]] == 50


@pytest.mark.parametrize("strategy", list(Strategy))
async def test_every_strategy_reaches_the_same_state(make_emulator, strategy: Strategy) -> None:
    emulator = make_emulator()
    harness = PushHarness(emulator)
    catalog = [product(f"pad-{n}", f"PAD-{n}") for n in range(8)]
    await harness.push(catalog)
    changed = [
        replace(
            with_variant(
                p,
                p.variants[0].sku,
                price=p.variants[0].price + n,
                inventory={LOCATIONS[0]: n, LOCATIONS[1]: 2 * n},
            ),
            title=f"Pad {n}",
            tags=("office", f"t{n}"),
        )
        for n, p in enumerate(catalog)
    ]
    report = await harness.push(changed, strategy=strategy, bulk_threshold=10_000)
    await harness.client.close()
    assert report.failed_changes() == {}
    assert shopify_state(emulator) == expected_state(changed)


@pytest.mark.parametrize(
    ("http_5xx", "hang", "ise_after_apply"),
    [(0.05, 0.02, 0.02), (0.3, 0.1, 0.2)],
    ids=["issue-rates", "heavy"],
)
async def test_faults_never_duplicate_or_double_count(
    make_emulator, http_5xx: float, hang: float, ise_after_apply: float
) -> None:
    """Every change lands exactly once through 5xx, hung requests and INTERNAL_SERVER_ERROR
    after the mutation was applied."""
    emulator = make_emulator()
    faults = emulator.shop().faults
    faults.reseed(11)
    faults.http_5xx, faults.hang, faults.ise_after_apply = http_5xx, hang, ise_after_apply
    faults.hang_seconds = 3.0
    harness = PushHarness(emulator, timeout_seconds=0.5)
    catalog = [product(f"clip-{n}", f"CL-{n}-A", f"CL-{n}-B") for n in range(30)]
    first = await harness.push(catalog)
    assert first.failed_changes() == {}
    changed = [
        with_variant(
            with_variant(p, p.variants[0].sku, inventory={LOCATIONS[0]: 100 + n, LOCATIONS[1]: n}),
            p.variants[1].sku,
            price=p.variants[1].price + 2,
        )
        for n, p in enumerate(catalog)
    ]
    second = await harness.push(changed)
    await harness.client.close()
    assert second.failed_changes() == {}
    assert shopify_state(emulator) == expected_state(changed)
    assert len(emulator.shop().data.products) == 30
    counters = emulator.shop().counters
    survived = counters["faults_5xx"] + counters["faults_hang"] + counters["faults_ise_after_apply"]
    if http_5xx >= 0.3:
        assert survived > 0, counters


async def test_bulk_steps_reach_the_same_state(make_emulator) -> None:
    emulator = make_emulator(options=EmulatorOptions(bulk_rows_per_second=10_000))
    quick = polling_bulk_runner(PollPolicy(first_seconds=0.05, max_seconds=0.2, timeout_seconds=60))
    harness = PushHarness(emulator, bulk=quick)
    catalog = [product(f"toner-{n}", f"TN-{n}") for n in range(12)]
    created = await harness.push(catalog, bulk_threshold=2)
    assert created.failed_changes() == {}
    assert len(harness.remote) == 12, "ids come back from the bulk results"
    changed = [
        replace(
            with_variant(p, p.variants[0].sku, price=p.variants[0].price + 5),
            title=p.title + " XL",
            tags=("office", "xl"),
        )
        for p in catalog
    ]
    updated = await harness.push(changed, bulk_threshold=2)
    await harness.client.close()
    assert updated.failed_changes() == {}
    assert shopify_state(emulator) == expected_state(changed)
    counters = emulator.shop().counters
    # One bulk operation each: the creates, then title, price and added tag of the updates.
    assert counters["mutation:bulkOperationRunMutation"] == 4
