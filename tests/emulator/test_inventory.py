"""inventorySetQuantities (compare-and-swap, atomicity, idempotent replay) and
inventoryItemUpdate."""

import uuid
from typing import Any

import pytest

from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, simple_product

SET_QUANTITIES = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup {
      id createdAt reason referenceDocumentUri
      changes { name delta quantityAfterChange item { id } location { id } }
    }
    userErrors { field message code }
  }
}
"""
SET_QUANTITIES_ONCE = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup {
      id
      changes(quantityNames: ["available"]) { delta quantityAfterChange }
    }
    userErrors { code }
  }
}
"""
ITEM_UPDATE = """
mutation ItemUpdate($id: ID!, $input: InventoryItemInput!) {
  inventoryItemUpdate(id: $id, input: $input) {
    inventoryItem { id sku tracked requiresShipping unitCost { amount currencyCode }
      measurement { weight { unit value } } }
    userErrors { field message }
  }
}
"""
NO_SUCH_ITEM = "gid://shopify/InventoryItem/999"


@pytest.fixture
def item_id(emulator: RunningEmulator) -> str:
    body = emulator.gql(PRODUCT_SET, {"input": simple_product("pens", "PEN-1")})
    return body["data"]["productSet"]["product"]["variants"]["nodes"][0]["inventoryItem"]["id"]


def quantity(item: str, location: str, value: int, **extra: Any) -> dict[str, Any]:
    return {"inventoryItemId": item, "locationId": location, "quantity": value, **extra}


def set_quantities(
    emulator: RunningEmulator, quantities: list[dict[str, Any]], name: str = "available", **extra
) -> dict[str, Any]:
    values = {"name": name, "reason": "correction", "quantities": quantities, **extra}
    variables = {"input": values, "key": str(uuid.uuid4())}
    return emulator.gql(SET_QUANTITIES, variables)["data"]["inventorySetQuantities"]


def stored(emulator: RunningEmulator, item: str, location: str) -> dict[str, int]:
    key = (int(item.rsplit("/", 1)[1]), int(location.rsplit("/", 1)[1]))
    return dict(emulator.shop().data.inventory_levels[key].quantities)


