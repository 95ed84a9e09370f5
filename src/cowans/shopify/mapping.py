"""Catalog snapshots to Shopify's input types (ProductSetInput, ProductVariantsBulkInput, ...).

Only this module knows Shopify's spellings: statuses and policies in capitals, prices as decimal
strings, weights in grams under `inventoryItem.measurement`.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from cowans.catalog.snapshot import MetafieldSnapshot, ProductSnapshot, VariantSnapshot

PRODUCT_FIELDS = {
    "title": "title",
    "body_html": "descriptionHtml",
    "vendor": "vendor",
    "product_type": "productType",
    "status": "status",
}


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def _option_values(product: ProductSnapshot, variant: VariantSnapshot) -> list[dict[str, str]]:
    return [
        {"optionName": name, "name": value}
        for name, value in zip(product.option_names, variant.option_values, strict=False)
    ]


def _inventory_item(variant: VariantSnapshot) -> dict[str, Any]:
    item: dict[str, Any] = {"tracked": True}
    if variant.weight_grams is not None:
        item["measurement"] = {"weight": {"unit": "GRAMS", "value": float(variant.weight_grams)}}
    return item


def variant_set_input(
    product: ProductSnapshot,
    variant: VariantSnapshot,
    location_ids: Mapping[str, str] | None,
    variant_id: str | None = None,
) -> dict[str, Any]:
    """A full variant for productSet; `location_ids` given means: set its stock too. An
    existing variant is named by id, so it survives a change of options with its stock."""
    values: dict[str, Any] = {
        "optionValues": _option_values(product, variant),
        "sku": variant.sku,
        "price": money(variant.price) or "0.00",
        "compareAtPrice": money(variant.compare_at_price),
        "barcode": variant.barcode or None,
        "inventoryPolicy": variant.inventory_policy.upper(),
        "taxable": variant.taxable,
        "inventoryItem": _inventory_item(variant),
    }
    if variant_id is not None:
        values["id"] = variant_id
    if location_ids is not None:
        values["inventoryQuantities"] = [
            {"locationId": location_ids[name], "name": "available", "quantity": quantity}
            for name, quantity in sorted(variant.inventory.items())
            if name in location_ids
        ]
    return values


def metafield_input(metafield: MetafieldSnapshot) -> dict[str, str]:
    return {
        "namespace": metafield.namespace,
        "key": metafield.key,
        "type": metafield.type,
        "value": metafield.value,
    }


def product_set_input(
    product: ProductSnapshot,
    location_ids: Mapping[str, str],
    *,
    with_metafields: bool,
    stock_for_skus: set[str] | None = None,
    variant_ids: Mapping[str, str] | None = None,
    collection_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """The whole product for productSet. Lists sent are replaced wholesale, so metafields are
    sent only on create (on update they would delete the merchant's other metafields), stock
    only for the variants named in `stock_for_skus` (new ones; `None` means all), and
    collections only when given (on update they would take the product out of the merchant's
    own collections: see `collection_membership_input`)."""
    values: dict[str, Any] = {
        "handle": product.handle,
        "title": product.title,
        "descriptionHtml": product.body_html,
        "vendor": product.vendor,
        "productType": product.product_type,
        "tags": list(product.tags),
        "status": product.status.upper(),
        "seo": {"title": product.seo_title or None, "description": product.seo_description or None},
        "productOptions": [
            {
                "name": name,
                "position": position,
                "values": [{"name": value} for value in _unique_values(product, position - 1)],
            }
            for position, name in enumerate(product.option_names, start=1)
        ],
        "variants": [
            variant_set_input(
                product,
                variant,
                location_ids if stock_for_skus is None or variant.sku in stock_for_skus else None,
                (variant_ids or {}).get(variant.sku),
            )
            for variant in product.variants
        ],
        "files": [
            {"originalSource": image.src, "alt": image.alt, "contentType": "IMAGE"}
            for image in product.images
        ],
    }
    if with_metafields:
        values["metafields"] = [metafield_input(m) for m in product.metafields]
    if collection_ids:
        values["collections"] = list(collection_ids)
    return values


def _unique_values(product: ProductSnapshot, index: int) -> list[str]:
    seen: dict[str, None] = {}
    for variant in product.variants:
        if index < len(variant.option_values):
            seen.setdefault(variant.option_values[index], None)
    return list(seen)


def product_update_input(
    product_id: str, before: ProductSnapshot, after: ProductSnapshot
) -> dict[str, Any]:
    """Only the scalar fields that changed."""
    values: dict[str, Any] = {"id": product_id}
    for attribute, name in PRODUCT_FIELDS.items():
        if getattr(before, attribute) != getattr(after, attribute):
            value = getattr(after, attribute)
            values[name] = value.upper() if attribute == "status" else value
    if (before.seo_title, before.seo_description) != (after.seo_title, after.seo_description):
        values["seo"] = {
            "title": after.seo_title or None,
            "description": after.seo_description or None,
        }
    return values


def collection_membership_input(
    joining: Sequence[str], leaving: Sequence[str]
) -> dict[str, list[str]]:
    """productUpdate's way to move a product between collections: it names only the ones
    joined and left, so the collections a merchant put the product in stay as they are."""
    values: dict[str, list[str]] = {}
    if joining:
        values["collectionsToJoin"] = list(joining)
    if leaving:
        values["collectionsToLeave"] = list(leaving)
    return values


def variant_update_input(
    variant_id: str, before: VariantSnapshot, after: VariantSnapshot
) -> dict[str, Any]:
    """Only what changed of one variant, for productVariantsBulkUpdate."""
    values: dict[str, Any] = {"id": variant_id}
    if before.price != after.price:
        values["price"] = money(after.price)
    if before.compare_at_price != after.compare_at_price:
        values["compareAtPrice"] = money(after.compare_at_price)
    if before.barcode != after.barcode:
        values["barcode"] = after.barcode or None
    if before.inventory_policy != after.inventory_policy:
        values["inventoryPolicy"] = after.inventory_policy.upper()
    if before.taxable != after.taxable:
        values["taxable"] = after.taxable
    if before.weight_grams != after.weight_grams:
        values["inventoryItem"] = _inventory_item(after)
    return values


def blank_variant(sku: str) -> VariantSnapshot:
    """A variant with nothing set: diffing against it sends every field (the naive baseline)."""
    return VariantSnapshot(
        sku=sku,
        price=Decimal(-1),
        barcode="\0",
        inventory_policy="",
        taxable=False,
        weight_grams=Decimal(-1),
    )


def variant_fields_changed(before: VariantSnapshot, after: VariantSnapshot) -> bool:
    return len(variant_update_input("", before, after)) > 1
