"""The shop, its locations, and the generic `node`/`nodes`/`job`/`productOperation` lookups."""

import zlib
from typing import Any

from graphql import GraphQLResolveInfo

from shopify_emulator.lookup import find_node
from shopify_emulator.pagination import paginate
from shopify_emulator.schema import resolver, shop_of
from shopify_emulator.search import parse


@resolver("QueryRoot", "shop")
def resolve_shop(_root: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    shop = shop_of(info)
    return {
        "id": f"gid://shopify/Shop/{zlib.crc32(shop.name.encode())}",
        "name": shop.name,
        "myshopifyDomain": shop.domain,
        "email": f"owner@{shop.domain}",
        "currencyCode": "USD",
        "url": f"https://{shop.domain}",
        "plan": {
            "displayName": shop.plan_display_name,
            "publicDisplayName": shop.plan_display_name,
            "partnerDevelopment": False,
            "shopifyPlus": shop.plan in ("plus", "enterprise"),
        },
    }


LOCATION_FIELDS = {
    "name": lambda location: location.name,
    "id": lambda location: location.number,
    "active": lambda location: location.is_active,
}


@resolver("QueryRoot", "locations")
def resolve_locations(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    data = shop_of(info).data
    locations = [
        location
        for location in data.locations.values()
        if location.is_active or args.get("includeInactive")
    ]
    locations = parse(args.get("query"), LOCATION_FIELDS, "name").filter(locations)
    sort = args.get("sortKey") or "NAME"
    return paginate(
        locations,
        sort_value=(lambda location: location.name.lower())
        if sort == "NAME"
        else (lambda _l: None),
        first=args.get("first"),
        last=args.get("last"),
        after=args.get("after"),
        before=args.get("before"),
        reverse=bool(args.get("reverse")),
    )


@resolver("QueryRoot", "location")
def resolve_location(_root: Any, info: GraphQLResolveInfo, id: str | None = None) -> Any:
    data = shop_of(info).data
    if id is None:
        return next((loc for loc in data.locations.values() if loc.is_primary), None)
    found = find_node(data, id)
    return found if getattr(found, "kind", None) == "Location" else None


@resolver("QueryRoot", "node")
def resolve_node(_root: Any, info: GraphQLResolveInfo, id: str) -> Any:
    return find_node(shop_of(info).data, id)


@resolver("QueryRoot", "nodes")
def resolve_nodes(_root: Any, info: GraphQLResolveInfo, ids: list[str]) -> list[Any]:
    data = shop_of(info).data
    return [find_node(data, node_id) for node_id in ids]


def _typed(info: GraphQLResolveInfo, node_id: str, *kinds: str) -> Any:
    found = find_node(shop_of(info).data, node_id)
    return found if getattr(found, "kind", None) in kinds else None


@resolver("QueryRoot", "job")
def resolve_job(_root: Any, info: GraphQLResolveInfo, id: str) -> Any:
    return _typed(info, id, "Job")


@resolver("Job", "query")
def resolve_job_query(_job: Any, _info: GraphQLResolveInfo) -> dict[str, Any]:
    return {}


@resolver("QueryRoot", "productOperation")
def resolve_product_operation(_root: Any, info: GraphQLResolveInfo, id: str) -> Any:
    return _typed(info, id, "ProductSetOperation", "ProductDeleteOperation")


@resolver("Location", "legacyResourceId")
def resolve_location_legacy_id(location: Any, _info: GraphQLResolveInfo) -> int:
    return location.number


@resolver("Location", "inventoryLevels")
def resolve_location_levels(location: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    data = shop_of(info).data
    levels = [level for (_, loc), level in data.inventory_levels.items() if loc == location.number]
    return paginate(
        levels,
        number=lambda level: level.item_number,
        first=args.get("first"),
        last=args.get("last"),
        after=args.get("after"),
        before=args.get("before"),
        reverse=bool(args.get("reverse")),
    )


@resolver("Location", "inventoryLevel")
def resolve_location_level(
    location: Any, info: GraphQLResolveInfo, inventoryItemId: str, **_: Any
) -> Any:
    item = _typed(info, inventoryItemId, "InventoryItem")
    if item is None:
        return None
    return shop_of(info).data.inventory_levels.get((item.number, location.number))
