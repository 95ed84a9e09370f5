"""Manual collections by title against the emulator over real HTTP: found by exact title only,
created once, never twice, whatever is retried or lost on the way."""

from collections.abc import Callable

import httpx
import pytest

from cowans.shopify import collections as collections_module
from cowans.shopify.client import RetryPolicy, ShopifyClient
from cowans.shopify.collections import (
    candidate_handles,
    ensure_collections,
    find_collections,
)
from cowans.shopify.errors import ShopifyUnavailable
from cowans.shopify.products import fetch_products_by_handles
from shopify_emulator.state import Collection
from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, simple_product
from tests.shopify.test_products import client_for, endpoint_for

pytestmark = pytest.mark.anyio

CREATE = """
mutation Create($collection: CollectionCreateInput!) {
  collectionCreate(collection: $collection) { collection { id } userErrors { field message } }
}
"""
JOIN = """
mutation Join($product: ProductUpdateInput!) {
  productUpdate(product: $product) { userErrors { field message } }
}
"""


def titled(emulator: RunningEmulator, title: str) -> list[Collection]:
    return [c for c in emulator.shop().data.collections.values() if c.title == title]


def make_collection(emulator: RunningEmulator, title: str, handle: str | None = None) -> str:
    values = {"title": title, **({"handle": handle} if handle else {})}
    payload = emulator.gql(CREATE, {"collection": values})["data"]["collectionCreate"]
    assert payload["userErrors"] == []
    return payload["collection"]["id"]


