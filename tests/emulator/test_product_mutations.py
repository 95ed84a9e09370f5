"""productCreate/Update/Delete, the productVariantsBulk* mutations and tagsAdd/tagsRemove."""

import time
from typing import Any

from tests.emulator.conftest import RunningEmulator

PRODUCT_FIELDS = """
  id handle title status tags publishedAt
  options { name values optionValues { name hasVariants } }
  variants(first: 20) { nodes { id title price position inventoryQuantity
    selectedOptions { name value } } }
"""
CREATE = f"""
mutation Create($product: ProductCreateInput, $media: [CreateMediaInput!]) {{
  productCreate(product: $product, media: $media) {{
    product {{ {PRODUCT_FIELDS} mediaCount {{ count }} }}
    shop {{ myshopifyDomain }}
    userErrors {{ field message }}
  }}
}}
"""
UPDATE = f"""
mutation Update($product: ProductUpdateInput, $identifier: ProductUpdateIdentifiers) {{
  productUpdate(product: $product, identifier: $identifier) {{
    product {{ {PRODUCT_FIELDS} }}
    userErrors {{ field message }}
  }}
}}
"""
DELETE = """
mutation Delete($id: ID!, $synchronous: Boolean) {
  productDelete(input: {id: $id}, synchronous: $synchronous) {
    deletedProductId
    productDeleteOperation { id status deletedProductId }
    userErrors { field message }
  }
}
"""
OPERATION = """
query Operation($id: ID!) {
  productOperation(id: $id) {
    status
    ... on ProductDeleteOperation { deletedProductId userErrors { field message } }
  }
}
"""
BULK_CREATE = f"""
mutation BulkCreate($productId: ID!, $variants: [ProductVariantsBulkInput!]!,
                    $strategy: ProductVariantsBulkCreateStrategy) {{
  productVariantsBulkCreate(productId: $productId, variants: $variants, strategy: $strategy) {{
    product {{ {PRODUCT_FIELDS} }}
    productVariants {{ id title price }}
    userErrors {{ field message code }}
  }}
}}
"""
BULK_UPDATE = """
mutation BulkUpdate($productId: ID!, $variants: [ProductVariantsBulkInput!]!,
                    $allowPartialUpdates: Boolean) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants,
                            allowPartialUpdates: $allowPartialUpdates) {
    productVariants { id title price sku }
    userErrors { field message code }
  }
}
"""
BULK_DELETE = """
mutation BulkDelete($productId: ID!, $variantsIds: [ID!]!) {
  productVariantsBulkDelete(productId: $productId, variantsIds: $variantsIds) {
    product { variants(first: 20) { nodes { id title position } } }
    userErrors { field message code }
  }
}
"""
TAGS_ADD = """
mutation TagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id ... on Product { tags } } userErrors { field message } }
}
"""
TAGS_REMOVE = """
mutation TagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) {
    node { id ... on Product { tags } } userErrors { field message }
  }
}
"""
COLOR_OPTION = [{"name": "Color", "values": [{"name": "Red"}, {"name": "Blue"}]}]


def create(emulator: RunningEmulator, **values: Any) -> dict[str, Any]:
    return emulator.gql(CREATE, {"product": values})["data"]["productCreate"]


def created_product(emulator: RunningEmulator, **values: Any) -> dict[str, Any]:
    payload = create(emulator, **values)
    assert payload["userErrors"] == []
    return payload["product"]


def bulk_create(emulator: RunningEmulator, product_id: str, variants: list, **extra: Any) -> dict:
    body = emulator.gql(BULK_CREATE, {"productId": product_id, "variants": variants, **extra})
    return body["data"]["productVariantsBulkCreate"]


def bulk_update(emulator: RunningEmulator, product_id: str, variants: list, **extra: Any) -> dict:
    body = emulator.gql(BULK_UPDATE, {"productId": product_id, "variants": variants, **extra})
    return body["data"]["productVariantsBulkUpdate"]


