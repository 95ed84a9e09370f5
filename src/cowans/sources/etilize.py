"""Reading the Etilize content feed: a cp1252 CSV in Shopify's product-CSV shape, as a stream.

What `read_etilize` promises its callers:
- it checks the start of the file and its header before it returns, so a file that is not a
  feed (empty, binary, UTF-16, missing columns, too many columns) raises `SourceError` before a
  single record exists;
- it then yields one `EtilizeProduct` per Handle, when the rows of that Handle end, and a
  `RowError` for every row or cell it rejects; the rest of the file goes on;
- memory stays bounded whatever the file: no row may exceed MAX_ROW_BYTES, no cell
  MAX_CELL_CHARS, no product MAX_IMAGES_PER_PRODUCT images, no feed MAX_PRODUCTS products;
- a file that breaks in a way no later row can be trusted (a quote that never closes, a cell or
  row past its limit) raises `SourceError` when the break is reached. A cut-short feed must not
  be half-imported: the products it lost would look withdrawn.

Decisions:
- Rows are numbered as a spreadsheet shows them: the header is row 1, and a quoted cell that
  spans several lines still makes one row.
- The first row of a Handle is its main row; following rows with that Handle and no Title only
  add images (their other cells are ignored: Etilize products have a single variant).
- A main row with any invalid cell is skipped, with its image rows, and reported once per bad
  cell: a guessed flag or weight would sell the product wrongly. A bad specification cell or a
  bad image only loses that specification or image; the product is still right without it.
- Rows of one Handle are contiguous. A Handle that comes back after another product is refused
  (a RowError on its Handle, its rows skipped): the first product was already yielded and cannot
  be amended, and the first one seen is the one Etilize meant. The handles seen are remembered
  for this, a few dozen bytes each.
- The feed is cp1252. A file that starts with a UTF-8 byte-order mark, or whose first block is
  valid UTF-8 with non-ASCII characters, is read as UTF-8: that is what re-saving the feed in a
  spreadsheet produces, and reading it as cp1252 would garble every accent. A byte that does not
  decode rejects its row only.

Two readers live behind `read_etilize`. This module's careful reader goes row by row through
Python's csv module and is the reference: it judges every hostile case above. The column reader
(`etilize_columns`) parses with pyarrow, several times faster (BENCHMARKS.md, "Import"), and
yields exactly what the careful reader yields; it reads a feed whose stream can go back to its
start, and hands the feed to the careful reader at the first thing it cannot number exactly (see
its docstring). The two modules import each other: the column reader calls this one's rules for
every cell and row it does not find plain, so that each rule and message exists once.
"""

import codecs
import csv
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import BinaryIO, TypeVar

from cowans.sources import etilize_columns
from cowans.sources.csv_batches import columns_then_rows, position_to_return_to
from cowans.sources.records import (
    EtilizeImage,
    EtilizeProduct,
    RowError,
    SourceError,
    SourceErrorCode,
)

# The real feed has a few hundred columns; ten times that is still plausible, more is an attack.
MAX_COLUMNS = 5_000
# Longest cell. A long HTML description is tens of KB; csv.field_size_limit is set to this.
MAX_CELL_CHARS = 1 << 20
# Longest row, all of its lines and cells together: the most one record makes the reader hold.
MAX_ROW_BYTES = 8 << 20
# Shopify keeps at most 250 media per product, so more image rows for one Handle are refused.
MAX_IMAGES_PER_PRODUCT = 250
MAX_IMAGE_URL_CHARS = 2_048
MAX_IMAGE_ALT_CHARS = 512  # Shopify's limit for a media's alt text
MAX_IMAGE_POSITION = 99_999
# A tonne: anything heavier in an office-supplies feed is a typo.
MAX_WEIGHT_GRAMS = Decimal(1_000_000)
# Forty times the catalog; bounds the handles remembered to find a Handle that comes back.
MAX_PRODUCTS = 1_000_000
# How much of the file decides its encoding and shows it is binary.
SNIFF_BYTES = 64 << 10
READ_CHUNK_BYTES = 64 << 10

