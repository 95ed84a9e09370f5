"""A shop's data, held in memory: plain dataclasses plus the indexes lookups need.

Field resolvers read these attributes by the snake_case form of the GraphQL field name, so an
attribute named like the field needs no resolver of its own (see schema.py).
"""

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shopify_emulator.ids import gid


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


@dataclass
class Location:
    number: int
    name: str
    is_active: bool = True
    is_primary: bool = False
    fulfills_online_orders: bool = True
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    kind = "Location"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class Metafield:
    number: int
    owner_id: str
    owner_type: str
    namespace: str
    key: str
    type: str
    value: str
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    kind = "Metafield"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)

    @property
    def compare_digest(self) -> str:
        """Changes whenever type or value does; metafieldsSet compares it (optimistic locking)."""
        return hashlib.sha256(f"{self.type}\0{self.value}".encode()).hexdigest()


@dataclass
class OptionValue:
    number: int
    name: str
    kind = "ProductOptionValue"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class ProductOption:
    number: int
    product_number: int
    name: str
    position: int
    values: list[OptionValue]
    kind = "ProductOption"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class MediaImage:
    number: int
    product_number: int
    src: str
    alt: str = ""
    status: str = "READY"
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    kind = "MediaImage"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class InventoryLevel:
    item_number: int
    location_number: int
    quantities: dict[str, int] = field(default_factory=lambda: {"available": 0, "on_hand": 0})
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    kind = "InventoryLevel"

    @property
    def id(self) -> str:
        # Shopify's own shape: the level is addressed by location, qualified by item.
        return f"{gid(self.kind, self.location_number)}?inventory_item_id={self.item_number}"


@dataclass
class InventoryItem:
    number: int
    variant_number: int
    tracked: bool = True
    requires_shipping: bool = True
    weight_value: float | None = None
    weight_unit: str = "GRAMS"
    cost: str | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    kind = "InventoryItem"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class Variant:
    number: int
    product_number: int
    inventory_item_number: int
    option_values: list[str]
    sku: str | None = None
    barcode: str | None = None
    price: str = "0.00"
    compare_at_price: str | None = None
    inventory_policy: str = "DENY"
    taxable: bool = True
    position: int = 1
    metafields: dict[tuple[str, str], Metafield] = field(default_factory=dict)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    kind = "ProductVariant"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class Product:
    number: int
    handle: str
    title: str
    description_html: str = ""
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = field(default_factory=list)
    status: str = "ACTIVE"
    template_suffix: str | None = None
    gift_card: bool = False
    seo_title: str | None = None
    seo_description: str | None = None
    options: list[ProductOption] = field(default_factory=list)
    variant_numbers: list[int] = field(default_factory=list)
    media: list[MediaImage] = field(default_factory=list)
    metafields: dict[tuple[str, str], Metafield] = field(default_factory=dict)
    collection_numbers: list[int] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    published_at: datetime | None = field(default_factory=now)
    kind = "Product"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class Collection:
    number: int
    title: str
    handle: str
    description_html: str = ""
    sort_order: str = "MANUAL"
    product_numbers: list[int] = field(default_factory=list)
    metafields: dict[tuple[str, str], Metafield] = field(default_factory=dict)
    updated_at: datetime = field(default_factory=now)
    kind = "Collection"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class Job:
    number: int
    done: bool = False
    kind = "Job"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class ProductOperation:
    """An asynchronous productSet or productDelete."""

    number: int
    kind: str  # "ProductSetOperation" or "ProductDeleteOperation"
    status: str = "CREATED"
    product_number: int | None = None
    deleted_product_id: str | None = None
    user_errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class BulkOperation:
    number: int
    type: str  # QUERY or MUTATION
    query: str
    status: str = "CREATED"
    error_code: str | None = None
    created_at: datetime = field(default_factory=now)
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = None
    partial_data_url: str | None = None
    staged_upload_path: str | None = None
    group_objects: bool = False
    cancel_requested: bool = False
    kind = "BulkOperation"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class WebhookSubscription:
    number: int
    topic: str
    uri: str
    format: str = "JSON"
    include_fields: list[str] = field(default_factory=list)
    metafield_namespaces: list[str] = field(default_factory=list)
    filter: str | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    kind = "WebhookSubscription"

    @property
    def id(self) -> str:
        return gid(self.kind, self.number)


@dataclass
class ShopData:
    """Everything one shop holds. Numbers come from one counter, so ids never collide."""

    locations: dict[int, Location] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    variants: dict[int, Variant] = field(default_factory=dict)
    inventory_items: dict[int, InventoryItem] = field(default_factory=dict)
    inventory_levels: dict[tuple[int, int], InventoryLevel] = field(default_factory=dict)
    collections: dict[int, Collection] = field(default_factory=dict)
    jobs: dict[int, Job] = field(default_factory=dict)
    product_operations: dict[int, ProductOperation] = field(default_factory=dict)
    bulk_operations: dict[int, BulkOperation] = field(default_factory=dict)
    webhook_subscriptions: dict[int, WebhookSubscription] = field(default_factory=dict)
    handles: dict[str, int] = field(default_factory=dict)
    idempotency: dict[str, Any] = field(default_factory=dict)
    staged_uploads: dict[str, bytes] = field(default_factory=dict)
    bulk_results: dict[int, bytes] = field(default_factory=dict)
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1001))

    def next_number(self) -> int:
        return next(self._counter)

    # Lookups used across resolvers -------------------------------------------------------

    def product_variants(self, product: Product) -> list[Variant]:
        return [self.variants[n] for n in product.variant_numbers]

    def variant_item(self, variant: Variant) -> InventoryItem:
        return self.inventory_items[variant.inventory_item_number]

    def levels_of_item(self, item_number: int) -> list[InventoryLevel]:
        return [
            self.inventory_levels[(item_number, location)]
            for location in self.locations
            if (item_number, location) in self.inventory_levels
        ]

    def total_inventory(self, product: Product) -> int:
        return sum(
            level.quantities.get("available", 0)
            for variant in self.product_variants(product)
            for level in self.levels_of_item(variant.inventory_item_number)
        )
