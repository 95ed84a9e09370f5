"""A CSV file's text in chunks pyarrow parses on its own, checked to parse as Python's csv does.

The column readers parse with pyarrow, whose tokenizer runs in C and fills columns; the careful
readers parse with Python's csv module in strict mode, row by row. The two split plain CSV into
the same rows and cells, and disagree on anything else: pyarrow reads `"Title" of b` as one
cell where csv refuses the row, takes a lone CR for a line end where csv refuses it, and cannot
say on which row a bad byte or a NUL sits. So each block of the file is checked before pyarrow
sees it, and `NotPlainCsv` is raised at the first thing outside plain CSV: the column reader
then hands the file to the careful reader, which numbers and reports what it finds.

Plain CSV, as checked here: a field is either unquoted, with no quote, CR, LF or comma in it, or
quoted, with its quotes doubled, and ends at a comma, a line end (LF or CRLF) or the end of the
file; no NUL anywhere; every byte decodes. A CR inside quotes is text to both parsers.

The text reaches pyarrow as UTF-8: cp1252 is re-encoded block by block (one byte a character,
so a block decodes on its own), UTF-8 is passed through once it decodes. The check runs RE2
through pyarrow.compute, which releases the GIL, and is linear in the block whatever it holds.
The checks also tell where rows end (a line end outside quotes), which is where the chunks are
cut.
"""

import codecs
import struct
from collections.abc import Iterator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from cowans.sources.arrow_values import MEMORY_POOL

# Bytes read from the source at a time: each is decoded and checked as one block.
READ_BYTES = 1 << 16
# cp1252 and Latin-1 differ only on 0x80-0x9F; Latin-1 decodes twice as fast.
_ALL_BUT_C1 = bytes(byte for byte in range(256) if not 0x80 <= byte <= 0x9F)

# RE2 patterns over bytes, anchored: a block is whole lines, cut after a line feed, so at its
# end the parser is either between fields or inside a quoted field that goes on.
_FIELD = r'(?:[^",\r\n\x00]*|"(?:[^"\x00]|"")*")'
_SEPARATOR = r"(?:,|\r?\n)"
_FIELDS = rf"(?:{_FIELD}{_SEPARATOR})*"
_INSIDE_QUOTES = r'(?:[^"\x00]|"")*'
_OPEN = rf'"{_INSIDE_QUOTES}'  # a quoted field that goes on past the block
_CLOSING = rf'{_INSIDE_QUOTES}"'  # the rest of a quoted field that began before the block
# (the block starts inside quotes, it ends inside quotes) -> what the block must match
_BLOCK = {
    (False, False): rf"\A{_FIELDS}\z",
    (False, True): rf"\A{_FIELDS}{_OPEN}\z",
    (True, False): rf"\A{_CLOSING}{_SEPARATOR}{_FIELDS}\z",
    (True, True): rf"\A(?:{_INSIDE_QUOTES}|{_CLOSING}{_SEPARATOR}{_FIELDS}{_OPEN})\z",
}
# The last block, which ends the file: the starting state -> what it must match.
_LAST_BLOCK = {
    False: rf"\A{_FIELDS}{_FIELD}\z",
    True: rf"\A{_CLOSING}(?:{_SEPARATOR}{_FIELDS}{_FIELD})?\z",
}


class NotPlainCsv(Exception):
    """The file holds something only a row-by-row reader can place and report exactly."""


def _as_arrow(block: bytes | memoryview) -> pa.Array:
    """`block` as a one-value binary array, without copying it."""
    offsets = pa.py_buffer(struct.pack("<ii", 0, len(block)))
    return pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(block)])


def _matches(block: bytes | memoryview, pattern: str) -> bool:
    return bool(pc.match_substring_regex(_as_arrow(block), pattern)[0].as_py())


class CheckedCsvChunks:
    """`source`, from where it stands, as checked UTF-8 CSV text in chunks of whole rows.

    Each chunk is at least `chunk_bytes` long (but the last), in arrow memory, and ends where a
    row ends, so pyarrow parses it on its own. NotPlainCsv at the first text that is not plain
    CSV, and at a row that may be longer than `max_row_bytes` (a giant cell or a quote that
    never closes: only the careful reader may judge which).
    """

    def __init__(
        self, source: BinaryIO, encoding: str, chunk_bytes: int, max_row_bytes: int
    ) -> None:
        self._source = source
        self._encoding = encoding
        self._chunk_bytes = chunk_bytes
        self._max_row_bytes = max_row_bytes
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._at_start = True
        self._inside_quotes = False
        self._unchecked = b""  # read and decoded, not yet a whole line

    def __iter__(self) -> Iterator[pa.Buffer]:
        chunk = pa.BufferOutputStream(memory_pool=MEMORY_POOL)
        # Bytes since the last place known to end a row: no row is longer. (The text is UTF-8,
        # at least as long as the file's own bytes, which the careful reader counts.)
        since_row_end = 0
        while raw := self._read_source():
            block = self._next_block(raw)
            chunk.write(block)
            since_row_end += len(block)
            if since_row_end + len(self._unchecked) > self._max_row_bytes:
                raise NotPlainCsv(f"a row may be longer than {self._max_row_bytes:,} bytes")
            if not self._inside_quotes:  # the block ended a line outside quotes: a row
                since_row_end = 0
                if chunk.tell() >= self._chunk_bytes:
                    yield chunk.getvalue()
                    chunk = pa.BufferOutputStream(memory_pool=MEMORY_POOL)
        chunk.write(self._last_block())
        if chunk.tell():
            yield chunk.getvalue()

    def _next_block(self, raw: bytes) -> memoryview:
        """The whole lines read so far, checked; the rest is kept for the next block."""
        text = self._unchecked + self._to_utf8(raw)
        cut = text.rfind(b"\n") + 1
        block, self._unchecked = memoryview(text)[:cut], text[cut:]
        if block:
            self._inside_quotes = self._check(block)
        return block

    def _last_block(self) -> bytes:
        self._utf8_end()
        block, self._unchecked = self._unchecked, b""
        if not _matches(block, _LAST_BLOCK[self._inside_quotes]):
            raise NotPlainCsv("the last lines are not plain CSV")
        return block

    def _check(self, block: memoryview) -> bool:
        """Whether the block ends inside quotes; NotPlainCsv when it is not plain CSV."""
        for ends_inside in (False, True):
            if _matches(block, _BLOCK[self._inside_quotes, ends_inside]):
                return ends_inside
        raise NotPlainCsv("a block is not plain CSV")

    def _read_source(self) -> bytes:
        raw = self._source.read(READ_BYTES)
        if self._at_start:
            self._at_start = False
            if self._encoding == "utf-8":
                raw = raw.removeprefix(codecs.BOM_UTF8)
        return raw

    def _to_utf8(self, raw: bytes) -> bytes:
        try:
            if self._encoding == "utf-8":
                self._utf8.decode(raw)  # a character cut between reads is carried over
                return raw
            if raw.isascii():
                return raw
            if not raw.translate(None, _ALL_BUT_C1):
                return raw.decode("latin-1").encode()
            return raw.decode(self._encoding).encode()
        except UnicodeDecodeError as error:
            raise NotPlainCsv(f"a byte is not {self._encoding} text ({error})") from None

    def _utf8_end(self) -> None:
        if self._encoding != "utf-8":
            return
        try:
            self._utf8.decode(b"", final=True)
        except UnicodeDecodeError as error:
            raise NotPlainCsv(f"the file ends inside a UTF-8 character ({error})") from None