HANDLE = "Handle"
TITLE = "Title"
DESCRIPTION = "Description"
VENDOR = "Vendor"
TYPE = "Type"
TAGS = "Tags"
PUBLISHED = "Published"
STATUS = "Status"
SKU = "SKU"
BARCODE = "Barcode"
OPTION1_NAME = "Option1 Name"
OPTION1_VALUE = "Option1 Value"
CHARGE_TAX = "Charge tax"
CONTINUE_SELLING = "Continue selling when out of stock"
WEIGHT = "Weight value (grams)"
WEIGHT_UNIT = "Weight unit for display"
REQUIRES_SHIPPING = "Requires shipping"
IMAGE_URL = "Product image URL"
IMAGE_POSITION = "Image position"
IMAGE_ALT = "Image alt text"
SEO_TITLE = "SEO Title"
SEO_DESCRIPTION = "SEO Description"
REQUIRED_COLUMNS = (HANDLE, TITLE, SKU, VENDOR, TYPE)
# The catalog keeps these in columns of 255 characters. PostgreSQL refuses a longer value, which
# would fail the whole import at its write; SQLite would keep it. Either way it is the row's
# error, the same on both.
MAX_STORED_CHARS = 255
LIMITED_COLUMNS = (
    HANDLE,
    TITLE,
    SKU,
    VENDOR,
    TYPE,
    BARCODE,
    OPTION1_NAME,
    OPTION1_VALUE,
    SEO_TITLE,
)

CWS_A = "CWS_A"
CWS_CATALOG = "CWS_Catalog"
SPRC = "SPRC"
ALTERNATE_NUMBER_SPECIFICATIONS = (CWS_A, CWS_CATALOG, SPRC)
SPECIFICATION_COLUMN = re.compile(
    r"Metafield: custom\.(?P<name>[^\[\]]+?) \[list\.single_line_text\]"
)

BOOLEANS = {"true": True, "false": False}
# Shopify's older exports write the inventory policy, newer ones a boolean.
INVENTORY_POLICIES = {"continue": True, "deny": False, **BOOLEANS}
STATUSES = {status: status for status in ("active", "draft", "archived")}
WEIGHT_UNITS = {unit: unit for unit in ("g", "kg", "lb", "oz")}
REPLACEMENT_CHARACTER = "\ufffd"

Choice = TypeVar("Choice")


def specification_column(name: str) -> str:
    """The header of the column holding specification `name`, as Etilize writes it."""
    return f"Metafield: custom.{name} [list.single_line_text]"


class EtilizeRecords(Iterator[EtilizeProduct | RowError]):
    """A feed's products and row errors, in file order, and how many data rows were read."""

    def __init__(self, records: Iterator[EtilizeProduct | RowError], count: "RowCount") -> None:
        self._records = records
        self._count = count

    def __iter__(self) -> Iterator[EtilizeProduct | RowError]:
        return self._records  # a for loop then takes them straight from the reader

    def __next__(self) -> EtilizeProduct | RowError:
        return next(self._records)

    @property
    def rows(self) -> int:
        """Data rows read so far, blank ones included: the last row read is row `rows + 1`."""
        return self._count.last_row - 1


@dataclass
class RowCount:
    """The number of the last row a reader has read (the header is row 1)."""

    last_row: int = 1


def read_etilize(stream: BinaryIO) -> EtilizeRecords:
    """Check that `stream` is a feed, then return its products and row errors as a stream.

    Not a generator itself, so that a file that is no feed at all raises here, at the call.
    """
    start = position_to_return_to(stream)
    lines, reader, layout = _open_feed(stream)
    count = RowCount()
    if start is None or not etilize_columns.can_read(layout):
        return EtilizeRecords(_products(_rows(reader, lines, layout, count)), count)
    records = _columns_then_rows(stream, start, lines.encoding, layout, count)
    return EtilizeRecords(records, count)


def _open_feed(stream: BinaryIO) -> tuple["_FeedLines", Iterator[list[str]], "_Layout"]:
    """The careful reader, past the header; SourceError when the file is no feed."""
    csv.field_size_limit(MAX_CELL_CHARS)  # process-wide: csv offers no per-reader limit
    head, encoding = _sniff(stream)
    lines = _FeedLines(stream, head, encoding)
    reader = csv.reader(lines, strict=True)
    return lines, reader, _read_header(reader, lines)


