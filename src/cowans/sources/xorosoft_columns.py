"""The Xorosoft CSV export read column by column with pyarrow: the fast path of
`xorosoft.read_xorosoft_csv`.

What it promises `read_xorosoft_csv`: for any file it reads to the end, exactly the items and
row errors of the careful, row-by-row reader, in the same order. Where it cannot be sure of that
(text outside plain CSV, a byte that is not UTF-8, a row of another width than the header, a
field past MAX_FIELD_CHARS: see `csv_batches`) it raises `HandOver`, having yielded only records
the careful reader yields too, and the careful reader reads the file again.

A row is judged here only if it is plain: an ItemNumber and a Location, a price the careful
reader's own `_price` accepts (it reads each distinct price text once), and a quantity written
as up to nine digits (which `_quantity` reads as that very integer). Any other row goes to the
careful reader's `_row_records`, which reports it; duplicates of an item at a location are found
on the same `seen` table either way.
"""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from cowans.sources import xorosoft
from cowans.sources.arrow_values import null_string, release_unused_memory
from cowans.sources.csv_batches import CsvBatches
from cowans.sources.gc_pause import gc_paused
from cowans.sources.records import RowError, XorosoftItem

# Longest row the column reader takes: longer ones go to the careful reader. The export's rows
# are codes, prices and short descriptions.
MAX_ROW_BYTES = 2 << 20
_PLAIN_QUANTITY = r"\A[0-9]{1,9}\z"
# Prices seen, remembered to read each once: a catalog has fewer distinct prices than this.
MAX_REMEMBERED_PRICES = 1 << 16
_NOT_PLAIN: Any = object()


def read_columns(stream: BinaryIO, header: list[str]) -> Iterator[XorosoftItem | RowError]:
    """The export's records from where `stream` stands (the start of the file), its header
    already judged by the careful reader; HandOver when the careful reader must take over."""
    batches = CsvBatches(
        stream,
        "utf-8",
        columns=len(header),
        header_is=lambda cells: [xorosoft._canonical_column(cell) for cell in cells] == header,
        limits=(xorosoft.MAX_FIELD_CHARS, MAX_ROW_BYTES),
    )
    reader = _ColumnReader(header)
    try:
        for batch in batches:
            with gc_paused():  # see gc_pause: thousands of items, none of them garbage
                records = reader.records(batch)
            yield from records
    finally:
        release_unused_memory()


class _ColumnReader:
    def __init__(self, header: list[str]) -> None:
        self.header = header
        self.seen = xorosoft.SeenRows()  # shared with the careful reader's rules
        self.next_row = 2
        self._prices: dict[str, Decimal | None] = {}

    def records(self, rows: pa.RecordBatch) -> list[XorosoftItem | RowError]:
        first_row, self.next_row = self.next_row, self.next_row + rows.num_rows
        cells = {
            name: column.to_pylist()
            for name, column in zip(self.header, rows.columns, strict=True)
            if name
        }
        items = self._plain_items(rows, cells)
        seen, records = self.seen, []
        for row_number, item in enumerate(items, start=first_row):
            if item is _NOT_PLAIN:
                records.extend(self._careful(rows, row_number - first_row, row_number))
                continue
            if seen.first_row(item, row_number) == row_number:
                records.append(item)
            else:  # the careful reader's duplicate, from the same table
                records.append(xorosoft._duplicate(item, row_number, seen))
        return records

    def _careful(
        self, rows: pa.RecordBatch, index: int, row_number: int
    ) -> list[XorosoftItem | RowError]:
        """A row that is not plain, judged by the careful reader's `_row_records` itself."""
        values = [str(column[index].as_py()) for column in rows.columns]
        if not any(value.strip() for value in values):  # a blank line is no row to report
            return []
        return xorosoft._row_records(row_number, values, self.header, self.seen)

    def _plain_items(self, rows: pa.RecordBatch, cells: dict[str, list[str]]) -> list[Any]:
        """Each row's item, or _NOT_PLAIN for a row the careful reader must judge."""
        count = rows.num_rows
        text = {name: list(map(str.strip, cells.get(name, [""] * count))) for name in _TEXTS}
        prices = self._prices_of(cells["UnitPrice"])
        quantities = _quantities_of(rows.column(self.header.index("QuantityOnHand")))
        extra_names = [name for name in cells if name not in xorosoft.KNOWN_COLUMNS]
        extras: list[dict[str, str]] = [{} for _ in range(count)]
        if extra_names:
            extra_cells = [list(map(str.strip, cells[name])) for name in extra_names]
            extras = [
                dict(zip(extra_names, values, strict=True))
                for values in zip(*extra_cells, strict=True)
            ]
        items: list[Any] = list(
            map(
                XorosoftItem,
                text["ItemNumber"],
                text["BasePartNumber"],
                text["Description"],
                prices,
                quantities,
                text["Location"],
                text["UPC"],
                text["VendorProductNumber"],
                extras,
            )
        )
        for index, (number, price, quantity, location) in enumerate(
            zip(text["ItemNumber"], prices, quantities, text["Location"], strict=True)
        ):
            if not number or price is None or quantity is None or not location:
                items[index] = _NOT_PLAIN
        for name, limit in xorosoft.STORED_WIDTHS.items():  # the careful reader reports them
            for index, cell in enumerate(text[name]):
                if len(cell) > limit:
                    items[index] = _NOT_PLAIN
        return items

    def _prices_of(self, cells: list[str]) -> list[Decimal | None]:
        """Each cell's price by the careful reader's `_price`, once per distinct text; None
        for an empty or invalid one."""
        known = self._prices
        for cell in set(cells).difference(known):
            known[cell] = _price(cell.strip())
        prices = list(map(known.__getitem__, cells))
        if len(known) > MAX_REMEMBERED_PRICES:
            known.clear()
        return prices


def _price(text: str) -> Decimal | None:
    if not text:
        return None
    try:
        return xorosoft._price(text)
    except ValueError:
        return None


def _quantities_of(cells: pa.Array) -> list[int | None]:
    """Each quantity written as up to nine digits (which `_quantity` reads as that integer),
    None for any other."""
    plain = pc.match_substring_regex(cells, _PLAIN_QUANTITY)
    numbers = pc.cast(pc.if_else(plain, cells, null_string()), pa.int64())
    return numbers.to_pylist()


_TEXTS = (
    "ItemNumber",
    "BasePartNumber",
    "Description",
    "Location",
    "UPC",
    "VendorProductNumber",
)
