"""Catalog products as a Shopify product CSV, or the same table as an XLSX workbook.

Why this shape:
- The columns are the Etilize feed's (its constants are imported from `etilize`), so our own
  reader takes an export back without loss: re-imported with the same Xorosoft data, it makes
  the same catalog. It is the shape Shopify's importer takes; price and stock go in the columns
  of Shopify's current product template (`Price`, `Compare-at price`, `Inventory tracker`,
  `Inventory quantity`), which our reader ignores because Xorosoft owns those values.
- `Inventory quantity` is the sum over Xorosoft's locations: Shopify reads that column only for
  a single-location store (several locations need Shopify's inventory CSV).
- One main row per product carrying its first image, then a row per further image with only the
  Handle and the image columns: Shopify's layout, and the Etilize feed's.
- Specifications are `Metafield: custom.<key> [list.single_line_text]` columns holding a JSON
  list, as in the feed. The header needs every column before the first row, so the caller
  passes the keys of the whole selection (found with one query, not by reading the products).
- Values are written as they are, not escaped against spreadsheet formulas: a CSV is data for
  Shopify and for our importer, and a leading apostrophe would change the data. The XLSX
  workbook, which people open, stores every text cell as text, never as a formula.
- Both formats stream: rows go to disk as they are written (openpyxl's write-only mode), so a
  100,000-product export holds one product in memory at a time.
"""

import csv
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from cowans.db.models import Product, ProductVariant
from cowans.errors import DomainError
from cowans.sources.etilize import (
    BARCODE,
    CHARGE_TAX,
    CONTINUE_SELLING,
    DESCRIPTION,
    HANDLE,
    IMAGE_ALT,
    IMAGE_POSITION,
    IMAGE_URL,
    OPTION1_NAME,
    OPTION1_VALUE,
    PUBLISHED,
    REQUIRES_SHIPPING,
    SEO_DESCRIPTION,
    SEO_TITLE,
    SKU,
    STATUS,
    TAGS,
    TITLE,
    TYPE,
    VENDOR,
    WEIGHT,
    WEIGHT_UNIT,
    specification_column,
)

URL_HANDLE = "URL handle"
PRICE = "Price"
COMPARE_AT_PRICE = "Compare-at price"
INVENTORY_TRACKER = "Inventory tracker"
INVENTORY_QUANTITY = "Inventory quantity"
FULFILLMENT_SERVICE = "Fulfillment service"

COLUMNS = (
    HANDLE,
    TITLE,
    URL_HANDLE,
    DESCRIPTION,
    VENDOR,
    TYPE,
    TAGS,
    PUBLISHED,
    STATUS,
    SKU,
    BARCODE,
    OPTION1_NAME,
    OPTION1_VALUE,
    PRICE,
    COMPARE_AT_PRICE,
    CHARGE_TAX,
    INVENTORY_TRACKER,
    INVENTORY_QUANTITY,
    CONTINUE_SELLING,
    WEIGHT,
    WEIGHT_UNIT,
    REQUIRES_SHIPPING,
    FULFILLMENT_SERVICE,
    IMAGE_URL,
    IMAGE_POSITION,
    IMAGE_ALT,
    SEO_TITLE,
    SEO_DESCRIPTION,
)
# Columns a spreadsheet should see as numbers (the CSV holds them as text anyway).
NUMERIC_COLUMNS = frozenset({PRICE, COMPARE_AT_PRICE, INVENTORY_QUANTITY, WEIGHT, IMAGE_POSITION})
SPECIFICATION_NAMESPACE = "custom"
# Excel's limit for one cell; a longer value makes a workbook Excel has to "repair".
XLSX_MAX_CELL_CHARS = 32_767
XLSX_SHEET = "Products"


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Row = list[str]


class CellRejected(DomainError):
    """A value the format cannot hold; the product is left out and listed, never cut short."""

    status_code = 422


def header(specification_keys: Sequence[str]) -> Row:
    return [*COLUMNS, *(specification_column(key) for key in specification_keys)]


def product_rows(product: Product, specification_keys: Sequence[str]) -> list[Row]:
    """The product's main row, then one row per further image."""
    images = list(product.images)
    variant = product.variants[0] if product.variants else None
    main = {**_product_values(product), **(_variant_values(variant) if variant else {})}
    if images:
        main.update(_image_values(images[0].src, images[0].position, images[0].alt_text))
    specifications = {
        m.key: m.value for m in product.metafields if m.namespace == SPECIFICATION_NAMESPACE
    }
    for key in specification_keys:
        if specifications.get(key):
            main[specification_column(key)] = json.dumps(
                list(specifications[key]), ensure_ascii=False
            )
    rows = [main]
    for image in images[1:]:
        rows.append(
            {HANDLE: product.handle, **_image_values(image.src, image.position, image.alt_text)}
        )
    columns = header(specification_keys)
    return [[row.get(column, "") for column in columns] for row in rows]


