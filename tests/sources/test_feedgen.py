"""The feed generator: the same seed writes the same bytes, the feeds have the real ones' shape
and encodings, and its quirks are real: read back and matched by DATA.md's rules, the feeds give
exactly the outcomes the generator says they give."""

import csv
import io
import tracemalloc
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from cowans.sources.etilize import read_etilize
from cowans.sources.feedgen import (
    DUPLICATE,
    LOCATIONS,
    ROW_ERROR,
    UNMATCHED,
    XOROSOFT_COLUMNS,
    GeneratedFeeds,
    generate_feeds,
)
from cowans.sources.records import EtilizeProduct, RowError

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
PRODUCTS = 1_500


def generate(products: int = PRODUCTS, seed: int = 7) -> tuple[bytes, bytes, GeneratedFeeds]:
    etilize, xorosoft = io.BytesIO(), io.BytesIO()
    generated = generate_feeds(products, seed, etilize, xorosoft)
    return etilize.getvalue(), xorosoft.getvalue(), generated


def read_back(etilize: bytes) -> tuple[list[EtilizeProduct], list[RowError]]:
    records = list(read_etilize(io.BytesIO(etilize)))
    products = [record for record in records if isinstance(record, EtilizeProduct)]
    return products, [record for record in records if isinstance(record, RowError)]


def xorosoft_rows(xorosoft: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(xorosoft.decode("utf-8-sig"), newline="")))


def test_the_same_seed_writes_the_same_bytes() -> None:
    assert generate(seed=7) == generate(seed=7)


def test_another_seed_writes_other_feeds() -> None:
    first, second = generate(seed=7), generate(seed=8)
    assert first[0] != second[0]
    assert first[1] != second[1]


def test_the_counts_returned_are_the_rows_written() -> None:
    etilize, xorosoft, generated = generate()
    assert generated.products == PRODUCTS == sum(generated.expected.values())
    assert etilize.count(b"\r\n") == generated.etilize_rows + 1
    assert xorosoft.count(b"\r\n") == generated.xorosoft_rows + 1


def test_the_etilize_feed_is_cp1252_with_crlf_and_the_samples_columns_and_more() -> None:
    etilize, _, _ = generate()
    assert etilize.count(b"\n") == etilize.count(b"\r\n")
    assert b"\xe9" in etilize  # é, as cp1252 writes it
    assert "é".encode() not in etilize
    header = next(csv.reader(io.StringIO(etilize.decode("cp1252"))))
    sample_header = next(
        csv.reader(io.StringIO(SAMPLES.joinpath("etilize_sample.csv").read_text("cp1252")))
    )
    assert header[: len(sample_header)] == sample_header
    assert len(header) > 150


def test_the_etilize_feed_reads_back_with_its_quirks() -> None:
    etilize, _, generated = generate()
    products, errors = read_back(etilize)
    assert len(products) == PRODUCTS - generated.expected[ROW_ERROR]
    assert {(error.column, error.reason) for error in errors} == {
        ("Title", "Title is empty: a product's first row must have one")
    }
    assert len(errors) == generated.expected[ROW_ERROR] > 0
    assert any(len(product.images) >= 4 for product in products)
    for product in products:
        positions = [image.position for image in product.images]
        assert positions == sorted(positions) == list(range(1, len(positions) + 1))
    assert any("é" in product.title for product in products)
    assert any(product.status == "draft" and not product.published for product in products)
    assert all(product.specifications for product in products)


def test_the_xorosoft_export_is_utf8_with_bom_and_a_row_per_item_and_location() -> None:
    _, xorosoft, generated = generate()
    assert xorosoft.startswith(b"\xef\xbb\xbf" + ",".join(XOROSOFT_COLUMNS).encode() + b"\r\n")
    rows = xorosoft_rows(xorosoft)
    assert len(rows) == generated.xorosoft_rows
    places = Counter((row["ItemNumber"], row["Location"]) for row in rows)
    assert max(places.values()) == 1
    assert {row["Location"] for row in rows} == set(LOCATIONS)
    assert len({row["ItemNumber"] for row in rows}) < len(rows)  # items at several locations


# DATA.md's matching, written out plainly, to check the generator's claims against.

METHODS = ("sku", "cws_a", "cws_catalog", "sprc")


def normalized(identifier: str) -> str:
    return identifier.strip().upper().replace("-", "").replace(" ", "").replace("/", "")


def candidates(product: EtilizeProduct) -> Iterable[tuple[int, str]]:
    yield 0, product.sku
    for rank, values in enumerate((product.cws_a, product.cws_catalog, product.sprc), start=1):
        for value in values:
            yield rank, value


def matched_outcomes(products: list[EtilizeProduct], rows: list[dict[str, str]]) -> Counter[str]:
    items = {normalized(row["ItemNumber"]): row["ItemNumber"] for row in rows}
    first_of_base: dict[str, str] = {}
    for row in rows:
        base = normalized(row["BasePartNumber"])
        first_of_base[base] = min(first_of_base.get(base, row["ItemNumber"]), row["ItemNumber"])
    claims: dict[str, list[tuple[int, int]]] = {}
    outcomes: Counter[str] = Counter()
    for order, product in enumerate(products):
        for rank, candidate in candidates(product):
            item = items.get(normalized(candidate)) or first_of_base.get(normalized(candidate))
            if item:
                claims.setdefault(item, []).append((rank, order))
                break
        else:
            outcomes[UNMATCHED] += 1
    for claimants in claims.values():
        best, *others = sorted(claimants)
        outcomes[METHODS[best[0]]] += 1
        outcomes[DUPLICATE] += len(others)
    return outcomes


def test_matching_the_feeds_finds_what_the_generator_says() -> None:
    etilize, xorosoft, generated = generate()
    products, errors = read_back(etilize)
    outcomes = matched_outcomes(products, xorosoft_rows(xorosoft))
    outcomes[ROW_ERROR] = len(errors)
    assert outcomes == Counter(generated.expected)
    assert all(generated.expected[outcome] > 0 for outcome in [*METHODS, UNMATCHED, DUPLICATE])


def test_generation_streams_in_bounded_memory(tmp_path: Path) -> None:
    etilize_path = tmp_path / "etilize.csv"
    with etilize_path.open("wb") as etilize, (tmp_path / "xorosoft.csv").open("wb") as xorosoft:
        tracemalloc.start()
        try:
            generate_feeds(5_000, 1, etilize, xorosoft)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < etilize_path.stat().st_size / 10  # ~7 MB written, well under 1 MB held
