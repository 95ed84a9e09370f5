"""metafieldsSet (atomic, at most 25, compareDigest) and metafieldsDelete."""

from typing import Any

import pytest

from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, simple_product

SET = """
mutation Set($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key type value ownerType compareDigest }
    userErrors { field message code elementIndex }
  }
}
"""
DELETE = """
mutation Delete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) {
    deletedMetafields { ownerId namespace key }
    userErrors { field message }
  }
}
"""
READ = """
query Read($id: ID!) {
  product(id: $id) { metafields(first: 50) { nodes { namespace key type value } } }
}
"""
CREATE_COLLECTION = """
mutation { collectionCreate(collection: {title: "Summer"}) { collection { id } } }
"""


@pytest.fixture
def product(emulator: RunningEmulator) -> dict[str, Any]:
    body = emulator.gql(PRODUCT_SET, {"input": simple_product("pens", "PEN-1")})
    return body["data"]["productSet"]["product"]


def metafield(owner_id: str, key: str, value: str, **extra: Any) -> dict[str, Any]:
    return {
        "ownerId": owner_id,
        "namespace": "specs",
        "key": key,
        "type": "single_line_text_field",
        "value": value,
        **extra,
    }


def set_metafields(emulator: RunningEmulator, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return emulator.gql(SET, {"metafields": entries})["data"]["metafieldsSet"]


def stored(emulator: RunningEmulator, product_id: str) -> list[dict[str, Any]]:
    return emulator.gql(READ, {"id": product_id})["data"]["product"]["metafields"]["nodes"]


def test_set_writes_on_products_variants_and_collections(
    emulator: RunningEmulator, product: dict[str, Any]
) -> None:
    variant_id = product["variants"]["nodes"][0]["id"]
    collection_id = emulator.gql(CREATE_COLLECTION)["data"]["collectionCreate"]["collection"]["id"]
    payload = set_metafields(
        emulator,
        [
            metafield(product["id"], "color", "blue"),
            metafield(variant_id, "size", "12", type="number_integer"),
            metafield(collection_id, "season", "summer"),
        ],
    )
    assert payload["userErrors"] == []
    assert [(m["key"], m["ownerType"]) for m in payload["metafields"]] == [
        ("color", "PRODUCT"),
        ("size", "PRODUCTVARIANT"),
        ("season", "COLLECTION"),
    ]
    assert stored(emulator, product["id"]) == [
        {"namespace": "specs", "key": "color", "type": "single_line_text_field", "value": "blue"}
    ]


def test_more_than_25_is_refused(emulator: RunningEmulator, product: dict[str, Any]) -> None:
    entries = [metafield(product["id"], f"key{i}", "x") for i in range(26)]
    payload = set_metafields(emulator, entries)
    assert payload == {
        "metafields": None,
        "userErrors": [
            {
                "field": ["metafields"],
                "message": "Exceeded the maximum metafields input limit of 25.",
                "code": "LESS_THAN_OR_EQUAL_TO",
                "elementIndex": None,
            }
        ],
    }
    assert stored(emulator, product["id"]) == []


def test_one_invalid_entry_writes_nothing(
    emulator: RunningEmulator, product: dict[str, Any]
) -> None:
    payload = set_metafields(
        emulator,
        [
            metafield(product["id"], "color", "blue"),
            metafield(product["id"], "count", "many", type="number_integer"),
        ],
    )
    assert payload["userErrors"] == [
        {
            "field": ["metafields", "1", "value"],
            "message": "Value must be an integer.",
            "code": "INVALID_VALUE",
            "elementIndex": None,
        }
    ]
    assert payload["metafields"] == []
    assert stored(emulator, product["id"]) == []


def test_a_bad_list_element_is_pointed_at(
    emulator: RunningEmulator, product: dict[str, Any]
) -> None:
    entry = metafield(product["id"], "sizes", '["1", "two", "3"]', type="list.number_integer")
    error = set_metafields(emulator, [entry])["userErrors"][0]
    assert (error["code"], error["elementIndex"]) == ("INVALID_VALUE", 1)


def test_unknown_owner_and_missing_type(emulator: RunningEmulator, product: dict[str, Any]) -> None:
    payload = set_metafields(
        emulator,
        [
            metafield("gid://shopify/Product/999", "color", "blue"),
            {"ownerId": product["id"], "namespace": "specs", "key": "new", "value": "x"},
        ],
    )
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["metafields", "0", "ownerId"], "INVALID"),
        (["metafields", "1", "type"], "BLANK"),
    ]


def test_an_existing_metafield_keeps_its_type_when_none_is_given(
    emulator: RunningEmulator, product: dict[str, Any]
) -> None:
    set_metafields(emulator, [metafield(product["id"], "count", "1", type="number_integer")])
    payload = set_metafields(
        emulator, [{"ownerId": product["id"], "namespace": "specs", "key": "count", "value": "2"}]
    )
    assert [(m["type"], m["value"]) for m in payload["metafields"]] == [("number_integer", "2")]


def test_compare_digest_guards_against_lost_updates(
    emulator: RunningEmulator, product: dict[str, Any]
) -> None:
    first = set_metafields(emulator, [metafield(product["id"], "color", "blue")])
    digest = first["metafields"][0]["compareDigest"]
    updated = set_metafields(
        emulator, [metafield(product["id"], "color", "red", compareDigest=digest)]
    )
    assert updated["userErrors"] == []
    stale = set_metafields(
        emulator, [metafield(product["id"], "color", "green", compareDigest=digest)]
    )
    assert stale["userErrors"] == [
        {
            "field": ["metafields", "0"],
            "message": "The resource has been updated since it was loaded. Try again with an "
            "updated `compareDigest` value.",
            "code": "STALE_OBJECT",
            "elementIndex": None,
        }
    ]
    assert stored(emulator, product["id"])[0]["value"] == "red"


def test_a_null_compare_digest_means_create_only(
    emulator: RunningEmulator, product: dict[str, Any]
) -> None:
    created = set_metafields(
        emulator, [metafield(product["id"], "color", "blue", compareDigest=None)]
    )
    assert created["userErrors"] == []
    again = set_metafields(emulator, [metafield(product["id"], "color", "red", compareDigest=None)])
    assert again["userErrors"][0]["code"] == "STALE_OBJECT"
    assert stored(emulator, product["id"])[0]["value"] == "blue"


def test_delete_answers_null_for_what_was_not_there(
    emulator: RunningEmulator, product: dict[str, Any]
) -> None:
    set_metafields(emulator, [metafield(product["id"], "color", "blue")])
    body = emulator.gql(
        DELETE,
        {
            "metafields": [
                {"ownerId": product["id"], "namespace": "specs", "key": "color"},
                {"ownerId": product["id"], "namespace": "specs", "key": "missing"},
            ]
        },
    )
    assert body["data"]["metafieldsDelete"] == {
        "deletedMetafields": [
            {"ownerId": product["id"], "namespace": "specs", "key": "color"},
            None,
        ],
        "userErrors": [],
    }
    assert stored(emulator, product["id"]) == []
