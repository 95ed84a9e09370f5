"""Every document the client sends validates against Shopify's real 2026-10 schema, and the
client's cost prediction agrees with the emulator's (which follows Shopify's rules)."""

import pytest
from graphql import validate

from cowans.shopify.cost import estimate
from cowans.shopify.documents import aliased, aliased_variables, all_documents, load
from tests.emulator.conftest import RunningEmulator
from tests.shopify_reference import reference_schema


def _names() -> list[str]:
    return [document.name for document in all_documents()]


@pytest.mark.parametrize("name", _names())
def test_document_is_valid_against_shopify(name: str) -> None:
    assert validate(reference_schema(), load(name).ast) == []


@pytest.mark.parametrize("name", [d.name for d in all_documents() if d.is_mutation])
def test_aliased_batches_are_valid_too(name: str) -> None:
    batch = aliased(load(name), 3)
    assert validate(reference_schema(), batch.ast) == []
    assert batch.text.count(f"{load(name).root_field}(") == 3


def test_a_document_with_a_typo_is_caught() -> None:
    from cowans.shopify.documents import document_from_text

    broken = document_from_text("broken", "query { shop { nmae } }")
    assert validate(reference_schema(), broken.ast) != []


def test_aliased_variables_are_suffixed() -> None:
    assert aliased_variables([{"id": "a"}, {"id": "b"}]) == {"id_0": "a", "id_1": "b"}


SAMPLE_VARIABLES = {
    "shop_info": {},
    "locations": {"first": 10},
    "products_page": {
        "first": 5,
        "variants": 3,
        "levels": 2,
        "metafields": 4,
        "media": 2,
        "collections": 3,
    },
    "variants_by_sku": {"first": 20, "query": "sku:A"},
    "product_set": {
        "variants": 7,
        "identifier": {"handle": "h"},
        "input": {
            "title": "T",
            "variants": [{"optionValues": []}] * 7,
            "metafields": [{"key": "k"}] * 6,
            "files": [{"originalSource": "x"}],
            "collections": ["gid://shopify/Collection/2", "gid://shopify/Collection/3"],
        },
    },
    "product_update": {
        "product": {
            "id": "gid://shopify/Product/1",
            "metafields": [{}] * 3,
            "collectionsToJoin": ["gid://shopify/Collection/2"],
            "collectionsToLeave": ["gid://shopify/Collection/3"],
        }
    },
    "variants_bulk_update": {"productId": "gid://shopify/Product/1", "variants": [{}] * 12},
    "metafields_set": {
        "metafields": [
            {"ownerId": owner, "key": "k", "value": "v", "type": "single_line_text_field"}
            for owner in (
                "gid://shopify/Product/1",
                "gid://shopify/ProductVariant/2",
                "gid://shopify/ProductVariant/3",
            )
        ]
    },
    "tags_add": {"id": "gid://shopify/Product/1", "tags": ["a"]},
    "bulk_operation": {"id": "gid://shopify/BulkOperation/1"},
    "product_variants_page": {"id": "gid://shopify/Product/1", "first": 20, "levels": 3},
    "product_metafields_page": {"id": "gid://shopify/Product/1", "first": 50},
    "product_media_page": {"id": "gid://shopify/Product/1", "first": 30},
    "inventory_levels_page": {"id": "gid://shopify/InventoryItem/1", "first": 40},
    "product_collections_page": {"id": "gid://shopify/Product/1", "first": 25},
    "collections_by_title": {"first": 100, "query": 'collection_type:custom AND (title:"A B")'},
    "collection_by_handle": {"handle": "paper"},
    "collection_create": {"collection": {"title": "Paper", "handle": "paper"}},
}


@pytest.mark.parametrize("name", sorted(SAMPLE_VARIABLES))
def test_predicted_cost_matches_what_shopify_charges(emulator: RunningEmulator, name: str) -> None:
    """The emulator prices as Shopify documents; requestedQueryCost is reported even when the
    sample ids do not exist, so the variables need not be real."""
    document = load(name)
    variables = SAMPLE_VARIABLES[name]
    response = emulator.post(document.text, variables).json()
    assert response["extensions"]["cost"]["requestedQueryCost"] == estimate(document, variables)


def test_predicted_cost_of_an_aliased_batch(emulator: RunningEmulator) -> None:
    batch = aliased(load("tags_add"), 4)
    variables = aliased_variables(
        [{"id": f"gid://shopify/Product/{n}", "tags": ["x"]} for n in range(4)]
    )
    response = emulator.post(batch.text, variables).json()
    assert response["extensions"]["cost"]["requestedQueryCost"] == estimate(batch, variables) == 44
