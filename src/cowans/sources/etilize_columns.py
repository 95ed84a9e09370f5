"""The Etilize feed read column by column with pyarrow: the fast path of `read_etilize`.

What it promises `etilize.read_etilize`: for any file it reads to the end, exactly the records
the careful reader yields, in the same order, and the same count of rows. Where it cannot be sure
of that it raises `HandOver` (`csv_batches` says where), having yielded only records the careful
reader yields too, and read_etilize lets the careful reader read the file again.

How rows become records: pyarrow parses a chunk of the file into columns. The work on columns is
done once per batch, in arrow: which rows start a product, which image and specification cells
are plain, the main rows' fields gathered. Python objects are then made a slice of rows at a
time, each by the careful reader's own rules:
- a main row's fields go through `_choice_of`, `_grams`, `_tags` and the like, once per distinct
  text of a column (a flag column holds a handful);
- specification cells are dictionary-encoded: each distinct (column, text) is read once (the
  plain JSON lists json.dumps writes are split by arrow, any other goes through the careful
  reader's json.loads) and makes one pair, shared by every product with that cell;
- plain image cells (an http(s) address, a position written plainly) make their images at once.

Why it is the same: a row with anything the rules refuse, or too unusual to be sure of, is not
judged here. It goes whole to the careful reader's `_Grouping.add`, which reports it with its own
rules and messages; so do blank rows and rows without a Handle. Plain rows take the same steps as
`_Grouping.add`, on the same state. `tests/sources/test_etilize_columns.py` runs both readers on
every fixture and on generated feeds with injected quirks and compares them record for record.

This module and `etilize` import each other (`etilize` imports this one while it is itself being
imported), so everything of `etilize` is used inside functions.
"""

import bisect
import itertools
import operator
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, BinaryIO, Generic, TypeVar, overload

import pyarrow as pa
import pyarrow.compute as pc

from cowans.sources import etilize
from cowans.sources.arrow_values import (
    int32_array,
    int64,
    release_unused_memory,
    string,
    string_array,
    strings,
)
from cowans.sources.csv_batches import CsvBatches
from cowans.sources.gc_pause import gc_paused
from cowans.sources.records import EtilizeImage, EtilizeProduct, RowError

# Distinct cell values remembered per column; past that, they are judged again in each slice.
MAX_REMEMBERED = 1024
MAX_REMEMBERED_PAIRS = 1 << 15

_WHITESPACE = (
    r"\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
    r"\x{205f}\x{3000}"
)  # what Python's str.strip() strips (str.isspace), written for RE2, whose \s is ASCII only
_EDGE_CHARACTER = rf'(?:[^"\\\x00-\x1f{_WHITESPACE}]|\\["\\])'
_CHARACTER = r'(?:[^"\\\x00-\x1f]|\\["\\])'
_VALUE = rf'"{_EDGE_CHARACTER}(?:{_CHARACTER}*{_EDGE_CHARACTER})?"'
# A JSON list of strings that json.loads and strip() leave as it is written, bar the escapes
# \" and \\: non-empty values without space at their ends, and json.dumps' separator.
PLAIN_STRING_LIST = rf"\A\[{_VALUE}(?:, {_VALUE})*\]\z"
_VALUE_SEPARATOR = '", "'

Value = TypeVar("Value")


def can_read(layout: "etilize._Layout") -> bool:
    """Whether this reader can read a feed of this header. Not when two specification columns
    name the same specification: the careful reader keeps the later cell in the earlier one's
    place, a rule not worth a second implementation for a header no feed has. Nor when a name
    holds a unit separator, which _SharedPairs puts between a name and a text."""
    names = [name for _position, name, _header in layout.specifications]
    separated = not any(_UNIT_SEPARATOR in name for name in names)  # see _SharedPairs
    return len(set(names)) == len(names) and separated


