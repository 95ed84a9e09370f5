"""Collections: the `collections`/`collection`/`collectionByIdentifier` queries, a product's
`collections`, the Collection fields that need code, collectionCreate (manual collections only)
and the asynchronous collectionAddProductsV2."""

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from shopify_emulator.catalog import (
    add_to_collection,
    check_metafields,
    set_metafields,
    slugify,
    user_error,
)
from shopify_emulator.ids import number_of
from shopify_emulator.lookup import find_node
from shopify_emulator.resolvers.products import page
from shopify_emulator.schema import resolver, shop_of
from shopify_emulator.search import Fields, parse, words
from shopify_emulator.shops import Shop
from shopify_emulator.state import Collection, Job, Product, ShopData, iso

# How long collectionAddProductsV2's job stays not done: long enough for a client to see it
# pending, short enough for tests.
ASYNC_DELAY_SECONDS = 0.05
# Shopify's default for a new custom collection.
DEFAULT_SORT_ORDER = "BEST_SELLING"

COLLECTION_SORTS: dict[str, Callable[[Collection], Any] | None] = {
    "ID": None,
    "RELEVANCE": None,
    "TITLE": lambda c: c.title.lower(),
    "UPDATED_AT": lambda c: iso(c.updated_at),
}


def collection_fields() -> Fields:
    return {
        "title": lambda c: [c.title, *words(c.title)],
        "handle": lambda c: c.handle,
        "id": lambda c: c.number,
        "updated_at": lambda c: c.updated_at,
        "collection_type": lambda _c: "custom",
        "product_id": lambda c: c.product_numbers,
    }


