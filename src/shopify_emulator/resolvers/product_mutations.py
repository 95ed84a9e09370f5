"""productCreate, productUpdate, productDelete, the productVariantsBulk* mutations and
tagsAdd/tagsRemove, with Shopify's user errors.

productCreate and productUpdate answer with the untyped `UserError`, whose paths still start
with "input" for some fields (a legacy Shopify kept when the `product` argument replaced
`input`). The bulk variant mutations carry codes; their rules live in variants_bulk.py.
"""

import asyncio
from typing import Any

from graphql import GraphQLResolveInfo

from shopify_emulator import variants_bulk
from shopify_emulator.catalog import (
    UserErrors,
    add_default_variant,
    add_media,
    apply_product_fields,
    check_product_set,
    create_variant,
    delete_product,
    find_product,
    new_product,
    normalize_tags,
    replace_options,
    set_collections,
    set_metafields,
    touch,
    user_error,
    webhook_payload,
)
from shopify_emulator.ids import number_of
from shopify_emulator.lookup import find_node
from shopify_emulator.resolvers.shop import resolve_shop
from shopify_emulator.schema import resolver, shop_of
from shopify_emulator.shops import Shop
from shopify_emulator.state import Product, ProductOperation

# How long an asynchronous productDelete stays CREATED before it runs (see product_set.py).
ASYNC_DELAY_SECONDS = 0.05


def _product_by_id(shop: Shop, product_id: str) -> Product | None:
    number = number_of(product_id, "Product")
    return shop.data.products.get(number) if number is not None else None


def _emit_update(shop: Shop, product: Product) -> None:
    touch(product)
    shop.emit("products/update", webhook_payload(shop.data, product))


def _add_media(shop: Shop, product: Product, media: list[dict[str, Any]] | None) -> None:
    for entry in media or []:
        add_media(shop.data, product, entry["originalSource"], entry.get("alt") or "")


def _unknown_collections(shop: Shop, collection_ids: list[str] | None) -> list[dict[str, Any]]:
    return [
        user_error(["input", "collectionsToJoin", index], "Collection does not exist")
        for index, collection_id in enumerate(collection_ids or [])
        if number_of(collection_id, "Collection") not in shop.data.collections
    ]


def _collection_numbers(collection_ids: list[str] | None) -> list[int]:
    return [number_of(c, "Collection") or 0 for c in collection_ids or []]


# productCreate ---------------------------------------------------------------------------------


