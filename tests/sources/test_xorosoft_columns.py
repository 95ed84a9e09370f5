"""The Xorosoft export's column reader yields exactly what its careful reader yields.

Each export is read twice: by `read_xorosoft_csv` on a seekable stream, which takes the column
reader (handing over to the careful reader where it must), and on a stream that cannot seek,
which only the careful reader reads; the records, and a refusal if any, must be the same.
"""

import csv
import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from cowans.sources import csv_batches, csv_transcoding, xorosoft_columns
from cowans.sources.feedgen import generate_feeds
from cowans.sources.records import RowError, SourceError, XorosoftItem
from cowans.sources.xorosoft import read_xorosoft_csv
from tests.sources.hand_overs import HandOvers, count_hand_overs
from tests.sources.test_etilize_columns import Unseekable
from tests.sources.test_xorosoft import HEADER
from tests.xorosoft_emulator.conftest import SAMPLE_CSV


@dataclass
class Reading:
    records: list[XorosoftItem | RowError]
    refusal: str | None


def reading(open_stream: Callable[[], io.IOBase]) -> Reading:
    records: list[XorosoftItem | RowError] = []
    try:
        records.extend(read_xorosoft_csv(open_stream()))  # type: ignore[arg-type]
    except SourceError as refused:
        return Reading(records, refused.message)
    return Reading(records, None)


def assert_same(data: bytes) -> Reading:
    columns = reading(lambda: io.BytesIO(data))
    careful = reading(lambda: io.BufferedReader(Unseekable(data)))
    assert columns.refusal == careful.refusal
    assert columns.records == careful.records
    for got, expected in zip(columns.records, careful.records, strict=True):
        if isinstance(got, XorosoftItem):
            assert isinstance(expected, XorosoftItem)
            assert got.extra == expected.extra  # not compared by ==
    return columns


@pytest.fixture
def hand_overs(monkeypatch: pytest.MonkeyPatch) -> HandOvers:
    """Counts the times the column reader handed over to the careful reader."""
    return count_hand_overs(monkeypatch, xorosoft_columns)


@pytest.fixture(params=["large blocks", "small blocks"])
def blocks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "small blocks":
        monkeypatch.setattr(csv_batches, "CHUNK_BYTES", 500)
        monkeypatch.setattr(csv_transcoding, "READ_BYTES", 333)
    return str(request.param)


@pytest.mark.usefixtures("blocks")
def test_the_sample_reads_the_same_without_handing_over(hand_overs: HandOvers) -> None:
    read = assert_same(SAMPLE_CSV.read_bytes())
    assert hand_overs.count == 0
    assert len(read.records) == 6


BAD_ROWS = [
    HEADER,
    "GOOD-1,GOOD,FINE ITEM,2.50,3,MAIN,,",
    ",NOPE,NO ITEM NUMBER,1.00,1,MAIN,,",
    "BAD-PRICE,B,X,$4.99,1,MAIN,,",
    "NEG-QTY,B,X,1.00,-2,MAIN,,",
    "HALF,B,X,1.00,1.5,MAIN,,",
    "WHOLE,B,X,1.00,2.0,MAIN,,",
    "NO-LOC,B,X,1.00,1,,,",
    "GOOD-1,GOOD,FINE ITEM,2.50,9,main,,",
    'MULTI,M,"TWO\nLINES",1.00,1,MAIN,,',
    'COMMA,M,"A, B",1.00,1,MAIN,,',
    "NAN,B,X,NaN,1e12,MAIN,,",
    "",
    " SPACED , B , X , 1.5 , 007 , WEST , 1 , 2 ",
    "BIG,B,X,1.00,1000000000,MAIN,,",
    "BIGGER,B,X,1.00,1000000001,MAIN,,",
    "FREE,B,X,0,0,MAIN,,",
    "GOOD-2,GOOD,FINE ITEM,3.00,0,WEST,,",
]