def _product_values(product: Product) -> dict[str, str]:
    return {
        HANDLE: product.handle,
        TITLE: product.title,
        URL_HANDLE: product.handle,
        DESCRIPTION: product.body_html or "",
        VENDOR: product.vendor or "",
        TYPE: product.product_type or "",
        TAGS: ", ".join(product.tags or []),
        PUBLISHED: _flag(product.published),
        STATUS: product.status,
        SEO_TITLE: product.seo_title or "",
        SEO_DESCRIPTION: product.seo_description or "",
    }


def _variant_values(variant: ProductVariant) -> dict[str, str]:
    inventory = variant.inventory or {}
    return {
        SKU: variant.sku,
        BARCODE: variant.barcode or "",
        OPTION1_NAME: variant.option1_name or "Title",
        OPTION1_VALUE: variant.option1_value or "Default Title",
        PRICE: _amount(variant.price),
        COMPARE_AT_PRICE: _amount(variant.compare_at_price),
        CHARGE_TAX: _flag(variant.taxable),
        INVENTORY_TRACKER: "shopify",
        INVENTORY_QUANTITY: str(sum(inventory.values())) if inventory else "",
        CONTINUE_SELLING: _flag(variant.inventory_policy == "continue"),
        WEIGHT: _plain(variant.weight_grams),
        WEIGHT_UNIT: variant.weight_unit or "g",
        REQUIRES_SHIPPING: _flag(variant.requires_shipping),
        FULFILLMENT_SERVICE: "manual",
    }


def _image_values(src: str, position: int, alt: str) -> dict[str, str]:
    return {IMAGE_URL: src, IMAGE_POSITION: str(position), IMAGE_ALT: alt or ""}


def _flag(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _plain(value: Decimal | None) -> str:
    """150.000 -> "150", 12.500 -> "12.5": the grams as a person writes them."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# Writing ----------------------------------------------------------------------------------------


class TableWriter(Protocol):
    def write(self, rows: list[Row]) -> None:
        """Write one product's rows, or raise CellRejected having written none of them."""


class _CsvTable:
    def __init__(self, stream: Any) -> None:
        self._writer = csv.writer(stream, lineterminator="\r\n")

    def write(self, rows: list[Row]) -> None:
        self._writer.writerows(rows)


class _XlsxTable:
    def __init__(self, sheet: Any, columns: Row) -> None:
        self._sheet = sheet
        self._columns = columns

    def write(self, rows: list[Row]) -> None:
        """Every cell is checked before any is written: openpyxl fails half-way through a row
        it cannot store, leaving a broken sheet behind."""
        cells = [
            [self._cell(value, column) for value, column in zip(row, self._columns, strict=True)]
            for row in rows
        ]
        for row in cells:
            self._sheet.append(row)

    def _cell(self, value: str, column: str) -> Any:
        if value == "":
            return None
        if column in NUMERIC_COLUMNS:
            number = Decimal(value)
            return int(number) if number == number.to_integral_value() else number
        if len(value) > XLSX_MAX_CELL_CHARS:
            raise CellRejected(
                "cell_too_long",
                f"{column}: {len(value):,} characters, more than an XLSX cell holds "
                f"({XLSX_MAX_CELL_CHARS:,}); export as CSV to get it whole",
            )
        if ILLEGAL_CHARACTERS_RE.search(value):
            raise CellRejected(
                "illegal_character",
                f"{column}: holds a control character an XLSX cell cannot store; export as CSV",
            )
        cell = WriteOnlyCell(self._sheet, value=value)
        cell.data_type = "s"  # text, even when it starts with "=": never a formula
        return cell


@contextmanager
def open_table(path: Path, file_format: Format, columns: Row) -> Iterator[TableWriter]:
    """A table at `path` with its header written; complete on disk once the block ends."""
    if file_format is Format.CSV:
        # UTF-8 with a byte-order mark: Excel then shows accents right, and our reader and
        # Shopify's importer both read it as UTF-8.
        with path.open("w", encoding="utf-8-sig", newline="") as stream:
            table = _CsvTable(stream)
            table.write([columns])
            yield table
        return
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(XLSX_SHEET)
    sheet.append(columns)
    yield _XlsxTable(sheet, columns)
    workbook.save(path)
