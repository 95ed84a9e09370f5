"""The three-way comparison behind pulls and the check before a push.

For each field of a product there are three values: the base (what this system last pushed to
or confirmed in the store), the local one (what the catalog wants now) and the remote one (what
Shopify shows now). Who changed the field since the base decides what happens:
- nobody, or both to the same value: nothing to do;
- only Shopify: a pull change, reviewed before it reaches the catalog; stock is the exception
  (Xorosoft owns it, and Shopify's stock moves with every sale), so a remote-only stock change
  is simply confirmed as the new base;
- only the catalog: a push change (staging finds it);
- both, differently: a conflict, and nothing is written until a person settles it.

A remote product becomes a snapshot in the catalog's terms first. Two things need care:
Shopify serves images from its CDN under a new address that keeps the file name, so an image
is the same when its file name and alt text are; and fields Shopify does not report here
(variant `taxable`) keep their base value rather than looking changed.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from cowans.catalog.snapshot import (
    ImageSnapshot,
    MetafieldSnapshot,
    ProductSnapshot,
    VariantSnapshot,
)
from cowans.shopify.products import RemoteProduct, RemoteVariant, Weight
from cowans.sync.snapshots import SPECIFICATION_NAMESPACE, FieldDiff, Fields, fields_of

GRAMS_PER_UNIT = {
    "GRAMS": Decimal(1),
    "KILOGRAMS": Decimal(1000),
    "OUNCES": Decimal("28.349523125"),
    "POUNDS": Decimal("453.59237"),
}


def remote_snapshot(remote: RemoteProduct, base: ProductSnapshot | None) -> ProductSnapshot:
    """The remote product in the catalog's terms. `base` lends what Shopify does not report
    and the addresses of images that are unchanged."""
    return ProductSnapshot(
        handle=remote.handle,
        title=remote.title,
        body_html=remote.description_html,
        vendor=remote.vendor,
        product_type=remote.product_type,
        tags=tuple(sorted(remote.tags)),
        status=remote.status.lower(),
        seo_title=remote.seo_title or "",
        seo_description=remote.seo_description or "",
        option_names=tuple(option.name for option in remote.options) or ("Title",),
        variants=tuple(
            _variant(variant, base.variant(variant.sku or "") if base else None)
            for variant in remote.variants
            if variant.sku
        ),
        images=_images(remote, base),
        metafields=tuple(
            MetafieldSnapshot(m.namespace, m.key, m.type, m.value) for m in remote.metafields
        ),
        collections=tuple(sorted(remote.collections)),
    )


def _variant(remote: RemoteVariant, base: VariantSnapshot | None) -> VariantSnapshot:
    return VariantSnapshot(
        sku=remote.sku or "",
        price=remote.price,
        compare_at_price=remote.compare_at_price,
        barcode=remote.barcode or "",
        inventory_policy=remote.inventory_policy.lower(),
        option_values=tuple(value for _, value in remote.option_values) or ("Default Title",),
        weight_grams=_grams(remote.weight),
        taxable=base.taxable if base is not None else True,
        inventory=dict(sorted(remote.inventory.items())),
    )


def _grams(weight: Weight | None) -> Decimal | None:
    if weight is None or weight.unit not in GRAMS_PER_UNIT:
        return None
    return (weight.value * GRAMS_PER_UNIT[weight.unit]).quantize(Decimal("0.01"))


def _file_name(address: str) -> str:
    return urlsplit(address).path.rsplit("/", 1)[-1]


def _images(remote: RemoteProduct, base: ProductSnapshot | None) -> tuple[ImageSnapshot, ...]:
    """Remote images under their base address when only the host moved them."""
    known = {
        (_file_name(image.src), image.alt or ""): image.src
        for image in (base.images if base else ())
    }
    images = []
    for image in remote.images:
        if image.url is None:  # still processing in Shopify: not comparable yet
            continue
        key = (_file_name(image.url), image.alt or "")
        images.append(ImageSnapshot(known.get(key, image.url), image.alt or ""))
    return tuple(images)


# Comparing --------------------------------------------------------------------------------------


def is_stock(name: str) -> bool:
    return name.startswith("variants.") and ".inventory." in name


# Fields the catalog does not take from Shopify: collections follow the product type.
NOT_PULLED = frozenset({"collections"})


def comparable_remote(remote: Fields, base: Fields, local: Fields | None) -> Fields:
    """The remote fields worth comparing: stock at locations the catalog never stocked, and
    metafields of other apps' namespaces, are Shopify's own business."""
    known = base.keys() | (local or {}).keys()
    return {
        name: value
        for name, value in remote.items()
        if name in known
        or not (
            (is_stock(name) and not value)
            or (
                name.startswith("metafields.")
                and not name.startswith(f"metafields.{SPECIFICATION_NAMESPACE}.")
            )
        )
    }


@dataclass
class ThreeWay:
    pulled: FieldDiff = field(default_factory=dict)  # {name: {"old": local, "new": remote}}
    # {name: {"old": base, "new": local, "remote": remote}}
    conflicts: FieldDiff = field(default_factory=dict)
    confirmed: Fields = field(default_factory=dict)  # remote values that become the base
    remote_changed: Fields = field(default_factory=dict)  # every field Shopify changed

    @property
    def remote_only(self) -> Fields:
        return {
            name: value for name, value in self.remote_changed.items() if name not in self.conflicts
        }


def at_locations(fields: Fields, locations: Collection[str]) -> Fields:
    """The fields without stock at locations the store does not have: nothing can be set
    there, so a level missing in Shopify is not a change anyone made."""
    return {
        name: value
        for name, value in fields.items()
        if not is_stock(name) or name.rsplit(".inventory.", 1)[1] in locations
    }


def three_way(
    base: Fields,
    local: Fields | None,
    remote: Fields,
    locations: Collection[str] | None = None,
) -> ThreeWay:
    """Compare per field. `local` None: the catalog no longer has the product, so only
    what Shopify did matters (a staged delete takes care of the rest). `locations`: the
    store's location names, when known."""
    result = ThreeWay()
    if locations is not None:
        base, remote = at_locations(base, locations), at_locations(remote, locations)
        local = at_locations(local, locations) if local is not None else None
    remote = comparable_remote(remote, base, local)
    for name in sorted(base.keys() | remote.keys()):
        before, theirs = base.get(name), remote.get(name)
        if theirs == before:
            continue
        result.remote_changed[name] = theirs
        ours = before if local is None else local.get(name)
        if ours == theirs:
            result.confirmed[name] = theirs
        elif ours != before:
            result.conflicts[name] = {"old": before, "new": ours, "remote": theirs}
        elif is_stock(name):
            result.confirmed[name] = theirs
        elif name not in NOT_PULLED:
            result.pulled[name] = {"old": ours, "new": theirs}
    return result


def compare(
    base: ProductSnapshot,
    local: ProductSnapshot | None,
    remote: ProductSnapshot,
    locations: Collection[str] | None = None,
) -> ThreeWay:
    return three_way(
        fields_of(base), fields_of(local) if local else None, fields_of(remote), locations
    )


def values_of(diff: Mapping[str, Mapping[str, Any]], key: str) -> Fields:
    return {name: change.get(key) for name, change in diff.items()}
