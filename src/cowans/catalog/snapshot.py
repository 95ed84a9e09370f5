"""A product as one immutable value: what the catalog wants a store to show, or what a store
showed when it was last pushed or read. The sync diffs two snapshots; the Shopify mapping turns
one into mutation input. Prices are Decimals, never floats."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class VariantSnapshot:
    sku: str
    price: Decimal | None = None
    compare_at_price: Decimal | None = None
    barcode: str = ""
    inventory_policy: str = "deny"  # "deny" or "continue", as Etilize's column says
    option_values: tuple[str, ...] = ("Default Title",)
    weight_grams: Decimal | None = None
    taxable: bool = True
    inventory: Mapping[str, int] = field(default_factory=dict)  # location name -> available


@dataclass(frozen=True)
class ImageSnapshot:
    src: str
    alt: str = ""


@dataclass(frozen=True)
class MetafieldSnapshot:
    namespace: str
    key: str
    type: str
    value: str


@dataclass(frozen=True)
class ProductSnapshot:
    handle: str
    title: str
    body_html: str = ""
    vendor: str = ""
    product_type: str = ""
    tags: tuple[str, ...] = ()
    status: str = "active"  # active, draft, archived
    seo_title: str = ""
    seo_description: str = ""
    option_names: tuple[str, ...] = ("Title",)
    variants: tuple[VariantSnapshot, ...] = ()
    images: tuple[ImageSnapshot, ...] = ()
    metafields: tuple[MetafieldSnapshot, ...] = ()
    # Titles of the manual collections the product belongs to (DATA.md: one per product type).
    collections: tuple[str, ...] = ()

    def variant(self, sku: str) -> VariantSnapshot | None:
        return next((v for v in self.variants if v.sku == sku), None)

    def metafield_map(self) -> dict[tuple[str, str], MetafieldSnapshot]:
        return {(m.namespace, m.key): m for m in self.metafields}
