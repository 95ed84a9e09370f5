"""The Etilize reader: the sample reads to exactly what DATA.md implies, each rule about rows and
cells holds, and hostile files are refused cleanly, in bounded memory."""

import csv
import io
import tracemalloc
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import pytest

from cowans.sources import etilize
from cowans.sources.etilize import read_etilize
from cowans.sources.feedgen import generate_feeds
from cowans.sources.records import (
    EtilizeImage,
    EtilizeProduct,
    RowError,
    SourceError,
    SourceErrorCode,
)

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "samples" / "etilize_sample.csv"
HEADER = next(csv.reader(io.StringIO(SAMPLE.read_text(encoding="cp1252"))))
BLUE = '["Blue"]'


def read(data: bytes) -> list[EtilizeProduct | RowError]:
    return list(read_etilize(io.BytesIO(data)))


def row(cells: Mapping[str, str]) -> list[str]:
    """A data row of the sample's shape, with `cells` (column -> value) filled in."""
    values = dict.fromkeys(HEADER, "")
    assert set(cells) <= set(values), set(cells) - set(values)
    return list((values | dict(cells)).values())


def main_row(handle: str, cells: Mapping[str, str] = MappingProxyType({})) -> list[str]:
    required = {
        "Title": f"Title of {handle}",
        "SKU": f"SKU-{handle}",
        "Vendor": "3M",
        "Type": "Pens",
    }
    return row({"Handle": handle, **required, **cells})


def image_row(handle: str, src: str, cells: Mapping[str, str] = MappingProxyType({})) -> list[str]:
    return row({"Handle": handle, "Product image URL": src, **cells})


