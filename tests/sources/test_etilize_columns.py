"""The column reader yields exactly what the careful reader yields, record for record.

Each feed is read twice: through `read_etilize` on a seekable stream, which takes the column
reader (handing over to the careful reader where it must), and on a stream that cannot seek,
which only the careful reader reads. Both must give the same records, in the same order, the
same row count, and the same refusal if the file is refused. The feeds: the sample, every feed
of `test_etilize`, generated feeds with quirks injected row by row, and hostile files. Small
pyarrow blocks and source reads make a small feed cross many block boundaries.
"""

import csv
import io
import json
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cowans.sources import csv_batches, csv_transcoding, etilize, etilize_columns
from cowans.sources.arrow_values import strings
from cowans.sources.etilize import read_etilize
from cowans.sources.feedgen import generate_feeds
from cowans.sources.records import EtilizeProduct, RowError, SourceError
from tests.sources import test_etilize
from tests.sources.hand_overs import HandOvers, count_hand_overs
from tests.sources.test_etilize import BLUE, HEADER, feed, image_row, main_row, row, spec

SAMPLE = test_etilize.SAMPLE


class Unseekable(io.RawIOBase):
    """A stream that cannot go back, as a socket or a zip member can't: the careful reader's."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._data.readinto(buffer)


@dataclass
class Reading:
    """What a reader made of a feed: its records, its row count, and its refusal if any."""

    records: list[EtilizeProduct | RowError]
    rows: int | None
    refusal: str | None


def reading(open_stream: Callable[[], io.IOBase]) -> Reading:
    records: list[EtilizeProduct | RowError] = []
    try:
        read = read_etilize(open_stream())  # type: ignore[arg-type]
    except SourceError as refused:
        return Reading([], None, refused.message)
    try:
        records.extend(read)
    except SourceError as refused:
        return Reading(records, None, refused.message)
    return Reading(records, read.rows, None)


@pytest.fixture
def hand_overs(monkeypatch: pytest.MonkeyPatch) -> HandOvers:
    """Counts the times the column reader handed over to the careful reader."""
    return count_hand_overs(monkeypatch, etilize_columns)


@pytest.fixture(params=["large blocks", "small blocks"])
def blocks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Reads in the real block sizes, and in tiny ones that cut a small feed everywhere."""
    if request.param == "small blocks":
        monkeypatch.setattr(csv_batches, "CHUNK_BYTES", 3_000)
        monkeypatch.setattr(csv_transcoding, "READ_BYTES", 777)
    return str(request.param)


def assert_same(data: bytes) -> Reading:
    columns = reading(lambda: io.BytesIO(data))
    careful = reading(lambda: io.BufferedReader(Unseekable(data)))
    assert columns.refusal == careful.refusal
    assert columns.rows == careful.rows
    assert len(columns.records) == len(careful.records)
    for index, (got, expected) in enumerate(zip(columns.records, careful.records, strict=True)):
        assert got == expected, f"record {index} differs"
    return columns


# Fixtures ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("blocks")
def test_the_sample_reads_the_same_without_handing_over(hand_overs: HandOvers) -> None:
    assert_same(SAMPLE.read_bytes())
    assert hand_overs.count == 0