def colored(name: str, **extra: Any) -> dict[str, Any]:
    return {"optionValues": [{"optionName": "Color", "name": name}], **extra}


def variant_titles(product: dict[str, Any]) -> list[str]:
    return [variant["title"] for variant in product["variants"]["nodes"]]


def wait_for_operation(emulator: RunningEmulator, operation_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        operation = emulator.gql(OPERATION, {"id": operation_id})["data"]["productOperation"]
        if operation["status"] == "COMPLETE" or time.monotonic() > deadline:
            return operation
        time.sleep(0.02)


# productCreate ---------------------------------------------------------------------------------


def test_create_makes_one_default_variant_and_a_handle_from_the_title(
    emulator: RunningEmulator,
) -> None:
    product = created_product(emulator, title="Blue Pens!")
    assert product["handle"] == "blue-pens"
    assert product["status"] == "ACTIVE"
    assert product["publishedAt"] is None
    assert product["options"][0]["name"] == "Title"
    assert variant_titles(product) == ["Default Title"]
    assert emulator.shop().events[-1][0] == "products/create"


def test_create_suffixes_a_generated_handle_that_is_taken(emulator: RunningEmulator) -> None:
    first = created_product(emulator, title="Pens")
    second = created_product(emulator, title="Pens")
    assert (first["handle"], second["handle"]) == ("pens", "pens-1")


def test_create_rejects_an_explicit_handle_in_use(emulator: RunningEmulator) -> None:
    created_product(emulator, title="Pens", handle="pens")
    payload = create(emulator, title="Other pens", handle="pens")
    assert payload["product"] is None
    assert payload["userErrors"] == [
        {
            "field": ["input", "handle"],
            "message": "Handle 'pens' already in use. Please provide a new handle.",
        }
    ]
    assert len(emulator.shop().data.products) == 1


def test_create_requires_a_title(emulator: RunningEmulator) -> None:
    payload = create(emulator, title="  ")
    assert payload["userErrors"] == [{"field": ["title"], "message": "Title can't be blank"}]
    assert emulator.shop().data.products == {}


def test_create_with_options_makes_the_variant_of_each_first_value(
    emulator: RunningEmulator,
) -> None:
    body = emulator.gql(
        CREATE,
        {
            "product": {"title": "Shirt", "productOptions": COLOR_OPTION, "tags": ["b", "a"]},
            "media": [{"originalSource": "https://img.example/a.png", "mediaContentType": "IMAGE"}],
        },
    )
    product = body["data"]["productCreate"]["product"]
    assert variant_titles(product) == ["Red"]
    assert product["options"][0]["optionValues"] == [
        {"name": "Red", "hasVariants": True},
        {"name": "Blue", "hasVariants": False},
    ]
    assert product["tags"] == ["a", "b"]
    assert product["mediaCount"] == {"count": 1}


# productUpdate ---------------------------------------------------------------------------------


def test_update_keeps_the_handle_when_the_title_changes(emulator: RunningEmulator) -> None:
    product = created_product(emulator, title="Pens", tags=["old"])
    body = emulator.gql(
        UPDATE, {"product": {"id": product["id"], "title": "Better pens", "tags": ["new"]}}
    )
    updated = body["data"]["productUpdate"]["product"]
    assert (updated["title"], updated["handle"], updated["tags"]) == (
        "Better pens",
        "pens",
        ["new"],
    )


def test_update_finds_the_product_by_identifier(emulator: RunningEmulator) -> None:
    created_product(emulator, title="Pens")
    body = emulator.gql(UPDATE, {"identifier": {"handle": "pens"}, "product": {"status": "DRAFT"}})
    assert body["data"]["productUpdate"]["product"]["status"] == "DRAFT"


def test_update_of_an_unknown_product_is_a_user_error(emulator: RunningEmulator) -> None:
    body = emulator.gql(UPDATE, {"product": {"id": "gid://shopify/Product/999", "title": "X"}})
    assert body["data"]["productUpdate"] == {
        "product": None,
        "userErrors": [{"field": ["id"], "message": "Product does not exist"}],
    }


def test_update_to_a_taken_handle_changes_nothing(emulator: RunningEmulator) -> None:
    created_product(emulator, title="Pens")
    other = created_product(emulator, title="Pencils")
    body = emulator.gql(
        UPDATE, {"product": {"id": other["id"], "handle": "pens", "title": "Renamed"}}
    )
    assert body["data"]["productUpdate"]["userErrors"][0]["field"] == ["input", "handle"]
    stored = emulator.shop().data.products[int(other["id"].rsplit("/", 1)[1])]
    assert (stored.handle, stored.title) == ("pencils", "Pencils")


# productDelete ---------------------------------------------------------------------------------


def test_delete_removes_the_product_and_its_variants(emulator: RunningEmulator) -> None:
    product = created_product(emulator, title="Pens")
    payload = emulator.gql(DELETE, {"id": product["id"]})["data"]["productDelete"]
    assert payload["deletedProductId"] == product["id"]
    data = emulator.shop().data
    assert data.products == {}
    assert data.variants == {}
    assert emulator.shop().events[-1][0] == "products/delete"


def test_delete_of_an_unknown_product_is_a_user_error(emulator: RunningEmulator) -> None:
    payload = emulator.gql(DELETE, {"id": "gid://shopify/Product/999"})["data"]["productDelete"]
    assert payload["deletedProductId"] is None
    assert payload["userErrors"] == [{"field": ["id"], "message": "Product does not exist"}]


def test_asynchronous_delete_completes_shortly_after(emulator: RunningEmulator) -> None:
    product = created_product(emulator, title="Pens")
    payload = emulator.gql(DELETE, {"id": product["id"], "synchronous": False})
    operation = payload["data"]["productDelete"]["productDeleteOperation"]
    assert payload["data"]["productDelete"]["deletedProductId"] is None
    assert operation["status"] == "CREATED"
    finished = wait_for_operation(emulator, operation["id"])
    assert finished["status"] == "COMPLETE"
    assert finished["deletedProductId"] == product["id"]
    assert emulator.shop().data.products == {}


# productVariantsBulkCreate ---------------------------------------------------------------------


def test_bulk_create_replaces_the_standalone_default_variant(emulator: RunningEmulator) -> None:
    product = created_product(emulator, title="Shirt")
    location = emulator.location_ids()[0]
    payload = bulk_create(
        emulator,
        product["id"],
        [
            colored(
                "Red",
                price="10.00",
                inventoryQuantities=[{"locationId": location, "availableQuantity": 7}],
            ),
            colored("Blue", price="12.50"),
        ],
    )
    assert payload["userErrors"] == []
    assert [v["price"] for v in payload["productVariants"]] == ["10.00", "12.50"]
    result = payload["product"]
    assert variant_titles(result) == ["Red", "Blue"]
    assert [option["name"] for option in result["options"]] == ["Color"]
    assert [v["position"] for v in result["variants"]["nodes"]] == [1, 2]
    assert result["variants"]["nodes"][0]["inventoryQuantity"] == 7


def test_bulk_create_keeps_a_custom_standalone_variant_by_default(
    emulator: RunningEmulator,
) -> None:
    product = created_product(emulator, title="Shirt", productOptions=COLOR_OPTION)
    payload = bulk_create(emulator, product["id"], [colored("Green")])
    assert variant_titles(payload["product"]) == ["Red", "Green"]
    assert payload["product"]["options"][0]["values"] == ["Red", "Blue", "Green"]


def test_bulk_create_can_remove_any_standalone_variant(emulator: RunningEmulator) -> None:
    product = created_product(emulator, title="Shirt", productOptions=COLOR_OPTION)
    payload = bulk_create(
        emulator, product["id"], [colored("Blue")], strategy="REMOVE_STANDALONE_VARIANT"
    )
    assert variant_titles(payload["product"]) == ["Blue"]


def test_bulk_create_rejects_an_existing_combination_atomically(
    emulator: RunningEmulator,
) -> None:
    product = created_product(emulator, title="Shirt", productOptions=COLOR_OPTION)
    payload = bulk_create(emulator, product["id"], [colored("Blue"), colored("Red")])
    assert payload["product"] is None
    assert payload["userErrors"] == [
        {
            "field": ["variants", "1"],
            "message": "The variant 'Red' already exists.",
            "code": "VARIANT_ALREADY_EXISTS",
        }
    ]
    assert len(emulator.shop().data.variants) == 1


def test_bulk_create_rejects_bad_prices(emulator: RunningEmulator) -> None:
    product = created_product(emulator, title="Shirt", productOptions=COLOR_OPTION)
    payload = bulk_create(emulator, product["id"], [colored("Blue", price="-1")])
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["variants", "0", "price"], "GREATER_THAN_OR_EQUAL_TO"),
    ]