def _columns_then_rows(
    stream: BinaryIO, start: int, encoding: str, layout: "_Layout", count: "RowCount"
) -> Iterator[EtilizeProduct | RowError]:
    """The column reader's records, and the careful reader's after a hand-over (which reads
    the file again from the start)."""

    def careful() -> Iterator[EtilizeProduct | RowError]:
        stream.seek(start)
        lines, reader, layout = _open_feed(stream)
        count.last_row = 1
        return _products(_rows(reader, lines, layout, count))

    stream.seek(start)
    return columns_then_rows(etilize_columns.read_columns(stream, encoding, layout, count), careful)


def _not_a_feed(reason: str) -> SourceError:
    return SourceError(SourceErrorCode.NOT_A_FEED, f"Not an Etilize feed: {reason}")


def _unreadable(row_number: int, reason: str) -> SourceError:
    return SourceError(
        SourceErrorCode.NOT_A_FEED,
        f"The Etilize feed cannot be read past row {row_number}: {reason}; nothing of it is "
        "imported",
    )


def _shown(value: str, length: int = 40) -> str:
    """A cell quoted in a message, cut short: errors are listed by the thousand."""
    return repr(value if len(value) <= length else value[:length] + "…")


# Bytes to lines ---------------------------------------------------------------------------------


def _sniff(stream: BinaryIO) -> tuple[bytes, str]:
    """The first block of the file, minus any byte-order mark, and the encoding to read it in."""
    head = stream.read(SNIFF_BYTES)
    if not head.strip():
        raise _not_a_feed("the file is empty")
    if b"\x00" in head:
        raise _not_a_feed("the file holds NUL bytes, so it is binary or UTF-16, not a CSV")
    if head.startswith(codecs.BOM_UTF8):
        return head[len(codecs.BOM_UTF8) :], "utf-8"
    if not head.isascii() and _is_utf8(head):
        return head, "utf-8"
    return head, "cp1252"


