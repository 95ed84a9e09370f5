"""What the emulator serves: stock rows (one item at one location, like the CSV export), grouped
into products by base part number, the way Xorosoft's `Variants` lists them.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass
class StockRow:
    """One item at one location. Mutable: the side door changes stock and price in place."""

    item_number: str
    base_part_number: str
    description: str
    unit_price: Decimal
    quantity_on_hand: int
    location: str
    upc: str = ""
    vendor_product_number: str = ""
    product_code: str = ""

    @property
    def product_key(self) -> str:
        """Items without a base part number stand alone, as their own product."""
        return self.base_part_number or self.item_number

    def variant(self) -> dict[str, Any]:
        """The row as one entry of a product's `Variants`; prices go out as JSON numbers."""
        return {
            "ItemNumber": self.item_number,
            "Description": self.description,
            "UnitPrice": float(self.unit_price),
            "VendorProductNumber": self.vendor_product_number,
            "UPC": self.upc,
            "ProductCode": self.product_code,
            "QuantityOnHand": self.quantity_on_hand,
            "Location": self.location,
        }


def handle_for(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def product_document(rows: list[StockRow]) -> dict[str, Any]:
    """A product as Xorosoft answers it: titled after its first item, one variant per row."""
    first = rows[0]
    return {
        "BasePartNumber": first.base_part_number,
        "Title": first.description,
        "Handle": handle_for(first.description),
        "Variants": [row.variant() for row in rows],
    }


class Catalog:
    """The rows in export order, with the lookups the endpoints need kept beside them."""

    def __init__(self, rows: Iterable[StockRow] = ()) -> None:
        self.rows: list[StockRow] = []
        self._products: dict[str, list[StockRow]] = {}
        self._by_item: dict[str, list[StockRow]] = {}
        for row in rows:
            self.add(row)

    def add(self, row: StockRow) -> None:
        self.rows.append(row)
        self._products.setdefault(row.product_key.upper(), []).append(row)
        self._by_item.setdefault(row.item_number.upper(), []).append(row)

    def item_rows(self, item_number: str) -> list[StockRow]:
        """Every location of an item; Xorosoft matches item numbers regardless of case."""
        return list(self._by_item.get(item_number.strip().upper(), []))

    def products(self, base_part_number: str = "") -> list[list[StockRow]]:
        """Products in the order their first row came, all of them or one base part's."""
        if not base_part_number:
            return list(self._products.values())
        rows = self._products.get(base_part_number.strip().upper())
        return [rows] if rows else []

    def item_count(self) -> int:
        return len(self._by_item)
