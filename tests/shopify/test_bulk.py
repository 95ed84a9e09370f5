"""Bulk export and import against the emulator over real HTTP: reassembling an ungrouped export
into products, staging and running a bulk mutation, mapping results back to inputs, and the
ways an operation can end badly."""

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

import shopify_emulator.bulk
from cowans.shopify.bulk import (
    BulkObject,
    BulkOperationState,
    BulkResultTree,
    MutationOutcomes,
    PollPolicy,
    completed_or_raise,
    feed_lines,
    iterate_bulk_products,
    run_bulk_mutation,
    run_bulk_query,
    start_bulk_query,
    wait_for_bulk_operation,
)
from cowans.shopify.documents import load
from cowans.shopify.errors import ShopifyError, ShopifyErrorCode
from shopify_emulator.app import EmulatorOptions
from shopify_emulator.seed import seed_products
from tests.emulator.conftest import RunningEmulator, simple_product
from tests.shopify.test_products import (
    big_product_input,
    client_for,
    create_product,
    expected_catalog,
)

FAST = EmulatorOptions(bulk_rows_per_second=100_000)
SLOW = EmulatorOptions(bulk_rows_per_second=1)  # one object a second: still running when asked
QUICK_POLL = PollPolicy(first_seconds=0.02, max_seconds=0.1, timeout_seconds=30)
PRODUCTS_QUERY = "{ products { edges { node { id handle variants { edges { node { id } } } } } } }"
CANCEL = """
mutation Cancel($id: ID!) { bulkOperationCancel(id: $id) { userErrors { message } } }
"""


# Reassembling ----------------------------------------------------------------------------------


def _line(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def test_children_far_from_their_parents_are_attached(tmp_path: Path) -> None:
    """Ungrouped, a child may come after other parents, even at the very end; a grandchild
    hangs off its own parent; a download that started over keeps no line twice."""
    tree = BulkResultTree(tmp_path / "tree.sqlite3")
    tree.add(_line(id="gid://shopify/Product/9", title="lost to the restart"))
    tree.restart()
    lines = [
        _line(id="gid://shopify/Product/1", title="one"),
        _line(id="gid://shopify/Product/2", title="two"),
        _line(id="gid://shopify/ProductVariant/21", __parentId="gid://shopify/Product/2"),
        _line(id="gid://shopify/ProductVariant/11", __parentId="gid://shopify/Product/1"),
        _line(id="gid://shopify/Product/3", title="three"),
        _line(id="gid://shopify/Metafield/12", __parentId="gid://shopify/Product/1"),
        _line(id="gid://shopify/Image/111", __parentId="gid://shopify/ProductVariant/11"),
        _line(id="gid://shopify/ProductVariant/13", __parentId="gid://shopify/Product/1"),
    ]
    for line in lines:
        tree.add(line)
    objects = list(tree.objects())
    tree.close()

    assert [o.fields["title"] for o in objects] == ["one", "two", "three"]
    one, two, three = objects
    assert [child.fields["id"] for child in one.children] == [
        "gid://shopify/ProductVariant/11",
        "gid://shopify/Metafield/12",
        "gid://shopify/ProductVariant/13",
    ]
    assert [c.kind for c in one.children] == ["ProductVariant", "Metafield", "ProductVariant"]
    assert one.children_of_kind("ProductVariant")[0].children == (
        BulkObject({"id": "gid://shopify/Image/111"}),
    )
    assert [child.fields for child in two.children] == [{"id": "gid://shopify/ProductVariant/21"}]
    assert three.children == ()


class _Lines:
    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def restart(self) -> None:
        self.lines.clear()

    def add(self, line: bytes) -> None:
        self.lines.append(line)


@pytest.mark.anyio
async def test_lines_are_split_on_newlines_only() -> None:
    whole = '{"title":"a\u2028b\u0085c"}\n\n{"title":"second"}\n{"title":"no newline at end"}'
    raw = whole.encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 5):  # lines cut mid-way, even mid-character
            yield raw[start : start + 5]

    sink = _Lines()
    await feed_lines(chunks(), sink)
    assert [json.loads(line)["title"] for line in sink.lines] == [
        "a\u2028b\u0085c",
        "second",
        "no newline at end",
    ]


