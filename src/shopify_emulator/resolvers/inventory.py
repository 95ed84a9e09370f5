"""inventorySetQuantities (compare-and-swap, atomic, answered with an adjustment group) and
inventoryItemUpdate.

Since API 2026-04 every quantity must carry `changeFromQuantity`: a number is compared with the
stored quantity, an explicit null skips the check, and leaving the key out is an error.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphql import GraphQLResolveInfo

from shopify_emulator.catalog import set_quantity, update_inventory_item, user_error
from shopify_emulator.ids import gid, number_of
from shopify_emulator.schema import resolver, shop_of
from shopify_emulator.shops import Shop
from shopify_emulator.state import InventoryItem, Location, ShopData, iso, now

QUANTITY_NAMES = ("available", "on_hand")
MAX_QUANTITY = 1_000_000_000
# The reasons Shopify accepts for an inventory change.
REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_canceled",
        "movement_created",
        "movement_received",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
Error = dict[str, Any]


@dataclass
class AdjustmentGroup:
    """What inventorySetQuantities returns. Its changes are a snapshot taken when applied, so an
    idempotent replay (which returns this same object) shows the first result, not today's."""

    number: int
    reason: str
    reference_document_uri: str | None
    changes: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)
    kind = "InventoryAdjustmentGroup"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class QuantityTarget:
    """One entry of `quantities`, resolved: None where the id named nothing."""

    index: int
    entry: dict[str, Any]
    item: InventoryItem | None
    location: Location | None

    @property
    def where(self) -> list[Any]:
        return ["input", "quantities", self.index]

    @property
    def level_key(self) -> tuple[int, int] | None:
        if self.item is None or self.location is None:
            return None
        return (self.item.number, self.location.number)


# inventorySetQuantities -----------------------------------------------------------------------


@resolver("Mutation", "inventorySetQuantities")
def resolve_inventory_set_quantities(
    _root: Any, info: GraphQLResolveInfo, input: dict[str, Any]
) -> dict[str, Any]:
    shop = shop_of(info)
    targets = [_target(shop.data, index, entry) for index, entry in enumerate(input["quantities"])]
    errors = _input_errors(input) + [
        error for target in targets for error in _target_errors(shop.data, input["name"], target)
    ]
    errors += _duplicate_errors(targets)
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    return {"inventoryAdjustmentGroup": _apply(shop, input, targets), "userErrors": []}


def _target(data: ShopData, index: int, entry: dict[str, Any]) -> QuantityTarget:
    item_number = number_of(entry["inventoryItemId"], "InventoryItem")
    location_number = number_of(entry["locationId"], "Location")
    return QuantityTarget(
        index,
        entry,
        data.inventory_items.get(item_number) if item_number is not None else None,
        data.locations.get(location_number) if location_number is not None else None,
    )


def _input_errors(values: dict[str, Any]) -> list[Error]:
    errors = []
    if values["name"] not in QUANTITY_NAMES:
        errors.append(
            user_error(
                ["input", "name"],
                "The quantity name must be either 'available' or 'on_hand'.",
                "INVALID_NAME",
            )
        )
    if values["reason"] not in REASONS:
        errors.append(
            user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
        )
    return errors


def _target_errors(data: ShopData, name: str, target: QuantityTarget) -> list[Error]:
    errors = []
    if "changeFromQuantity" not in target.entry:
        errors.append(
            user_error(
                [*target.where, "changeFromQuantity"],
                "The changeFromQuantity argument must be given to each quantity; pass null to "
                "skip the compare-and-swap check.",
                "COMPARE_QUANTITY_REQUIRED",
            )
        )
    if target.item is None:
        errors.append(
            user_error(
                [*target.where, "inventoryItemId"],
                "The specified inventory item could not be found.",
                "INVALID_INVENTORY_ITEM",
            )
        )
    if target.location is None:
        errors.append(
            user_error(
                [*target.where, "locationId"],
                "The specified location could not be found.",
                "INVALID_LOCATION",
            )
        )
    errors += _quantity_errors(name, target)
    if not errors and name in QUANTITY_NAMES:
        errors += _stale_errors(data, name, target)
    return errors


def _quantity_errors(name: str, target: QuantityTarget) -> list[Error]:
    """Available may go negative (oversold stock); on hand may not."""
    quantity = target.entry["quantity"]
    where = [*target.where, "quantity"]
    if quantity > MAX_QUANTITY:
        message = "The total quantity can't be higher than 1,000,000,000."
        return [user_error(where, message, "INVALID_QUANTITY_TOO_HIGH")]
    if quantity < -MAX_QUANTITY:
        message = "The total quantity can't be lower than -1,000,000,000."
        return [user_error(where, message, "INVALID_QUANTITY_TOO_LOW")]
    if quantity < 0 and name == "on_hand":
        return [user_error(where, "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE")]
    return []


