"""Reading by id, handle, SKU and global id: the lookups a sync client leans on."""

from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, simple_product


def _create(emulator: RunningEmulator, handle: str, sku: str) -> dict:
    body = emulator.gql(PRODUCT_SET, {"input": simple_product(handle, sku)})
    return body["data"]["productSet"]["product"]


def test_product_by_identifier_and_by_id(emulator: RunningEmulator) -> None:
    created = _create(emulator, "toner-black", "TN-1")
    query = """query($identifier: ProductIdentifierInput!, $id: ID!) {
      byHandle: productByIdentifier(identifier: $identifier) { id handle }
      byId: product(id: $id) { handle legacyResourceId }
      missing: productByIdentifier(identifier: {handle: "nope"}) { id }
    }"""
    data = emulator.gql(query, {"identifier": {"handle": "toner-black"}, "id": created["id"]})[
        "data"
    ]
    assert data["byHandle"] == {"id": created["id"], "handle": "toner-black"}
    assert data["byId"]["handle"] == "toner-black"
    assert data["byId"]["legacyResourceId"] == created["id"].rsplit("/", 1)[1]  # a string
    assert data["missing"] is None


def test_node_and_nodes_resolve_any_kind(emulator: RunningEmulator) -> None:
    created = _create(emulator, "binder", "BND-1")
    variant = created["variants"]["nodes"][0]
    ids = [
        created["id"],
        variant["id"],
        variant["inventoryItem"]["id"],
        emulator.location_ids()[0],
        "gid://shopify/Product/999999",
        "not-a-gid",
    ]
    query = """query($ids: [ID!]!, $one: ID!) {
      node(id: $one) { __typename ... on ProductVariant { sku } }
      nodes(ids: $ids) { __typename id }
    }"""
    body = emulator.gql(query, {"ids": ids, "one": variant["id"]})
    assert body["data"]["node"] == {"__typename": "ProductVariant", "sku": "BND-1"}
    kinds = [n and n["__typename"] for n in body["data"]["nodes"]]
    assert kinds == ["Product", "ProductVariant", "InventoryItem", "Location", None, None]
    assert body["extensions"]["cost"]["requestedQueryCost"] == 7  # node 1 + six nodes


def test_product_variants_search_by_sku(emulator: RunningEmulator) -> None:
    for n in range(5):
        _create(emulator, f"pen-{n}", f"PEN-{n}")
    query = """query($q: String) { productVariants(first: 10, query: $q) {
      nodes { sku product { handle } } } }"""
    found = emulator.gql(query, {"q": "sku:PEN-3 OR sku:PEN-1"})["data"]["productVariants"]["nodes"]
    assert sorted(v["sku"] for v in found) == ["PEN-1", "PEN-3"]
    assert {v["product"]["handle"] for v in found} == {"pen-1", "pen-3"}
