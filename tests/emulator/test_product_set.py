"""productSet: upsert by handle, list fields replaced, atomic user errors, async mode."""

import time

import pytest

from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, simple_product


def _set(emulator: RunningEmulator, values: dict, identifier: dict | None = None, **extra) -> dict:
    body = emulator.gql(PRODUCT_SET, {"input": values, "identifier": identifier, **extra})
    return body["data"]["productSet"]


def test_upsert_by_handle_never_duplicates(emulator: RunningEmulator) -> None:
    first = _set(emulator, simple_product("bic-pens", "BIC-1"), {"handle": "bic-pens"})
    again = _set(
        emulator, simple_product("bic-pens", "BIC-1", price="3.50"), {"handle": "bic-pens"}
    )
    assert first["userErrors"] == []
    assert again["userErrors"] == []
    assert first["product"]["id"] == again["product"]["id"]
    assert again["product"]["variants"]["nodes"][0]["price"] == "3.50"
    assert len(emulator.shop().data.products) == 1


def _variants(product: dict) -> list[dict]:
    return product["variants"]["nodes"]


COLORS = {"name": "Color", "values": [{"name": "Yellow"}, {"name": "Blue"}, {"name": "Pink"}]}


def _color_variant(color: str, sku: str, price: str = "4.99", **extra) -> dict:
    return {
        "optionValues": [{"optionName": "Color", "name": color}],
        "sku": sku,
        "price": price,
        **extra,
    }


def test_list_fields_are_replaced_and_omitted_fields_kept(emulator: RunningEmulator) -> None:
    location = emulator.location_ids()[0]
    created = _set(
        emulator,
        {
            "title": "Post-it Notes",
            "handle": "post-it",
            "vendor": "3M",
            "tags": ["paper", "sticky"],
            "productOptions": [COLORS],
            "variants": [
                _color_variant(
                    "Yellow",
                    "MMM-Y",
                    inventoryQuantities=[
                        {"locationId": location, "name": "available", "quantity": 7}
                    ],
                ),
                _color_variant("Blue", "MMM-B"),
                _color_variant("Pink", "MMM-P"),
            ],
            "metafields": [
                {"namespace": "custom", "key": "sheets", "type": "number_integer", "value": "100"},
                {
                    "namespace": "custom",
                    "key": "size",
                    "type": "single_line_text_field",
                    "value": "3x3",
                },
            ],
        },
    )["product"]
    yellow_id = _variants(created)[0]["id"]
    assert [v["sku"] for v in _variants(created)] == ["MMM-Y", "MMM-B", "MMM-P"]
    assert _variants(created)[0]["inventoryQuantity"] == 7

    updated = _set(
        emulator,
        {
            "tags": ["sticky"],
            "productOptions": [COLORS],
            "variants": [_color_variant("Yellow", "MMM-Y", price="5.25")],
            "metafields": [
                {"namespace": "custom", "key": "sheets", "type": "number_integer", "value": "90"}
            ],
        },
        {"handle": "post-it"},
    )["product"]
    assert updated["id"] == created["id"]
    assert updated["vendor"] == "3M", "an omitted field keeps its value"
    assert updated["tags"] == ["sticky"]
    assert [(v["id"], v["price"], v["inventoryQuantity"]) for v in _variants(updated)] == [
        (yellow_id, "5.25", 7)
    ], "variants not listed are deleted; the matched one keeps its id and stock"
    product = emulator.shop().data.products[int(created["id"].rsplit("/", 1)[1])]
    assert {key for _, key in product.metafields} == {"sheets"}
    assert len(emulator.shop().data.variants) == 1
    assert len(emulator.shop().data.inventory_items) == 1


def test_invalid_input_applies_nothing(emulator: RunningEmulator) -> None:
    _set(emulator, simple_product("stapler", "STP-1", title="Stapler"), {"handle": "stapler"})
    result = _set(
        emulator,
        {
            "title": "Renamed",
            "productOptions": [COLORS],
            "variants": [
                _color_variant("Yellow", "S-1", price="-3"),
                _color_variant("Green", "S-2"),
            ],
        },
        {"handle": "stapler"},
    )
    assert result["product"] is None
    errors = {(tuple(e["field"]), e["code"]) for e in result["userErrors"]}
    assert (("input", "variants", "0", "price"), "INVALID_VARIANT") in errors
    assert (
        ("input", "variants", "1", "optionValues", "0"),
        "OPTION_VALUE_DOES_NOT_EXIST",
    ) in errors
    product = next(iter(emulator.shop().data.products.values()))
    assert product.title == "Stapler"


@pytest.mark.parametrize(
    ("values", "identifier", "code", "field"),
    [
        ({"handle": "x"}, None, "INVALID_PRODUCT", ["input", "title"]),
        (
            {"title": "T"},
            {"id": "gid://shopify/Product/999999"},
            "PRODUCT_DOES_NOT_EXIST",
            ["identifier", "id"],
        ),
        (
            {"title": "T", "variants": []},
            None,
            "PRODUCT_OPTIONS_INPUT_MISSING",
            ["input", "productOptions"],
        ),
        (
            {"title": "T", "metafields": [{"key": "k", "type": "number_integer", "value": "x"}]},
            None,
            "INVALID_METAFIELD",
            ["input", "metafields", "0", "value"],
        ),
    ],
)
def test_user_errors(
    emulator: RunningEmulator, values: dict, identifier: dict | None, code: str, field: list[str]
) -> None:
    result = _set(emulator, values, identifier)
    assert result["product"] is None
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in result["userErrors"]
    ]


