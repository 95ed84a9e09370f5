"""The `/_emulator/` side door: JSON endpoints for tests, benchmarks and demos, never on a path
Shopify uses, mounted only when EmulatorOptions.side_door is true.

    GET    /_emulator/shops                    the shops served
    POST   /_emulator/{shop}/reset             empty the shop (locations, plan and faults stay)
    POST   /_emulator/{shop}/seed              {"products": N, "seed": S}: add a seeded catalog
    GET    /_emulator/{shop}/state             everything the shop holds, as JSON (?handle=&limit=)
    GET    /_emulator/{shop}/counters          requests, points, throttles, faults, mutations...
    DELETE /_emulator/{shop}/counters          zero them
    GET    /_emulator/{shop}/config            plan and faults
    PATCH  /_emulator/{shop}/config            {"plan": ..., "faults": {...}}
    POST   /_emulator/{shop}/merchant-edit     change a product as a person in Shopify admin would

Bad input is answered with 4xx and `{"error": ..., "details": [...]}`. Handlers run on the
event loop like GraphQL requests, so each sees and leaves the shop consistent.
"""

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shopify_emulator.catalog import find_product, money, normalize_tags, touch, webhook_payload
from shopify_emulator.catalog import set_quantity as set_level_quantity
from shopify_emulator.ids import gid
from shopify_emulator.seed import seed_products
from shopify_emulator.shops import Shop, ShopRegistry
from shopify_emulator.state import InventoryLevel, Metafield, Product, ShopData, iso, now
from shopify_emulator.throttle import PLANS

MAX_SEED_PRODUCTS = 200_000
STATUSES = ("ACTIVE", "DRAFT", "ARCHIVED")
PROBABILITIES = ("http_5xx", "hang", "ise_after_apply", "throttle")
EDIT_FIELDS = frozenset({"title", "price", "tags", "status", "inventory"})


