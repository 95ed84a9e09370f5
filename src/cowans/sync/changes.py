"""What the planner works on: one product's change for one store."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cowans.catalog.snapshot import ProductSnapshot


class Operation(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class RemoteIds:
    """Where a product lives in the store: its id, and its variants' and items' ids by SKU."""

    product_id: str
    variant_ids: Mapping[str, str] = field(default_factory=dict)
    inventory_item_ids: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_product(cls, product: Mapping[str, Any]) -> "RemoteIds":
        """From the `product { id variants { nodes { id sku inventoryItem { id } } } }` that
        productSet answers with."""
        variants = (product.get("variants") or {}).get("nodes") or []
        return cls(
            product_id=product["id"],
            variant_ids={v["sku"]: v["id"] for v in variants if v.get("sku")},
            inventory_item_ids={
                v["sku"]: v["inventoryItem"]["id"] for v in variants if v.get("sku")
            },
        )


@dataclass(frozen=True)
class ProductChange:
    """`base` is what the store has (last pushed or confirmed), `desired` what it should have.
    `change_id` is stable across retries and restarts: idempotency keys derive from it."""

    change_id: str
    operation: Operation
    handle: str
    desired: ProductSnapshot | None = None
    base: ProductSnapshot | None = None
    remote: RemoteIds | None = None