def codes(payload: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


def test_setting_available_moves_on_hand_and_reports_both(
    emulator: RunningEmulator, item_id: str
) -> None:
    location = emulator.location_ids()[0]
    payload = set_quantities(
        emulator,
        [quantity(item_id, location, 12, changeFromQuantity=0)],
        referenceDocumentUri="gid://erp/Sync/1",
    )
    assert payload["userErrors"] == []
    group = payload["inventoryAdjustmentGroup"]
    assert (group["reason"], group["referenceDocumentUri"]) == ("correction", "gid://erp/Sync/1")
    assert [(c["name"], c["delta"], c["quantityAfterChange"]) for c in group["changes"]] == [
        ("available", 12, 12),
        ("on_hand", 12, 12),
    ]
    assert group["changes"][0]["item"]["id"] == item_id
    assert stored(emulator, item_id, location) == {"available": 12, "on_hand": 12}


def test_a_changed_level_is_announced_by_webhook(emulator: RunningEmulator, item_id: str) -> None:
    location = emulator.location_ids()[1]
    set_quantities(emulator, [quantity(item_id, location, 3, changeFromQuantity=None)])
    topic, payload = emulator.shop().events[-1]
    assert topic == "inventory_levels/update"
    assert payload["inventory_item_id"] == int(item_id.rsplit("/", 1)[1])
    assert payload["location_id"] == int(location.rsplit("/", 1)[1])
    assert payload["available"] == 3
    assert payload["admin_graphql_api_id"].startswith(
        location.replace("Location", "InventoryLevel")
    )


def test_omitting_change_from_quantity_is_refused(emulator: RunningEmulator, item_id: str) -> None:
    location = emulator.location_ids()[0]
    payload = set_quantities(emulator, [quantity(item_id, location, 5)])
    assert payload["inventoryAdjustmentGroup"] is None
    assert codes(payload) == [
        (["input", "quantities", "0", "changeFromQuantity"], "COMPARE_QUANTITY_REQUIRED")
    ]
    assert stored(emulator, item_id, location)["available"] == 0


def test_a_stale_change_from_quantity_applies_nothing_at_all(
    emulator: RunningEmulator, item_id: str
) -> None:
    first, second = emulator.location_ids()
    payload = set_quantities(
        emulator,
        [
            quantity(item_id, first, 4, changeFromQuantity=0),
            quantity(item_id, second, 9, changeFromQuantity=2),
        ],
    )
    assert codes(payload) == [
        (["input", "quantities", "1", "changeFromQuantity"], "CHANGE_FROM_QUANTITY_STALE")
    ]
    assert stored(emulator, item_id, first)["available"] == 0
    assert stored(emulator, item_id, second)["available"] == 0


def test_setting_on_hand_moves_available(emulator: RunningEmulator, item_id: str) -> None:
    location = emulator.location_ids()[0]
    set_quantities(emulator, [quantity(item_id, location, 10, changeFromQuantity=0)])
    payload = set_quantities(
        emulator, [quantity(item_id, location, 6, changeFromQuantity=10)], name="on_hand"
    )
    assert [(c["name"], c["delta"]) for c in payload["inventoryAdjustmentGroup"]["changes"]] == [
        ("on_hand", -4),
        ("available", -4),
    ]
    assert stored(emulator, item_id, location) == {"available": 6, "on_hand": 6}


def test_unknown_items_and_locations(emulator: RunningEmulator, item_id: str) -> None:
    location = emulator.location_ids()[0]
    payload = set_quantities(
        emulator,
        [
            quantity(NO_SUCH_ITEM, location, 1, changeFromQuantity=None),
            quantity(item_id, "gid://shopify/Location/999", 1, changeFromQuantity=None),
        ],
    )
    assert codes(payload) == [
        (["input", "quantities", "0", "inventoryItemId"], "INVALID_INVENTORY_ITEM"),
        (["input", "quantities", "1", "locationId"], "INVALID_LOCATION"),
    ]


def test_quantity_limits(emulator: RunningEmulator, item_id: str) -> None:
    first, second = emulator.location_ids()
    too_high = set_quantities(
        emulator, [quantity(item_id, first, 1_000_000_001, changeFromQuantity=None)]
    )
    assert codes(too_high) == [
        (["input", "quantities", "0", "quantity"], "INVALID_QUANTITY_TOO_HIGH")
    ]
    negative_on_hand = set_quantities(
        emulator, [quantity(item_id, first, -1, changeFromQuantity=None)], name="on_hand"
    )
    assert codes(negative_on_hand)[0][1] == "INVALID_QUANTITY_NEGATIVE"
    oversold = set_quantities(emulator, [quantity(item_id, second, -2, changeFromQuantity=None)])
    assert oversold["userErrors"] == []


def test_name_reason_and_duplicate_pairs_are_checked(
    emulator: RunningEmulator, item_id: str
) -> None:
    location = emulator.location_ids()[0]
    entry = quantity(item_id, location, 1, changeFromQuantity=None)
    payload = set_quantities(emulator, [entry, entry], name="committed", reason="because")
    assert codes(payload) == [
        (["input", "name"], "INVALID_NAME"),
        (["input", "reason"], "INVALID_REASON"),
        (["input", "quantities", "1"], "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"),
    ]


def test_an_idempotent_replay_returns_the_first_result_and_applies_nothing(
    emulator: RunningEmulator, item_id: str
) -> None:
    location = emulator.location_ids()[0]
    values = {
        "name": "available",
        "reason": "correction",
        "quantities": [quantity(item_id, location, 5, changeFromQuantity=None)],
    }
    first = emulator.gql(SET_QUANTITIES_ONCE, {"input": values, "key": "sync-1"})
    set_quantities(emulator, [quantity(item_id, location, 8, changeFromQuantity=5)])
    replay = emulator.gql(SET_QUANTITIES_ONCE, {"input": values, "key": "sync-1"})
    assert replay["data"] == first["data"]
    group = replay["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]
    assert group["changes"] == [{"delta": 5, "quantityAfterChange": 5}]
    assert stored(emulator, item_id, location)["available"] == 8


# inventoryItemUpdate ---------------------------------------------------------------------------


def test_item_update_sets_what_it_is_given(emulator: RunningEmulator, item_id: str) -> None:
    body = emulator.gql(
        ITEM_UPDATE,
        {
            "id": item_id,
            "input": {
                "tracked": False,
                "requiresShipping": False,
                "sku": "PEN-2",
                "cost": "1.25",
                "measurement": {"weight": {"unit": "KILOGRAMS", "value": 0.5}},
            },
        },
    )
    item = body["data"]["inventoryItemUpdate"]["inventoryItem"]
    assert item["sku"] == "PEN-2"
    assert (item["tracked"], item["requiresShipping"]) == (False, False)
    assert item["unitCost"] == {"amount": "1.25", "currencyCode": "USD"}
    assert item["measurement"]["weight"] == {"unit": "KILOGRAMS", "value": 0.5}


def test_item_update_of_an_unknown_item(emulator: RunningEmulator) -> None:
    body = emulator.gql(ITEM_UPDATE, {"id": NO_SUCH_ITEM, "input": {"tracked": False}})
    assert body["data"]["inventoryItemUpdate"] == {
        "inventoryItem": None,
        "userErrors": [{"field": ["id"], "message": "Inventory item does not exist"}],
    }


def test_the_idempotent_directive_is_required(emulator: RunningEmulator, item_id: str) -> None:
    location = emulator.location_ids()[0]
    without_key = SET_QUANTITIES.replace(", $key: String!", "").replace(
        " @idempotent(key: $key)", ""
    )
    values = {
        "name": "available",
        "reason": "correction",
        "quantities": [quantity(item_id, location, 5, changeFromQuantity=None)],
    }
    body = emulator.post(without_key, {"input": values}).json()
    assert body["data"]["inventorySetQuantities"] is None
    assert "@idempotent" in body["errors"][0]["message"]
    assert (
        emulator.shop()
        .data.inventory_levels[(int(item_id.rsplit("/", 1)[1]), int(location.rsplit("/", 1)[1]))]
        .quantities["available"]
        == 0
    )


def test_a_key_reused_with_other_input_is_refused(emulator: RunningEmulator, item_id: str) -> None:
    location = emulator.location_ids()[0]

    def send(value: int) -> dict[str, Any]:
        values = {
            "name": "available",
            "reason": "correction",
            "quantities": [quantity(item_id, location, value, changeFromQuantity=None)],
        }
        body = emulator.gql(SET_QUANTITIES, {"input": values, "key": "same-key"})
        return body["data"]["inventorySetQuantities"]

    assert send(5)["userErrors"] == []
    refused = send(6)
    assert refused["inventoryAdjustmentGroup"] is None
    assert refused["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