@resolver("Mutation", "productCreate")
def resolve_product_create(
    _root: Any,
    info: GraphQLResolveInfo,
    product: dict[str, Any] | None = None,
    media: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    shop = shop_of(info)
    values = product or {}
    errors = _product_create_errors(shop, values)
    if errors:
        return {"product": None, "shop": resolve_shop(None, info), "userErrors": errors}
    created = _create_product(shop, values, media)
    return {"product": created, "shop": resolve_shop(None, info), "userErrors": []}


def _product_create_errors(shop: Shop, values: dict[str, Any]) -> list[dict[str, Any]]:
    """productSet's checks cover title, handle, options and metafields; only the paths of the
    title and of collectionsToJoin differ."""
    errors = [
        error
        for error in check_product_set(shop.data, None, {**values, "collections": None})
        if error["field"] != ["input", "title"]
    ]
    if not (values.get("title") or "").strip():
        errors.insert(0, user_error(["title"], "Title can't be blank"))
    return errors + _unknown_collections(shop, values.get("collectionsToJoin"))


def _create_product(
    shop: Shop, values: dict[str, Any], media: list[dict[str, Any]] | None
) -> Product:
    """Unlike productSet, productCreate makes exactly one variant (from each option's first
    value) and leaves the product unpublished."""
    data = shop.data
    product = new_product(data, values)
    apply_product_fields(shop, product, values)
    product.published_at = None
    _add_first_variant(shop, product, values.get("productOptions"))
    if values.get("metafields"):
        set_metafields(data, product, "PRODUCT", values["metafields"], replace=False)
    set_collections(data, product, _collection_numbers(values.get("collectionsToJoin")))
    _add_media(shop, product, media)
    shop.emit("products/create", webhook_payload(data, product))
    return product


def _add_first_variant(shop: Shop, product: Product, options: list[dict[str, Any]] | None) -> None:
    if not options:
        add_default_variant(shop, product)
        return
    replace_options(shop.data, product, options)
    first_values = [
        {"optionName": option.name, "name": option.values[0].name} for option in product.options
    ]
    create_variant(shop, product, {"optionValues": first_values})


# productUpdate ---------------------------------------------------------------------------------


@resolver("Mutation", "productUpdate")
def resolve_product_update(
    _root: Any,
    info: GraphQLResolveInfo,
    product: dict[str, Any] | None = None,
    identifier: dict[str, Any] | None = None,
    media: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    shop = shop_of(info)
    values = product or {}
    lookup = {"id": values["id"]} if values.get("id") else identifier
    target = find_product(shop.data, lookup) if lookup else None
    if target is None:
        return {"product": None, "userErrors": [user_error(["id"], "Product does not exist")]}
    errors = _product_update_errors(shop, target, values)
    if errors:
        return {"product": None, "userErrors": errors}
    _update_product(shop, target, values, media)
    return {"product": target, "userErrors": []}


def _product_update_errors(
    shop: Shop, product: Product, values: dict[str, Any]
) -> list[dict[str, Any]]:
    errors = check_product_set(
        shop.data, product, {"handle": values.get("handle"), "metafields": values.get("metafields")}
    )
    if "title" in values and not (values["title"] or "").strip():
        errors.insert(0, user_error(["title"], "Title can't be blank"))
    return errors + _unknown_collections(shop, values.get("collectionsToJoin"))


def _update_product(
    shop: Shop, product: Product, values: dict[str, Any], media: list[dict[str, Any]] | None
) -> None:
    """The handle never follows a new title; metafields are upserted, not replaced."""
    data = shop.data
    apply_product_fields(shop, product, values)
    if values.get("metafields"):
        set_metafields(data, product, "PRODUCT", values["metafields"], replace=False)
    leaving = set(_collection_numbers(values.get("collectionsToLeave")))
    joining = _collection_numbers(values.get("collectionsToJoin"))
    kept = [n for n in product.collection_numbers if n not in leaving]
    set_collections(data, product, kept + [n for n in joining if n not in kept])
    _add_media(shop, product, media)
    _emit_update(shop, product)


# productDelete ---------------------------------------------------------------------------------


@resolver("Mutation", "productDelete")
def resolve_product_delete(
    _root: Any, info: GraphQLResolveInfo, input: dict[str, Any], synchronous: bool = True
) -> dict[str, Any]:
    shop = shop_of(info)
    payload: dict[str, Any] = {
        "deletedProductId": None,
        "productDeleteOperation": None,
        "shop": resolve_shop(None, info),
        "userErrors": [],
    }
    if not synchronous:
        payload["productDeleteOperation"] = _schedule_delete(shop, input["id"])
        return payload
    product = _product_by_id(shop, input["id"])
    if product is None:
        payload["userErrors"] = [user_error(["id"], "Product does not exist")]
    else:
        payload["deletedProductId"] = delete_product(shop, product)
    return payload


def _schedule_delete(shop: Shop, product_id: str) -> ProductOperation:
    """An asynchronous delete reports a missing product on the operation, not the payload."""
    operation = ProductOperation(shop.data.next_number(), "ProductDeleteOperation")
    product = _product_by_id(shop, product_id)
    operation.product_number = product.number if product else None
    shop.data.product_operations[operation.number] = operation
    asyncio.get_running_loop().call_later(
        ASYNC_DELAY_SECONDS, _run_delete, shop, operation, product_id
    )
    return operation


def _run_delete(shop: Shop, operation: ProductOperation, product_id: str) -> None:
    operation.status = "ACTIVE"
    product = _product_by_id(shop, product_id)
    if product is None:
        operation.user_errors = [user_error(["id"], "Product does not exist")]
    else:
        operation.deleted_product_id = delete_product(shop, product)
    operation.status = "COMPLETE"


# productVariantsBulkCreate / Update / Delete -----------------------------------------------------


def _missing_product() -> list[dict[str, Any]]:
    return [user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")]


@resolver("Mutation", "productVariantsBulkCreate")
def resolve_variants_bulk_create(
    _root: Any,
    info: GraphQLResolveInfo,
    productId: str,
    variants: list[dict[str, Any]],
    strategy: str = "DEFAULT",
    media: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    shop = shop_of(info)
    product = _product_by_id(shop, productId)
    if product is None:
        return {"product": None, "productVariants": [], "userErrors": _missing_product()}
    try:
        plan = variants_bulk.plan_create(shop, product, variants, strategy)
    except UserErrors as exc:
        return {"product": None, "productVariants": [], "userErrors": exc.errors}
    _add_media(shop, product, media)
    created = variants_bulk.apply_create(shop, product, plan, variants)
    _emit_update(shop, product)
    return {"product": product, "productVariants": created, "userErrors": []}


@resolver("Mutation", "productVariantsBulkUpdate")
def resolve_variants_bulk_update(
    _root: Any,
    info: GraphQLResolveInfo,
    productId: str,
    variants: list[dict[str, Any]],
    allowPartialUpdates: bool = False,
    media: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Without allowPartialUpdates one bad variant rejects them all; with it, the valid ones
    are saved. Either way the addressed variants come back, as they now are."""
    shop = shop_of(info)
    product = _product_by_id(shop, productId)
    if product is None:
        return {"product": None, "productVariants": None, "userErrors": _missing_product()}
    changes = variants_bulk.plan_update(shop.data, product, variants)
    errors = [error for change in changes for error in change.errors]
    if allowPartialUpdates or not errors:
        _add_media(shop, product, media)
        if variants_bulk.apply_update(shop, product, changes):
            _emit_update(shop, product)
    addressed = [change.variant for change in changes if change.variant is not None]
    return {"product": product, "productVariants": addressed, "userErrors": errors}


@resolver("Mutation", "productVariantsBulkDelete")
def resolve_variants_bulk_delete(
    _root: Any, info: GraphQLResolveInfo, productId: str, variantsIds: list[str]
) -> dict[str, Any]:
    shop = shop_of(info)
    product = _product_by_id(shop, productId)
    if product is None:
        return {"product": None, "userErrors": _missing_product()}
    try:
        numbers = variants_bulk.plan_delete(product, variantsIds)
    except UserErrors as exc:
        return {"product": None, "userErrors": exc.errors}
    variants_bulk.apply_delete(shop.data, product, numbers)
    _emit_update(shop, product)
    return {"product": product, "userErrors": []}


# tagsAdd / tagsRemove --------------------------------------------------------------------------


def _taggable(info: GraphQLResolveInfo, node_id: str) -> Product | None:
    """Only products are taggable here; anything else is "not found", as Shopify answers for a
    resource type without tags."""
    found = find_node(shop_of(info).data, node_id)
    return found if getattr(found, "kind", None) == "Product" else None


def _split_tags(tags: list[str]) -> list[str]:
    """Each entry may itself be a comma-separated list."""
    return [part.strip() for tag in tags for part in tag.split(",") if part.strip()]


@resolver("Mutation", "tagsAdd")
def resolve_tags_add(
    _root: Any, info: GraphQLResolveInfo, id: str, tags: list[str]
) -> dict[str, Any]:
    product = _taggable(info, id)
    if product is None:
        return {"node": None, "userErrors": [user_error(["id"], "Resource not found")]}
    product.tags = normalize_tags([*product.tags, *_split_tags(tags)])
    _emit_update(shop_of(info), product)
    return {"node": product, "userErrors": []}


@resolver("Mutation", "tagsRemove")
def resolve_tags_remove(
    _root: Any, info: GraphQLResolveInfo, id: str, tags: list[str]
) -> dict[str, Any]:
    product = _taggable(info, id)
    if product is None:
        return {"node": None, "userErrors": [user_error(["id"], "Resource not found")]}
    removed = {tag.lower() for tag in _split_tags(tags)}
    product.tags = [tag for tag in product.tags if tag.lower() not in removed]
    _emit_update(shop_of(info), product)
    return {"node": product, "userErrors": []}