def hostile_feeds() -> Iterator[tuple[str, bytes]]:
    """The feeds of test_etilize, and more, each with the quirk it is named after."""
    good = feed([main_row("a"), main_row("c")]).split(b"\r\n")
    quirks = {
        "blank line": feed([main_row("a"), [], main_row("b")]),
        "multi-line cell": feed([main_row("a", {"Description": "one\r\ntwo\nthree"})]),
        "no handle": feed([main_row("a"), main_row("", {"Title": "Orphan"}), main_row("b")]),
        "blank handle": feed([main_row("a"), row({"Handle": "  ", "Title": "x"}), main_row("b")]),
        "handle comes back": feed(
            [main_row("a"), main_row("b"), main_row("a"), image_row("a", "https://i/1.jpg")]
        ),
        "second main row": feed([main_row("a"), main_row("a", {"Title": "Again"})]),
        "extra cells": feed([[*main_row("a"), "surplus"], [*main_row("b"), "", ""], main_row("c")]),
        "short row": feed([main_row("a"), main_row("b")[:5], main_row("c")]),
        "not csv": b"\r\n".join(
            [good[0], good[1], b'b,"Title" of b,,,3M,Pens,,,,SKU-b', good[2], b""]
        ),
        "quote in unquoted cell": feed([main_row('a"b'), main_row("c")]),
        "bad byte": feed([main_row("a"), main_row("b", {"Title": "BAD"})]).replace(
            b"BAD", b"B\x81D"
        ),
        "nul": feed([main_row("a"), main_row("b", {"Title": "N\x00L"}), main_row("c")]),
        "lone cr": feed([main_row("a"), main_row("b")]).replace(b"\r\nb,", b"\rb,"),
        "cr in quotes": feed([main_row("a", {"Description": "x\ry"})]),
        "unclosed quote": feed([main_row("a"), main_row("b", {"Title": "Q"})]).replace(
            b",Q,", b',"Q,'
        ),
        "utf-8": feed([main_row("a", {"Title": "Café ®"})], encoding="utf-8"),
        "utf-8 with bom": feed([main_row("a", {"Title": "Café ®"})], encoding="utf-8-sig"),
        "no final line end": feed([main_row("a"), main_row("b")]).rstrip(b"\r\n"),
        "spaces": feed(
            [
                main_row(
                    " a ", {"Title": " T ", "Published": " true ", "Weight value (grams)": " 5 "}
                )
            ]
        ),
        "images": feed(
            [
                main_row("a", {"Product image URL": "https://i/1.jpg", "Image position": "3"}),
                image_row("a", "https://i/2.jpg", {"Image position": "1"}),
                image_row("a", "https://i/3.jpg", {"Image alt text": "Back "}),
                image_row("a", "HTTPS://I/4.JPG", {"Image position": "007"}),
                image_row("a", " https://i/5.jpg", {"Image position": " 2 "}),
                row({"Handle": "a"}),
                image_row("a", "javascript:alert(1)"),
                image_row("a", "https://i/6.jpg", {"Image alt text": "x" * 513}),
                image_row("a", "https://i/7.jpg", {"Image position": "0"}),
                image_row("a", "https://i/8.jpg", {"Image position": "100000"}),
                main_row("b", {"Product image URL": "https://i/9.jpg", "Image position": ""}),
                image_row("b", "https://i/10.jpg", {"Image position": ""}),
            ]
        ),
        "specifications": feed(
            [
                main_row("a", {spec("Color"): cell, spec("Ink Color"): BLUE, spec("CWS_A"): cell})
                for cell in SPECIFICATION_CELLS
            ]
        ),
        "other metafield column": feed(
            [[*main_row("a", {spec("Color"): BLUE}), "5"]],
            header=[*HEADER, "Metafield: custom.Rating [number_integer]"],
        ),
        "a column missing": feed(
            [[cell for name, cell in zip(HEADER, main_row("a"), strict=True) if name != "Barcode"]],
            header=[name for name in HEADER if name != "Barcode"],
        ),
    }
    yield from quirks.items()
    for column, value in INVALID_CELLS:
        yield (
            f"{column}={value!r}",
            feed(
                [main_row("x", {column: value}), image_row("x", "https://i/1.jpg"), main_row("y")]
            ),
        )


SPECIFICATION_CELLS = (
    "",
    "  ",
    "[]",
    '[""]',
    '["", " "]',
    BLUE,
    '["Blue", "Red"]',
    '["Blue","Red"]',
    '[ "Blue" ]',
    ' ["Blue"] ',
    '[" Blue "]',
    '["Bl\\u00fce"]',
    '["3\\" x 3\\""]',
    '["back\\\\slash"]',
    '["a\\\\", "b"]',
    '["new\\nline"]',
    '["tab\\tin"]',
    '["\\u00a0nbsp"]',
    '["nbsp\u00a0"]',
    '["ok\u00a0ok"]',
    '["é", "½ in"]',
    "Blue",
    '"Blue"',
    "[1, 2]",
    '{"a": "b"}',
    '["Blue", null]',
    '["unclosed',
    "[" * 5000,
    '["a"] x',
    '["\\ud800"]',
)
INVALID_CELLS = (
    ("Published", "yes please"),
    ("Charge tax", "maybe"),
    ("Requires shipping", "2"),
    ("Continue selling when out of stock", "SOMETIMES"),
    ("Status", "deleted"),
    ("Status", "Archived"),
    ("Weight value (grams)", "340 g"),
    ("Weight value (grams)", "-5"),
    ("Weight value (grams)", "NaN"),
    ("Weight value (grams)", "1e99"),
    ("Weight value (grams)", "12.50"),
    ("Weight unit for display", "stone"),
    ("Weight unit for display", "KG"),
    ("Title", ""),
    ("SKU", ""),
    ("Vendor", "  "),
    ("Type", ""),
    ("Tags", " a, b ,, a "),
    ("Option1 Name", ""),
    ("Product image URL", "ftp://x"),
)