def read_columns(
    stream: BinaryIO, encoding: str, layout: "etilize._Layout", count: "etilize.RowCount"
) -> Iterator[EtilizeProduct | RowError]:
    """The feed's records from where `stream` stands (the start of the file); HandOver when
    the careful reader must take over."""
    batches = CsvBatches(
        stream,
        encoding,
        columns=len(layout.names),
        header_is=lambda cells: [cell.strip() for cell in cells] == list(layout.names),
        limits=(etilize.MAX_CELL_CHARS, etilize.MAX_ROW_BYTES),
    )
    reader = _ColumnReader(layout, count)
    try:
        for rows in batches:
            yield from reader.records(rows)
        yield from reader.grouping.finish()
    finally:
        release_unused_memory()


# Records ----------------------------------------------------------------------------------------

# Rows whose cells become Python objects at a time: they, not pyarrow's block, bound the memory
# the column reader holds (a block is turned into arrow arrays whole, then into records a slice
# at a time).
SLICE_ROWS = 256


class _ColumnReader:
    """Batches of rows into records, on the careful reader's `_Grouping` state."""

    def __init__(self, layout: "etilize._Layout", count: "etilize.RowCount") -> None:
        self.layout = layout
        self.count = count
        self.grouping = etilize._Grouping()
        self.known = _KnownCells()
        self.pairs = _SharedPairs()

    def records(self, rows: pa.RecordBatch) -> Iterator[EtilizeProduct | RowError]:
        """The records of a batch, made a slice at a time with the garbage collector paused
        (see gc_pause), and handed out with it running."""
        # The product read last, if any, goes on into this batch: its handle is the current one
        # (a batch's last product is never finished before the next batch is read).
        group = self.grouping.group
        with gc_paused():
            batch = _Batch(
                rows, self.layout, self.count.last_row + 1, group and group.handle, self.pairs
            )
        for start in range(0, rows.num_rows, SLICE_ROWS):
            with gc_paused():
                view = _Slice(batch, start, min(start + SLICE_ROWS, rows.num_rows), self.known)
                records = list(self._slice_records(view))
            del view  # before the next slice's objects are made
            yield from records
        self.count.last_row += rows.num_rows

    def _slice_records(self, view: "_Slice") -> Iterator[EtilizeProduct | RowError]:
        """The records of a slice of rows: `_Grouping.add`'s steps, a product at a time for
        plain rows, and `_Grouping.add` itself for the others."""
        grouping, seen, images = self.grouping, self.grouping.seen, view.images
        max_products, max_images = etilize.MAX_PRODUCTS, etilize.MAX_IMAGES_PER_PRODUCT
        starts = view.main_rows
        ends = [*starts[1:], view.size][: len(starts)]
        yield from self._image_rows(view, 0, starts[0] if starts else view.size)
        for start, end, product in zip(starts, ends, view.products, strict=True):
            if (
                product is None
                or product.handle in seen
                or len(seen) >= max_products
                or (image := images.of(start, None)) is _NOT_PLAIN
            ):
                yield from self._careful(view.row(start))
                yield from self._image_rows(view, start + 1, end)
                continue
            if grouping.group is not None:
                yield from grouping.finish()
                grouping.group = None
            seen[product.handle] = product.row_number
            if end < view.size and images.plain_rows(start + 1, end, max_images - 1):
                # the whole product is in this slice, and plain: done, as finished() would
                product.images = images.in_order(image, start + 1, end)
                yield product
                continue
            grouping.group = etilize._Group(product.handle, product.row_number, product, [])
            if image is not None:
                grouping.group.images.append(image)
            yield from self._image_rows(view, start + 1, end)

    def _image_rows(
        self, view: "_Slice", start: int, end: int
    ) -> Iterator[EtilizeProduct | RowError]:
        """Rows `start` to `end`, which start no product: the current product's image rows,
        or rows without a Handle."""
        if start >= end:
            return
        group = self.grouping.group
        if group is not None and group.product is not None:
            room = etilize.MAX_IMAGES_PER_PRODUCT - len(group.images)
            if view.images.plain_rows(start, end, room):
                group.images.extend(view.images.in_order(None, start, end))
                return
        for index in range(start, end):
            yield from self._image_row(view, index)

    def _image_row(self, view: "_Slice", index: int) -> Iterator[EtilizeProduct | RowError]:
        group = self.grouping.group
        if view.handles[index] and group is not None and not view.titles[index]:
            if group.product is None:
                return
            if len(group.images) < etilize.MAX_IMAGES_PER_PRODUCT:
                image = view.images.of(index, group)
                if image is not _NOT_PLAIN:
                    if image is not None:
                        group.images.append(image)
                    return
        yield from self._careful(view.row(index))

    def _careful(self, row: "etilize._Row") -> Iterator[EtilizeProduct | RowError]:
        """A row that is not plain, judged by the careful reader itself."""
        if not etilize._is_blank(row.cells):
            yield from self.grouping.add(row)


