"""Reading products and what hangs off them: variants, inventory, options, media, metafields."""

import json
from typing import Any

from graphql import GraphQLResolveInfo

from shopify_emulator.catalog import find_product
from shopify_emulator.lookup import find_node
from shopify_emulator.pagination import paginate
from shopify_emulator.schema import resolver, shop_of
from shopify_emulator.search import Fields, parse, words
from shopify_emulator.state import Metafield, Product, ShopData, Variant, iso

PRODUCT_SORTS = {
    "ID": None,
    "RELEVANCE": None,
    "TITLE": lambda p: p.title.lower(),
    "UPDATED_AT": lambda p: iso(p.updated_at),
    "CREATED_AT": lambda p: iso(p.created_at),
    "PUBLISHED_AT": lambda p: iso(p.published_at),
    "PRODUCT_TYPE": lambda p: p.product_type.lower(),
    "VENDOR": lambda p: p.vendor.lower(),
}


def product_fields(data: ShopData) -> Fields:
    def skus(product: Product) -> list[str | None]:
        return [data.variants[n].sku for n in product.variant_numbers]

    def barcodes(product: Product) -> list[str | None]:
        return [data.variants[n].barcode for n in product.variant_numbers]

    return {
        "title": lambda p: [p.title, *words(p.title)],
        "handle": lambda p: p.handle,
        "status": lambda p: p.status,
        "vendor": lambda p: p.vendor,
        "product_type": lambda p: p.product_type,
        "tag": lambda p: p.tags,
        "tag_not": lambda p: p.tags,
        "sku": skus,
        "barcode": barcodes,
        "id": lambda p: p.number,
        "created_at": lambda p: p.created_at,
        "updated_at": lambda p: p.updated_at,
        "published_at": lambda p: p.published_at,
        "gift_card": lambda p: p.gift_card,
        "collection_id": lambda p: p.collection_numbers,
        "inventory_total": lambda p: data.total_inventory(p),
    }


def page(items: list[Any], args: dict[str, Any], sort_value: Any = None) -> Any:
    return paginate(
        items,
        sort_value=sort_value or (lambda _item: None),
        first=args.get("first"),
        last=args.get("last"),
        after=args.get("after"),
        before=args.get("before"),
        reverse=bool(args.get("reverse")),
        presorted=sort_value is None,
    )