def _is_utf8(head: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


class _FeedLines:
    """The feed's lines for csv.reader, decoded one at a time and counted against the row limit.

    Decoding each line (rather than through a TextIOWrapper) pins a bad byte on its own row, and
    counting the bytes of each record stops a row that never ends before it fills memory.
    """

    def __init__(self, stream: BinaryIO, head: bytes, encoding: str) -> None:
        self.encoding = encoding
        self.row_number = 1
        self.row_bytes = 0
        # (a character marking where in the row, reason) for each line that did not decode
        self.problems: list[tuple[str, str]] = []
        self.ran_dry = False
        self._stream = stream
        self._buffer = head
        self._start = 0

    def start_row(self, row_number: int) -> None:
        self.row_number = row_number
        self.row_bytes = 0
        self.problems = []

    def __iter__(self) -> "_FeedLines":
        return self

    def __next__(self) -> str:
        line = self._read_line()
        if not line:
            self.ran_dry = True
            raise StopIteration
        return self._decode(line)

    def _read_line(self) -> bytes:
        pieces: list[bytes] = []
        while True:
            end = self._buffer.find(b"\n", self._start)
            if end >= 0:
                self._take(pieces, end + 1)
                return b"".join(pieces)
            self._take(pieces, len(self._buffer))
            self._buffer, self._start = self._stream.read(READ_CHUNK_BYTES), 0
            if not self._buffer:
                return b"".join(pieces)

    def _take(self, pieces: list[bytes], end: int) -> None:
        piece = self._buffer[self._start : end]
        self._start = end
        self.row_bytes += len(piece)
        if self.row_bytes > MAX_ROW_BYTES:
            raise _unreadable(
                self.row_number,
                f"the row is longer than {MAX_ROW_BYTES:,} bytes (a quote that never closes, "
                "or a giant cell)",
            )
        pieces.append(piece)

    def _decode(self, line: bytes) -> str:
        try:
            text = line.decode(self.encoding)
        except UnicodeDecodeError as error:
            byte = line[error.start]
            self.problems.append(
                (REPLACEMENT_CHARACTER, f"byte 0x{byte:02X} is not valid {self.encoding} text")
            )
            text = line.decode(self.encoding, errors="replace")
        if "\x00" in text:
            self.problems.append(("\x00", "the cell holds a NUL byte"))
        return text


# Lines to rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """Where the columns the reader uses sit in the header."""

    names: tuple[str, ...]
    index: Mapping[str, int]
    # (position, specification name, header) of every specification column, in header order
    specifications: tuple[tuple[int, str, str], ...]


def _read_header(reader: Iterator[list[str]], lines: _FeedLines) -> _Layout:
    lines.start_row(1)
    try:
        header = next(reader)
    except StopIteration:
        raise _not_a_feed("the file is empty") from None
    except csv.Error as error:
        raise _not_a_feed(f"the header is not CSV ({error})") from None
    if lines.problems:
        raise _not_a_feed(f"the header is not {lines.encoding} text ({lines.problems[0][1]})")
    return _layout([name.strip() for name in header])


def _layout(names: list[str]) -> _Layout:
    if len(names) > MAX_COLUMNS:
        raise _not_a_feed(f"the header has {len(names):,} columns, more than {MAX_COLUMNS:,}")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise _not_a_feed(
            f"the header lacks {', '.join(missing)} (its first column is {_shown(names[0])})"
        )
    too_long = [name for name in names if len(name) > MAX_STORED_CHARS]
    if too_long:  # a specification's name, or a row error's column, is kept in 255 characters
        raise _not_a_feed(
            f"a column name is longer than {MAX_STORED_CHARS} characters: {_shown(too_long[0])}"
        )
    repeated = sorted(name for name, count in Counter(names).items() if name and count > 1)
    if repeated:
        raise _not_a_feed(f"columns appear more than once: {', '.join(map(_shown, repeated[:5]))}")
    specifications = tuple(
        (position, match["name"].strip(), name)
        for position, name in enumerate(names)
        if (match := SPECIFICATION_COLUMN.fullmatch(name))
    )
    index = {name: position for position, name in enumerate(names) if name}
    return _Layout(tuple(names), index, specifications)


@dataclass
class _Row:
    """One data row, and the errors found in it so far."""

    number: int
    cells: Sequence[str]
    layout: _Layout
    errors: list[RowError] = field(default_factory=list)

    def cell(self, position: int) -> str:
        return self.cells[position].strip() if position < len(self.cells) else ""

    def text(self, column: str) -> str:
        position = self.layout.index.get(column)
        return "" if position is None else self.cell(position)

    def reject(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.number, column, reason))

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            self.reject(column, f"{column} is empty: a product's first row must have one")
        return value

    def choice(self, column: str, choices: Mapping[str, Choice], default: Choice) -> Choice:
        value = self.text(column)
        chosen = _choice_of(value, choices, default)
        if chosen is None:
            self.reject(column, f"{_shown(value)} is not one of {', '.join(choices)}")
            return default
        return chosen

    def weight(self) -> Decimal | None:
        value = self.text(WEIGHT)
        if not value:
            return None
        grams = _grams(value)
        if grams is None:
            self.reject(
                WEIGHT, f"{_shown(value)} is not a weight in grams up to {MAX_WEIGHT_GRAMS}"
            )
        return grams


# The rules for one cell, on its stripped text. The column reader calls them too, once for each
# distinct value of a column.


def _choice_of(value: str, choices: Mapping[str, Choice], default: Choice) -> Choice | None:
    """The choice `value` names, `default` when it is empty, None when it names none."""
    if not value:
        return default
    return choices.get(value.lower())


def _grams(value: str) -> Decimal | None:
    """The weight `value` gives, or None when it is no weight (`value` is not empty)."""
    try:
        grams = Decimal(value)
    except InvalidOperation:
        return None
    if not grams.is_finite() or not 0 <= grams <= MAX_WEIGHT_GRAMS:
        return None
    return grams


def _is_image_src(src: str) -> bool:
    return src.lower().startswith(("https://", "http://")) and len(src) <= MAX_IMAGE_URL_CHARS


def _position_of(value: str) -> int | None:
    """The image position `value` gives, or None when it is none (`value` is not empty)."""
    digits = len(str(MAX_IMAGE_POSITION))
    if value.isascii() and value.isdigit() and len(value) <= digits and int(value) >= 1:
        return int(value)
    return None


def _rows(
    reader: Iterator[list[str]], lines: _FeedLines, layout: _Layout, count: RowCount
) -> Iterator[_Row | RowError]:
    """The data rows, skipping blank ones; a row csv cannot parse becomes its RowError."""
    row_number = 1
    while True:
        row_number += 1
        lines.start_row(row_number)
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield _unparsable_row(row_number, error, lines)
            count.last_row = row_number
            continue
        count.last_row = row_number
        if _is_blank(cells):
            continue
        yield _row(row_number, cells, layout, lines.problems)