class _Batch:
    """One of pyarrow's batches, as arrow arrays: its cells, what a column at a time tells of
    them, its main rows (the rows that start a product) and their specifications."""

    def __init__(
        self,
        rows: pa.RecordBatch,
        layout: "etilize._Layout",
        first_row: int,
        handle: str | None,
        pairs: "_SharedPairs",
    ) -> None:
        self.rows = rows
        self.layout = layout
        self.first_row = first_row
        handles = [cell.strip() for cell in self.column(etilize.HANDLE).to_pylist()]
        self.main_rows = _main_rows(handles, handle)
        # Only the main rows' are kept: a slice reads its own again, and all of a batch's
        # together took a tenth of the memory a column reader holds.
        self.main_handles = [handles[row] for row in self.main_rows]
        main_indices = int32_array(self.main_rows)
        present = [column for column in _product_columns() if column in layout.index]
        taken = rows.select([layout.index[column] for column in present]).take(main_indices)
        self.main_fields = dict(zip(present, taken.columns, strict=True))
        for column in _product_columns():
            if column not in self.main_fields:  # a header without an optional column
                self.main_fields[column] = strings("", len(self.main_rows))
        self.specifications = _Specifications(self, pairs)
        self.images = _ImageColumns(self)
        self._columns: list[pa.Array] | None = None

    @property
    def columns(self) -> list[pa.Array]:
        """Every column, for the rare row the careful reader judges."""
        if self._columns is None:
            self._columns = self.rows.columns
        return self._columns

    def column(self, name: str) -> pa.Array:
        position = self.layout.index.get(name)
        if position is None:
            return strings("", self.rows.num_rows)
        return self.rows.column(position)


class _Slice:
    """Rows `start` to `end` of a batch as Python objects: handles, titles, images, and the
    products of the main rows. Rows are numbered from the slice's first."""

    def __init__(self, batch: _Batch, start: int, end: int, known: "_KnownCells") -> None:
        self.batch = batch
        self.start = start
        self.size = end - start
        self.handles = [
            cell.strip()
            for cell in batch.column(etilize.HANDLE).slice(start, self.size).to_pylist()
        ]
        self.titles = batch.column(etilize.TITLE).slice(start, self.size).to_pylist()
        first_main = bisect.bisect_left(batch.main_rows, start)
        last_main = bisect.bisect_left(batch.main_rows, end)
        self.main_rows = [row - start for row in batch.main_rows[first_main:last_main]]
        self.images = _Images(batch.images, start, end, self.handles, self.titles)
        self.products = _plain_products(batch, first_main, last_main, known)

    def row(self, index: int) -> "etilize._Row":
        """The row as the careful reader's `_Row`, its cells read from pyarrow as asked for."""
        number = self.batch.first_row + self.start + index
        cells = _LazyCells(self.batch.columns, self.start + index)
        return etilize._Row(number, cells, self.batch.layout)


def _product_columns() -> tuple[str, ...]:
    return (*_text_columns(), *(column for column, _rule in _rules()))


def _main_rows(handles: list[str], current: str | None) -> list[int]:
    """The rows that start a product, as `_Grouping.add` will see them."""
    starts = []
    for index, handle in enumerate(handles):
        if handle and handle != current:
            starts.append(index)
            current = handle
    return starts