def test_a_taken_handle_is_refused_not_duplicated(emulator: RunningEmulator) -> None:
    _set(emulator, simple_product("ink", "HP-1"))
    again = _set(emulator, simple_product("ink", "HP-2"))
    assert again["userErrors"][0]["code"] == "HANDLE_NOT_UNIQUE"
    assert len(emulator.shop().data.products) == 1


def test_upsert_by_custom_id(emulator: RunningEmulator) -> None:
    values = simple_product(
        "custom-id",
        "C-1",
        metafields=[
            {
                "namespace": "custom",
                "key": "erp_id",
                "type": "single_line_text_field",
                "value": "X-42",
            }
        ],
    )
    identifier = {"customId": {"namespace": "custom", "key": "erp_id", "value": "X-42"}}
    first = _set(emulator, values, identifier)["product"]
    second = _set(emulator, {**values, "title": "Changed"}, identifier)["product"]
    assert first["id"] == second["id"]
    assert second["title"] == "Changed"


def test_asynchronous_product_set_completes_later(emulator: RunningEmulator) -> None:
    result = _set(emulator, simple_product("later", "L-1"), {"handle": "later"}, synchronous=False)
    assert result["product"] is None
    operation = result["productSetOperation"]
    assert operation["status"] == "CREATED"
    query = """query($id: ID!) { productOperation(id: $id) {
      status product { handle } ... on ProductSetOperation { userErrors { message } } } }"""
    deadline = time.monotonic() + 5
    while True:
        current = emulator.gql(query, {"id": operation["id"]})["data"]["productOperation"]
        if current["status"] == "COMPLETE" or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert current == {"status": "COMPLETE", "product": {"handle": "later"}, "userErrors": []}


def _seed_catalog(emulator: RunningEmulator, count: int) -> None:
    for n in range(count):
        vendor = ["3M", "HP", "BIC"][n % 3]
        _set(
            emulator,
            simple_product(
                f"item-{n:03}",
                f"SKU-{n:03}",
                price=f"{n + 1}.00",
                vendor=vendor,
                title=f"Item {n:03} {vendor}",
                tags=["even" if n % 2 == 0 else "odd"],
                status="DRAFT" if n % 5 == 0 else "ACTIVE",
                productType=["Pens", "Paper"][n % 2],
            ),
        )


PAGE = """query($first: Int, $last: Int, $after: String, $before: String, $query: String,
  $sortKey: ProductSortKeys, $reverse: Boolean) {
  products(first: $first, last: $last, after: $after, before: $before, query: $query,
           sortKey: $sortKey, reverse: $reverse) {
    edges { cursor node { handle } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def _page(emulator: RunningEmulator, **variables) -> dict:
    return emulator.gql(PAGE, variables)["data"]["products"]


def _handles(page: dict) -> list[str]:
    return [edge["node"]["handle"] for edge in page["edges"]]


def test_cursor_pagination_walks_every_product_once(emulator: RunningEmulator) -> None:
    _seed_catalog(emulator, 23)
    seen, after = [], None
    while True:
        page = _page(emulator, first=5, after=after)
        seen += _handles(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"item-{n:03}" for n in range(23)]

    backwards = _page(emulator, last=5)
    assert _handles(backwards) == [f"item-{n:03}" for n in range(18, 23)]
    assert backwards["pageInfo"]["hasPreviousPage"] is True
    before = _page(emulator, last=3, before=backwards["pageInfo"]["startCursor"])
    assert _handles(before) == ["item-015", "item-016", "item-017"]

    by_title_desc = _page(emulator, first=3, sortKey="TITLE", reverse=True)
    assert _handles(by_title_desc) == ["item-022", "item-021", "item-020"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sku:SKU-004", ["item-004"]),
        ("handle:item-01*", [f"item-{n:03}" for n in range(10, 20)]),
        ("status:draft vendor:3M", ["item-000", "item-015"]),
        ("tag:even product_type:Pens", [f"item-{n:03}" for n in range(0, 20, 2)]),
        (  # AND binds tighter than OR
            "vendor:HP OR vendor:BIC -tag:odd",
            [f"item-{n:03}" for n in (1, 2, 4, 7, 8, 10, 13, 14, 16, 19)],
        ),
        (
            "(vendor:HP OR vendor:BIC) -tag:odd",
            [f"item-{n:03}" for n in (2, 4, 8, 10, 14, 16)],
        ),
        ("NOT status:active AND NOT vendor:3M", ["item-005", "item-010"]),
        ("id:>0 title:item", [f"item-{n:03}" for n in range(20)]),
        ("'item 007 bic'", []),
        ("no_such_field:x sku:SKU-001", ["item-001"]),
    ],
)
def test_search_syntax(emulator: RunningEmulator, query: str, expected: list[str]) -> None:
    _seed_catalog(emulator, 20)
    assert _handles(_page(emulator, first=50, query=query)) == expected


def test_updated_at_filter(emulator: RunningEmulator) -> None:
    _seed_catalog(emulator, 3)
    cutoff = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))
    time.sleep(1.1)
    _set(emulator, {"title": "Touched"}, {"handle": "item-001"})
    assert _handles(_page(emulator, first=10, query=f"updated_at:>'{cutoff}'")) == ["item-001"]
    assert _handles(_page(emulator, first=10, query=f"updated_at:<{cutoff}")) == [
        "item-000",
        "item-002",
    ]