def test_a_price_that_is_not_money_is_a_graphql_error(emulator: RunningEmulator) -> None:
    """Money is a scalar: "abc" fails input coercion before any resolver runs."""
    product = created_product(emulator, title="Shirt", productOptions=COLOR_OPTION)
    body = emulator.post(
        BULK_CREATE, {"productId": product["id"], "variants": [colored("Green", price="abc")]}
    ).json()
    assert "data" not in body
    assert "Money" in body["errors"][0]["message"]
    assert (
        len(emulator.shop().data.products[int(product["id"].rsplit("/", 1)[1])].variant_numbers)
        == 1
    )


def test_bulk_create_on_an_unknown_product(emulator: RunningEmulator) -> None:
    payload = bulk_create(emulator, "gid://shopify/Product/999", [colored("Blue")])
    assert payload["userErrors"] == [
        {
            "field": ["productId"],
            "message": "Product does not exist",
            "code": "PRODUCT_DOES_NOT_EXIST",
        }
    ]


# productVariantsBulkUpdate ---------------------------------------------------------------------


def two_variant_product(emulator: RunningEmulator) -> tuple[str, list[str]]:
    product = created_product(emulator, title="Shirt", productOptions=COLOR_OPTION)
    payload = bulk_create(emulator, product["id"], [colored("Blue", price="5.00")])
    return product["id"], [v["id"] for v in payload["product"]["variants"]["nodes"]]