class _LazyCells(Sequence[str]):
    """One row's cells, read from pyarrow one at a time: for the rare row the careful reader
    judges, which reads a handful of them."""

    def __init__(self, columns: list[pa.Array], index: int) -> None:
        self._columns = columns
        self._index = index

    def __len__(self) -> int:
        return len(self._columns)

    @overload
    def __getitem__(self, position: int) -> str: ...

    @overload
    def __getitem__(self, position: slice) -> Sequence[str]: ...

    def __getitem__(self, position: int | slice) -> str | Sequence[str]:
        if isinstance(position, slice):
            return [self[index] for index in range(len(self))[position]]
        return str(self._columns[position][self._index].as_py())


# Products ---------------------------------------------------------------------------------------


def _plain_products(
    batch: _Batch, first: int, last: int, known: "_KnownCells"
) -> list[EtilizeProduct | None]:
    """The products of main rows `first` to `last` of the batch whose cells are all valid (None
    for the others), built a column at a time: each cell by the careful reader's rule for it,
    once per distinct value."""
    count = last - first
    fields = {
        column: array.slice(first, count).to_pylist() for column, array in batch.main_fields.items()
    }
    text = {column: list(map(str.strip, fields[column])) for column in _text_columns()}
    text |= {column: known.column(column, fields[column]) for column in known.columns}
    specifications = batch.specifications
    main_rows = batch.main_rows[first:last]
    products: list[EtilizeProduct | None] = list(
        map(
            EtilizeProduct,
            [batch.first_row + row for row in main_rows],
            batch.main_handles[first:last],
            text[etilize.TITLE],
            text[etilize.SKU],
            text[etilize.VENDOR],
            text[etilize.TYPE],
            text[etilize.DESCRIPTION],
            text[etilize.TAGS],
            text[etilize.PUBLISHED],
            text[etilize.STATUS],
            text[etilize.BARCODE],
            [name or "Title" for name in text[etilize.OPTION1_NAME]],
            [value or "Default Title" for value in text[etilize.OPTION1_VALUE]],
            text[etilize.CHARGE_TAX],
            text[etilize.CONTINUE_SELLING],
            text[etilize.WEIGHT],
            text[etilize.WEIGHT_UNIT],
            text[etilize.REQUIRES_SHIPPING],
            text[etilize.SEO_TITLE],
            text[etilize.SEO_DESCRIPTION],
            itertools.repeat(()),
            specifications.ordinary[first:last],
            specifications.alternates[etilize.CWS_A][first:last],
            specifications.alternates[etilize.CWS_CATALOG][first:last],
            specifications.alternates[etilize.SPRC][first:last],
        )
    )
    refused = {main - first for main in specifications.refused if first <= main < last}
    for column in etilize.REQUIRED_COLUMNS[1:]:  # the Handle is there, or the row is no main row
        refused.update(_indices_of("", text[column]))
    for column in known.columns:
        refused.update(_indices_of(_INVALID, text[column]))
    refused.update(_too_long(batch.main_handles[first:last], text))
    for row in refused:
        products[row] = None
    return products


def _too_long(handles: list[str], text: dict[str, list[Any]]) -> Iterator[int]:
    """The rows with a cell longer than the catalog keeps: the careful reader reports them."""
    limit = etilize.MAX_STORED_CHARS
    for column in etilize.LIMITED_COLUMNS:
        cells = handles if column == etilize.HANDLE else text[column]
        yield from (row for row, cell in enumerate(cells) if len(cell) > limit)


def _indices_of(value: object, values: list[Any]) -> list[int]:
    if value not in values:  # one pass in C for the usual slice, where none is
        return []
    return [index for index, candidate in enumerate(values) if candidate is value]


def _text_columns() -> tuple[str, ...]:
    """The product fields taken as they are, stripped, each cell its own: nearly all differ."""
    return (
        etilize.TITLE,
        etilize.SKU,
        etilize.DESCRIPTION,
        etilize.BARCODE,
        etilize.SEO_TITLE,
        etilize.SEO_DESCRIPTION,
    )


