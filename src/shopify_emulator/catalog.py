"""Changing products the way Shopify does, shared by productSet, the product and variant
mutations, bulk mutations, seeding and the side door's "merchant edit".

Every operation validates all of its input first and raises `UserErrors` before touching
anything, so a rejected mutation applies nothing (Shopify's mutations are atomic too).
"""

import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from shopify_emulator.ids import gid, number_of
from shopify_emulator.shops import Shop
from shopify_emulator.state import (
    Collection,
    InventoryItem,
    InventoryLevel,
    MediaImage,
    Metafield,
    OptionValue,
    Product,
    ProductOption,
    ShopData,
    Variant,
    iso,
    now,
)

MAX_VARIANTS = 2048
MAX_OPTIONS = 3
DEFAULT_OPTION = ("Title", "Default Title")
METAFIELD_TYPES = frozenset(
    {
        "single_line_text_field",
        "multi_line_text_field",
        "rich_text_field",
        "number_integer",
        "number_decimal",
        "boolean",
        "json",
        "url",
        "date",
        "date_time",
        "color",
        "weight",
        "dimension",
        "volume",
        "rating",
        "money",
        "list.single_line_text_field",
        "list.number_integer",
        "list.number_decimal",
        "list.url",
        "list.color",
        "list.date",
    }
)


class UserErrors(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "user errors")
        self.errors = errors


def user_error(field: list[Any] | None, message: str, code: str | None = None) -> dict[str, Any]:
    return {
        "field": [str(part) for part in field] if field else None,
        "message": message,
        "code": code,
    }


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "product"


def unique_handle(data: ShopData, wanted: str) -> str:
    handle, suffix = wanted, 1
    while handle in data.handles:
        handle = f"{wanted}-{suffix}"
        suffix += 1
    return handle


