"""The export format on its own: rows, columns, and our Etilize reader reading them back."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cowans.db.models import Product, ProductImage, ProductMetafield, ProductVariant
from cowans.sources.etilize import read_etilize, specification_column
from cowans.sources.product_csv import (
    COLUMNS,
    XLSX_MAX_CELL_CHARS,
    CellRejected,
    Format,
    header,
    open_table,
    product_rows,
)
from cowans.sources.records import EtilizeImage, EtilizeProduct

DESCRIPTION = '<p>Café "quoted", with commas,\nnew lines\r\nand 💡 emoji.</p>'


def make_product(handle: str = "post-it-3x3", **fields: object) -> Product:
    values: dict[str, object] = {
        "handle": handle,
        "title": 'Post-it® Notes, 3" x 3"',
        "body_html": DESCRIPTION,
        "vendor": "3M",
        "product_type": "Sticky Notes",
        "tags": ["notes", "3M", "yellow"],
        "status": "draft",
        "published": False,
        "seo_title": "Post-it Notes",
        "seo_description": "Canary yellow notes",
        **fields,
    }
    product = Product(**values)
    product.variants = [
        ProductVariant(
            sku="MMM654YW",
            barcode="051131000000",
            price=Decimal("14.99"),
            compare_at_price=None,
            inventory_policy="continue",
            taxable=False,
            requires_shipping=True,
            weight_grams=Decimal("340.500"),
            weight_unit="g",
            option1_name="Title",
            option1_value="Default Title",
            inventory={"MAIN": 120, "WEST": 35},
        )
    ]
    product.images = [
        ProductImage(src="https://img.example/1.jpg", position=1, alt_text="front"),
        ProductImage(src="https://img.example/2.jpg", position=2, alt_text=""),
        ProductImage(src="https://img.example/5.jpg", position=5, alt_text="side, left"),
    ]
    product.metafields = [
        ProductMetafield(namespace="custom", key="color", value=["Canary Yellow"]),
        ProductMetafield(namespace="custom", key="paper_size", value=['3" x 3"', "76 mm"]),
        ProductMetafield(namespace="other", key="hidden", value=["not a specification"]),
    ]
    return product


def write(path: Path, file_format: Format, products: list[Product], keys: list[str]) -> None:
    with open_table(path, file_format, header(keys)) as table:
        for product in products:
            table.write(product_rows(product, keys))


def test_a_product_is_a_main_row_then_a_row_per_further_image() -> None:
    keys = ["color", "paper_size", "page_yield"]
    rows = [dict(zip(header(keys), row, strict=True)) for row in product_rows(make_product(), keys)]
    main, *images = rows
    assert (main["Handle"], main["URL handle"], main["Title"]) == (
        "post-it-3x3",
        "post-it-3x3",
        'Post-it® Notes, 3" x 3"',
    )
    assert (main["Price"], main["Compare-at price"], main["Inventory quantity"]) == (
        "14.99",
        "",
        "155",
    )
    assert (main["Published"], main["Status"], main["Charge tax"]) == ("FALSE", "draft", "FALSE")
    assert main["Continue selling when out of stock"] == "TRUE"
    assert (main["Weight value (grams)"], main["Weight unit for display"]) == ("340.5", "g")
    assert main["Tags"] == "notes, 3M, yellow"
    assert (main["Product image URL"], main["Image position"], main["Image alt text"]) == (
        "https://img.example/1.jpg",
        "1",
        "front",
    )
    assert main[specification_column("paper_size")] == '["3\\" x 3\\"", "76 mm"]'
    assert main[specification_column("page_yield")] == ""
    assert [(r["Handle"], r["Image position"], r["Title"], r["SKU"]) for r in images] == [
        ("post-it-3x3", "2", "", ""),
        ("post-it-3x3", "5", "", ""),
    ]
    assert all(column in header(keys) for column in COLUMNS)


def test_the_csv_reads_back_through_the_etilize_reader(tmp_path: Path) -> None:
    keys = ["color", "paper_size"]
    bare = make_product("no-images-no-price", title='=HYPERLINK("x")', tags=[])
    bare.images, bare.metafields = [], []
    bare.variants[0].price, bare.variants[0].weight_grams = None, None
    path = tmp_path / "export.csv"
    write(path, Format.CSV, [make_product(), bare], keys)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    with path.open("rb") as stream:
        records = list(read_etilize(stream))
    assert all(isinstance(record, EtilizeProduct) for record in records), records
    first, second = records
    assert isinstance(first, EtilizeProduct)
    assert isinstance(second, EtilizeProduct)
    assert (first.title, first.body_html, first.vendor, first.product_type) == (
        'Post-it® Notes, 3" x 3"',
        DESCRIPTION,
        "3M",
        "Sticky Notes",
    )
    assert (first.tags, first.status, first.published) == (
        ("notes", "3M", "yellow"),
        "draft",
        False,
    )
    assert (first.sku, first.barcode, first.taxable, first.continue_selling) == (
        "MMM654YW",
        "051131000000",
        False,
        True,
    )
    assert (first.weight_grams, first.requires_shipping) == (Decimal("340.5"), True)
    assert (first.seo_title, first.seo_description) == ("Post-it Notes", "Canary yellow notes")
    assert first.images == (
        EtilizeImage("https://img.example/1.jpg", 1, "front"),
        EtilizeImage("https://img.example/2.jpg", 2, ""),
        EtilizeImage("https://img.example/5.jpg", 5, "side, left"),
    )
    assert first.specifications == (
        ("color", ("Canary Yellow",)),
        ("paper_size", ('3" x 3"', "76 mm")),
    )
    assert (second.title, second.tags, second.images, second.weight_grams) == (
        '=HYPERLINK("x")',
        (),
        (),
        None,
    )


def test_the_xlsx_is_the_same_table_with_numbers_and_never_formulas(tmp_path: Path) -> None:
    keys = ["color", "paper_size"]
    tricky = make_product("tricky", title="=1+1")
    csv_path, xlsx_path = tmp_path / "export.csv", tmp_path / "export.xlsx"
    write(csv_path, Format.CSV, [make_product(), tricky], keys)
    write(xlsx_path, Format.XLSX, [make_product(), tricky], keys)

    sheet = load_workbook(xlsx_path)["Products"]
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    with csv_path.open(encoding="utf-8-sig", newline="") as stream:
        table = list(csv.reader(stream))
    assert cells[0] == table[0]
    as_text = [["" if v is None else str(v) for v in row] for row in cells]
    price, quantity = table[0].index("Price"), table[0].index("Inventory quantity")
    assert (cells[1][price], cells[1][quantity]) == (pytest.approx(14.99), 155)
    for xlsx_row, csv_row in zip(as_text[1:], table[1:], strict=True):
        for column, (got, expected) in enumerate(zip(xlsx_row, csv_row, strict=True)):
            if expected and table[0][column] in ("Price", "Weight value (grams)"):
                assert Decimal(got) == Decimal(expected)
            else:  # XML reads a CR LF line break back as LF, as Excel shows it anyway
                assert got == expected.replace("\r\n", "\n"), table[0][column]
    title = table[0].index("Title")
    tricky_row = next(row for row in sheet.iter_rows() if row[0].value == "tricky")
    assert (tricky_row[title].value, tricky_row[title].data_type) == ("=1+1", "s")


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("body_html", "x" * (XLSX_MAX_CELL_CHARS + 1), "more than an XLSX cell holds"),
        ("title", "bell\x07", "control character"),
    ],
)
def test_a_value_xlsx_cannot_hold_rejects_the_product_writing_none_of_its_rows(
    tmp_path: Path, field: str, value: str, reason: str
) -> None:
    path = tmp_path / "export.xlsx"
    with open_table(path, Format.XLSX, header([])) as table:
        table.write(product_rows(make_product("fine"), []))
        with pytest.raises(CellRejected, match=reason):
            table.write(product_rows(make_product("bad", **{field: value}), []))
        table.write(product_rows(make_product("also-fine"), []))
    handles = [row[0] for row in load_workbook(path, read_only=True)["Products"].values]
    assert handles == ["Handle", *["fine"] * 3, *["also-fine"] * 3]


def test_the_csv_table_is_plain_csv(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    write(path, Format.CSV, [make_product()], [])
    text = path.read_bytes().decode("utf-8-sig")
    assert text.startswith(",".join(COLUMNS) + "\r\n")
    assert len(list(read_etilize(io.BytesIO(path.read_bytes())))) == 1
