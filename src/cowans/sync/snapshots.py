"""Snapshots for the sync: what the catalog wants a store to show, stored and compared.

The staging compares a product's desired snapshot (from the catalog, with Xorosoft's location
names mapped to the store's) with its base (what the store had when this system last pushed or
confirmed it), field by field. Fields are flat names a person can read in a review:
`title`, `tags`, `variants.<sku>.price`, `variants.<sku>.inventory.<location>`,
`metafields.<namespace>.<key>`, `images`, `collections`. Values are JSON-ready (prices as strings).
"""

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from cowans.catalog.snapshot import (
    ImageSnapshot,
    MetafieldSnapshot,
    ProductSnapshot,
    VariantSnapshot,
)

SPECIFICATION_NAMESPACE = "custom"
# A metafield set by hand to a value without a known type: the type Shopify would guess.
DEFAULT_TYPE = "single_line_text_field"
PRODUCT_FIELDS = (
    "title",
    "body_html",
    "vendor",
    "product_type",
    "tags",
    "status",
    "seo_title",
    "seo_description",
)
VARIANT_FIELDS = (
    "price",
    "compare_at_price",
    "barcode",
    "inventory_policy",
    "weight_grams",
    "taxable",
)

Fields = dict[str, Any]
FieldDiff = dict[str, dict[str, Any]]