@resolver("QueryRoot", "collections")
def resolve_collections(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    data = shop_of(info).data
    found = parse(args.get("query"), collection_fields(), "title").filter(data.collections.values())
    return page(found, args, COLLECTION_SORTS.get(args.get("sortKey") or "ID"))


@resolver("QueryRoot", "collection")
def resolve_collection(_root: Any, info: GraphQLResolveInfo, id: str) -> Collection | None:
    found = find_node(shop_of(info).data, id)
    return found if getattr(found, "kind", None) == "Collection" else None


@resolver("QueryRoot", "collectionByIdentifier")
def resolve_collection_by_identifier(
    _root: Any, info: GraphQLResolveInfo, identifier: dict[str, Any]
) -> Collection | None:
    """A direct read by id, handle or unique metafield value: unlike a `collections` search it
    never lags behind a collection just created."""
    data = shop_of(info).data
    if identifier.get("id"):
        return resolve_collection(None, info, identifier["id"])
    if identifier.get("handle"):
        wanted = identifier["handle"]
        return next((c for c in data.collections.values() if c.handle == wanted), None)
    custom = identifier.get("customId")
    if custom:
        key = (custom.get("namespace") or "custom", custom["key"])
        return next(
            (
                c
                for c in data.collections.values()
                if key in c.metafields and c.metafields[key].value == custom["value"]
            ),
            None,
        )
    return None


@resolver("Product", "collections")
def resolve_product_collections(product: Product, info: GraphQLResolveInfo, **args: Any) -> Any:
    """The collections holding the product, filtered by `query` like the `collections` root."""
    data = shop_of(info).data
    collections = [data.collections[n] for n in product.collection_numbers if n in data.collections]
    found = parse(args.get("query"), collection_fields(), "title").filter(collections)
    sort_value = COLLECTION_SORTS.get(args.get("sortKey") or "ID") or (lambda c: c.number)
    return page(found, args, sort_value)


# Collection fields ------------------------------------------------------------------------------


def _lowest_price(data: ShopData, product: Product) -> float:
    prices = [Decimal(variant.price) for variant in data.product_variants(product)]
    return float(min(prices)) if prices else 0.0


def _product_sort(
    data: ShopData, collection: Collection, sort_key: str
) -> tuple[Callable[[Product], Any], bool]:
    """(sort value, descending) for a ProductCollectionSortKeys value. Without sales data,
    best-selling and relevance fall back to the collection's own order."""
    position = {number: index for index, number in enumerate(collection.product_numbers)}
    if sort_key == "COLLECTION_DEFAULT":
        return _default_sort(data, collection, position)
    sorts: dict[str, Callable[[Product], Any]] = {
        "ID": lambda p: p.number,
        "TITLE": lambda p: p.title.lower(),
        "CREATED": lambda p: iso(p.created_at),
        "PRICE": lambda p: _lowest_price(data, p),
    }
    return sorts.get(sort_key, lambda p: position[p.number]), False


def _default_sort(
    data: ShopData, collection: Collection, position: dict[int, int]
) -> tuple[Callable[[Product], Any], bool]:
    """The collection's sortOrder, as the admin and storefront show it."""
    by_order: dict[str, tuple[Callable[[Product], Any], bool]] = {
        "ALPHA_ASC": (lambda p: p.title.lower(), False),
        "ALPHA_DESC": (lambda p: p.title.lower(), True),
        "CREATED": (lambda p: iso(p.created_at), False),
        "CREATED_DESC": (lambda p: iso(p.created_at), True),
        "PRICE_ASC": (lambda p: _lowest_price(data, p), False),
        "PRICE_DESC": (lambda p: _lowest_price(data, p), True),
    }
    return by_order.get(collection.sort_order, (lambda p: position[p.number], False))


@resolver("Collection", "products")
def resolve_collection_products(
    collection: Collection, info: GraphQLResolveInfo, **args: Any
) -> Any:
    data = shop_of(info).data
    products = [data.products[n] for n in collection.product_numbers if n in data.products]
    sort_value, descending = _product_sort(data, collection, args.get("sortKey") or "")
    return page(products, {**args, "reverse": descending != bool(args.get("reverse"))}, sort_value)


@resolver("Collection", "productsCount")
def resolve_collection_products_count(
    collection: Collection, _info: GraphQLResolveInfo
) -> dict[str, Any]:
    return {"count": len(collection.product_numbers), "precision": "EXACT"}


@resolver("Collection", "hasProduct")
def resolve_collection_has_product(
    collection: Collection, _info: GraphQLResolveInfo, id: str
) -> bool:
    return number_of(id, "Product") in collection.product_numbers


@resolver("Collection", "ruleSet")
def resolve_collection_rule_set(_collection: Collection, _info: GraphQLResolveInfo) -> None:
    """Only manual (custom) collections exist here, and those have no rules: always null."""


# collectionCreate ------------------------------------------------------------------------------


@resolver("Mutation", "collectionCreate")
def resolve_collection_create(
    _root: Any,
    info: GraphQLResolveInfo,
    collection: dict[str, Any] | None = None,
    input: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`collection` wins when both arguments are given, as Shopify documents."""
    shop = shop_of(info)
    values = collection if collection is not None else input or {}
    errors = _collection_create_errors(shop.data, values)
    if errors:
        return {"collection": None, "userErrors": errors}
    return {"collection": _create_collection(shop, values), "userErrors": []}


def _handle_taken(data: ShopData, handle: str) -> bool:
    return any(existing.handle == handle for existing in data.collections.values())


def _unique_collection_handle(data: ShopData, title: str) -> str:
    wanted = slugify(title)
    handle, suffix = wanted, 1
    while _handle_taken(data, handle):
        handle = f"{wanted}-{suffix}"
        suffix += 1
    return handle


def _collection_create_errors(data: ShopData, values: dict[str, Any]) -> list[dict[str, Any]]:
    errors = []
    if not (values.get("title") or "").strip():
        errors.append(user_error(["title"], "Title can't be blank"))
    handle = values.get("handle")
    if handle is not None and _handle_taken(data, handle):
        errors.append(
            user_error(
                ["input", "handle"],
                f"Handle '{handle}' already in use. Please provide a new handle.",
            )
        )
    for index, product_id in enumerate(values.get("products") or []):
        if number_of(product_id, "Product") not in data.products:
            errors.append(user_error(["input", "products", index], "Product does not exist"))
    return errors + check_metafields(values.get("metafields"), ["input", "metafields"], None)


def _create_collection(shop: Shop, values: dict[str, Any]) -> Collection:
    data = shop.data
    created = Collection(
        number=data.next_number(),
        title=values["title"],
        handle=values.get("handle") or _unique_collection_handle(data, values["title"]),
        description_html=values.get("descriptionHtml") or "",
        sort_order=values.get("sortOrder") or DEFAULT_SORT_ORDER,
    )
    data.collections[created.number] = created
    if values.get("metafields"):
        set_metafields(data, created, "COLLECTION", values["metafields"], replace=False)
    products = [number_of(p, "Product") or 0 for p in values.get("products") or []]
    add_to_collection(data, created, products)
    shop.emit("collections/create", _webhook_payload(created))
    return created


def _webhook_payload(collection: Collection) -> dict[str, Any]:
    """The REST-shaped body of collections/create and collections/update."""
    return {
        "id": collection.number,
        "admin_graphql_api_id": collection.id,
        "handle": collection.handle,
        "title": collection.title,
        "body_html": collection.description_html,
        "sort_order": collection.sort_order.lower().replace("_", "-"),
        "updated_at": iso(collection.updated_at),
    }


# collectionAddProductsV2 -----------------------------------------------------------------------


@resolver("Mutation", "collectionAddProductsV2")
def resolve_collection_add_products(
    _root: Any, info: GraphQLResolveInfo, id: str, productIds: list[str]
) -> dict[str, Any]:
    """Answers at once with a pending Job; the products join shortly after, in the order given."""
    shop = shop_of(info)
    target = resolve_collection(None, info, id)
    if target is None:
        error = user_error(["id"], "Collection doesn't exist.", "COLLECTION_DOES_NOT_EXIST")
        return {"job": None, "userErrors": [error]}
    numbers = [number_of(product_id, "Product") for product_id in productIds]
    unknown = [
        user_error(["productIds", index], "Product does not exist")
        for index, number in enumerate(numbers)
        if number not in shop.data.products
    ]
    if unknown:
        return {"job": None, "userErrors": unknown}
    job = Job(shop.data.next_number())
    shop.data.jobs[job.number] = job
    asyncio.get_running_loop().call_later(
        ASYNC_DELAY_SECONDS, _finish_adding, shop, job, target, [n for n in numbers if n]
    )
    return {"job": job, "userErrors": []}


def _finish_adding(shop: Shop, job: Job, collection: Collection, numbers: list[int]) -> None:
    add_to_collection(shop.data, collection, numbers)
    job.done = True
    shop.emit("collections/update", _webhook_payload(collection))