class LosesCreateAnswers(httpx.AsyncBaseTransport):
    """Lets collectionCreate reach the store, then drops the connection before its answer
    arrives (the first `times` times): the create happened, the client cannot know it."""

    def __init__(self, times: int = 1) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.times = times
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.lost < self.times and b"collectionCreate" in request.content:
            await response.aread()
            self.lost += 1
            raise httpx.ReadError("connection reset", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_missing_collections_are_created_and_existing_ones_found(
    emulator: RunningEmulator,
) -> None:
    existing = make_collection(emulator, "Paper")
    async with client_for(emulator) as client:
        ids = await ensure_collections(client, ["Paper", "Ink", "Ink", "", "  ", "Pens"])
    assert list(ids) == ["Paper", "Ink", "Pens"]
    assert ids["Paper"] == existing
    for title in ("Ink", "Pens"):
        (made,) = titled(emulator, title)
        assert ids[title] == made.id
        assert made.handle == candidate_handles(title)[0]


async def test_a_second_call_creates_nothing(emulator: RunningEmulator) -> None:
    titles = [f"Type {n}" for n in range(7)]
    async with client_for(emulator) as client:
        first = await ensure_collections(client, titles)
        count = len(emulator.shop().data.collections)
        creates = emulator.shop().counters["mutation:collectionCreate"]
        second = await ensure_collections(client, titles)
    assert first == second
    assert len(emulator.shop().data.collections) == count
    assert emulator.shop().counters["mutation:collectionCreate"] == creates == 7


async def test_titles_match_exactly_not_loosely(emulator: RunningEmulator) -> None:
    """`title:Pens` finds "Gel Pens" and "PENS" too; neither is the "Pens" collection."""
    gel = make_collection(emulator, "Gel Pens")
    upper = make_collection(emulator, "PENS")  # takes the handle "pens"
    async with client_for(emulator) as client:
        assert await find_collections(client, ["Pens"]) == {}
        ids = await ensure_collections(client, ["Pens"])
        again = await ensure_collections(client, ["Pens", "PENS", "Gel Pens"])
    (pens,) = titled(emulator, "Pens")
    assert ids == {"Pens": pens.id}
    assert pens.handle == candidate_handles("Pens")[1]  # "pens" was taken by "PENS"
    assert again == {"Pens": pens.id, "PENS": upper, "Gel Pens": gel}


async def test_the_oldest_of_same_titled_collections_is_used(emulator: RunningEmulator) -> None:
    older = make_collection(emulator, "Binders", "binders-old")
    make_collection(emulator, "Binders", "binders-new")
    async with client_for(emulator) as client:
        assert await ensure_collections(client, ["Binders"]) == {"Binders": older}


def losing_client(emulator: RunningEmulator, transport: LosesCreateAnswers) -> ShopifyClient:
    return ShopifyClient(
        endpoint_for(emulator),
        retry=RetryPolicy(max_attempts=5, base_seconds=0.01, max_seconds=0.05),
        http=httpx.AsyncClient(transport=transport),
    )


async def test_a_create_whose_answer_was_lost_is_not_repeated(emulator: RunningEmulator) -> None:
    transport = LosesCreateAnswers()
    client = losing_client(emulator, transport)
    async with client:
        ids = await ensure_collections(client, ["Labels"])
    await client.http.aclose()
    assert transport.lost == 1
    (labels,) = titled(emulator, "Labels")
    assert ids == {"Labels": labels.id}
    assert emulator.shop().counters["mutation:collectionCreate"] == 2  # the replay was refused


async def test_a_store_out_of_reach_raises_the_clients_error(emulator: RunningEmulator) -> None:
    """Not an ExceptionGroup from the concurrent creates: callers catch ShopifyError."""
    client = losing_client(emulator, LosesCreateAnswers(times=1000))
    async with client:
        with pytest.raises(ShopifyUnavailable):
            await ensure_collections(client, ["Rulers", "Erasers"])
    await client.http.aclose()


async def test_a_search_lagging_behind_a_create_makes_no_twin(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shopify's search index may not show a collection created a moment ago: the direct look
    up by handle before creating still finds it."""
    async with client_for(emulator) as client:
        first = await ensure_collections(client, ["Toner", "Staples"])

        async def finds_nothing(*_args: object) -> dict[str, str]:
            return {}

        monkeypatch.setattr(collections_module, "find_collections", finds_nothing)
        second = await ensure_collections(client, ["Toner", "Staples"])
    assert first == second
    assert len(titled(emulator, "Toner")) == len(titled(emulator, "Staples")) == 1


async def test_a_handle_held_by_other_collections_leaves_the_title_out(
    emulator: RunningEmulator,
) -> None:
    for handle in candidate_handles("Folders"):
        make_collection(emulator, "Something else", handle)
    async with client_for(emulator) as client:
        assert await ensure_collections(client, ["Folders", "Tape"]) == {
            "Tape": titled(emulator, "Tape")[0].id
        }
    assert titled(emulator, "Folders") == []


def test_candidate_handles_depend_on_the_exact_title_only() -> None:
    assert candidate_handles("Ink & Toner") == candidate_handles("Ink & Toner")
    assert candidate_handles("Ink & Toner")[0] == "ink-toner"
    assert candidate_handles("Papeterie Crème")[0] == "papeterie-creme"
    assert candidate_handles("PENS")[1] != candidate_handles("Pens")[1]
    (only,) = candidate_handles("文具")
    assert only.startswith("collection-")


async def test_reads_carry_the_manual_collections_of_a_product(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emulator = make_emulator()
    body = emulator.gql(PRODUCT_SET, {"input": simple_product("stapler", "STP-1", "12.00")})
    product_id = body["data"]["productSet"]["product"]["id"]
    joined = [make_collection(emulator, title) for title in ("Staplers", "Back to School", "Sale")]
    emulator.gql(JOIN, {"product": {"id": product_id, "collectionsToJoin": joined}})
    async with client_for(emulator) as client:
        found = await fetch_products_by_handles(client, ["stapler"])
    assert found["stapler"].collections == ("Back to School", "Sale", "Staplers")


BY_IDENTIFIER = """
query By($identifier: CollectionIdentifierInput!) {
  collectionByIdentifier(identifier: $identifier) { id title handle }
}
"""


def test_the_emulator_reads_a_collection_by_identifier(emulator: RunningEmulator) -> None:
    made = make_collection(emulator, "Desk Pads", "desk-pads")

    def by(identifier: dict[str, str]) -> object:
        return emulator.gql(BY_IDENTIFIER, {"identifier": identifier})["data"][
            "collectionByIdentifier"
        ]

    expected = {"id": made, "title": "Desk Pads", "handle": "desk-pads"}
    assert by({"handle": "desk-pads"}) == by({"id": made}) == expected
    assert by({"handle": "no-such-collection"}) is None