def _current(data: ShopData, name: str, target: QuantityTarget) -> int:
    """The stored quantity; an item never stocked at the location has 0 there."""
    level = data.inventory_levels.get(target.level_key) if target.level_key else None
    return level.quantities.get(name, 0) if level else 0


def _stale_errors(data: ShopData, name: str, target: QuantityTarget) -> list[Error]:
    expected = target.entry.get("changeFromQuantity")
    if expected is None or expected == _current(data, name, target):
        return []
    return [
        user_error(
            [*target.where, "changeFromQuantity"],
            "The changeFromQuantity argument no longer matches the persisted quantity.",
            "CHANGE_FROM_QUANTITY_STALE",
        )
    ]


def _duplicate_errors(targets: list[QuantityTarget]) -> list[Error]:
    seen: set[tuple[str, str]] = set()
    errors = []
    for target in targets:
        pair = (target.entry["inventoryItemId"], target.entry["locationId"])
        if pair in seen:
            errors.append(
                user_error(
                    target.where,
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            )
        seen.add(pair)
    return errors


def _apply(shop: Shop, values: dict[str, Any], targets: list[QuantityTarget]) -> AdjustmentGroup:
    """Setting one quantity moves the other (available <-> on hand) by the same delta; both
    changes are reported, and each level that moved is announced by webhook."""
    data = shop.data
    group = AdjustmentGroup(
        data.next_number(), values["reason"], values.get("referenceDocumentUri")
    )
    for target in targets:
        if target.item is not None and target.location is not None:
            group.changes += _set_one(shop, values["name"], target.item, target.location, target)
    return group


def _set_one(
    shop: Shop, name: str, item: InventoryItem, location: Location, target: QuantityTarget
) -> list[dict[str, Any]]:
    data = shop.data
    other = "on_hand" if name == "available" else "available"
    before, after = set_quantity(data, item.number, location.number, name, target.entry["quantity"])
    if after != before:
        _emit_level_update(shop, item, location)
    level = data.inventory_levels[(item.number, location.number)]
    return [
        {
            "name": changed,
            "delta": after - before,
            "quantityAfterChange": level.quantities[changed],
            "item": item,
            "location": location,
        }
        for changed in (name, other)
    ]


def _emit_level_update(shop: Shop, item: InventoryItem, location: Location) -> None:
    level = shop.data.inventory_levels[(item.number, location.number)]
    shop.emit(
        "inventory_levels/update",
        {
            "inventory_item_id": item.number,
            "location_id": location.number,
            "available": level.quantities.get("available", 0),
            "updated_at": iso(level.updated_at),
            "admin_graphql_api_id": level.id,
        },
    )


@resolver("InventoryAdjustmentGroup", "changes")
def resolve_group_changes(
    group: AdjustmentGroup,
    _info: GraphQLResolveInfo,
    inventoryItemIds: list[str] | None = None,
    locationIds: list[str] | None = None,
    quantityNames: list[str] | None = None,
) -> list[dict[str, Any]]:
    return [
        change
        for change in group.changes
        if (inventoryItemIds is None or change["item"].id in inventoryItemIds)
        and (locationIds is None or change["location"].id in locationIds)
        and (quantityNames is None or change["name"] in quantityNames)
    ]


# inventoryItemUpdate ---------------------------------------------------------------------------


@resolver("Mutation", "inventoryItemUpdate")
def resolve_inventory_item_update(
    _root: Any, info: GraphQLResolveInfo, id: str, input: dict[str, Any]
) -> dict[str, Any]:
    data = shop_of(info).data
    number = number_of(id, "InventoryItem")
    item = data.inventory_items.get(number) if number is not None else None
    if item is None:
        return {
            "inventoryItem": None,
            "userErrors": [user_error(["id"], "Inventory item does not exist")],
        }
    update_inventory_item(data.variants[item.variant_number], item, input)
    item.updated_at = now()
    return {"inventoryItem": item, "userErrors": []}


@resolver("InventoryItem", "unitCost")
def resolve_item_unit_cost(item: InventoryItem, _info: GraphQLResolveInfo) -> dict[str, Any] | None:
    if item.cost is None:
        return None
    return {"amount": item.cost, "currencyCode": "USD"}