_INVALID: Any = object()  # what a rule makes of a cell the careful reader refuses


class _Known(Generic[Value]):
    """A careful-reader rule on one column's cells, applied once per distinct raw cell, and
    remembered for the next slices if the column has few distinct values (flags do, weights
    do not: remembering those would only hold memory).

    `rule` takes the stripped cell and returns _INVALID when the careful reader refuses it.
    """

    def __init__(self, rule: Callable[[str], Value], remember: bool) -> None:
        self._rule = rule
        self._known: dict[str, Value] = {}
        self._remember = remember

    def column(self, cells: list[str]) -> list[Value]:
        """The rule's value for each cell."""
        new = set(cells).difference(self._known)
        table = self._known
        if new:
            values = {cell: self._rule(cell.strip()) for cell in new}
            if self._remember and len(table) + len(values) <= MAX_REMEMBERED:
                table.update(values)
            else:
                table = {**table, **values}
        return list(map(table.__getitem__, cells))


def _choice(choices: Mapping[str, Value], default: Value) -> Callable[[str], Value]:
    def rule(value: str) -> Value:
        chosen = etilize._choice_of(value, choices, default)
        return _INVALID if chosen is None else chosen

    return rule


def _weight(value: str) -> Decimal | None:
    if not value:
        return None
    grams = etilize._grams(value)
    return _INVALID if grams is None else grams


def _as_it_is(value: str) -> str:
    return value


def _rules() -> tuple[tuple[str, Callable[[str], Any]], ...]:
    """(column, the careful reader's rule on its stripped cell; _INVALID when it refuses it)."""
    return (
        # Taken as they are, but a handful of values in the whole feed: the products share them.
        (etilize.VENDOR, _as_it_is),
        (etilize.TYPE, _as_it_is),
        (etilize.OPTION1_NAME, _as_it_is),
        (etilize.OPTION1_VALUE, _as_it_is),
        (etilize.TAGS, etilize._tags),
        (etilize.PUBLISHED, _choice(etilize.BOOLEANS, True)),
        (etilize.STATUS, _choice(etilize.STATUSES, "active")),
        (etilize.CHARGE_TAX, _choice(etilize.BOOLEANS, True)),
        (etilize.CONTINUE_SELLING, _choice(etilize.INVENTORY_POLICIES, False)),
        (etilize.WEIGHT, _weight),  # not remembered: see _Known
        (etilize.WEIGHT_UNIT, _choice(etilize.WEIGHT_UNITS, "g")),
        (etilize.REQUIRES_SHIPPING, _choice(etilize.BOOLEANS, True)),
    )


class _KnownCells:
    """What the careful reader's rules said of each distinct cell seen so far, per column."""

    def __init__(self) -> None:
        self._known = {
            column: _Known(rule, remember=column != etilize.WEIGHT) for column, rule in _rules()
        }
        self.columns = tuple(self._known)

    def column(self, column: str, cells: list[str]) -> list[Any]:
        return self._known[column].column(cells)


# Specifications ---------------------------------------------------------------------------------

_Values = tuple[str, ...]
_Pairs = tuple[tuple[str, _Values], ...]
# (name, values) of one specification cell; values () when it holds none, None when refused
_Pair = tuple[str, _Values | None]


def _careful_string_list(cell: str) -> _Values | None:
    """The careful reader's reading of one stripped cell: () when blank, None when refused."""
    return etilize._string_list(cell) if cell else ()