def money(value: Any) -> str | None:
    """Shopify's Money input: a decimal string (or number); None when it is not one."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e18"):
        return None
    return f"{amount.quantize(Decimal('0.01'))}"


def find_product(data: ShopData, identifier: dict[str, Any]) -> Product | None:
    if identifier.get("id"):
        number = number_of(identifier["id"], "Product")
        return data.products.get(number) if number is not None else None
    if identifier.get("handle"):
        number = data.handles.get(identifier["handle"])
        return data.products.get(number) if number is not None else None
    custom = identifier.get("customId")
    if custom:
        key = (custom.get("namespace") or "custom", custom["key"])
        return next(
            (
                p
                for p in data.products.values()
                if key in p.metafields and p.metafields[key].value == custom["value"]
            ),
            None,
        )
    return None


# Validation -------------------------------------------------------------------------------


def check_metafields(
    entries: list[dict[str, Any]] | None, path: list[Any], code: str
) -> list[dict[str, Any]]:
    errors = []
    for index, entry in enumerate(entries or []):
        where = [*path, index]
        if not entry.get("key"):
            errors.append(user_error([*where, "key"], "Key can't be blank", code))
            continue
        kind = entry.get("type")
        if kind is not None and kind not in METAFIELD_TYPES:
            errors.append(user_error([*where, "type"], f"Type '{kind}' is not a valid type", code))
        elif kind is None and not entry.get("id"):
            errors.append(user_error([*where, "type"], "Type can't be blank", code))
        elif entry.get("value") is None:
            errors.append(user_error([*where, "value"], "Value can't be blank", code))
        elif not metafield_value_valid(kind or "single_line_text_field", entry["value"]):
            errors.append(user_error([*where, "value"], f"Value is invalid for type {kind}", code))
    return errors


def metafield_value_valid(kind: str, value: str) -> bool:
    if kind.startswith("list.") or kind in (
        "json",
        "weight",
        "dimension",
        "volume",
        "rating",
        "money",
    ):
        try:
            parsed = json.loads(value)
        except ValueError:
            return False
        return isinstance(parsed, list) if kind.startswith("list.") else True
    if kind == "number_integer":
        return re.fullmatch(r"-?\d+", value) is not None
    if kind == "number_decimal":
        return re.fullmatch(r"-?\d+(\.\d+)?", value) is not None
    if kind == "boolean":
        return value in ("true", "false")
    return True


def _option_names(options: list[dict[str, Any]]) -> list[str]:
    return [option.get("name") or "" for option in options]


def check_product_set(
    data: ShopData, product: Product | None, values: dict[str, Any]
) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    creating = product is None
    if creating and not (values.get("title") or "").strip():
        errors.append(user_error(["input", "title"], "Title can't be blank", "INVALID_PRODUCT"))
    handle = values.get("handle")
    if handle is not None:
        owner = data.handles.get(handle)
        if owner is not None and (product is None or owner != product.number):
            errors.append(
                user_error(
                    ["input", "handle"],
                    f"Handle '{handle}' already in use. Please provide a new handle.",
                    "HANDLE_NOT_UNIQUE",
                )
            )
    options = values.get("productOptions")
    variants = values.get("variants")
    if options is not None and len(options) > MAX_OPTIONS:
        errors.append(
            user_error(
                ["input", "productOptions"],
                "Can only specify a maximum of 3 options",
                "OPTIONS_OVER_LIMIT",
            )
        )
    if variants is not None and len(variants) > MAX_VARIANTS:
        errors.append(
            user_error(
                ["input", "variants"],
                f"Can only specify a maximum of {MAX_VARIANTS} variants",
                "VARIANTS_OVER_LIMIT",
            )
        )
    if variants is not None and options is None and creating:
        errors.append(
            user_error(
                ["input", "productOptions"],
                "Options are required when creating variants",
                "PRODUCT_OPTIONS_INPUT_MISSING",
            )
        )
    if options is not None and variants is None and not creating:
        errors.append(
            user_error(
                ["input", "variants"],
                "Variants are required when options are specified",
                "VARIANTS_INPUT_MISSING",
            )
        )
    if options is not None:
        names = _option_names(options)
        if len(set(names)) != len(names):
            errors.append(
                user_error(
                    ["input", "productOptions"], "Duplicated option name.", "DUPLICATED_OPTION_NAME"
                )
            )
        for index, option in enumerate(options):
            if not option.get("values"):
                errors.append(
                    user_error(
                        ["input", "productOptions", index, "values"],
                        "Option values are missing",
                        "OPTION_VALUES_MISSING",
                    )
                )
    known = _known_option_values(product, options)
    seen: set[tuple[str, ...]] = set()
    for index, variant in enumerate(variants or []):
        where = ["input", "variants", index]
        for key in ("price", "compareAtPrice"):
            if variant.get(key) is not None and money(variant[key]) is None:
                errors.append(
                    user_error(
                        [*where, key],
                        f"{key} must be a valid non-negative amount",
                        "INVALID_VARIANT",
                    )
                )
        combination = []
        for value_index, option_value in enumerate(variant.get("optionValues") or []):
            name = option_value.get("optionName")
            value = option_value.get("name")
            if name not in known:
                errors.append(
                    user_error(
                        [*where, "optionValues", value_index],
                        f"Option '{name}' does not exist",
                        "OPTION_DOES_NOT_EXIST",
                    )
                )
            elif value not in known[name]:
                errors.append(
                    user_error(
                        [*where, "optionValues", value_index],
                        f"Option value '{value}' does not exist",
                        "OPTION_VALUE_DOES_NOT_EXIST",
                    )
                )
            combination.append(f"{name}={value}")
        if tuple(combination) in seen:
            errors.append(
                user_error(
                    where,
                    f"The variant '{' / '.join(combination)}' already exists.",
                    "INVALID_VARIANT",
                )
            )
        seen.add(tuple(combination))
        errors += check_metafields(
            variant.get("metafields"), [*where, "metafields"], "INVALID_METAFIELD"
        )
        errors += _check_inventory_quantities(
            data, variant.get("inventoryQuantities"), [*where, "inventoryQuantities"]
        )
    errors += check_metafields(
        values.get("metafields"), ["input", "metafields"], "INVALID_METAFIELD"
    )
    for index, collection_id in enumerate(values.get("collections") or []):
        number = number_of(collection_id, "Collection")
        if number is None or number not in data.collections:
            errors.append(
                user_error(
                    ["input", "collections", index], "Collection does not exist", "INVALID_INPUT"
                )
            )
    return errors


def _known_option_values(
    product: Product | None, options: list[dict[str, Any]] | None
) -> dict[str, set[str]]:
    if options is not None:
        return {
            option.get("name") or "": {
                value.get("name") or "" for value in option.get("values") or []
            }
            for option in options
        }
    if product is None:
        return {}
    return {option.name: {value.name for value in option.values} for option in product.options}


def _check_inventory_quantities(
    data: ShopData, entries: list[dict[str, Any]] | None, path: list[Any]
) -> list[dict[str, Any]]:
    errors = []
    for index, entry in enumerate(entries or []):
        number = number_of(entry["locationId"], "Location")
        if number is None or number not in data.locations:
            errors.append(
                user_error([*path, index, "locationId"], "Location does not exist", "INVALID_INPUT")
            )
        if entry["name"] not in ("available", "on_hand"):
            errors.append(
                user_error(
                    [*path, index, "name"],
                    "Quantity name must be available or on_hand",
                    "INVALID_INPUT",
                )
            )
        if entry["quantity"] < -1_000_000_000 or entry["quantity"] > 1_000_000_000:
            errors.append(
                user_error([*path, index, "quantity"], "Quantity is out of range", "INVALID_INPUT")
            )
    return errors


# Applying ---------------------------------------------------------------------------------


def product_set(shop: Shop, values: dict[str, Any], identifier: dict[str, Any] | None) -> Product:
    """Create or replace a product (see productSet's documentation for list semantics)."""
    data = shop.data
    errors: list[dict[str, Any]] = []
    if identifier and values.get("id"):
        errors.append(
            user_error(
                ["input", "id"],
                "id cannot be specified together with an identifier",
                "ID_NOT_ALLOWED",
            )
        )
    lookup = identifier or ({"id": values["id"]} if values.get("id") else None)
    product = find_product(data, lookup) if lookup else None
    if lookup and product is None and lookup.get("id"):
        where = ["identifier", "id"] if identifier else ["input", "id"]
        errors.append(user_error(where, "Product does not exist", "PRODUCT_DOES_NOT_EXIST"))
    if not errors:
        if (
            product is None
            and identifier
            and identifier.get("handle")
            and values.get("handle") is None
        ):
            values = {**values, "handle": identifier["handle"]}
        errors = check_product_set(data, product, values)
    if errors:
        raise UserErrors(errors)
    creating = product is None
    if product is None:
        product = new_product(data, values)
    apply_product_fields(shop, product, values)
    if values.get("productOptions") is not None:
        replace_options(data, product, values["productOptions"])
    if values.get("variants") is not None:
        replace_variants(shop, product, values["variants"])
    elif creating:
        add_default_variant(shop, product)
    if values.get("metafields") is not None:
        set_metafields(data, product, "PRODUCT", values["metafields"], replace=True)
    if values.get("files") is not None:
        replace_media(data, product, values["files"])
    if values.get("collections") is not None:
        set_collections(
            data, product, [number_of(c, "Collection") or 0 for c in values["collections"]]
        )
    touch(product)
    shop.emit("products/create" if creating else "products/update", webhook_payload(data, product))
    return product


def new_product(data: ShopData, values: dict[str, Any]) -> Product:
    handle = values.get("handle") or unique_handle(data, slugify(values.get("title") or ""))
    product = Product(number=data.next_number(), handle=handle, title=values.get("title") or "")
    data.products[product.number] = product
    data.handles[handle] = product.number
    return product


def apply_product_fields(shop: Shop, product: Product, values: dict[str, Any]) -> None:
    data = shop.data
    if values.get("handle") is not None and values["handle"] != product.handle:
        data.handles.pop(product.handle, None)
        product.handle = values["handle"]
        data.handles[product.handle] = product.number
    simple = {
        "title": "title",
        "descriptionHtml": "description_html",
        "vendor": "vendor",
        "productType": "product_type",
        "status": "status",
        "templateSuffix": "template_suffix",
        "giftCard": "gift_card",
    }
    for key, attribute in simple.items():
        if values.get(key) is not None:
            setattr(product, attribute, values[key])
    if values.get("tags") is not None:
        product.tags = normalize_tags(values["tags"])
    if values.get("seo") is not None:
        product.seo_title = values["seo"].get("title", product.seo_title)
        product.seo_description = values["seo"].get("description", product.seo_description)


def normalize_tags(tags: list[str]) -> list[str]:
    """Shopify splits on commas, trims, drops empties and duplicates (case-insensitively)."""
    seen: dict[str, str] = {}
    for tag in tags:
        for part in tag.split(","):
            cleaned = part.strip()
            if cleaned and cleaned.lower() not in seen:
                seen[cleaned.lower()] = cleaned
    return sorted(seen.values(), key=str.lower)


def replace_options(data: ShopData, product: Product, options: list[dict[str, Any]]) -> None:
    existing = {option.name: option for option in product.options}
    replaced = []
    for position, spec in enumerate(options, start=1):
        name = spec.get("name") or ""
        old = existing.get(name)
        old_values = {value.name: value for value in old.values} if old else {}
        values = [
            old_values.get(v.get("name") or "")
            or OptionValue(data.next_number(), v.get("name") or "")
            for v in spec.get("values") or []
        ]
        number = old.number if old else data.next_number()
        replaced.append(ProductOption(number, product.number, name, position, values))
    product.options = replaced


def add_default_variant(shop: Shop, product: Product) -> Variant:
    name, value = DEFAULT_OPTION
    data = shop.data
    product.options = [
        ProductOption(
            data.next_number(), product.number, name, 1, [OptionValue(data.next_number(), value)]
        )
    ]
    return create_variant(shop, product, {"optionValues": [{"optionName": name, "name": value}]})


def _combination(product: Product, variant_input: dict[str, Any]) -> list[str]:
    by_name = {v.get("optionName"): v.get("name") for v in variant_input.get("optionValues") or []}
    return [by_name.get(option.name) or "" for option in product.options]


def replace_variants(shop: Shop, product: Product, variants: list[dict[str, Any]]) -> None:
    data = shop.data
    current = {
        tuple(data.variants[n].option_values): data.variants[n] for n in product.variant_numbers
    }
    by_id = {data.variants[n].id: data.variants[n] for n in product.variant_numbers}
    kept: list[int] = []
    for position, spec in enumerate(variants, start=1):
        combination = _combination(product, spec)
        variant = by_id.get(spec.get("id") or "") or current.get(tuple(combination))
        if variant is None:
            variant = create_variant(shop, product, spec, attach=False)
        else:
            update_variant(shop, variant, spec)
            variant.option_values = combination
        variant.position = position
        kept.append(variant.number)
    for number in product.variant_numbers:
        if number not in kept:
            delete_variant(data, data.variants[number])
    product.variant_numbers = kept


def create_variant(
    shop: Shop, product: Product, spec: dict[str, Any], attach: bool = True
) -> Variant:
    data = shop.data
    number, item_number = data.next_number(), data.next_number()
    variant = Variant(
        number=number,
        product_number=product.number,
        inventory_item_number=item_number,
        option_values=_combination(product, spec),
        position=len(product.variant_numbers) + 1,
    )
    data.variants[number] = variant
    data.inventory_items[item_number] = InventoryItem(item_number, number)
    for location in data.locations.values():
        if location.is_active:
            data.inventory_levels[(item_number, location.number)] = InventoryLevel(
                item_number, location.number
            )
    update_variant(shop, variant, spec)
    if attach:
        product.variant_numbers.append(number)
    return variant


def update_variant(shop: Shop, variant: Variant, spec: dict[str, Any]) -> None:
    data = shop.data
    for key, attribute in (
        ("sku", "sku"),
        ("barcode", "barcode"),
        ("taxable", "taxable"),
        ("inventoryPolicy", "inventory_policy"),
    ):
        if key in spec and spec[key] is not None:
            setattr(variant, attribute, spec[key])
    if spec.get("price") is not None:
        variant.price = money(spec["price"]) or variant.price
    if "compareAtPrice" in spec:
        variant.compare_at_price = (
            money(spec["compareAtPrice"]) if spec["compareAtPrice"] is not None else None
        )
    item = data.variant_item(variant)
    update_inventory_item(variant, item, spec.get("inventoryItem") or {})
    for entry in spec.get("inventoryQuantities") or []:
        location = number_of(entry["locationId"], "Location")
        name = entry.get("name", "available")
        quantity = entry.get("quantity", entry.get("availableQuantity", 0))
        if location is not None:
            set_quantity(data, item.number, location, name, quantity)
    if spec.get("metafields") is not None:
        set_metafields(data, variant, "PRODUCTVARIANT", spec["metafields"], replace=True)
    item.updated_at = variant.updated_at = now()


def update_inventory_item(variant: Variant, item: InventoryItem, spec: dict[str, Any]) -> None:
    """Apply an InventoryItemInput. The SKU is stored on the variant, which reads it back."""
    if spec.get("sku") is not None:
        variant.sku = spec["sku"]
    if spec.get("tracked") is not None:
        item.tracked = spec["tracked"]
    if spec.get("requiresShipping") is not None:
        item.requires_shipping = spec["requiresShipping"]
    if spec.get("cost") is not None:
        item.cost = str(spec["cost"])
    weight = (spec.get("measurement") or {}).get("weight")
    if weight:
        item.weight_value, item.weight_unit = float(weight["value"]), weight["unit"]


def set_quantity(
    data: ShopData, item_number: int, location_number: int, name: str, quantity: int
) -> tuple[int, int]:
    """Set `available` or `on_hand`; the other moves by the same delta. Returns (before, after)."""
    level = data.inventory_levels.get((item_number, location_number))
    if level is None:
        level = InventoryLevel(item_number, location_number)
        data.inventory_levels[(item_number, location_number)] = level
    before = level.quantities.get(name, 0)
    delta = quantity - before
    level.quantities[name] = quantity
    other = "on_hand" if name == "available" else "available"
    level.quantities[other] = level.quantities.get(other, 0) + delta
    level.updated_at = now()
    return before, quantity


def delete_variant(data: ShopData, variant: Variant) -> None:
    data.variants.pop(variant.number, None)
    item = data.inventory_items.pop(variant.inventory_item_number, None)
    if item is not None:
        for location in list(data.locations):
            data.inventory_levels.pop((item.number, location), None)


def set_metafields(
    data: ShopData, owner: Any, owner_type: str, entries: list[dict[str, Any]], *, replace: bool
) -> list[Metafield]:
    """Create or update the given metafields; with replace, delete the owner's others."""
    written: list[Metafield] = []
    keys = set()
    for entry in entries:
        key = (entry.get("namespace") or "custom", entry["key"])
        keys.add(key)
        existing = owner.metafields.get(key)
        if existing is not None:
            existing.value = entry["value"]
            existing.type = entry.get("type") or existing.type
            existing.updated_at = now()
            written.append(existing)
        else:
            metafield = Metafield(
                data.next_number(),
                owner.id,
                owner_type,
                key[0],
                key[1],
                entry.get("type") or "single_line_text_field",
                entry["value"],
            )
            owner.metafields[key] = metafield
            written.append(metafield)
    if replace:
        for key in [k for k in owner.metafields if k not in keys]:
            del owner.metafields[key]
    return written


def replace_media(data: ShopData, product: Product, files: list[dict[str, Any]]) -> None:
    by_id = {media.id: media for media in product.media}
    by_source = {media.src: media for media in product.media}
    kept = []
    for spec in files:
        media = by_id.get(spec.get("id") or "") or by_source.get(spec.get("originalSource") or "")
        if media is None:
            media = MediaImage(data.next_number(), product.number, spec.get("originalSource") or "")
        if spec.get("alt") is not None:
            media.alt = spec["alt"]
        kept.append(media)
    product.media = kept


def add_media(data: ShopData, product: Product, source: str, alt: str = "") -> MediaImage:
    media = MediaImage(data.next_number(), product.number, source, alt)
    product.media.append(media)
    return media


def set_collections(data: ShopData, product: Product, collection_numbers: list[int]) -> None:
    """Membership is read from the product's side, which every change keeps in step with the
    collections' lists: asking a collection's list cost a scan of its members for each product
    joining it, so a bulk import into one collection took quadratic time."""
    wanted = [n for n in dict.fromkeys(collection_numbers) if n in data.collections]
    previous = set(product.collection_numbers)
    for number in previous.difference(wanted):
        if number in data.collections:
            members = data.collections[number].product_numbers
            if product.number in members:
                members.remove(product.number)
    for number in wanted:
        if number not in previous:
            data.collections[number].product_numbers.append(product.number)
            data.collections[number].updated_at = now()
    product.collection_numbers = wanted


def add_to_collection(data: ShopData, collection: Collection, product_numbers: list[int]) -> None:
    """Append products to a manual collection in the given order, keeping both sides in sync;
    products already in it keep their place, as Shopify does."""
    for number in product_numbers:
        product = data.products.get(number)
        if product is None or number in collection.product_numbers:
            continue
        collection.product_numbers.append(number)
        if collection.number not in product.collection_numbers:
            product.collection_numbers.append(collection.number)
    collection.updated_at = now()


def delete_product(shop: Shop, product: Product) -> str:
    data = shop.data
    for number in list(product.variant_numbers):
        delete_variant(data, data.variants[number])
    set_collections(data, product, [])
    data.products.pop(product.number, None)
    data.handles.pop(product.handle, None)
    shop.emit("products/delete", {"id": product.number, "admin_graphql_api_id": product.id})
    return product.id


def touch(product: Product) -> None:
    product.updated_at = now()


def webhook_payload(data: ShopData, product: Product) -> dict[str, Any]:
    """The REST-shaped body Shopify sends for products/create and products/update."""
    return {
        "id": product.number,
        "admin_graphql_api_id": product.id,
        "title": product.title,
        "handle": product.handle,
        "body_html": product.description_html,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "status": product.status.lower(),
        "tags": ", ".join(product.tags),
        "created_at": iso(product.created_at),
        "updated_at": iso(product.updated_at),
        "variants": [
            {
                "id": variant.number,
                "admin_graphql_api_id": variant.id,
                "product_id": product.number,
                "sku": variant.sku,
                "barcode": variant.barcode,
                "price": variant.price,
                "compare_at_price": variant.compare_at_price,
                "inventory_policy": variant.inventory_policy.lower(),
                "inventory_item_id": variant.inventory_item_number,
                "position": variant.position,
                "title": " / ".join(variant.option_values),
            }
            for variant in data.product_variants(product)
        ],
    }


def gid_of(kind: str, number: int) -> str:
    return gid(kind, number)
