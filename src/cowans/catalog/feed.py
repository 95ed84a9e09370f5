"""What an import wants a catalog product to be, field by field, and where each value came from.

Field names here are the catalog's own and are what locks, provenance and versions speak of:
product fields (title, body_html, ...), variant fields (sku, price, inventory, ...), `images` and
`specifications`.
"""

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

PRODUCT_FIELDS = (
    "title",
    "body_html",
    "vendor",
    "product_type",
    "tags",
    "status",
    "published",
    "seo_title",
    "seo_description",
)
VARIANT_FIELDS = (
    "sku",
    "barcode",
    "price",
    "inventory",
    "inventory_policy",
    "taxable",
    "requires_shipping",
    "weight_grams",
    "option1_name",
    "option1_value",
)
LIST_FIELDS = ("images", "specifications")
ALL_FIELDS = (*PRODUCT_FIELDS, *VARIANT_FIELDS, *LIST_FIELDS)


def comparable(value: Any) -> Any:
    """Values as versions and hashes store them: JSON-friendly, Decimals as strings."""
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    if isinstance(value, tuple | list):
        return [comparable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): comparable(v) for k, v in sorted(value.items())}
    return value


@dataclass
class FeedProduct:
    """`values` holds a subset of ALL_FIELDS: an Xorosoft refresh only brings its own."""

    handle: str
    values: dict[str, Any]
    sources: dict[str, str]  # field -> "etilize" | "xorosoft"
    etilize_sku: str = ""
    match_method: str = ""
    matched_field: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def content_hash(self) -> str:
        return content_hash_of({name: comparable(value) for name, value in self.values.items()})


def content_hash_of(comparables: dict[str, Any]) -> str:
    """The content hash of values already made `comparable`: a caller that needs them for a
    version too computes them once (a new product's images and specifications are most of the
    work)."""
    canonical = json.dumps(comparables, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
