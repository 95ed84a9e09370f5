"""The checked chunks: text they let through is read by pyarrow exactly as by csv in strict mode,
however the file is cut into blocks and chunks; text they refuse is what only the careful
readers may judge."""

import csv
import io
import random
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from cowans.sources import csv_transcoding
from cowans.sources.csv_transcoding import CheckedCsvChunks, NotPlainCsv

HEADER = "x,y\n"
# Pieces of CSV text, plain and not, so that random texts hit every state of the parser.
PIECES = ["a", "b", ",", '"', '"', "\r", "\n", "\n", "\r\n", " ", "é", '""', "\x00"]


def chunks(data: bytes, encoding: str = "utf-8", chunk_bytes: int = 1 << 20) -> list[bytes]:
    """The chunks of `data`, or NotPlainCsv."""
    read = CheckedCsvChunks(io.BytesIO(data), encoding, chunk_bytes, max_row_bytes=1 << 20)
    return [chunk.to_pybytes() for chunk in read]


def careful_rows(text: str) -> list[list[str]]:
    """Rows as the careful readers read them: csv in strict mode, fed a line at a time."""
    lines = io.StringIO(text, newline="").readlines()
    lines = [piece for line in lines for piece in _split_after_newlines(line)]
    return list(csv.reader(lines, strict=True))


def _split_after_newlines(line: str) -> Iterator[str]:
    """readlines() also ends a line at a lone CR; the careful readers end lines at LF only."""
    start = 0
    for index, character in enumerate(line):
        if character == "\n":
            yield line[start : index + 1]
            start = index + 1
    if start < len(line):
        yield line[start:]


def arrow_rows(data: bytes, columns: int) -> list[list[str]]:
    names = [str(column) for column in range(columns)]
    table = pcsv.read_csv(
        io.BytesIO(data),
        read_options=pcsv.ReadOptions(column_names=names),
        parse_options=pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    return [list(row.values()) for row in table.to_pylist()]


def random_text(rng: random.Random) -> str:
    return HEADER + "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 16)))


@pytest.mark.parametrize("seed", range(4))
def test_plain_text_is_read_by_pyarrow_as_csv_reads_it(seed: int) -> None:
    rng = random.Random(seed)
    accepted = 0
    for _ in range(5_000):
        text = random_text(rng)
        try:
            data = b"".join(chunks(text.encode()))
        except NotPlainCsv:
            continue
        accepted += 1
        assert data == text.encode()
        rows = careful_rows(text)  # strict csv accepts it
        if any(len(row) not in (0, 2) for row in rows):
            continue  # a row of another width: the column readers hand it over anyway
        expected = [row or ["", ""] for row in rows]  # pyarrow: a blank line is a row of blanks
        assert arrow_rows(data, columns=2) == expected, repr(text)
    assert accepted > 500


@pytest.mark.parametrize("seed", range(4))
def test_the_check_does_not_depend_on_where_blocks_and_chunks_are_cut(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    for _ in range(1_000):
        text = random_text(rng)
        encoding = rng.choice(["utf-8", "cp1252"])
        data = text.encode(encoding, errors="replace")
        results = []
        for read_bytes, chunk_bytes in ((1 << 20, 1 << 20), (rng.randint(1, 6), rng.randint(1, 9))):
            monkeypatch.setattr(csv_transcoding, "READ_BYTES", read_bytes)
            try:
                results.append(chunks(data, encoding, chunk_bytes))
            except NotPlainCsv:
                results.append(None)
        whole, cut = results
        assert (whole is None) == (cut is None), repr(data)
        if whole is not None and cut is not None:
            assert b"".join(whole) == b"".join(cut)
            assert all(chunk.endswith(b"\n") for chunk in cut[:-1])  # chunks end with a row


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b'x,y\n"Title" of b,c\n', "utf-8"),  # text after a closing quote
        (b'x,y\n""x,c\n', "utf-8"),
        (b"x,y\na\rb,c\n", "utf-8"),  # a lone CR outside quotes
        (b'x,y\na,"never closed\n', "utf-8"),
        (b"x,y\na,N\x00L\n", "utf-8"),
        (b"x,y\na,B\x81D\n", "cp1252"),  # not a cp1252 byte
        (b"x,y\na,\xc3\n", "utf-8"),  # a UTF-8 character cut short by the end
        (b'x,y\nab"c,d\n', "utf-8"),  # a quote in an unquoted cell: csv agrees, refused anyway
    ],
)
def test_what_is_not_plain_csv_is_refused(data: bytes, encoding: str) -> None:
    with pytest.raises(NotPlainCsv):
        chunks(data, encoding)


def test_cp1252_is_handed_out_as_utf8_and_a_bom_is_taken_off() -> None:
    assert chunks("x,y\nCafé,€\n".encode("cp1252"), "cp1252") == ["x,y\nCafé,€\n".encode()]
    assert chunks(b"\xef\xbb\xbfx,y\n", "utf-8") == [b"x,y\n"]


def test_a_row_longer_than_the_limit_is_refused() -> None:
    row = b'a,"' + b"x\n" * 1_000 + b'"\n'
    read = CheckedCsvChunks(io.BytesIO(b"x,y\n" + row), "utf-8", 1 << 20, max_row_bytes=1_500)
    with pytest.raises(NotPlainCsv, match="longer than"):
        list(read)