def hostile_exports() -> Iterator[tuple[str, bytes]]:
    rows = "\n".join(BAD_ROWS)
    yield "bad rows", rows.encode()
    yield "bad rows with bom and crlf", b"\xef\xbb\xbf" + rows.replace("\n", "\r\n").encode()
    yield "short row", (rows + "\nSHORT,B,X,1.00").encode()
    yield "long row", (rows + "\nLONG,B,X,1.00,1,MAIN,,,extra").encode()
    yield "latin-1", "\n".join([*BAD_ROWS, "CAFÉ,B,CAFÉ,1.00,1,MAIN,,"]).encode("latin-1")
    yield "not csv", (rows + '\n"A"B,B,X,1.00,1,MAIN,,\nOK-9,B,X,1.00,1,MAIN,,').encode()
    yield "unclosed quote", (rows + '\nX,"never closed' + "z" * 2_000 + "\n").encode()
    yield (
        "extra columns",
        (
            b" itemnumber ,BASEPARTNUMBER,Description,UnitPrice,QuantityOnHand,Location,Bin,"
            b"Bin,,ProductCode\r\nMMM654YW,MMM654,POST-IT,14.99,120,MAIN,A-12,A-13,x,NOTES\r\n"
            b"MMM654YW,MMM654,POST-IT,14.99,12,WEST, ,B, y ,\r\n"
        ),
    )
    yield (
        "no optional columns",
        (
            b"ItemNumber,BasePartNumber,Description,UnitPrice,QuantityOnHand,Location\n"
            b"A,B,C,1,2,MAIN\n"
        ),
    )
    yield "no final line end", "\n".join(BAD_ROWS).rstrip("\n").encode()


@pytest.mark.usefixtures("blocks")
@pytest.mark.parametrize(
    ("quirk", "data"), list(hostile_exports()), ids=[quirk for quirk, _ in hostile_exports()]
)
def test_hostile_exports_read_the_same(quirk: str, data: bytes) -> None:
    assert_same(data)


def generated_export(products: int, seed: int) -> list[list[str]]:
    """The Xorosoft export the feed generator writes beside its Etilize feed."""
    etilize_out, xorosoft_out = io.BytesIO(), io.BytesIO()
    generate_feeds(products, seed, etilize_out, xorosoft_out)
    text = xorosoft_out.getvalue().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


QUIRKS = (
    ("UnitPrice", ["", "x", "-1", "1e3", " 2.50 ", "NaN", "0.001"]),
    ("QuantityOnHand", ["", "-1", "1.5", "2.0", " 3 ", "1e12", "0012"]),
    ("ItemNumber", ["", " ", "dup"]),
    ("Location", ["", "main", " WEST "]),
    ("Description", ["a, b", "two\nlines", '"quoted"', "Crème"]),
)


def quirky(rows: list[list[str]], rng: random.Random, share: float) -> list[list[str]]:
    header, out = rows[0], [rows[0]]
    position = {name: index for index, name in enumerate(header)}
    for cells in rows[1:]:
        if rng.random() < share:
            cells = list(cells)
            column, values = rng.choice(QUIRKS)
            value = rng.choice(values)
            cells[position[column]] = rows[1][0] if value == "dup" else value
            if rng.random() < 0.1:
                out.append([])
        out.append(cells)
    return out


def written(rows: list[list[str]], bom: bool) -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.getvalue().encode()


@pytest.mark.usefixtures("blocks")
def test_a_generated_export_reads_the_same_without_handing_over(hand_overs: HandOvers) -> None:
    assert_same(written(generated_export(300, seed=2), bom=True))
    assert hand_overs.count == 0


@pytest.mark.usefixtures("blocks")
@pytest.mark.parametrize("seed", range(10))
def test_generated_exports_with_quirks_read_the_same(seed: int, hand_overs: HandOvers) -> None:
    rng = random.Random(seed)
    rows = quirky(generated_export(200, seed), rng, rng.choice([0.02, 0.2]))
    assert_same(written(rows, bom=rng.random() < 0.5))
    assert hand_overs.count == 0