@resolver("QueryRoot", "products")
def resolve_products(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    data = shop_of(info).data
    products = parse(args.get("query"), product_fields(data), "title").filter(
        data.products.values()
    )
    sort_key = args.get("sortKey") or "ID"
    if sort_key == "INVENTORY_TOTAL":
        return page(products, args, lambda p: data.total_inventory(p))
    return page(products, args, PRODUCT_SORTS.get(sort_key))


@resolver("QueryRoot", "product")
def resolve_product(_root: Any, info: GraphQLResolveInfo, id: str) -> Any:
    found = find_node(shop_of(info).data, id)
    return found if getattr(found, "kind", None) == "Product" else None


@resolver("QueryRoot", "productByIdentifier")
def resolve_product_by_identifier(
    _root: Any, info: GraphQLResolveInfo, identifier: dict[str, Any]
) -> Any:
    return find_product(shop_of(info).data, identifier)


VARIANT_SORTS = {
    "ID": None,
    "RELEVANCE": None,
    "SKU": lambda v: (v.sku or "").lower(),
    "TITLE": lambda v: " / ".join(v.option_values).lower(),
    "NAME": lambda v: " / ".join(v.option_values).lower(),
    "POSITION": lambda v: v.position,
}


def variant_fields(data: ShopData) -> Fields:
    return {
        "title": lambda v: [" / ".join(v.option_values), *words(" ".join(v.option_values))],
        "sku": lambda v: v.sku,
        "barcode": lambda v: v.barcode,
        "product_id": lambda v: v.product_number,
        "id": lambda v: v.number,
        "updated_at": lambda v: v.updated_at,
        "created_at": lambda v: v.created_at,
        "inventory_quantity": lambda v: inventory_quantity(data, v),
        "product_status": lambda v: data.products[v.product_number].status,
        "vendor": lambda v: data.products[v.product_number].vendor,
    }


@resolver("QueryRoot", "productVariants")
def resolve_product_variants(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    data = shop_of(info).data
    variants = parse(args.get("query"), variant_fields(data), "title").filter(
        data.variants.values()
    )
    return page(variants, args, VARIANT_SORTS.get(args.get("sortKey") or "ID"))


def _typed(info: GraphQLResolveInfo, node_id: str, kind: str) -> Any:
    found = find_node(shop_of(info).data, node_id)
    return found if getattr(found, "kind", None) == kind else None


@resolver("QueryRoot", "productVariant")
def resolve_product_variant(_root: Any, info: GraphQLResolveInfo, id: str) -> Any:
    return _typed(info, id, "ProductVariant")


@resolver("QueryRoot", "inventoryItem")
def resolve_inventory_item(_root: Any, info: GraphQLResolveInfo, id: str) -> Any:
    return _typed(info, id, "InventoryItem")


# Product --------------------------------------------------------------------------------


def _legacy_id(obj: Any, _info: GraphQLResolveInfo) -> int:
    return obj.number


for _type in (
    "Product",
    "ProductVariant",
    "InventoryItem",
    "Metafield",
    "Collection",
    "WebhookSubscription",
):
    resolver(_type, "legacyResourceId")(_legacy_id)


@resolver("Product", "options")
def resolve_options(product: Product, _info: GraphQLResolveInfo, first: int | None = None) -> Any:
    return product.options[:first] if first is not None else product.options


@resolver("Product", "variants")
def resolve_variants(product: Product, info: GraphQLResolveInfo, **args: Any) -> Any:
    data = shop_of(info).data
    variants = data.product_variants(product)
    sort = VARIANT_SORTS.get(args.get("sortKey") or "POSITION") or (lambda v: v.position)
    return page(variants, args, sort)


@resolver("Product", "variantsCount")
def resolve_variants_count(product: Product, _info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"count": len(product.variant_numbers), "precision": "EXACT"}


@resolver("Product", "totalInventory")
def resolve_total_inventory(product: Product, info: GraphQLResolveInfo) -> int:
    return shop_of(info).data.total_inventory(product)


@resolver("Product", "tracksInventory")
def resolve_tracks_inventory(product: Product, info: GraphQLResolveInfo) -> bool:
    data = shop_of(info).data
    return any(data.variant_item(v).tracked for v in data.product_variants(product))


@resolver("Product", "hasOnlyDefaultVariant")
def resolve_only_default(product: Product, _info: GraphQLResolveInfo) -> bool:
    return (
        len(product.options) == 1
        and product.options[0].name == "Title"
        and len(product.variant_numbers) == 1
    )


@resolver("Product", "isGiftCard")
def resolve_is_gift_card(product: Product, _info: GraphQLResolveInfo) -> bool:
    return product.gift_card


@resolver("Product", "seo")
def resolve_seo(product: Product, _info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"title": product.seo_title, "description": product.seo_description}


@resolver("Product", "media")
def resolve_media(product: Product, _info: GraphQLResolveInfo, **args: Any) -> Any:
    return page(product.media, args, lambda m: product.media.index(m))


@resolver("Product", "mediaCount")
def resolve_media_count(product: Product, _info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"count": len(product.media), "precision": "EXACT"}


@resolver("Product", "featuredMedia")
def resolve_featured_media(product: Product, _info: GraphQLResolveInfo) -> Any:
    return product.media[0] if product.media else None


@resolver("Product", "inCollection")
def resolve_in_collection(product: Product, info: GraphQLResolveInfo, id: str) -> bool:
    collection = _typed(info, id, "Collection")
    return collection is not None and collection.number in product.collection_numbers


@resolver("ProductOption", "values")
def resolve_option_values(option: Any, _info: GraphQLResolveInfo) -> list[str]:
    return [value.name for value in option.values]


@resolver("ProductOption", "optionValues")
def resolve_option_value_objects(option: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    data = shop_of(info).data
    product = data.products.get(option.product_number)
    index = option.position - 1
    used = {
        variant.option_values[index]
        for variant in (data.product_variants(product) if product else [])
        if index < len(variant.option_values)
    }
    return [
        {"id": value.id, "name": value.name, "hasVariants": value.name in used}
        for value in option.values
    ]


# Variants and inventory ---------------------------------------------------------------------


def inventory_quantity(data: ShopData, variant: Variant) -> int:
    return sum(
        level.quantities.get("available", 0)
        for level in data.levels_of_item(variant.inventory_item_number)
    )


@resolver("ProductVariant", "title")
def resolve_variant_title(variant: Variant, _info: GraphQLResolveInfo) -> str:
    return " / ".join(variant.option_values)


@resolver("ProductVariant", "displayName")
def resolve_variant_display_name(variant: Variant, info: GraphQLResolveInfo) -> str:
    product = shop_of(info).data.products[variant.product_number]
    return f"{product.title} - {' / '.join(variant.option_values)}"


@resolver("ProductVariant", "product")
def resolve_variant_product(variant: Variant, info: GraphQLResolveInfo) -> Product:
    return shop_of(info).data.products[variant.product_number]


@resolver("ProductVariant", "inventoryItem")
def resolve_variant_item(variant: Variant, info: GraphQLResolveInfo) -> Any:
    return shop_of(info).data.variant_item(variant)


@resolver("ProductVariant", "inventoryQuantity")
def resolve_variant_quantity(variant: Variant, info: GraphQLResolveInfo) -> int:
    return inventory_quantity(shop_of(info).data, variant)


@resolver("ProductVariant", "selectedOptions")
def resolve_selected_options(variant: Variant, info: GraphQLResolveInfo) -> list[dict[str, str]]:
    product = shop_of(info).data.products[variant.product_number]
    return [
        {"name": option.name, "value": value}
        for option, value in zip(product.options, variant.option_values, strict=False)
    ]


@resolver("InventoryItem", "sku")
def resolve_item_sku(item: Any, info: GraphQLResolveInfo) -> str | None:
    return shop_of(info).data.variants[item.variant_number].sku


@resolver("InventoryItem", "variant")
def resolve_item_variant(item: Any, info: GraphQLResolveInfo) -> Variant:
    return shop_of(info).data.variants[item.variant_number]


@resolver("InventoryItem", "measurement")
def resolve_item_measurement(item: Any, _info: GraphQLResolveInfo) -> dict[str, Any]:
    weight = (
        None
        if item.weight_value is None
        else {"unit": item.weight_unit, "value": item.weight_value}
    )
    return {"id": f"gid://shopify/InventoryItemMeasurement/{item.number}", "weight": weight}


@resolver("InventoryItem", "inventoryLevels")
def resolve_item_levels(item: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    levels = shop_of(info).data.levels_of_item(item.number)
    return paginate(
        levels,
        number=lambda level: level.location_number,
        first=args.get("first"),
        last=args.get("last"),
        after=args.get("after"),
        before=args.get("before"),
        reverse=bool(args.get("reverse")),
    )


@resolver("InventoryItem", "inventoryLevel")
def resolve_item_level(item: Any, info: GraphQLResolveInfo, locationId: str, **_: Any) -> Any:
    location = _typed(info, locationId, "Location")
    if location is None:
        return None
    return shop_of(info).data.inventory_levels.get((item.number, location.number))


@resolver("InventoryLevel", "item")
def resolve_level_item(level: Any, info: GraphQLResolveInfo) -> Any:
    return shop_of(info).data.inventory_items[level.item_number]


@resolver("InventoryLevel", "location")
def resolve_level_location(level: Any, info: GraphQLResolveInfo) -> Any:
    return shop_of(info).data.locations[level.location_number]


@resolver("InventoryLevel", "quantities")
def resolve_level_quantities(
    level: Any, _info: GraphQLResolveInfo, names: list[str]
) -> list[dict[str, Any]]:
    return [
        {
            "id": f"gid://shopify/InventoryQuantity/{level.location_number}"
            f"?inventory_item_id={level.item_number}&name={name}",
            "name": name,
            "quantity": level.quantities.get(name, 0),
            "updatedAt": iso(level.updated_at),
        }
        for name in names
    ]


# Media and metafields (every owner) ----------------------------------------------------------


@resolver("MediaImage", "mediaContentType")
def resolve_media_type(_media: Any, _info: GraphQLResolveInfo) -> str:
    return "IMAGE"


@resolver("MediaImage", "image")
def resolve_media_image(media: Any, _info: GraphQLResolveInfo) -> dict[str, Any] | None:
    if media.status != "READY":
        return None
    return {
        "id": f"gid://shopify/ImageSource/{media.number}",
        "url": media.src,
        "altText": media.alt,
        "width": 1000,
        "height": 1000,
    }


def _metafield(
    owner: Any, _info: GraphQLResolveInfo, key: str, namespace: str | None = None
) -> Metafield | None:
    return owner.metafields.get((namespace or "custom", key))


def _metafields(owner: Any, _info: GraphQLResolveInfo, **args: Any) -> Any:
    metafields = list(owner.metafields.values())
    if args.get("namespace"):
        metafields = [m for m in metafields if m.namespace == args["namespace"]]
    if args.get("keys"):
        wanted = set(args["keys"])
        metafields = [m for m in metafields if f"{m.namespace}.{m.key}" in wanted]
    return page(metafields, args, lambda m: m.number)


for _owner in ("Product", "ProductVariant", "Collection"):
    resolver(_owner, "metafield")(_metafield)
    resolver(_owner, "metafields")(_metafields)


@resolver("Metafield", "jsonValue")
def resolve_json_value(metafield: Metafield, _info: GraphQLResolveInfo) -> Any:
    if metafield.type.startswith("list.") or metafield.type in (
        "json",
        "dimension",
        "weight",
        "volume",
        "rating",
        "money",
    ):
        try:
            return json.loads(metafield.value)
        except ValueError:
            return metafield.value
    if metafield.type == "number_integer":
        return int(metafield.value)
    if metafield.type == "number_decimal":
        return metafield.value
    if metafield.type == "boolean":
        return metafield.value == "true"
    return metafield.value