class _SharedPairs:
    """The (name, values) pair of each distinct specification cell seen, shared by all the
    products with that cell: a catalog repeats a few thousand of them over hundreds of
    thousands of cells, and 90,000 copies took 12 MB for the whole of an import.

    They are found by arrow (`index_in` on "name, unit separator, text" labels), not by a
    Python lookup per distinct cell of each batch, which took a tenth of the reading. The
    alternate part numbers are not remembered: nearly all of them differ.
    """

    def __init__(self) -> None:
        self._labels = strings("", 0)
        self._pairs: list[_Pair] = []

    def of(self, names: pa.Array, texts: pa.Array) -> list[_Pair]:
        """The pair of each (column name, text); texts not seen before with that name are
        read now, all together."""
        labels = pc.binary_join_element_wise(names, texts, string(_UNIT_SEPARATOR))
        found = pc.index_in(labels, value_set=self._labels).to_pylist()
        if None not in found:
            return [self._pairs[index] for index in found]
        new = int32_array([index for index, known in enumerate(found) if known is None])
        pairs = [None if index is None else self._pairs[index] for index in found]
        new_pairs = _new_pairs(names.take(new), texts.take(new))
        for position, pair in zip(new.to_pylist(), new_pairs, strict=True):
            pairs[position] = pair
        remembered = new.to_pylist()[: MAX_REMEMBERED_PAIRS - len(self._pairs)]
        self._pairs.extend(new_pairs[: len(remembered)])
        self._labels = pa.concat_arrays([self._labels, labels.take(int32_array(remembered))])
        return pairs  # type: ignore[return-value]  # every None replaced


def _new_pairs(names: pa.Array, texts: pa.Array) -> list[_Pair]:
    return list(zip(names.to_pylist(), _string_lists(texts), strict=True))


_UNIT_SEPARATOR = "\x1f"


class _Specifications:
    """The main rows' specifications, read a column at a time.

    The cells of the specification columns (the alternate part numbers' last) are laid end to
    end, those empty or not on a main row dropped, the rest put in row order (a stable sort
    keeps column order within a row) and dictionary-encoded. Each distinct (column, text) makes
    one (name, values) pair, its text read by the careful reader's `_string_list` (or split by
    `_string_lists`, which reads it the same). A row with a cell the careful reader refuses is
    in `refused`. Rows are counted as main rows (0 for the batch's first main row, and so on).
    """

    def __init__(self, view: _Batch, pairs: _SharedPairs) -> None:
        self._pairs = pairs
        self._rows = view.rows  # not the batch itself: that would make a cycle
        mains = len(view.main_rows)
        self.ordinary: list[_Pairs] = [()] * mains
        self.alternates: dict[str, list[_Values]] = {
            name: [()] * mains for name in etilize.ALTERNATE_NUMBER_SPECIFICATIONS
        }
        self.refused: set[int] = set()
        alternate = etilize.ALTERNATE_NUMBER_SPECIFICATIONS
        columns = sorted(
            ((position, name) for position, name, _header in view.layout.specifications),
            key=lambda column: column[1] in alternate,  # stable: header order otherwise
        )
        self._first_alternate = sum(name not in alternate for _, name in columns)
        if mains and columns:
            self._read(columns, int32_array(_main_ordinals(view.main_rows, view.rows.num_rows)))

    def _read(self, columns: list[tuple[int, str]], main_of: pa.Array) -> None:
        rows = int64(self._rows.num_rows)
        cells = pa.concat_arrays([self._rows.column(position) for position, _ in columns])
        filled = pc.indices_nonzero(pc.binary_length(cells))
        main = main_of.take(pc.subtract(filled, pc.multiply(pc.divide(filled, rows), rows)))
        on_main = pc.greater_equal(main, int64(0))
        filled, main = filled.filter(on_main), main.filter(on_main)
        if not len(filled):
            return
        order = pc.sort_indices(main)
        filled = filled.take(order)
        encoded = pc.dictionary_encode(cells.take(filled))
        texts = encoded.dictionary
        keys = pc.add(pc.multiply(pc.divide(filled, rows), int64(len(texts))), encoded.indices)
        names = string_array([name for _, name in columns])
        pair_of = self._pairs_of(pc.unique(keys), names, texts)
        pairs = list(map(pair_of.__getitem__, keys.to_pylist()))
        runs = pc.run_end_encode(main.take(order))
        odd = any(not values for _name, values in pair_of.values())  # blank or refused: rare
        self._per_row(pairs, runs.run_ends.to_pylist(), runs.values.to_pylist(), odd)

    def _pairs_of(self, keys: pa.Array, names: pa.Array, texts: pa.Array) -> dict[int, _Pair]:
        """The pair of each key (column * distinct texts + text). Those of the alternate part
        numbers (laid last: columns from `self._first_alternate`) are read each time, nearly all
        of them being new; the others are shared."""
        count = int64(len(texts))
        columns = pc.divide(keys, count)
        text = pc.subtract(keys, pc.multiply(columns, count))
        alternate = pc.greater_equal(columns, int64(self._first_alternate))
        pairs: dict[int, _Pair] = {}
        for chosen, make in ((pc.invert(alternate), self._pairs.of), (alternate, _new_pairs)):
            chosen_columns, chosen_texts = columns.filter(chosen), text.filter(chosen)
            if len(chosen_columns):
                found = make(names.take(chosen_columns), texts.take(chosen_texts))
                pairs.update(zip(keys.filter(chosen).to_pylist(), found, strict=True))
        return pairs

    def _per_row(self, pairs: list[_Pair], ends: list[int], rows: list[int], odd: bool) -> None:
        """Each main row's pairs: its ordinary specifications, and the alternate part numbers
        (laid last) into their own fields. A pair whose values are () (a blank cell, or a list
        of blank values) is left out, one whose values are None (refused) refuses its row;
        `odd` says whether there is any such pair at all."""
        alternate = etilize.ALTERNATE_NUMBER_SPECIFICATIONS
        start = 0
        for end, row in zip(ends, rows, strict=True):
            found = pairs[start:end]
            start = end
            while found and found[-1][0] in alternate:
                name, values = found.pop()
                if values:
                    self.alternates[name][row] = values
                elif values is None:
                    self.refused.add(row)
            if odd and any(not values for _name, values in found):
                if any(values is None for _name, values in found):
                    self.refused.add(row)
                found = [pair for pair in found if pair[1]]
            self.ordinary[row] = tuple(found)  # type: ignore[arg-type]  # no None left