@pytest.mark.usefixtures("blocks")
@pytest.mark.parametrize(
    ("quirk", "data"), list(hostile_feeds()), ids=[q for q, _ in hostile_feeds()]
)
def test_hostile_feeds_read_the_same(quirk: str, data: bytes) -> None:
    assert_same(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n \r\n",
        test_etilize.PNG,
        b"Name,Price\r\nPen,1.00\r\n",
        b'Handle,Title,SKU,Vendor,"Type\r\nx,y,z\r\n',
    ],
)
def test_a_file_that_is_no_feed_is_refused_the_same(data: bytes) -> None:
    assert_same(data)


# Generated feeds with quirks ---------------------------------------------------------------------


def generated_rows(products: int, seed: int) -> list[list[str]]:
    etilize_out, xorosoft_out = io.BytesIO(), io.BytesIO()
    generate_feeds(products, seed, etilize_out, xorosoft_out)
    return list(csv.reader(io.StringIO(etilize_out.getvalue().decode("cp1252"), newline="")))


ALL_QUIRKS = range(9)
CELL_QUIRKS = (0, 1, 2, 3, 4, 5, 8)  # the quirks that keep every row as wide as the header


def quirky(
    rows: list[list[str]], rng: random.Random, share: float, quirks: range | tuple[int, ...]
) -> list[list[str]]:
    """The rows, a `share` of them changed by one quirk of the real feed or of a hostile one."""
    header = rows[0]
    position = {name: index for index, name in enumerate(header)}
    specifications = [name for name in header if name.startswith("Metafield: custom.")]
    handles = [cells[0] for cells in rows[1:] if cells and cells[1]]
    out = [header]
    for cells in rows[1:]:
        if rng.random() >= share:
            out.append(cells)
            continue
        cells = list(cells)
        quirk = rng.choice(quirks)
        if quirk == 0:
            column, value = rng.choice(INVALID_CELLS)
            cells[position[column]] = value
        elif quirk == 1:
            cells[position[rng.choice(specifications)]] = rng.choice(SPECIFICATION_CELLS)
        elif quirk == 2:
            out.append([])  # a blank line before the row
        elif quirk == 3:
            cells[0] = rng.choice(["", " ", rng.choice(handles), f" {cells[0]} "])
        elif quirk == 4:
            column = rng.choice(["Image position", "Product image URL", "Image alt text"])
            cells[position[column]] = rng.choice(["", "0", "x", " 2 ", "99999", "https://i/x.jpg"])
        elif quirk == 5:
            cells[position["Title"]] = rng.choice(
                ["", "Title again", "Crème brûlée", "Line\r\nbreak"]
            )
        elif quirk == 6:
            cells = [*cells, rng.choice(["", "surplus"])]
        elif quirk == 7:
            cells = cells[: rng.randrange(len(cells))]
        else:
            cells[position["Description"]] = rng.choice(['"quoted"', "a,b", "x\ny", "€ ™ ‰", ""])
        out.append(cells)
    return out


def written(rows: list[list[str]], encoding: str = "cp1252") -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding, errors="replace")


@pytest.mark.usefixtures("blocks")
def test_a_generated_feed_reads_the_same_without_handing_over(hand_overs: HandOvers) -> None:
    read = assert_same(written(generated_rows(400, seed=5)))
    assert hand_overs.count == 0
    assert sum(isinstance(record, EtilizeProduct) for record in read.records) > 350