def test_bulk_update_is_atomic_by_default(emulator: RunningEmulator) -> None:
    product_id, (red, blue) = two_variant_product(emulator)
    payload = bulk_update(
        emulator,
        product_id,
        [
            {"id": red, "price": "9.99", "inventoryItem": {"sku": "RED"}},
            {"id": blue, "price": "-2"},
        ],
    )
    assert payload["userErrors"] == [
        {
            "field": ["variants", "1", "price"],
            "message": "Price must be greater than or equal to 0",
            "code": "GREATER_THAN_OR_EQUAL_TO",
        }
    ]
    assert [(v["price"], v["sku"]) for v in payload["productVariants"]] == [
        ("0.00", None),
        ("5.00", None),
    ]


def test_bulk_update_with_partial_updates_saves_the_valid_variants(
    emulator: RunningEmulator,
) -> None:
    product_id, (red, blue) = two_variant_product(emulator)
    payload = bulk_update(
        emulator,
        product_id,
        [
            {"id": red, "price": "9.99", "inventoryItem": {"sku": "RED"}},
            {"id": blue, "price": "-2"},
        ],
        allowPartialUpdates=True,
    )
    assert len(payload["userErrors"]) == 1
    assert [(v["price"], v["sku"]) for v in payload["productVariants"]] == [
        ("9.99", "RED"),
        ("5.00", None),
    ]


