"""Xorosoft's CSV export: UTF-8 with a BOM, one row per item per location.

The emulator reads it to serve a known catalog (`--csv`) and writes it at
`/_emulator/export.csv`, so a test can compare what the API answers with what the export holds.
Unlike the application's reader, this one refuses a bad file outright: an emulator serving half
a catalog would hide the problem.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

from xorosoft_emulator.catalog import StockRow

COLUMNS = (
    "ItemNumber",
    "BasePartNumber",
    "Description",
    "UnitPrice",
    "QuantityOnHand",
    "Location",
    "UPC",
    "VendorProductNumber",
)
# Not in Xorosoft's export, but served in the API's variants when a file carries it.
PRODUCT_CODE_COLUMN = "ProductCode"
REQUIRED_COLUMNS = ("ItemNumber", "Location", "UnitPrice", "QuantityOnHand")


class ExportError(ValueError):
    """The file cannot be served; the message names the row and the column."""


def _price(text: str, row_number: int) -> Decimal:
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise ExportError(f"row {row_number}: UnitPrice {text!r} is not a number") from None
    if not price.is_finite() or price < 0:
        raise ExportError(f"row {row_number}: UnitPrice {text!r} is not a price")
    return price


def _quantity(text: str, row_number: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise ExportError(f"row {row_number}: QuantityOnHand {text!r} is not whole") from None


def _row(fields: dict[str, str], row_number: int) -> StockRow:
    for column in REQUIRED_COLUMNS:
        if not fields.get(column):
            raise ExportError(f"row {row_number}: {column} is empty")
    return StockRow(
        item_number=fields["ItemNumber"],
        base_part_number=fields.get("BasePartNumber", ""),
        description=fields.get("Description", ""),
        unit_price=_price(fields["UnitPrice"], row_number),
        quantity_on_hand=_quantity(fields["QuantityOnHand"], row_number),
        location=fields["Location"],
        upc=fields.get("UPC", ""),
        vendor_product_number=fields.get("VendorProductNumber", ""),
        product_code=fields.get(PRODUCT_CODE_COLUMN, ""),
    )


def read_export(path: Path) -> list[StockRow]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise ExportError(f"{path} is not a Xorosoft export: no {', '.join(missing)} column")
        return [
            _row({name: (value or "").strip() for name, value in fields.items() if name}, number)
            for number, fields in enumerate(reader, start=2)
        ]


def export_lines(rows: Iterable[StockRow]) -> Iterator[str]:
    """The export, line by line, BOM first, so a large catalog streams out."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            (
                row.item_number,
                row.base_part_number,
                row.description,
                row.unit_price,
                row.quantity_on_hand,
                row.location,
                row.upc,
                row.vendor_product_number,
            )
        )
        yield buffer.getvalue()