# Bulk export -----------------------------------------------------------------------------------


def _interleaved(content: bytes) -> bool:
    """Whether some child line comes after a top-level line other than its parent's."""
    last_root = None
    for raw in content.splitlines():
        line = json.loads(raw)
        if "__parentId" not in line:
            last_root = line["id"]
        elif line["__parentId"] != last_root:
            return True
    return False


@pytest.mark.anyio
async def test_a_bulk_export_reassembles_every_product_exactly(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emulator = make_emulator(options=FAST, locations=("Main Warehouse", "Store Front", "Annex"))
    seed_products(emulator.shop(), 300, seed=3)
    create_product(emulator, big_product_input(emulator.location_ids()))

    async with client_for(emulator) as client:
        products = [p async for p in iterate_bulk_products(client, poll=QUICK_POLL)]

    expected = expected_catalog(emulator.shop())
    assert len(products) == len(expected) == 301
    assert {product.handle: product for product in products} == expected
    (content,) = emulator.shop().data.bulk_results.values()
    assert _interleaved(content), "the export should put children after other parents"


@pytest.mark.anyio
async def test_a_bulk_export_can_be_narrowed_and_may_find_nothing(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emulator = make_emulator(options=FAST)
    seed_products(emulator.shop(), 20, seed=4)
    handle = next(iter(emulator.shop().data.products.values())).handle
    async with client_for(emulator) as client:
        found = [p async for p in iterate_bulk_products(client, query=f"handle:{handle}")]
        nothing = [p async for p in iterate_bulk_products(client, query="handle:no-such")]
    assert [p.handle for p in found] == [handle]
    assert nothing == []


@pytest.mark.anyio
async def test_the_finish_signal_is_awaited_between_polls(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emulator = make_emulator(options=FAST)
    seed_products(emulator.shop(), 5, seed=1)
    waits: list[tuple[str, float]] = []

    async def finished(operation_id: str, seconds: float) -> None:
        waits.append((operation_id, seconds))  # as if the webhook had already arrived

    async with client_for(emulator) as client:
        exported = [o async for o in run_bulk_query(client, PRODUCTS_QUERY, finished=finished)]

    (operation,) = emulator.shop().data.bulk_operations.values()
    assert len(exported) == 5
    assert waits
    assert {operation_id for operation_id, _ in waits} == {operation.id}


# Ending badly ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_failed_operation_raises_with_its_details(
    make_emulator: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_export(*_args: object) -> None:
        raise RuntimeError("the export broke")

    monkeypatch.setattr(shopify_emulator.bulk, "_export", broken_export)
    emulator = make_emulator(options=FAST)
    async with client_for(emulator) as client:
        with pytest.raises(ShopifyError) as raised:
            _ = [o async for o in run_bulk_query(client, PRODUCTS_QUERY, poll=QUICK_POLL)]
    assert raised.value.code == ShopifyErrorCode.BULK_OPERATION_FAILED
    assert raised.value.details["status"] == "FAILED"
    assert raised.value.details["error_code"] == "INTERNAL_SERVER_ERROR"


@pytest.mark.anyio
async def test_an_operation_canceled_elsewhere_raises(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emulator = make_emulator(options=SLOW)
    seed_products(emulator.shop(), 5, seed=2)
    async with client_for(emulator) as client:
        operation_id = await start_bulk_query(client, PRODUCTS_QUERY)
        emulator.gql(CANCEL, {"id": operation_id})
        with pytest.raises(ShopifyError) as raised:
            await wait_for_bulk_operation(client, operation_id, poll=QUICK_POLL)
    assert raised.value.details["status"] == "CANCELED"


@pytest.mark.anyio
async def test_an_operation_past_its_timeout_is_canceled(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emulator = make_emulator(options=SLOW)
    seed_products(emulator.shop(), 5, seed=2)
    impatient = PollPolicy(first_seconds=0.05, max_seconds=0.1, timeout_seconds=0.3)
    async with client_for(emulator) as client:
        with pytest.raises(ShopifyError) as raised:
            _ = [o async for o in run_bulk_query(client, PRODUCTS_QUERY, poll=impatient)]
    (operation,) = emulator.shop().data.bulk_operations.values()
    assert raised.value.code == ShopifyErrorCode.BULK_OPERATION_FAILED
    assert raised.value.details["reason"] == "timeout"
    assert operation.cancel_requested
    assert operation.status in ("CANCELING", "CANCELED")


@pytest.mark.parametrize("status", ["FAILED", "CANCELED", "EXPIRED"])
def test_every_final_status_but_completed_raises(status: str) -> None:
    state = BulkOperationState(
        "gid://shopify/BulkOperation/1", status, "TIMEOUT", 7, 3, None, None, "https://partial"
    )
    with pytest.raises(ShopifyError, match=status) as raised:
        completed_or_raise(state)
    assert raised.value.details["partial_data_url"] == "https://partial"
    completed = BulkOperationState(
        "gid://shopify/BulkOperation/1", "COMPLETED", None, 7, 3, 9, "https://result", None
    )
    assert completed_or_raise(completed) is completed


@pytest.mark.anyio
async def test_a_refused_bulk_query_raises(emulator: RunningEmulator) -> None:
    async with client_for(emulator) as client:
        with pytest.raises(ShopifyError, match="refused to start the bulk query") as raised:
            await start_bulk_query(client, "{ shop { name } }")  # no connection
    assert raised.value.code == ShopifyErrorCode.BULK_OPERATION_FAILED


# Bulk import -----------------------------------------------------------------------------------


def _product_set(handle: str, **extra: Any) -> dict[str, Any]:
    return {
        "identifier": {"handle": handle},
        "input": simple_product(handle, handle, **extra),
        "variants": 5,
    }


@pytest.mark.anyio
async def test_a_bulk_import_maps_each_result_to_its_input(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emulator = make_emulator(options=FAST)
    lines = [
        _product_set("bulk-a"),
        _product_set("bulk-b"),
        _product_set("blank-title", title=""),  # a userError: the operation still COMPLETES
        {"identifier": {"handle": "bad"}, "input": {"title": ["no", "string"]}, "variants": 5},
        _product_set("bulk-c"),
    ]
    async with client_for(emulator) as client:
        results = await run_bulk_mutation(client, load("product_set"), iter(lines), poll=QUICK_POLL)

    assert [result.index for result in results] == [0, 1, 2, 3, 4]
    assert [result.succeeded for result in results] == [True, True, False, False, True]
    for index, handle in ((0, "bulk-a"), (1, "bulk-b"), (4, "bulk-c")):
        payload = results[index].data
        assert payload is not None
        assert payload["product"]["handle"] == handle
        assert payload["product"]["variants"]["nodes"][0]["sku"] == handle
    assert results[2].user_errors[0]["field"] == ["input", "title"]
    assert results[2].errors == ()
    assert results[3].errors
    assert results[3].data is None
    handles = sorted(product.handle for product in emulator.shop().data.products.values())
    assert handles == ["bulk-a", "bulk-b", "bulk-c"]
    (operation,) = emulator.shop().data.bulk_operations.values()
    assert operation.status == "COMPLETED"


@pytest.mark.anyio
async def test_nothing_to_import_starts_no_operation(emulator: RunningEmulator) -> None:
    async with client_for(emulator) as client:
        assert await run_bulk_mutation(client, load("product_set"), []) == []
    assert emulator.shop().data.bulk_operations == {}


def test_result_lines_map_by_line_number_in_any_order() -> None:
    outcomes = MutationOutcomes(4)
    found = {"productSet": {"product": {"id": "b"}, "userErrors": []}}
    refused = {"productSet": {"product": None, "userErrors": [{"message": "no"}]}}
    outcomes.add(_line(data=found, __lineNumber=2))
    outcomes.add(_line(errors=[{"message": "bad variables"}], __lineNumber=0))
    outcomes.add(_line(data=refused, __lineNumber=1))
    outcomes.add(_line(data={}, __lineNumber=17))  # answers no input line: ignored
    results = outcomes.results()

    assert results[0].errors == ({"message": "bad variables"},)
    assert results[1].user_errors == ({"message": "no"},)
    assert results[2].data == {"product": {"id": "b"}, "userErrors": []}
    assert results[2].succeeded
    assert results[3].errors == ({"message": "Shopify wrote no result for this line"},)