def test_bulk_update_refuses_inventory_quantities_and_unknown_variants(
    emulator: RunningEmulator,
) -> None:
    product_id, (red, _blue) = two_variant_product(emulator)
    location = emulator.location_ids()[0]
    payload = bulk_update(
        emulator,
        product_id,
        [
            {"id": red, "inventoryQuantities": [{"locationId": location, "availableQuantity": 1}]},
            {"id": "gid://shopify/ProductVariant/999", "price": "1.00"},
            {"price": "1.00"},
        ],
    )
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["variants", "0", "inventoryQuantities"], "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE"),
        (["variants", "1", "id"], "PRODUCT_VARIANT_DOES_NOT_EXIST"),
        (["variants", "2", "id"], "PRODUCT_VARIANT_ID_MISSING"),
    ]


def test_bulk_update_cannot_make_two_variants_identical(emulator: RunningEmulator) -> None:
    product_id, (_red, blue) = two_variant_product(emulator)
    payload = bulk_update(emulator, product_id, [{"id": blue, **colored("Red")}])
    assert payload["userErrors"][0]["code"] == "VARIANT_ALREADY_EXISTS"
    renamed = bulk_update(emulator, product_id, [{"id": blue, **colored("Navy")}])
    assert renamed["userErrors"] == []
    assert renamed["productVariants"][0]["title"] == "Navy"


# productVariantsBulkDelete ---------------------------------------------------------------------


def test_bulk_delete_removes_variants_and_renumbers_positions(emulator: RunningEmulator) -> None:
    product = created_product(emulator, title="Shirt", productOptions=COLOR_OPTION)
    created = bulk_create(emulator, product["id"], [colored("Blue"), colored("Green")])
    red, blue, green = (v["id"] for v in created["product"]["variants"]["nodes"])
    body = emulator.gql(BULK_DELETE, {"productId": product["id"], "variantsIds": [blue]})
    payload = body["data"]["productVariantsBulkDelete"]
    assert payload["userErrors"] == []
    assert [(v["id"], v["position"]) for v in payload["product"]["variants"]["nodes"]] == [
        (red, 1),
        (green, 2),
    ]


def test_bulk_delete_rejects_foreign_variants_and_the_last_one(emulator: RunningEmulator) -> None:
    product = created_product(emulator, title="Shirt")
    other = created_product(emulator, title="Other")
    own = product["variants"]["nodes"][0]["id"]
    foreign = other["variants"]["nodes"][0]["id"]
    body = emulator.gql(BULK_DELETE, {"productId": product["id"], "variantsIds": [own, foreign]})
    assert body["data"]["productVariantsBulkDelete"]["userErrors"] == [
        {
            "field": ["variantsIds", "1"],
            "message": "At least one variant does not belong to the product",
            "code": "AT_LEAST_ONE_VARIANT_DOES_NOT_BELONG_TO_THE_PRODUCT",
        }
    ]
    last = emulator.gql(BULK_DELETE, {"productId": product["id"], "variantsIds": [own]})
    assert last["data"]["productVariantsBulkDelete"]["userErrors"][0]["code"] == (
        "CANNOT_DELETE_LAST_VARIANT"
    )
    assert len(emulator.shop().data.variants) == 2


# tagsAdd / tagsRemove --------------------------------------------------------------------------


def test_tags_add_and_remove_split_commas_and_ignore_case(emulator: RunningEmulator) -> None:
    product = created_product(emulator, title="Pens", tags=["Sale"])
    added = emulator.gql(TAGS_ADD, {"id": product["id"], "tags": ["new, sale", "Blue"]})
    assert added["data"]["tagsAdd"]["node"] == {
        "id": product["id"],
        "tags": ["Blue", "new", "Sale"],
    }
    removed = emulator.gql(TAGS_REMOVE, {"id": product["id"], "tags": ["SALE,blue"]})
    assert removed["data"]["tagsRemove"]["node"]["tags"] == ["new"]
    assert emulator.shop().events[-1][0] == "products/update"


def test_tags_on_an_unknown_resource_is_a_user_error(emulator: RunningEmulator) -> None:
    body = emulator.gql(TAGS_ADD, {"id": "gid://shopify/Product/999", "tags": ["x"]})
    assert body["data"]["tagsAdd"] == {
        "node": None,
        "userErrors": [{"field": ["id"], "message": "Resource not found"}],
    }