class CatalogProduct(Protocol):
    """What `desired_snapshot` reads of a product: an ORM `Product`, or the plain rows staging
    reads. Variants, images and specifications are read by their columns' names."""

    @property
    def handle(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def body_html(self) -> str: ...
    @property
    def vendor(self) -> str: ...
    @property
    def product_type(self) -> str: ...
    @property
    def tags(self) -> list[str]: ...
    @property
    def status(self) -> str: ...
    @property
    def seo_title(self) -> str: ...
    @property
    def seo_description(self) -> str: ...
    @property
    def variants(self) -> Sequence[Any]: ...
    @property
    def images(self) -> Sequence[Any]: ...
    @property
    def metafields(self) -> Sequence[Any]: ...


def desired_snapshot(product: CatalogProduct, location_map: Mapping[str, str]) -> ProductSnapshot:
    """The product as the store should show it. `location_map` renames Xorosoft locations to
    the store's; a location it does not name keeps its own name."""
    variants = tuple(
        VariantSnapshot(
            sku=variant.sku,
            price=variant.price,
            compare_at_price=variant.compare_at_price,
            barcode=variant.barcode,
            inventory_policy=variant.inventory_policy,
            option_values=(variant.option1_value,),
            weight_grams=variant.weight_grams,
            taxable=variant.taxable,
            inventory=_mapped_inventory(variant.inventory or {}, location_map),
        )
        for variant in product.variants
    )
    first = product.variants[0] if product.variants else None
    return ProductSnapshot(
        handle=product.handle,
        title=product.title,
        body_html=product.body_html,
        vendor=product.vendor,
        product_type=product.product_type,
        tags=tuple(sorted(product.tags or [])),
        status=product.status,
        seo_title=product.seo_title,
        seo_description=product.seo_description,
        option_names=(first.option1_name if first else "Title",),
        variants=variants,
        images=tuple(ImageSnapshot(image.src, image.alt_text) for image in product.images),
        metafields=tuple(
            MetafieldSnapshot(m.namespace, m.key, m.type, _metafield_value(m.value))
            for m in product.metafields
        ),
        collections=(product.product_type,) if product.product_type else (),
    )


def _mapped_inventory(
    inventory: Mapping[str, int], location_map: Mapping[str, str]
) -> dict[str, int]:
    mapped: dict[str, int] = {}
    for location, quantity in inventory.items():
        name = location_map.get(location, location)
        mapped[name] = mapped.get(name, 0) + int(quantity)
    return dict(sorted(mapped.items()))


def _metafield_value(value: Any) -> str:
    """Shopify's form of a metafield value: list types are a JSON array in a string."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# Storing ----------------------------------------------------------------------------------------


def to_json(snapshot: ProductSnapshot) -> dict[str, Any]:
    """The snapshot as JSON values: what `json.loads(json.dumps(asdict(snapshot)))` gives with
    Decimals as strings, written out field by field (asdict deep-copies every value first and
    the round trip parses it all again: together a third of the time of staging a catalog).
    tests/sync/test_snapshot_json.py holds it to that definition for every field."""
    return {
        "handle": snapshot.handle,
        "title": snapshot.title,
        "body_html": snapshot.body_html,
        "vendor": snapshot.vendor,
        "product_type": snapshot.product_type,
        "tags": list(snapshot.tags),
        "status": snapshot.status,
        "seo_title": snapshot.seo_title,
        "seo_description": snapshot.seo_description,
        "option_names": list(snapshot.option_names),
        "variants": [_variant_json(variant) for variant in snapshot.variants],
        "images": [{"src": image.src, "alt": image.alt} for image in snapshot.images],
        "metafields": [
            {"namespace": m.namespace, "key": m.key, "type": m.type, "value": m.value}
            for m in snapshot.metafields
        ],
        "collections": list(snapshot.collections),
    }


def _variant_json(variant: VariantSnapshot) -> dict[str, Any]:
    return {
        "sku": variant.sku,
        "price": _decimal_json(variant.price),
        "compare_at_price": _decimal_json(variant.compare_at_price),
        "barcode": variant.barcode,
        "inventory_policy": variant.inventory_policy,
        "option_values": list(variant.option_values),
        "weight_grams": _decimal_json(variant.weight_grams),
        "taxable": variant.taxable,
        "inventory": {str(location): quantity for location, quantity in variant.inventory.items()},
    }


def _decimal_json(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def from_json(data: Mapping[str, Any]) -> ProductSnapshot:
    return ProductSnapshot(
        handle=data["handle"],
        title=data["title"],
        body_html=data.get("body_html", ""),
        vendor=data.get("vendor", ""),
        product_type=data.get("product_type", ""),
        tags=tuple(data.get("tags", ())),
        status=data.get("status", "active"),
        seo_title=data.get("seo_title", ""),
        seo_description=data.get("seo_description", ""),
        option_names=tuple(data.get("option_names", ("Title",))),
        variants=tuple(_variant_from_json(v) for v in data.get("variants", ())),
        images=tuple(ImageSnapshot(i["src"], i.get("alt", "")) for i in data.get("images", ())),
        metafields=tuple(MetafieldSnapshot(**m) for m in data.get("metafields", ())),
        collections=tuple(data.get("collections", ())),
    )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def parsed_variant_value(attribute: str, value: Any) -> Any:
    """A variant field's flat value (prices travel as strings) as a snapshot holds it."""
    if attribute in ("price", "compare_at_price", "weight_grams"):
        return _decimal(value)
    return value


def _variant_from_json(data: Mapping[str, Any]) -> VariantSnapshot:
    return VariantSnapshot(
        sku=data["sku"],
        price=_decimal(data.get("price")),
        compare_at_price=_decimal(data.get("compare_at_price")),
        barcode=data.get("barcode", ""),
        inventory_policy=data.get("inventory_policy", "deny"),
        option_values=tuple(data.get("option_values", ("Default Title",))),
        weight_grams=_decimal(data.get("weight_grams")),
        taxable=data.get("taxable", True),
        inventory=dict(data.get("inventory", {})),
    )


# Comparing --------------------------------------------------------------------------------------


def fields_of(snapshot: ProductSnapshot | None) -> Fields:
    """The snapshot as flat, comparable fields (empty for a product the store does not have)."""
    if snapshot is None:
        return {}
    fields: Fields = {name: getattr(snapshot, name) for name in PRODUCT_FIELDS}
    fields["tags"] = sorted(snapshot.tags)
    fields["images"] = [[image.src, image.alt] for image in snapshot.images]
    fields["collections"] = sorted(snapshot.collections)
    for metafield in snapshot.metafields:
        fields[f"metafields.{metafield.namespace}.{metafield.key}"] = metafield.value
    for variant in snapshot.variants:
        prefix = f"variants.{variant.sku}"
        for name in VARIANT_FIELDS:
            fields[f"{prefix}.{name}"] = _comparable(getattr(variant, name))
        for location, quantity in variant.inventory.items():
            fields[f"{prefix}.inventory.{location}"] = quantity
    return fields


def _comparable(value: Any) -> Any:
    """Decimals compare by value (10.50 == 10.5) and travel as plain strings ("10.5")."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def diff(before: Fields, after: Fields) -> FieldDiff:
    """`{field: {"old": .., "new": ..}}` for every field that differs (None where absent)."""
    return {
        name: {"old": before.get(name), "new": after.get(name)}
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    }


def with_fields(
    snapshot: ProductSnapshot,
    values: Mapping[str, Any],
    source: ProductSnapshot | None = None,
) -> ProductSnapshot:
    """The snapshot with some flat fields (names of `fields_of`) set to other values; None
    removes a metafield, a stock level or a variant field's value. A metafield that is new to
    the snapshot takes its type from `source` (the snapshot the value came from)."""
    data = to_json(snapshot)
    types = {
        (m.namespace, m.key): m.type for m in (source.metafields if source is not None else ())
    }
    for name, value in values.items():
        _set_field(data, name, value, types)
    return from_json(data)


def _set_field(
    data: dict[str, Any], name: str, value: Any, types: Mapping[tuple[str, str], str]
) -> None:
    head, _, rest = name.partition(".")
    if head == "variants":
        sku, _, attribute = rest.partition(".")
        _set_variant_field(data, sku, attribute, value)
    elif head == "metafields":
        namespace, _, key = rest.partition(".")
        same = [m for m in data["metafields"] if (m["namespace"], m["key"]) == (namespace, key)]
        kept = [m for m in data["metafields"] if m not in same]
        if value is not None:
            type_ = same[0]["type"] if same else types.get((namespace, key), DEFAULT_TYPE)
            kept.append({"namespace": namespace, "key": key, "type": type_, "value": value})
        data["metafields"] = kept
    elif name == "images":
        data["images"] = [{"src": src, "alt": alt} for src, alt in value or ()]
    elif name in ("tags", "collections"):
        data[name] = sorted(value or ())
    elif name in PRODUCT_FIELDS:
        data[name] = value
    else:
        raise ValueError(f"unknown snapshot field {name}")


def _set_variant_field(data: dict[str, Any], sku: str, attribute: str, value: Any) -> None:
    variant = next((v for v in data["variants"] if v["sku"] == sku), None)
    if variant is None:
        if value is None:
            return
        variant = {"sku": sku, "inventory": {}}
        data["variants"].append(variant)
    if attribute.startswith("inventory."):
        location = attribute.removeprefix("inventory.")
        if value is None:
            variant["inventory"].pop(location, None)
        else:
            variant["inventory"][location] = int(value)
    elif attribute in VARIANT_FIELDS:
        variant[attribute] = value
    else:
        raise ValueError(f"unknown variant field {attribute}")
