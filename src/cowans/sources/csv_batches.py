"""A CSV file as pyarrow record batches, for a column reader that must read it as csv would.

The column readers (`etilize_columns`, `xorosoft_columns`) promise the records of their careful,
row-by-row readers, exactly. This is what lets them: the batches come from text checked to be
plain CSV (`csv_transcoding`), so pyarrow splits it into the rows and cells csv would, blank
lines included; and where pyarrow could still differ from csv, or from the careful reader's
limits, iterating raises `HandOver` instead of yielding a batch:
- a row with fewer or more cells than the header (pyarrow drops it and does not say which);
- a cell longer than `max_cell_chars`, a row longer than `max_row_bytes`;
- the header row read otherwise than the careful reader read it;
- anything pyarrow or the source raises.
The column reader then stops, and its careful reader reads the file again.

A thread of its own reads, checks and parses the file a couple of chunks ahead of the records
being made: the checks run RE2 and the parsing C++, both without the GIL, so they take little
from the thread that makes records. pyarrow reads arrow buffers, not a Python file object: its
own threads then call into Python only for the invalid-row handler, within a parse the thread
waits for; reading through a Python file object, they did so at any time, and aborted or hung
the interpreter at exit.
"""

import atexit
import contextlib
import itertools
import queue
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cowans.sources.arrow_values import MEMORY_POOL
from cowans.sources.csv_transcoding import CheckedCsvChunks

# The text pyarrow parses at a time, whole rows: the records of one chunk are what a column
# reader holds at once. pyarrow parses 1 MiB as fast, per byte, as larger chunks.
CHUNK_BYTES = 1 << 20

Record = TypeVar("Record")


class HandOver(Exception):
    """The column reader met something only the careful reader places and reports exactly."""


def position_to_return_to(stream: BinaryIO) -> int | None:
    """Where the stream stands, if it can go back there (the careful reader, after a hand-over,
    reads the file again from there); None if it cannot."""
    seekable = getattr(stream, "seekable", None)
    return stream.tell() if seekable is not None and seekable() else None


def columns_then_rows(
    columns: Iterator[Record], careful: Callable[[], Iterator[Record]]
) -> Iterator[Record]:
    """The column reader's records; if it hands over, the careful reader's from then on.

    `careful` opens the careful reader on the file from its start again. It is made to skip as
    many records as the column reader yielded: the same records, since both read the same rows
    by the same rules.
    """
    yielded = 0
    try:
        for record in columns:
            yield record
            yielded += 1
        return
    except HandOver:
        pass
    yield from itertools.islice(careful(), yielded, None)


class _Parser:
    """Parsed tables from a thread: `parse` of each chunk, in order, a couple ahead of their
    consumer. Its errors are raised to the consumer, as HandOver.

    The thread is a daemon, so that a consumer who drops the tables unread does not keep the
    process from exiting; and it is stopped before the interpreter finalizes (see
    _stop_parsers), because pyarrow's threads must not outlive it.
    """

    def __init__(self, chunks: Iterable[pa.Buffer], parse: Callable[[pa.Buffer], pa.Table]):
        self._chunks = chunks
        self._parse = parse
        self._ready: queue.Queue[pa.Table | BaseException | None] = queue.Queue(maxsize=2)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="csv-parse", daemon=True)
        _PARSERS.add(self)
        self._thread.start()

    def __iter__(self) -> Iterator[pa.Table]:
        while (table := self._ready.get()) is not None:
            if isinstance(table, HandOver):
                raise table
            if isinstance(table, BaseException):
                raise HandOver(str(table)) from table
            yield table

    def stop(self) -> None:
        """Stop, and wait for the thread: nothing may read the caller's stream afterwards."""
        self._stopping.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._ready.get(timeout=0.05)  # a put waiting for room
        self._thread.join()

    def _run(self) -> None:
        try:
            for chunk in self._chunks:
                if self._stopping.is_set():
                    return
                self._put(self._parse(chunk))
            self._put(None)
        except Exception as error:  # pyarrow's errors, NotPlainCsv, the stream's own
            self._put(error)

    def _put(self, item: pa.Table | BaseException | None) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(queue.Full):
                self._ready.put(item, timeout=0.05)
                return


_PARSERS: "weakref.WeakSet[_Parser]" = weakref.WeakSet()


@atexit.register
def _stop_parsers() -> None:
    """Stop the parsing threads left running (their consumer never finished nor closed them):
    a thread inside pyarrow while the interpreter finalizes aborts the process."""
    for parser in list(_PARSERS):
        parser.stop()


class CsvBatches:
    """The batches of the CSV in `stream` from where it stands, header row checked and removed.

    Every cell is a string. `header_is` says whether pyarrow's header row is the one the careful
    reader read. `limits` are the careful reader's longest cell (characters) and row (bytes).
    """

    def __init__(
        self,
        stream: BinaryIO,
        encoding: str,
        columns: int,
        header_is: Callable[[list[str]], bool],
        limits: tuple[int, int],
    ) -> None:
        self._names = [str(position) for position in range(columns)]
        self._header_is = header_is
        self._max_cell_chars, max_row_bytes = limits
        self._chunks = CheckedCsvChunks(stream, encoding, CHUNK_BYTES, max_row_bytes)
        self._dropped_rows = False

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        header = True
        for table in self._tables():
            for batch in table.to_batches():
                yield self._without_header(batch) if header else batch
                header = False
        if header:
            raise HandOver("pyarrow found no header")

    def _tables(self) -> Iterator[pa.Table]:
        """Each chunk, parsed, by a thread of its own: checking a chunk is RE2 and parsing it
        is C++, both without the GIL, so they run beside the records being made."""
        parser = _Parser(self._chunks, self._parsed)
        try:
            yield from parser
        finally:
            parser.stop()

    def _parsed(self, chunk: pa.Buffer) -> pa.Table:
        """The chunk's rows, if pyarrow read them as csv would; HandOver if not."""
        table = pcsv.read_csv(
            pa.BufferReader(chunk),
            # One block: pyarrow splits no row between blocks (it refuses a row over three).
            read_options=pcsv.ReadOptions(column_names=self._names, block_size=len(chunk) + 1),
            parse_options=pcsv.ParseOptions(
                newlines_in_values=True,
                ignore_empty_lines=False,  # a blank line is a row, as csv numbers them
                invalid_row_handler=self._dropped,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(self._names, pa.string()),
                strings_can_be_null=False,
                check_utf8=False,  # CheckedCsvChunks hands out UTF-8 only
            ),
            memory_pool=MEMORY_POOL,
        )
        if self._dropped_rows or _has_long_cell(table, self._max_cell_chars):
            raise HandOver("a row of another width than the header's, or a cell too long")
        return table

    def _without_header(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        header = [str(cell) for cell in batch.slice(0, 1).to_pylist()[0].values()]
        if not self._header_is(header):
            raise HandOver("pyarrow read the header otherwise than csv")
        return batch.slice(1)

    def _dropped(self, _row: Any) -> str:
        self._dropped_rows = True
        return "skip"


def _has_long_cell(table: pa.Table, max_chars: int) -> bool:
    """Whether a cell is longer than `max_chars` characters. A column's bytes bound its cells,
    and all of them together bound every column's: most chunks need no closer look."""
    if table.get_total_buffer_size() <= max_chars:
        return False
    for column in table.columns:
        if column.nbytes > max_chars and pc.max(pc.utf8_length(column)).as_py() > max_chars:
            return True
    return False
