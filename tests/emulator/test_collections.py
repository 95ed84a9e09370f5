"""collections/collection queries, Collection fields, collectionCreate and the asynchronous
collectionAddProductsV2."""

import time
from typing import Any

from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, simple_product

CREATE = """
mutation Create($collection: CollectionCreateInput, $input: CollectionInput) {
  collectionCreate(collection: $collection, input: $input) {
    collection { id handle title sortOrder ruleSet { appliedDisjunctively }
      productsCount { count precision } products(first: 10) { nodes { handle } } }
    userErrors { field message }
  }
}
"""
ADD = """
mutation Add($id: ID!, $productIds: [ID!]!) {
  collectionAddProductsV2(id: $id, productIds: $productIds) {
    job { id done }
    userErrors { field message code }
  }
}
"""
JOB = "query Job($id: ID!) { job(id: $id) { id done } }"
COLLECTION = """
query Collection($id: ID!, $product: ID!, $sortKey: ProductCollectionSortKeys, $reverse: Boolean) {
  collection(id: $id) {
    productsCount { count precision }
    hasProduct(id: $product)
    products(first: 10, sortKey: $sortKey, reverse: $reverse) { nodes { handle } }
  }
}
"""
IN_COLLECTION = """
query InCollection($product: ID!, $collection: ID!) {
  product(id: $product) { inCollection(id: $collection) collections(first: 5) { nodes { id } } }
}
"""
SEARCH = """
query Search($query: String, $sortKey: CollectionSortKeys, $reverse: Boolean, $after: String) {
  collections(first: 2, query: $query, sortKey: $sortKey, reverse: $reverse, after: $after) {
    nodes { handle }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def make_product(emulator: RunningEmulator, handle: str, price: str = "9.99") -> str:
    body = emulator.gql(PRODUCT_SET, {"input": simple_product(handle, handle.upper(), price)})
    return body["data"]["productSet"]["product"]["id"]


def create(emulator: RunningEmulator, **variables: Any) -> dict[str, Any]:
    return emulator.gql(CREATE, variables)["data"]["collectionCreate"]


def created(emulator: RunningEmulator, title: str, **values: Any) -> dict[str, Any]:
    payload = create(emulator, collection={"title": title, **values})
    assert payload["userErrors"] == []
    return payload["collection"]


def handles(emulator: RunningEmulator, collection_id: str, product_id: str, **args: Any) -> list:
    variables = {"id": collection_id, "product": product_id, **args}
    products = emulator.gql(COLLECTION, variables)["data"]["collection"]["products"]
    return [node["handle"] for node in products["nodes"]]


def wait_until_done(emulator: RunningEmulator, job_id: str) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if emulator.gql(JOB, {"id": job_id})["data"]["job"]["done"]:
            return True
        time.sleep(0.02)
    return False


def add_products(emulator: RunningEmulator, collection_id: str, product_ids: list[str]) -> None:
    payload = emulator.gql(ADD, {"id": collection_id, "productIds": product_ids})
    job = payload["data"]["collectionAddProductsV2"]["job"]
    assert wait_until_done(emulator, job["id"])


# collectionCreate ------------------------------------------------------------------------------


def test_create_makes_a_manual_collection_with_a_handle_from_the_title(
    emulator: RunningEmulator,
) -> None:
    collection = created(emulator, "Summer Sale!")
    assert collection["handle"] == "summer-sale"
    assert collection["ruleSet"] is None
    assert collection["sortOrder"] == "BEST_SELLING"
    assert collection["productsCount"] == {"count": 0, "precision": "EXACT"}
    assert created(emulator, "Summer Sale")["handle"] == "summer-sale-1"


def test_create_rejects_an_explicit_handle_in_use(emulator: RunningEmulator) -> None:
    created(emulator, "Summer", handle="summer")
    payload = create(emulator, collection={"title": "Other", "handle": "summer"})
    assert payload == {
        "collection": None,
        "userErrors": [
            {
                "field": ["input", "handle"],
                "message": "Handle 'summer' already in use. Please provide a new handle.",
            }
        ],
    }
    assert len(emulator.shop().data.collections) == 1


def test_the_legacy_input_argument_can_list_products(emulator: RunningEmulator) -> None:
    pens, pads = make_product(emulator, "pens"), make_product(emulator, "pads")
    payload = create(emulator, input={"title": "Office", "products": [pads, pens]})
    assert [node["handle"] for node in payload["collection"]["products"]["nodes"]] == [
        "pads",
        "pens",
    ]


def test_create_requires_a_title(emulator: RunningEmulator) -> None:
    payload = create(emulator, input={"title": ""})
    assert payload["userErrors"] == [{"field": ["title"], "message": "Title can't be blank"}]


# collectionAddProductsV2 -----------------------------------------------------------------------


def test_products_are_added_in_the_background_in_the_order_given(
    emulator: RunningEmulator,
) -> None:
    collection = created(emulator, "Office", sortOrder="MANUAL")
    pens, pads, ink = (make_product(emulator, h) for h in ("pens", "pads", "ink"))
    payload = emulator.gql(ADD, {"id": collection["id"], "productIds": [pads, ink, pens]})
    job = payload["data"]["collectionAddProductsV2"]["job"]
    assert job["done"] is False
    assert (
        emulator.gql(COLLECTION, {"id": collection["id"], "product": pens})["data"]["collection"][
            "productsCount"
        ]["count"]
        == 0
    )
    assert wait_until_done(emulator, job["id"])
    assert handles(emulator, collection["id"], pens) == ["pads", "ink", "pens"]
    read = emulator.gql(IN_COLLECTION, {"product": pens, "collection": collection["id"]})
    assert read["data"]["product"]["inCollection"] is True
    assert read["data"]["product"]["collections"]["nodes"] == [{"id": collection["id"]}]
    assert emulator.shop().events[-1][0] == "collections/update"


def test_adding_a_product_twice_keeps_its_place(emulator: RunningEmulator) -> None:
    collection = created(emulator, "Office", sortOrder="MANUAL")
    pens, pads = make_product(emulator, "pens"), make_product(emulator, "pads")
    add_products(emulator, collection["id"], [pens])
    add_products(emulator, collection["id"], [pads, pens])
    assert handles(emulator, collection["id"], pens) == ["pens", "pads"]


def test_adding_to_an_unknown_collection_or_an_unknown_product(
    emulator: RunningEmulator,
) -> None:
    pens = make_product(emulator, "pens")
    missing = emulator.gql(ADD, {"id": "gid://shopify/Collection/999", "productIds": [pens]})
    assert missing["data"]["collectionAddProductsV2"] == {
        "job": None,
        "userErrors": [
            {
                "field": ["id"],
                "message": "Collection doesn't exist.",
                "code": "COLLECTION_DOES_NOT_EXIST",
            }
        ],
    }
    collection = created(emulator, "Office")
    unknown = emulator.gql(
        ADD, {"id": collection["id"], "productIds": [pens, "gid://shopify/Product/999"]}
    )
    errors = unknown["data"]["collectionAddProductsV2"]["userErrors"]
    assert [error["field"] for error in errors] == [["productIds", "1"]]
    assert emulator.shop().data.jobs == {}


# Collection fields and queries -----------------------------------------------------------------


def test_products_follow_the_sort_key_and_the_collection_sort_order(
    emulator: RunningEmulator,
) -> None:
    collection = created(emulator, "Office", sortOrder="ALPHA_DESC")
    pens = make_product(emulator, "pens", price="3.00")
    pads = make_product(emulator, "pads", price="1.00")
    ink = make_product(emulator, "ink", price="2.00")
    add_products(emulator, collection["id"], [pads, ink, pens])
    assert handles(emulator, collection["id"], pens) == ["pens", "pads", "ink"]
    assert handles(emulator, collection["id"], pens, sortKey="MANUAL") == ["pads", "ink", "pens"]
    assert handles(emulator, collection["id"], pens, sortKey="PRICE", reverse=True) == [
        "pens",
        "ink",
        "pads",
    ]


def test_has_product(emulator: RunningEmulator) -> None:
    collection = created(emulator, "Office")
    pens, pads = make_product(emulator, "pens"), make_product(emulator, "pads")
    add_products(emulator, collection["id"], [pens])
    assert emulator.gql(COLLECTION, {"id": collection["id"], "product": pens})["data"][
        "collection"
    ]["hasProduct"]
    assert not emulator.gql(COLLECTION, {"id": collection["id"], "product": pads})["data"][
        "collection"
    ]["hasProduct"]


def test_collections_can_be_searched_sorted_and_paged(emulator: RunningEmulator) -> None:
    for title in ("Winter", "Autumn sale", "Summer sale"):
        created(emulator, title)
    found = emulator.gql(SEARCH, {"query": "title:sale", "sortKey": "TITLE"})
    assert [node["handle"] for node in found["data"]["collections"]["nodes"]] == [
        "autumn-sale",
        "summer-sale",
    ]
    by_handle = emulator.gql(SEARCH, {"query": "handle:winter"})["data"]["collections"]["nodes"]
    assert by_handle == [{"handle": "winter"}]
    first_page = emulator.gql(SEARCH, {"sortKey": "TITLE", "reverse": True})["data"]["collections"]
    assert [node["handle"] for node in first_page["nodes"]] == ["winter", "summer-sale"]
    assert first_page["pageInfo"]["hasNextPage"] is True
    rest = emulator.gql(
        SEARCH, {"sortKey": "TITLE", "reverse": True, "after": first_page["pageInfo"]["endCursor"]}
    )
    assert rest["data"]["collections"]["nodes"] == [{"handle": "autumn-sale"}]


def test_search_by_id(emulator: RunningEmulator) -> None:
    ids = [created(emulator, title)["id"] for title in ("One", "Two", "Three")]
    first_number = ids[0].rsplit("/", 1)[1]
    found = emulator.gql(SEARCH, {"query": f"id:>{first_number}"})["data"]["collections"]["nodes"]
    assert found == [{"handle": "two"}, {"handle": "three"}]


def test_an_unknown_collection_is_null(emulator: RunningEmulator) -> None:
    body = emulator.gql(
        COLLECTION, {"id": "gid://shopify/Collection/999", "product": "gid://shopify/Product/1"}
    )
    assert body["data"]["collection"] is None