@pytest.mark.usefixtures("blocks")
@pytest.mark.parametrize("seed", range(12))
def test_generated_feeds_with_quirks_read_the_same(seed: int) -> None:
    rng = random.Random(seed)
    rows = quirky(generated_rows(150, seed), rng, rng.choice([0.01, 0.05, 0.3]), ALL_QUIRKS)
    assert_same(written(rows, rng.choice(["cp1252", "cp1252", "utf-8", "utf-8-sig"])))


@pytest.mark.usefixtures("blocks")
@pytest.mark.parametrize("seed", range(6))
def test_generated_feeds_with_cell_quirks_only_never_hand_over(
    seed: int, hand_overs: HandOvers
) -> None:
    """Bad values, bad specifications, missing titles, blank lines and returning handles are
    all the column reader's to judge (through the careful reader's rules): no hand-over."""
    rng = random.Random(seed)
    assert_same(written(quirky(generated_rows(150, seed), rng, 0.2, CELL_QUIRKS)))
    assert hand_overs.count == 0


@pytest.mark.usefixtures("blocks")
@pytest.mark.parametrize("seed", range(6))
def test_a_bad_byte_late_in_a_feed_hands_over_after_the_records_before_it(
    seed: int, hand_overs: HandOvers
) -> None:
    rows = generated_rows(120, seed)
    data = written(rows)
    at = random.Random(seed).randrange(len(data) // 2, len(data))
    assert_same(data[:at] + b"\x81" + data[at:])
    assert hand_overs.count == 1


def test_the_real_limits_are_the_careful_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(etilize, "MAX_IMAGES_PER_PRODUCT", 2)
    extra = [image_row("a", f"https://img/{n}.jpg") for n in range(2, 5)]
    assert_same(
        feed([main_row("a", {"Product image URL": "https://img/1.jpg"}), *extra, main_row("b")])
    )


def test_a_long_cell_hands_over_and_is_refused_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(etilize, "MAX_CELL_CHARS", 64 * 1024)
    rows = [main_row("a"), main_row("b", {"Description": "x" * 70_000}), main_row("c")]
    assert assert_same(feed(rows)).refusal is not None


def test_a_giant_row_is_refused_the_same(tmp_path: Path) -> None:
    path = tmp_path / "giant.csv"
    test_etilize.write_giant_cell_feed(path, 12 << 20, b"x" * 1022 + b"\r\n")
    assert assert_same(path.read_bytes()).refusal is not None


def test_the_column_readers_whitespace_is_what_python_strips() -> None:
    characters = [chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF]
    found = pc.match_substring_regex(pa.array(characters), rf"\A[{etilize_columns._WHITESPACE}]\z")
    assert [c for c, space in zip(characters, found.to_pylist(), strict=True) if space] == [
        c for c in characters if c.isspace()
    ]


def test_json_dumps_lists_are_plain() -> None:
    values = ["Blue", 'a "quoted" b', "back\\slash", "é ½ ©", "x" * 300]
    for count in (1, 2, 3):
        cell = json.dumps(values[:count], ensure_ascii=False)
        assert etilize_columns._string_lists(strings(cell, 1)) == [tuple(values[:count])]


@pytest.mark.parametrize("row_bytes", [30_000, 70_000])
def test_the_row_limit_is_the_careful_readers(
    row_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(etilize, "MAX_ROW_BYTES", 50_000)
    description = "\r\n".join(["x" * 98] * (row_bytes // 100))  # a cell over many lines
    rows = [main_row("a"), main_row("b", {"Description": description}), main_row("c")]
    assert_same(feed(rows))


def test_a_reader_left_half_read_lets_the_process_exit(tmp_path: Path) -> None:
    """pyarrow's threads must be done with Python before the interpreter finalizes: a reader
    dropped half-way (its parsing thread still busy) must not abort or hang the exit."""
    path = tmp_path / "feed.csv"
    with path.open("wb") as out:
        generate_feeds(3_000, seed=4, etilize_out=out, xorosoft_out=io.BytesIO())
    code = (
        "import itertools\n"
        "from cowans.sources.etilize import read_etilize\n"
        f"records = read_etilize(open({str(path)!r}, 'rb'))\n"
        "list(itertools.islice(records, 100))\n"
        "print('left')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "left"), done.stderr
    assert "terminate" not in done.stderr