def _is_blank(cells: Sequence[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _unparsable_row(row_number: int, error: csv.Error, lines: _FeedLines) -> RowError:
    if lines.ran_dry:
        raise _unreadable(row_number, "the file ends inside a quoted cell (a quote never closes)")
    if lines.row_bytes > MAX_CELL_CHARS:
        raise _unreadable(row_number, f"a cell is longer than {MAX_CELL_CHARS:,} characters")
    return RowError(row_number, "", f"the row is not valid CSV ({error})")


def _row(number: int, cells: list[str], layout: _Layout, problems: list[tuple[str, str]]) -> _Row:
    row = _Row(number, cells, layout)
    width = len(layout.names)
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        row.reject("", f"the row has {len(cells)} cells but the header {width} columns")
    for marker, reason in problems:
        row.reject(_column_holding(row, marker), reason)
    return row


def _column_holding(row: _Row, marker: str) -> str:
    for position, cell in enumerate(row.cells[: len(row.layout.names)]):
        if marker in cell:
            return row.layout.names[position]
    return ""


# Rows to products -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Group:
    """The rows of one Handle read so far."""

    handle: str
    first_row: int
    product: EtilizeProduct | None  # None when the main row was refused: its rows are skipped
    images: list[EtilizeImage] = field(default_factory=list)

    def next_position(self) -> int:
        """Where an image without a position goes: after every image before it."""
        return max((image.position for image in self.images), default=0) + 1

    def finished(self) -> EtilizeProduct | None:
        """The product with its images in position order. It is given them in place rather than
        copied (dataclasses.replace, some 5 µs a product): nobody has seen it yet."""
        if self.product is not None and self.images:
            self.product.images = tuple(sorted(self.images, key=attrgetter("position")))
        return self.product


def _products(rows: Iterator[_Row | RowError]) -> Iterator[EtilizeProduct | RowError]:
    grouping = _Grouping()
    for row in rows:
        if isinstance(row, RowError):
            yield row
        else:
            yield from grouping.add(row)
    yield from grouping.finish()


class _Grouping:
    """Rows into products, one row at a time: the product being read and the handles seen.

    The column reader drives the same object, with its own faster steps for plain rows."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}  # handle -> its main row
        self.group: _Group | None = None

    def add(self, row: _Row) -> Iterator[EtilizeProduct | RowError]:
        handle = row.text(HANDLE)
        if not handle:
            row.reject(HANDLE, "the row has no Handle")
        elif self.group is not None and handle == self.group.handle:
            _add_image_row(self.group, row)
        else:
            yield from self.finish()
            self.group = _start_group(row, handle, self.seen)
        yield from row.errors

    def finish(self) -> Iterator[EtilizeProduct]:
        """The product read so far, if its main row was valid."""
        if self.group is not None and (product := self.group.finished()):
            yield product


def _start_group(row: _Row, handle: str, seen: dict[str, int]) -> _Group:
    first_row = seen.get(handle)
    if first_row is not None:
        row.reject(
            HANDLE,
            f"handle {_shown(handle)} already had its rows at row {first_row}; the rows of one "
            "product must be together, so these are skipped",
        )
        return _Group(handle, row.number, None)
    if len(seen) >= MAX_PRODUCTS:
        raise _unreadable(row.number, f"the feed has more than {MAX_PRODUCTS:,} products")
    seen[handle] = row.number
    group = _Group(handle, row.number, _main_product(row))
    if group.product is not None and (image := _image(row, fallback_position=1)):
        group.images.append(image)
    return group


def _add_image_row(group: _Group, row: _Row) -> None:
    if group.product is None:
        return  # the main row's errors already say why the product is skipped
    if row.text(TITLE):
        row.reject(
            TITLE,
            f"a second main row for handle {_shown(group.handle)} (the first is row "
            f"{group.first_row})",
        )
    elif row.errors:
        return  # the row did not decode or parse: its image cannot be trusted
    elif len(group.images) >= MAX_IMAGES_PER_PRODUCT:
        if row.text(IMAGE_URL):
            row.reject(IMAGE_URL, f"more than {MAX_IMAGES_PER_PRODUCT} images for one product")
    elif image := _image(row, fallback_position=group.next_position()):
        group.images.append(image)


def _main_product(row: _Row) -> EtilizeProduct | None:
    """The product of a main row, or None (and the row's errors) when any field is invalid."""
    product = EtilizeProduct(
        row_number=row.number,
        handle=row.text(HANDLE),
        title=row.required(TITLE),
        sku=row.required(SKU),
        vendor=row.required(VENDOR),
        product_type=row.required(TYPE),
        body_html=row.text(DESCRIPTION),
        tags=_tags(row.text(TAGS)),
        published=row.choice(PUBLISHED, BOOLEANS, default=True),
        status=row.choice(STATUS, STATUSES, default="active"),
        barcode=row.text(BARCODE),
        option1_name=row.text(OPTION1_NAME) or "Title",
        option1_value=row.text(OPTION1_VALUE) or "Default Title",
        taxable=row.choice(CHARGE_TAX, BOOLEANS, default=True),
        continue_selling=row.choice(CONTINUE_SELLING, INVENTORY_POLICIES, default=False),
        weight_grams=row.weight(),
        weight_unit=row.choice(WEIGHT_UNIT, WEIGHT_UNITS, default="g"),
        requires_shipping=row.choice(REQUIRES_SHIPPING, BOOLEANS, default=True),
        seo_title=row.text(SEO_TITLE),
        seo_description=row.text(SEO_DESCRIPTION),
    )
    for column in LIMITED_COLUMNS:
        if len(row.text(column)) > MAX_STORED_CHARS:
            row.reject(column, f"{column} is longer than {MAX_STORED_CHARS} characters")
    if row.errors:
        return None
    return _with_specifications(product, _specifications(row))


def _tags(cell: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tag.strip() for tag in cell.split(",") if tag.strip()))


def _specifications(row: _Row) -> dict[str, tuple[str, ...]]:
    """Every non-empty specification of the row, in column order; a bad cell is reported."""
    found: dict[str, tuple[str, ...]] = {}
    for position, name, header in row.layout.specifications:
        cell = row.cell(position)
        if not cell:
            continue
        values = _string_list(cell)
        if values is None:
            row.reject(header, f"{_shown(cell)} is not a JSON list of strings")
        elif values:
            found[name] = values
    return found


def _string_list(cell: str) -> tuple[str, ...] | None:
    try:
        parsed = json.loads(cell)
    except (ValueError, RecursionError):  # RecursionError: a cell of a million "["
        return None
    if not isinstance(parsed, list) or not all(isinstance(value, str) for value in parsed):
        return None
    return tuple(value.strip() for value in parsed if value.strip())


def _with_specifications(
    product: EtilizeProduct, specifications: dict[str, tuple[str, ...]]
) -> EtilizeProduct:
    return replace(
        product,
        specifications=tuple(
            (name, values)
            for name, values in specifications.items()
            if name not in ALTERNATE_NUMBER_SPECIFICATIONS
        ),
        cws_a=specifications.get(CWS_A, ()),
        cws_catalog=specifications.get(CWS_CATALOG, ()),
        sprc=specifications.get(SPRC, ()),
    )


def _image(row: _Row, fallback_position: int) -> EtilizeImage | None:
    """The row's image, or None when it has none or any of its cells is invalid."""
    src = row.text(IMAGE_URL)
    if not src:
        return None
    errors_before = len(row.errors)
    if not _is_image_src(src):
        row.reject(
            IMAGE_URL,
            f"{_shown(src)} is not an http(s) address of at most {MAX_IMAGE_URL_CHARS} characters",
        )
    alt = row.text(IMAGE_ALT)
    if len(alt) > MAX_IMAGE_ALT_CHARS:
        row.reject(IMAGE_ALT, f"the alt text is longer than {MAX_IMAGE_ALT_CHARS} characters")
    position = _image_position(row, fallback_position)
    if len(row.errors) > errors_before or position is None:
        return None
    return EtilizeImage(src=src, position=position, alt=alt)


def _image_position(row: _Row, fallback: int) -> int | None:
    value = row.text(IMAGE_POSITION)
    if not value:
        return fallback
    position = _position_of(value)
    if position is not None:
        return position
    row.reject(IMAGE_POSITION, f"{_shown(value)} is not a position from 1 to {MAX_IMAGE_POSITION}")
    return None