def feed(
    rows: Iterable[list[str]], header: list[str] | None = HEADER, encoding: str = "cp1252"
) -> bytes:
    """The rows as the feed writes them; without a header when `header` is None."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def products(records: list[EtilizeProduct | RowError]) -> dict[str, EtilizeProduct]:
    return {record.handle: record for record in records if isinstance(record, EtilizeProduct)}


def errors(records: list[EtilizeProduct | RowError]) -> list[RowError]:
    return [record for record in records if isinstance(record, RowError)]


def consume_until_refused(records: Iterator[EtilizeProduct | RowError]) -> list[object]:
    """What a caller got before the SourceError, which the test expects."""
    got: list[object] = []
    with pytest.raises(SourceError) as refused:
        got.extend(records)
    assert refused.value.code is SourceErrorCode.NOT_A_FEED
    return got


# The sample ------------------------------------------------------------------------------------


def test_the_sample_reads_to_the_products_data_md_implies() -> None:
    records = read(SAMPLE.read_bytes())
    assert [(type(r).__name__, r.row_number) for r in records] == [
        ("EtilizeProduct", 2),
        ("EtilizeProduct", 5),
        ("EtilizeProduct", 6),
        ("EtilizeProduct", 7),
        ("EtilizeProduct", 8),
        ("RowError", 9),
        ("EtilizeProduct", 10),
    ]
    assert errors(records) == [
        RowError(9, "Title", "Title is empty: a product's first row must have one")
    ]
    assert list(products(records)) == [
        "post-it-notes-3x3-canary",
        "hp-64xl-black-ink",
        "bic-round-stic-blue-60",
        "acme-stapler-chrome",
        "post-it-notes-3x3-canary-alt",
        "papermate-flair-felt-tip-12",
    ]


def test_the_post_it_has_every_field_its_images_in_order_and_its_specifications() -> None:
    post_it = products(read(SAMPLE.read_bytes()))["post-it-notes-3x3-canary"]
    images = "https://content.etilize.com/images/900/1012345"
    assert post_it == EtilizeProduct(
        row_number=2,
        handle="post-it-notes-3x3-canary",
        title='Post-it® Notes, 3" x 3", Canary Yellow, 12 Pads',
        sku="MMM654YW",
        vendor="3M",
        product_type="Sticky Notes",
        body_html="<p>Original Post-it® Notes. 100 sheets per pad.</p>",
        tags=("notes", "3M", "yellow"),
        published=True,
        status="active",
        barcode="051131000000",
        taxable=True,
        continue_selling=False,
        weight_grams=Decimal(340),
        weight_unit="g",
        requires_shipping=True,
        seo_title="Post-it Notes 3x3 Canary",
        images=(
            EtilizeImage(f"{images}.jpg", 1, "Post-it Notes canary"),
            EtilizeImage(f"{images}_2.jpg", 2, "Side view"),
            EtilizeImage(f"{images}_3.jpg", 3, ""),
        ),
        specifications=(
            ("Color", ("Canary Yellow",)),
            ("Sheets Per Pad", ("100",)),
            ("Paper Size", ('3" x 3"',)),
        ),
        cws_a=("MMM-654YW",),
    )


def test_the_alternate_numbers_go_to_their_own_fields() -> None:
    found = products(read(SAMPLE.read_bytes()))
    hp, bic = found["hp-64xl-black-ink"], found["bic-round-stic-blue-60"]
    assert (hp.sku, hp.cws_a, hp.cws_catalog, hp.sprc) == (
        "N9J92AN#140",
        ("HEW-N9J92AN",),
        (),
        ("HEWN9J92AN",),
    )
    assert hp.continue_selling is True
    assert hp.specifications == (("Ink Color", ("Black",)), ("Page Yield", ("600",)))
    assert (bic.cws_a, bic.cws_catalog, bic.sprc) == ((), ("BIC-GSM609",), ())
    assert found["post-it-notes-3x3-canary-alt"].sprc == ("MMM654YW",)
    acme = found["acme-stapler-chrome"]
    assert (acme.cws_a, acme.cws_catalog, acme.sprc, acme.specifications) == ((), (), (), ())


def test_the_paper_mate_draft_keeps_its_latin1_title() -> None:
    paper_mate = products(read(SAMPLE.read_bytes()))["papermate-flair-felt-tip-12"]
    assert paper_mate.title.endswith("12/Pack - Café Edition")
    assert (paper_mate.published, paper_mate.status) == (False, "draft")
    assert paper_mate.images == ()


# Rows and cells --------------------------------------------------------------------------------


def spec(name: str) -> str:
    return etilize.specification_column(name)


def test_images_are_in_position_order_and_one_without_comes_after_those_before_it() -> None:
    records = read(
        feed(
            [
                main_row("a", {"Product image URL": "https://img/1.jpg", "Image position": "3"}),
                image_row("a", "https://img/2.jpg", {"Image position": "1"}),
                image_row("a", "https://img/3.jpg", {"Image alt text": "Back"}),
                row({"Handle": "a"}),  # no image at all: nothing to add
            ]
        )
    )
    assert products(records)["a"].images == (
        EtilizeImage("https://img/2.jpg", 1),
        EtilizeImage("https://img/1.jpg", 3),
        EtilizeImage("https://img/3.jpg", 4, "Back"),
    )
    assert errors(records) == []


def test_a_bad_image_is_dropped_and_reported_and_the_product_kept() -> None:
    records = read(
        feed(
            [
                main_row("a", {"Product image URL": "https://img/1.jpg"}),
                image_row("a", "https://img/2.jpg", {"Image position": "two"}),
                image_row("a", "javascript:alert(1)"),
                image_row("a", "https://img/4.jpg", {"Image alt text": "x" * 513}),
                image_row("a", "https://img/5.jpg", {"Image position": "0"}),
            ]
        )
    )
    assert products(records)["a"].images == (EtilizeImage("https://img/1.jpg", 1),)
    assert [(e.row_number, e.column) for e in errors(records)] == [
        (3, "Image position"),
        (4, "Product image URL"),
        (5, "Image alt text"),
        (6, "Image position"),
    ]


def test_images_beyond_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(etilize, "MAX_IMAGES_PER_PRODUCT", 2)
    extra = [image_row("a", f"https://img/{n}.jpg") for n in range(2, 5)]
    records = read(feed([main_row("a", {"Product image URL": "https://img/1.jpg"}), *extra]))
    assert [image.src for image in products(records)["a"].images] == [
        "https://img/1.jpg",
        "https://img/2.jpg",
    ]
    assert [(e.row_number, e.column) for e in errors(records)] == [
        (4, "Product image URL"),
        (5, "Product image URL"),
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("Published", "yes please"),
        ("Charge tax", "maybe"),
        ("Requires shipping", "2"),
        ("Continue selling when out of stock", "SOMETIMES"),
        ("Status", "deleted"),
        ("Weight value (grams)", "340 g"),
        ("Weight value (grams)", "-5"),
        ("Weight value (grams)", "NaN"),
        ("Weight value (grams)", "1e99"),
        ("Weight unit for display", "stone"),
        ("Title", ""),
        ("SKU", ""),
        ("Vendor", "  "),
        ("Type", ""),
    ],
)
def test_an_invalid_main_row_cell_skips_the_product_and_its_image_rows(
    column: str, value: str
) -> None:
    records = read(
        feed(
            [
                main_row("bad", {column: value}),
                image_row("bad", "https://img/2.jpg", {"Image position": "nope"}),
                main_row("good"),
            ]
        )
    )
    assert list(products(records)) == ["good"]
    assert [(e.row_number, e.column) for e in errors(records)] == [(2, column)]


def test_every_bad_cell_of_a_main_row_is_reported() -> None:
    records = read(
        feed([main_row("a", {"Title": "", "Published": "?", "Weight value (grams)": "?"})])
    )
    assert [e.column for e in errors(records)] == ["Title", "Published", "Weight value (grams)"]


def test_flags_policies_and_weights_are_read_in_any_case() -> None:
    cells = {
        "Published": "false",
        "Charge tax": "FALSE",
        "Requires shipping": "False",
        "Continue selling when out of stock": "true",
        "Status": "Archived",
        "Weight value (grams)": "12.5",
        "Weight unit for display": "KG",
        "Tags": " a, b ,, a ",
    }
    a = products(read(feed([main_row("a", cells)])))["a"]
    assert (a.published, a.taxable, a.requires_shipping, a.continue_selling) == (
        False,
        False,
        False,
        True,
    )
    assert (a.status, a.weight_unit, a.weight_grams, a.tags) == (
        "archived",
        "kg",
        Decimal("12.5"),
        ("a", "b"),
    )


def test_empty_cells_take_the_defaults() -> None:
    a = products(read(feed([main_row("a")])))["a"]
    assert (a.published, a.status, a.taxable, a.continue_selling, a.requires_shipping) == (
        True,
        "active",
        True,
        False,
        True,
    )
    assert (a.weight_grams, a.weight_unit, a.option1_name, a.option1_value) == (
        None,
        "g",
        "Title",
        "Default Title",
    )


@pytest.mark.parametrize(
    "cell",
    ["Blue", '"Blue"', "[1, 2]", '{"a": "b"}', '["Blue", null]', "[" * 100_000, '["unclosed'],
)
def test_a_specification_that_is_not_a_json_list_of_strings_is_a_row_error(cell: str) -> None:
    records = read(feed([main_row("a", {spec("Color"): cell, spec("Ink Color"): BLUE})]))
    assert [(e.row_number, e.column) for e in errors(records)] == [(2, spec("Color"))]
    assert products(records)["a"].specifications == (("Ink Color", ("Blue",)),)


def test_empty_specifications_and_values_are_left_out() -> None:
    cells = {spec("Color"): "[]", spec("Ink Color"): '["", " Blue ", "  "]', spec("CWS_A"): "[]"}
    a = products(read(feed([main_row("a", cells)])))["a"]
    assert (a.specifications, a.cws_a) == ((("Ink Color", ("Blue",)),), ())


def test_a_specification_column_of_another_type_is_not_a_specification() -> None:
    header = [*HEADER, "Metafield: custom.Rating [number_integer]"]
    records = read(feed([[*main_row("a", {spec("Color"): BLUE}), "5"]], header=header))
    assert products(records)["a"].specifications == (("Color", ("Blue",)),)


def test_a_handle_that_comes_back_later_is_refused_and_the_first_kept() -> None:
    records = read(
        feed(
            [
                main_row("a", {"Product image URL": "https://img/1.jpg"}),
                main_row("b"),
                main_row("a", {"Title": "Impostor"}),
                image_row("a", "https://img/2.jpg"),
                main_row("c"),
            ]
        )
    )
    found = products(records)
    assert list(found) == ["a", "b", "c"]
    assert found["a"].title == "Title of a"
    assert [image.src for image in found["a"].images] == ["https://img/1.jpg"]
    assert [(e.row_number, e.column) for e in errors(records)] == [(4, "Handle")]
    assert "row 2" in errors(records)[0].reason


def test_a_second_main_row_within_a_handle_is_refused() -> None:
    records = read(feed([main_row("a"), main_row("a", {"Title": "Again"}), main_row("b")]))
    assert list(products(records)) == ["a", "b"]
    assert products(records)["a"].title == "Title of a"
    assert [(e.row_number, e.column) for e in errors(records)] == [(3, "Title")]


def test_a_row_without_a_handle_is_refused() -> None:
    records = read(feed([main_row("a"), main_row("", {"Title": "Orphan"}), main_row("b")]))
    assert list(products(records)) == ["a", "b"]
    assert [(e.row_number, e.column) for e in errors(records)] == [(3, "Handle")]


def test_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    """A quoted cell over three lines is one row; a blank line is a row too."""
    description = "<p>one</p>\r\n<p>two</p>\r\n<p>three</p>"
    data = feed([main_row("a", {"Description": description}), [], main_row("b", {"Title": ""})])
    assert data.count(b"\r\n") == 6  # six lines, four rows
    records = read(data)
    assert products(records)["a"].body_html == "<p>one</p>\r\n<p>two</p>\r\n<p>three</p>"
    assert [(e.row_number, e.column) for e in errors(records)] == [(4, "Title")]


def test_a_row_with_more_cells_than_the_header_is_refused() -> None:
    records = read(feed([[*main_row("a"), "surplus"], [*main_row("b"), "", ""], main_row("c")]))
    assert list(products(records)) == ["b", "c"]
    assert [(e.row_number, e.column) for e in errors(records)] == [(2, "")]


def test_a_row_that_is_not_valid_csv_is_refused_and_the_rest_read() -> None:
    good = feed([main_row("a"), main_row("c")]).split(b"\r\n")
    broken = b'b,"Title" of b,,,3M,Pens,,,,SKU-b'
    records = read(b"\r\n".join([good[0], good[1], broken, good[2], b""]))
    assert list(products(records)) == ["a", "c"]
    assert [(e.row_number, e.column) for e in errors(records)] == [(3, "")]


# Encodings -------------------------------------------------------------------------------------


def test_a_byte_that_is_not_cp1252_refuses_its_row_only() -> None:
    data = feed([main_row("a", {"Title": "Crème"}), main_row("b", {"Title": "BAD"}), main_row("c")])
    records = read(data.replace(b"BAD", b"B\x81D"))
    assert products(records)["a"].title == "Crème"
    assert list(products(records)) == ["a", "c"]
    [error] = errors(records)
    assert (error.row_number, error.column) == (3, "Title")
    assert "0x81" in error.reason


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"])
def test_a_feed_saved_as_utf8_keeps_its_accents(encoding: str) -> None:
    records = read(feed([main_row("a", {"Title": "Café Crème ®"})], encoding=encoding))
    assert products(records)["a"].title == "Café Crème ®"


def test_a_nul_byte_in_a_row_refuses_the_row() -> None:
    padding = [main_row(f"p{n}") for n in range(1_000)]  # past the block the reader sniffs
    data = feed([*padding, main_row("a", {"Title": "N\x00L"}), main_row("b")])
    assert data.index(b"\x00") > etilize.SNIFF_BYTES
    records = read(data)
    assert [(e.row_number, e.column) for e in errors(records)] == [(1002, "Title")]
    assert len(products(records)) == 1_001


# Whole files refused ---------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        (b"\r\n \r\n", "empty"),
        (PNG, "NUL"),
        (feed([main_row("a")], encoding="utf-16"), "NUL"),
        (b"Name,Price\r\nPen,1.00\r\n", "lacks Handle, Title, SKU, Vendor, Type"),
        (feed([], header=["Handle", "Title", "SKU", "Vendor", "Type", "SKU"]), "more than once"),
        (feed([], header=[f"Column {n}" for n in range(10_000)]), "10,000 columns"),
        (feed([], header=[*etilize.REQUIRED_COLUMNS, "x" * 256]), "longer than 255 characters"),
        (b'Handle,Title,SKU,Vendor,"Type\r\nx,y,z\r\n', "the header is not CSV"),
    ],
)
def test_a_file_that_is_not_a_feed_is_refused_before_any_record(data: bytes, says: str) -> None:
    with pytest.raises(SourceError, match=says) as refused:
        read_etilize(io.BytesIO(data))  # refused at the call, before iterating
    assert refused.value.code is SourceErrorCode.NOT_A_FEED


def test_an_unbalanced_quote_refuses_the_file_and_nothing_was_yielded() -> None:
    rows = [main_row("a"), main_row("b", {"Title": "QUOTE"}), main_row("c")]
    data = feed(rows).replace(b"QUOTE", b'"Post-it Notes')
    records = read_etilize(io.BytesIO(data))
    assert consume_until_refused(records) == []


def test_an_unbalanced_quote_in_a_long_file_is_refused_at_the_cell_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(etilize, "MAX_CELL_CHARS", 64 * 1024)
    rows = [main_row("a", {"Title": '"unclosed'})] + [main_row(f"p{n}") for n in range(2_000)]
    data = feed(rows).replace(b'"""unclosed"', b'"unclosed')
    with pytest.raises(SourceError, match="row 2: a cell is longer than 65,536"):
        list(read_etilize(io.BytesIO(data)))