def _main_ordinals(main_rows: list[int], rows: int) -> list[int]:
    ordinals = [-1] * rows
    for ordinal, row in enumerate(main_rows):
        ordinals[row] = ordinal
    return ordinals


def _string_lists(cells: pa.Array) -> list[_Values | None]:
    """Each cell as the careful reader reads it (`_careful_string_list`). A plain cell is split
    here, in arrow; any other goes through the careful reader's json.loads."""
    plain = pc.match_substring_regex(cells, PLAIN_STRING_LIST)
    parts = pc.split_pattern(pc.utf8_slice_codeunits(cells, 2, -2), _VALUE_SEPARATOR)
    values = pc.list_flatten(parts)
    if pc.any(pc.match_substring(values, "\\")).as_py():
        values = pc.replace_substring(values, '\\"', '"')
        values = pc.replace_substring(values, "\\\\", "\\")
    # Interned: a catalog's specification values are a few hundred words, in thousands of cells.
    flat, offsets = list(map(sys.intern, values.to_pylist())), parts.offsets.to_pylist()
    lists: list[_Values | None] = [
        tuple(flat[start:end]) for start, end in itertools.pairwise(offsets)
    ]
    for index, is_plain in enumerate(plain.to_pylist()):
        if not is_plain:
            lists[index] = _careful_string_list(str(cells[index].as_py()).strip())
    return lists


# Images -----------------------------------------------------------------------------------------

_NOT_PLAIN: Any = object()  # an image the careful reader must judge


