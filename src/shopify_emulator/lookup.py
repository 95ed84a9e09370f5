"""Find any object by its global id (for `node`, `nodes` and every `id:` argument)."""

from typing import Any
from urllib.parse import parse_qs

from shopify_emulator.ids import parse_gid
from shopify_emulator.state import ShopData


def find_node(data: ShopData, global_id: str) -> Any:
    parsed = parse_gid(global_id)
    if parsed is None:
        return None
    kind, number = parsed
    if kind == "InventoryLevel":
        query = parse_qs(global_id.partition("?")[2])
        item = query.get("inventory_item_id", [""])[0]
        return data.inventory_levels.get((int(item), number)) if item.isdigit() else None
    table = _TABLES.get(kind)
    if table is None:
        return _find_nested(data, kind, number)
    found = getattr(data, table).get(number)
    if found is not None and getattr(found, "kind", kind) != kind:
        return None
    return found


_TABLES = {
    "Product": "products",
    "ProductVariant": "variants",
    "InventoryItem": "inventory_items",
    "Location": "locations",
    "Collection": "collections",
    "Job": "jobs",
    "ProductSetOperation": "product_operations",
    "ProductDeleteOperation": "product_operations",
    "BulkOperation": "bulk_operations",
    "WebhookSubscription": "webhook_subscriptions",
}


def _find_nested(data: ShopData, kind: str, number: int) -> Any:
    """Objects that live inside products: media, options, metafields."""
    for product in data.products.values():
        if kind == "MediaImage":
            found = next((m for m in product.media if m.number == number), None)
        elif kind == "ProductOption":
            found = next((o for o in product.options if o.number == number), None)
        elif kind == "Metafield":
            return find_metafield(data, number)
        else:
            return None
        if found is not None:
            return found
    return None


def find_metafield(data: ShopData, number: int) -> Any:
    owners: list[Any] = [
        *data.products.values(),
        *data.variants.values(),
        *data.collections.values(),
    ]
    for owner in owners:
        for metafield in owner.metafields.values():
            if metafield.number == number:
                return metafield
    return None