class Problem(Exception):
    """A 4xx answer: what was wrong, and where."""

    def __init__(self, status: int, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or []


Handler = Callable[[Request, Shop], Awaitable[dict[str, Any]]]


def _registry(request: Request) -> ShopRegistry:
    return request.app.state.registry


def _shop_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Find the shop named in the path, run the handler, turn a Problem into its 4xx."""

    async def endpoint(request: Request) -> Response:
        registry = _registry(request)
        name = request.path_params["shop"]
        try:
            shop = registry.by_name(name)
            if shop is None:
                raise Problem(404, f"unknown shop {name!r}", sorted(registry.shops))
            return JSONResponse(await handler(request, shop))
        except Problem as problem:
            body = {"error": problem.message, "details": problem.details}
            return JSONResponse(body, status_code=problem.status)

    return endpoint


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise Problem(400, f"the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise Problem(400, "the body must be a JSON object")
    return body


def _unknown_keys(given: dict[str, Any], allowed: frozenset[str] | set[str], where: str) -> None:
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise Problem(422, f"unknown {where}: {', '.join(unknown)}", sorted(allowed))


def _integer(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Problem(422, f"{name} must be an integer from {low} to {high}")
    return value


# Shops, reset, seed ----------------------------------------------------------------------


async def list_shops(request: Request) -> Response:
    shops = [
        {
            "name": shop.name,
            "domain": shop.domain,
            "plan": shop.plan,
            "products": len(shop.data.products),
        }
        for shop in _registry(request).shops.values()
    ]
    return JSONResponse({"shops": shops})


async def reset(_request: Request, shop: Shop) -> dict[str, Any]:
    shop.reset()
    return {"reset": shop.name, "locations": [loc.name for loc in shop.data.locations.values()]}


async def seed(request: Request, shop: Shop) -> dict[str, Any]:
    body = await _body(request)
    _unknown_keys(body, {"products", "seed"}, "seed option(s)")
    count = _integer(body.get("products", 0), "products", 0, MAX_SEED_PRODUCTS)
    random_seed = _integer(body.get("seed", 0), "seed", -(2**63), 2**63 - 1)
    started = time.perf_counter()
    seed_products(shop, count, random_seed)
    return {
        "created": count,
        "products": len(shop.data.products),
        "seconds": round(time.perf_counter() - started, 3),
    }


# State -------------------------------------------------------------------------------------


def _metafields(owner: Any) -> list[dict[str, Any]]:
    return [_metafield(metafield) for metafield in owner.metafields.values()]


def _metafield(metafield: Metafield) -> dict[str, Any]:
    return {
        "id": metafield.id,
        "namespace": metafield.namespace,
        "key": metafield.key,
        "type": metafield.type,
        "value": metafield.value,
    }


def _inventory(data: ShopData, item_number: int) -> dict[str, dict[str, int]]:
    return {
        data.locations[level.location_number].name: dict(level.quantities)
        for level in data.levels_of_item(item_number)
    }


def dump_product(data: ShopData, product: Product) -> dict[str, Any]:
    variants = []
    for variant in data.product_variants(product):
        item = data.variant_item(variant)
        variants.append(
            {
                "id": variant.id,
                "title": " / ".join(variant.option_values),
                "sku": variant.sku,
                "barcode": variant.barcode,
                "price": variant.price,
                "compareAtPrice": variant.compare_at_price,
                "position": variant.position,
                "selectedOptions": dict(
                    zip([o.name for o in product.options], variant.option_values, strict=False)
                ),
                "inventoryItemId": item.id,
                "tracked": item.tracked,
                "inventory": _inventory(data, item.number),
                "metafields": _metafields(variant),
                "updatedAt": iso(variant.updated_at),
            }
        )
    return {
        "id": product.id,
        "handle": product.handle,
        "title": product.title,
        "status": product.status,
        "vendor": product.vendor,
        "productType": product.product_type,
        "tags": product.tags,
        "descriptionHtml": product.description_html,
        "createdAt": iso(product.created_at),
        "updatedAt": iso(product.updated_at),
        "options": [
            {"name": option.name, "values": [value.name for value in option.values]}
            for option in product.options
        ],
        "variants": variants,
        "metafields": _metafields(product),
        "collections": [
            data.collections[n].handle for n in product.collection_numbers if n in data.collections
        ],
    }


def dump_shop(shop: Shop, handles: list[str], limit: int | None) -> dict[str, Any]:
    data = shop.data
    products = list(data.products.values())
    if handles:
        products = [p for p in products if p.handle in handles]
    if limit is not None:
        products = products[:limit]
    return {
        "shop": shop.name,
        "domain": shop.domain,
        "plan": shop.plan,
        "locations": [
            {"id": loc.id, "name": loc.name, "isPrimary": loc.is_primary, "isActive": loc.is_active}
            for loc in data.locations.values()
        ],
        "productCount": len(data.products),
        "products": [dump_product(data, product) for product in products],
        "collections": [
            {
                "id": collection.id,
                "handle": collection.handle,
                "title": collection.title,
                "products": [
                    data.products[n].handle
                    for n in collection.product_numbers
                    if n in data.products
                ],
                "metafields": _metafields(collection),
            }
            for collection in data.collections.values()
        ],
        "webhookSubscriptions": [
            {"id": s.id, "topic": s.topic, "uri": s.uri, "filter": s.filter}
            for s in data.webhook_subscriptions.values()
        ],
    }


async def state(request: Request, shop: Shop) -> dict[str, Any]:
    limit = request.query_params.get("limit")
    if limit is not None and not limit.isdigit():
        raise Problem(422, "limit must be a non-negative integer")
    handles = request.query_params.getlist("handle")
    return dump_shop(shop, handles, int(limit) if limit is not None else None)


# Counters and config -----------------------------------------------------------------------

# The counters app.py and executor.py keep per fault kind. A forced throttle is a THROTTLED
# answer like any other, so it is counted in `throttled` as well.
FAULT_COUNTERS = {
    "http_5xx": "faults_5xx",
    "hang": "faults_hang",
    "ise_after_apply": "faults_ise_after_apply",
    "throttle": "faults_throttle",
}
WEBHOOK_COUNTERS = {
    "webhook_events": "events",
    "webhook_attempts": "attempts",
    "webhook_attempts_failed": "failed_attempts",
    "webhooks_delivered": "delivered",
    "webhooks_given_up": "given_up",
    "webhooks_dropped": "dropped",
}


def describe_counters(shop: Shop) -> dict[str, Any]:
    counters = shop.counters
    mutations = {
        key.removeprefix("mutation:"): n
        for key, n in counters.items()
        if key.startswith("mutation:")
    }
    known = {"requests", "points_spent", "throttled", *WEBHOOK_COUNTERS, *FAULT_COUNTERS.values()}
    return {
        "requests": counters["requests"],
        "points_spent": counters["points_spent"],
        "throttled": counters["throttled"],
        "faults": {kind: counters[key] for kind, key in FAULT_COUNTERS.items()},
        "mutations": dict(sorted(mutations.items())),
        "webhooks": {name: counters[key] for key, name in WEBHOOK_COUNTERS.items()},
        "other": {
            key: n
            for key, n in sorted(counters.items())
            if key not in known and not key.startswith("mutation:")
        },
    }


async def counters(_request: Request, shop: Shop) -> dict[str, Any]:
    return describe_counters(shop)


async def clear_counters(_request: Request, shop: Shop) -> dict[str, Any]:
    shop.counters.clear()
    return describe_counters(shop)


def describe_config(shop: Shop) -> dict[str, Any]:
    return {
        "plan": shop.plan,
        "faults": {**shop.faults.describe(), "hang_seconds": shop.faults.hang_seconds},
    }


def _fault_changes(faults: Any) -> dict[str, Any]:
    """Validate a `faults` object; returns the attributes to set."""
    if not isinstance(faults, dict):
        raise Problem(422, "faults must be an object")
    allowed = {*PROBABILITIES, "latency_ms", "seed", "hang_seconds"}
    _unknown_keys(faults, allowed, "fault(s)")
    changes: dict[str, Any] = {}
    for kind in PROBABILITIES:
        if kind in faults:
            value = faults[kind]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise Problem(422, f"faults.{kind} must be a probability from 0 to 1")
            changes[kind] = float(value)
    if "latency_ms" in faults:
        latency = faults["latency_ms"]
        if not isinstance(latency, list) or len(latency) != 2:
            raise Problem(422, "faults.latency_ms must be [min, max]")
        low = _integer(latency[0], "faults.latency_ms[0]", 0, 600_000)
        high = _integer(latency[1], "faults.latency_ms[1]", low, 600_000)
        changes["latency_ms"] = (low, high)
    if "hang_seconds" in faults:
        seconds = faults["hang_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            raise Problem(422, "faults.hang_seconds must be a positive number")
        changes["hang_seconds"] = float(seconds)
    if "seed" in faults:
        changes["seed"] = _integer(faults["seed"], "faults.seed", -(2**63), 2**63 - 1)
    return changes


async def get_config(_request: Request, shop: Shop) -> dict[str, Any]:
    return describe_config(shop)


async def patch_config(request: Request, shop: Shop) -> dict[str, Any]:
    body = await _body(request)
    _unknown_keys(body, {"plan", "faults"}, "setting(s)")
    plan = body.get("plan")
    if plan is not None and plan not in PLANS:
        raise Problem(422, f"unknown plan {plan!r}", sorted(PLANS))
    changes = _fault_changes(body["faults"]) if "faults" in body else {}
    if plan is not None:
        shop.set_plan(plan)
    seed_value = changes.pop("seed", None)
    for name, value in changes.items():
        setattr(shop.faults, name, value)
    if seed_value is not None:
        shop.faults.reseed(seed_value)
    return describe_config(shop)


# Merchant edits ----------------------------------------------------------------------------


def _target(data: ShopData, body: dict[str, Any]) -> Product:
    if body.get("id") is not None:
        raw = str(body["id"])
        identifier = gid("Product", int(raw)) if raw.isdigit() else raw
        product = find_product(data, {"id": identifier})
    elif body.get("handle"):
        product = find_product(data, {"handle": str(body["handle"])})
    else:
        raise Problem(422, 'give the product\'s "handle" or "id"')
    if product is None:
        raise Problem(404, "no such product", [str(body.get("id") or body.get("handle"))])
    return product


def _location_number(data: ShopData, name: str) -> int:
    for location in data.locations.values():
        if name in (location.name, location.id):
            return location.number
    raise Problem(422, f"unknown location {name!r}", [loc.name for loc in data.locations.values()])


def _edit_plan(data: ShopData, fields: Any) -> dict[str, Any]:
    """Validate every field before anything changes: a rejected edit applies nothing."""
    if not isinstance(fields, dict) or not fields:
        raise Problem(422, '"fields" must be a non-empty object', sorted(EDIT_FIELDS))
    _unknown_keys(fields, EDIT_FIELDS, "field(s)")
    plan: dict[str, Any] = {}
    if "title" in fields:
        if not isinstance(fields["title"], str) or not fields["title"].strip():
            raise Problem(422, "title must be a non-blank string")
        plan["title"] = fields["title"]
    if "price" in fields:
        price = money(fields["price"])
        if price is None or isinstance(fields["price"], bool):
            raise Problem(422, "price must be a non-negative amount")
        plan["price"] = price
    if "tags" in fields:
        tags = fields["tags"]
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise Problem(422, "tags must be a list of strings or one comma-separated string")
        plan["tags"] = normalize_tags(tags)
    if "status" in fields:
        status = str(fields["status"]).upper()
        if status not in STATUSES:
            raise Problem(422, f"status must be one of {', '.join(STATUSES)}")
        plan["status"] = status
    if "inventory" in fields:
        plan["inventory"] = _inventory_plan(data, fields["inventory"])
    return plan


def _inventory_plan(data: ShopData, inventory: Any) -> dict[int, int]:
    if not isinstance(inventory, dict):
        raise Problem(422, 'inventory must be an object: {"location name": quantity}')
    return {
        _location_number(data, str(name)): _integer(
            quantity, f"inventory[{name!r}]", -1_000_000_000, 1_000_000_000
        )
        for name, quantity in inventory.items()
    }


def _inventory_payload(level: InventoryLevel) -> dict[str, Any]:
    """The REST-shaped body of inventory_levels/update."""
    return {
        "inventory_item_id": level.item_number,
        "location_id": level.location_number,
        "available": level.quantities.get("available", 0),
        "updated_at": iso(level.updated_at),
        "admin_graphql_api_id": level.id,
    }


def apply_merchant_edit(shop: Shop, product: Product, plan: dict[str, Any]) -> list[str]:
    """Apply a validated edit, bump updatedAt and emit what Shopify would; returns the topics.
    Inventory applies to the first variant; Shopify fires products/update for it too."""
    data = shop.data
    for name in ("title", "tags", "status"):
        if name in plan:
            setattr(product, name, plan[name])
    first = data.variants[product.variant_numbers[0]] if product.variant_numbers else None
    if "price" in plan and first is not None:
        first.price = plan["price"]
        first.updated_at = now()
    topics = []
    if first is not None:
        for location, quantity in plan.get("inventory", {}).items():
            set_level_quantity(data, first.inventory_item_number, location, "available", quantity)
            level = data.inventory_levels[(first.inventory_item_number, location)]
            shop.emit("inventory_levels/update", _inventory_payload(level))
            topics.append("inventory_levels/update")
    touch(product)
    shop.emit("products/update", webhook_payload(data, product))
    return [*topics, "products/update"]


async def merchant_edit(request: Request, shop: Shop) -> dict[str, Any]:
    body = await _body(request)
    _unknown_keys(body, {"handle", "id", "fields"}, "key(s)")
    product = _target(shop.data, body)
    plan = _edit_plan(shop.data, body.get("fields"))
    topics = apply_merchant_edit(shop, product, plan)
    return {"product": dump_product(shop.data, product), "emitted": topics}


def routes() -> list[Route]:
    prefix = "/_emulator/{shop}"
    return [
        Route("/_emulator/shops", list_shops, methods=["GET"]),
        Route(f"{prefix}/reset", _shop_endpoint(reset), methods=["POST"]),
        Route(f"{prefix}/seed", _shop_endpoint(seed), methods=["POST"]),
        Route(f"{prefix}/state", _shop_endpoint(state), methods=["GET"]),
        Route(f"{prefix}/counters", _shop_endpoint(counters), methods=["GET"]),
        Route(f"{prefix}/counters", _shop_endpoint(clear_counters), methods=["DELETE"]),
        Route(f"{prefix}/config", _shop_endpoint(get_config), methods=["GET"]),
        Route(f"{prefix}/config", _shop_endpoint(patch_config), methods=["PATCH"]),
        Route(f"{prefix}/merchant-edit", _shop_endpoint(merchant_edit), methods=["POST"]),
    ]