class _ImageColumns:
    """A batch's image cells, and which of them need no second look: an address starting
    http(s)://, a position from 1 to 99999 written plainly, none with space at its ends."""

    def __init__(self, batch: _Batch) -> None:
        self.srcs, self.positions, self.alts = (
            batch.column(name)
            for name in (etilize.IMAGE_URL, etilize.IMAGE_POSITION, etilize.IMAGE_ALT)
        )
        web = pc.or_(pc.starts_with(self.srcs, "https://"), pc.starts_with(self.srcs, "http://"))
        short = pc.less_equal(pc.binary_length(self.srcs), int64(etilize.MAX_IMAGE_URL_CHARS))
        src = pc.and_(pc.and_(web, short), pc.match_substring_regex(self.srcs, _NO_SPACE_AT_END))
        self.plain = pc.and_(src, pc.match_substring_regex(self.positions, _PLAIN_POSITION))
        self.numbers = pc.cast(pc.if_else(self.plain, self.positions, string("0")), pa.int32())


class _Images:
    """The image cells of a slice of rows, judged as `etilize._image` judges them: those
    `_ImageColumns` found plain (and an alt text not too long) built at once, any other by `of`,
    cell by cell."""

    def __init__(
        self, columns: _ImageColumns, start: int, end: int, handles: list[str], titles: list[str]
    ) -> None:
        size = end - start
        self._srcs = columns.srcs.slice(start, size).to_pylist()
        self._positions = columns.positions.slice(start, size).to_pylist()
        self._alts = list(map(str.strip, columns.alts.slice(start, size).to_pylist()))
        numbers = columns.numbers.slice(start, size).to_pylist()
        max_alt = etilize.MAX_IMAGE_ALT_CHARS
        self._plain = [
            is_plain and len(alt) <= max_alt
            for is_plain, alt in zip(
                columns.plain.slice(start, size).to_pylist(), self._alts, strict=True
            )
        ]
        self._built = list(map(EtilizeImage, self._srcs, numbers, self._alts))
        # plain image rows: a handle, no title, a plain image
        not_plain = map(_is_not_plain_image_row, handles, titles, self._plain)
        self._not_plain_before = list(itertools.accumulate(not_plain, initial=0))
        descending = map(operator.lt, numbers[1:], numbers[:-1])
        self._descending_before = list(itertools.accumulate(descending, initial=0))

    def plain_rows(self, start: int, end: int, room: int) -> bool:
        """Whether rows `start` to `end` are all plain image rows, and fit in `room` images."""
        return end - start <= room and self._not_plain_before[end] == self._not_plain_before[start]

    def in_order(
        self, first: EtilizeImage | None, start: int, end: int
    ) -> tuple[EtilizeImage, ...]:
        """`first` (a main row's image) and the images of plain image rows `start` to `end`,
        by position, as `_Group.finished` orders them."""
        images = self._built[start:end]
        in_order = self._descending_before[end - 1] == self._descending_before[start]
        if first is not None:
            images.insert(0, first)
            in_order = in_order and (start == end or first.position <= images[1].position)
        if in_order:
            return tuple(images)
        return tuple(sorted(images, key=operator.attrgetter("position")))

    def of(self, index: int, group: "etilize._Group | None") -> EtilizeImage | None:
        """The row's image, None when it has none, _NOT_PLAIN when a cell is invalid. Without
        a position it goes after the group's images (first, for a main row: `group` None)."""
        if self._plain[index]:
            return self._built[index]
        src = self._srcs[index].strip()
        if not src:
            return None
        alt = self._alts[index]
        if not etilize._is_image_src(src) or len(alt) > etilize.MAX_IMAGE_ALT_CHARS:
            return _NOT_PLAIN
        cell = self._positions[index].strip()
        if not cell:
            position = 1 if group is None else group.next_position()
        else:
            position = etilize._position_of(cell)
            if position is None:
                return _NOT_PLAIN
        return EtilizeImage(src, position, alt)


def _is_not_plain_image_row(handle: str, title: str, plain_image: bool) -> bool:
    return not handle or bool(title) or not plain_image


# No space at the end to strip (RE2 runs a pattern anchored at the end backwards: quick).
_NO_SPACE_AT_END = rf"[^{_WHITESPACE}]\z"
_PLAIN_POSITION = r"\A[1-9][0-9]{0,4}\z"
