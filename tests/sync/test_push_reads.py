"""What a push reads from Shopify before sending: nothing for stock it sets compare-and-set, and
only the parts of the products its other changes write."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select

from cowans.db.models import JobState, Product, StagedChangeStatus, SyncStaging
from cowans.db.session import session_scope
from cowans.jobs.handlers import HANDLERS
from tests.emulator.conftest import RunningEmulator
from tests.jobs.conftest import consuming
from tests.sync.test_push_job import (
    MakeRuntime,
    approved_store,
    connect_store,
    push,
    stage_and_approve,
)
from tests.sync.test_staging import add_product

PRODUCTS = 60  # past BULK_READ_FROM: a check of them all would export the store


def merchant_edit(emulator: RunningEmulator, handle: str, **fields: Any) -> None:
    response = emulator.http.post(
        f"{emulator.base_url}/_emulator/demo/merchant-edit",
        json={"handle": handle, "fields": fields},
    )
    assert response.status_code == 200, response.text


def change_catalog(engine: Engine, change: Callable[[Product], None]) -> None:
    with session_scope(engine) as session:
        for product in session.scalars(select(Product)):
            change(product)


def restock(product: Product) -> None:
    for variant in product.variants:
        variant.inventory = {**variant.inventory, "MAIN": variant.inventory["MAIN"] + 10}


def retitle(product: Product) -> None:
    product.title = f"{product.title} (2026)"


def statuses(engine: Engine) -> dict[str, StagedChangeStatus]:
    with session_scope(engine) as session:
        rows = session.scalars(select(SyncStaging).order_by(SyncStaging.id))
        return {row.handle: row.status for row in rows}  # the latest row of each product


def exports(emulator: RunningEmulator) -> list[str]:
    operations = emulator.shop().data.bulk_operations.values()
    return [operation.query for operation in operations if operation.type == "QUERY"]


def test_stock_only_changes_are_sent_unread_and_shopify_refuses_stale_ones(
    make_runtime: MakeRuntime, engine: Engine, emulator: RunningEmulator
) -> None:
    store_id = approved_store(engine, emulator, PRODUCTS)
    runtime, _ = make_runtime(HANDLERS)
    with consuming(runtime):
        assert push(runtime, engine, store_id).state is JobState.COMPLETED
        change_catalog(engine, restock)
        merchant_edit(emulator, "stapler-3", inventory={"Main Warehouse": 1})  # a sale, say
        assert stage_and_approve(engine, store_id) == PRODUCTS
        job = push(runtime, engine, store_id)

    assert exports(emulator) == [], "nothing was read before sending"
    assert job.state is JobState.COMPLETED_WITH_ERRORS
    assert (job.result["applied"], job.result["conflicts"]) == (PRODUCTS - 1, 1)
    found = statuses(engine)
    assert found.pop("stapler-3") is StagedChangeStatus.CONFLICT
    assert set(found.values()) == {StagedChangeStatus.APPLIED}
    assert main_stock(emulator, "stapler-3") == 1, "Shopify kept the merchant's figure"


def test_other_changes_are_checked_on_an_export_of_what_they_write(
    make_runtime: MakeRuntime, engine: Engine, emulator: RunningEmulator
) -> None:
    store_id = approved_store(engine, emulator, PRODUCTS)
    runtime, _ = make_runtime(HANDLERS)
    with consuming(runtime):
        assert push(runtime, engine, store_id).state is JobState.COMPLETED
        change_catalog(engine, retitle)
        merchant_edit(emulator, "stapler-5", title="The merchant's stapler")
        assert stage_and_approve(engine, store_id) == PRODUCTS
        job = push(runtime, engine, store_id)

    [export] = exports(emulator)
    assert "variants" in export
    assert all(part not in export for part in ("metafields", "media", "collections"))
    assert (job.result["applied"], job.result["conflicts"]) == (PRODUCTS - 1, 1)
    assert statuses(engine)["stapler-5"] is StagedChangeStatus.CONFLICT


def main_stock(emulator: RunningEmulator, handle: str) -> int:
    levels = (
        "inventoryLevels(first: 5) { nodes { location { name } "
        'quantities(names: ["available"]) { quantity } } }'
    )
    query = (
        f'{{ products(first: 1, query: "handle:{handle}") {{ nodes {{ '
        f"variants(first: 1) {{ nodes {{ inventoryItem {{ {levels} }} }} }} }} }} }}"
    )
    [product] = emulator.gql(query)["data"]["products"]["nodes"]
    found = product["variants"]["nodes"][0]["inventoryItem"]["inventoryLevels"]["nodes"]
    [main] = [lvl for lvl in found if lvl["location"]["name"] == "Main Warehouse"]
    return main["quantities"][0]["quantity"]


def test_a_first_load_makes_its_collections_in_one_bulk_mutation(
    make_runtime: MakeRuntime, engine: Engine, emulator: RunningEmulator
) -> None:
    """Ten points a collectionCreate: a first load of many product types makes them in bulk."""
    types = ("Staplers", "Pens", "Paper", "Toner")
    store_id = connect_store(engine, emulator)
    with session_scope(engine) as session:
        for number in range(8):
            add_product(session, number).product_type = types[number % 4]
    stage_and_approve(engine, store_id)
    runtime, _ = make_runtime(HANDLERS)
    with consuming(runtime):
        assert push(runtime, engine, store_id).state is JobState.COMPLETED

    data = emulator.shop().data
    assert sorted(c.title for c in data.collections.values()) == sorted(types)
    [made] = [op for op in data.bulk_operations.values() if op.type == "MUTATION"]
    assert "collectionCreate" in made.query
    assert emulator.shop().counters["mutation:collectionCreate"] == 0, "none made one by one"
    for product in data.products.values():
        [collection] = [data.collections[n].title for n in product.collection_numbers]
        assert collection == product.product_type