def write_giant_cell_feed(path: Path, cell_bytes: int, line: bytes) -> None:
    """A feed whose second row holds one cell of `cell_bytes` made of `line`, written in pieces
    so the test itself stays small."""
    with path.open("wb") as out:
        out.write(feed([main_row("a")]))
        out.write(b'b,"')
        for _ in range(cell_bytes // len(line)):
            out.write(line)
        out.write(b'",,,3M,Pens\r\n')
        out.write(feed([main_row("c")], header=None))


@pytest.mark.parametrize("line", [b"x" * 1024, b"x" * 1022 + b"\r\n"], ids=["one-line", "lines"])
def test_a_50_mb_cell_is_refused_in_bounded_memory(tmp_path: Path, line: bytes) -> None:
    path = tmp_path / "giant.csv"
    write_giant_cell_feed(path, 50 << 20, line)
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            got = consume_until_refused(read_etilize(stream))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == []
    assert peak < 4 * etilize.MAX_ROW_BYTES


def test_a_large_feed_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "large.csv"
    with path.open("wb") as out, (tmp_path / "xorosoft.csv").open("wb") as xorosoft:
        generated = generate_feeds(6_000, seed=3, etilize_out=out, xorosoft_out=xorosoft)
    # The first read in a process pays once for what the column reader sets up on first use
    # (~4 MB here: 6.3 MB then 2.2 MB a read). Read once unmeasured, so the figure is the same
    # whether this test runs alone or after others.
    with path.open("rb") as stream:
        assert sum(1 for _ in read_etilize(stream)) == generated.products
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            count = sum(1 for _ in read_etilize(stream))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == generated.products
    # The file is ~9 MB; the reader holds a row at a time, and the handles it has seen.
    assert peak < path.stat().st_size / 3


# The rows read -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seekable", [True, False], ids=["column reader", "careful reader"])
def test_the_rows_read_are_the_data_rows_blank_ones_included(seekable: bool) -> None:
    """What the import reports as its rows: the last product's image rows count once."""
    rows = [
        main_row("a"),
        [],
        main_row("b", {"Product image URL": "https://img/1.jpg"}),
        image_row("b", "https://img/2.jpg"),
        image_row("b", "https://img/3.jpg"),
    ]
    data = feed(rows)
    stream = io.BytesIO(data) if seekable else io.BufferedReader(_Unseekable(data))
    records = read_etilize(stream)
    assert len(list(records)) == 2
    assert records.rows == 5


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._data.readinto(buffer)
