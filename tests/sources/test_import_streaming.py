"""Imports stream: the Etilize feed is read twice (match, then write) and the Xorosoft export is
stored a batch at a time, so neither holds a whole feed; the outcome is exactly what reading
everything into memory first gave (the reference below is that path: every product read, the
whole Xorosoft index, `match_products`)."""

import contextlib
import csv
import gc
import io
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cowans.db.models import Import, ImportRowError, Product, ProductVariant
from cowans.db.models import XorosoftItem as XorosoftItemRow
from cowans.db.session import session_scope
from cowans.sources import imports
from cowans.sources.etilize import read_etilize, specification_column
from cowans.sources.feedgen import generate_feeds
from cowans.sources.imports import run_etilize_import, run_xorosoft_import
from cowans.sources.matching import ItemRef, XorosoftIndex, match_products
from cowans.sources.records import EtilizeProduct, RowError, XorosoftItem
from cowans.sources.xorosoft import KNOWN_COLUMNS, SeenRows, read_xorosoft_csv

REPORTED = ("state", "error", "rows", "products", "matched", "unmatched", "duplicates", "errors")


def new_import(engine: Engine, kind: str) -> int:
    with session_scope(engine) as session:
        record = Import(kind=kind, source="upload", filename=f"{kind}.csv")
        session.add(record)
        session.flush()
        return record.id


def import_xorosoft(engine: Engine, data: bytes) -> int:
    import_id = new_import(engine, "xorosoft")
    run_xorosoft_import(engine, import_id, read_xorosoft_csv(io.BytesIO(data)))
    return import_id


def import_etilize(engine: Engine, data: bytes) -> int:
    import_id = new_import(engine, "etilize")
    run_etilize_import(engine, import_id, io.BytesIO(data))
    return import_id


def outcome(session: Session, import_id: int) -> dict[str, Any]:
    record = session.get(Import, import_id)
    assert record is not None
    errors = session.scalars(
        select(ImportRowError)
        .where(ImportRowError.import_id == import_id)
        .order_by(ImportRowError.id)
    )
    return {
        **{name: getattr(record, name) for name in REPORTED},
        "report": record.report,
        "row_errors": [(e.row_number, e.column, e.reason) for e in errors],
    }


def catalog(session: Session) -> dict[str, tuple[str, str, str, str]]:
    """handle -> (etilize SKU, match method, matched field, variant SKU)."""
    rows = session.execute(
        select(
            Product.handle,
            Product.etilize_sku,
            Product.match_method,
            Product.matched_field,
            ProductVariant.sku,
        ).join(ProductVariant, ProductVariant.product_id == Product.id)
    )
    return {handle: tuple(rest) for handle, *rest in rows}


def expected_from_memory(session: Session, feed: bytes) -> dict[str, Any]:
    """What the import reported before it streamed: the whole feed read, then matched."""
    records = read_etilize(io.BytesIO(feed))
    products: list[EtilizeProduct] = []
    errors: list[RowError] = []
    for record in records:
        (errors if isinstance(record, RowError) else products).append(record)
    pairs = session.execute(select(XorosoftItemRow.item_number, XorosoftItemRow.base_part_number))
    report = match_products(products, XorosoftIndex(ItemRef(*pair) for pair in pairs))
    return {
        "rows": records.rows,
        "products": len(products),
        "matched": len(report.matches),
        "unmatched": len(report.unmatched),
        "duplicates": len(report.duplicates),
        "errors": len(errors),
        "methods": report.method_counts(),
        "unmatched_lines": [
            {"row": p.row_number, "handle": p.handle, "sku": p.sku, "title": p.title}
            for p in report.unmatched
        ],
        "duplicate_lines": [vars(d) for d in report.duplicates],
        "row_errors": [(e.row_number, e.column, e.reason) for e in errors],
        "catalog": {
            m.product.handle: (m.product.sku, m.method, m.matched_field, m.item_number)
            for m in report.matches.values()
        },
    }


def assert_same_as_from_memory(engine: Engine, feed: bytes, import_id: int) -> None:
    with session_scope(engine) as session:
        expected = expected_from_memory(session, feed)
        got = outcome(session, import_id)
        assert got["state"] == "completed", got["error"]
        for name in ("rows", "products", "matched", "unmatched", "duplicates", "errors"):
            assert got[name] == expected[name], name
        assert got["report"]["methods"] == expected["methods"]
        assert got["report"]["unmatched"] == expected["unmatched_lines"]
        assert got["report"]["duplicates"] == expected["duplicate_lines"]
        assert got["row_errors"] == expected["row_errors"]
        assert catalog(session) == expected["catalog"]


# Etilize -----------------------------------------------------------------------------------------


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 7: every duplicate, unmatched product and row error of a small feed falls
    in some other batch than the product it relates to."""
    monkeypatch.setattr(imports, "BATCH", 7)


def test_a_generated_feed_imports_as_it_did_from_memory(
    engine: Engine, small_batches: None
) -> None:
    etilize, xorosoft = io.BytesIO(), io.BytesIO()
    generated = generate_feeds(400, 5, etilize, xorosoft)
    assert all(generated.expected[outcome] for outcome in ("duplicate", "unmatched", "row_error"))
    import_xorosoft(engine, xorosoft.getvalue())
    import_id = import_etilize(engine, etilize.getvalue())
    assert_same_as_from_memory(engine, etilize.getvalue(), import_id)


SPEC = specification_column("CWS_A")
SPRC = specification_column("SPRC")
ETILIZE_HEADER = ["Handle", "Title", "SKU", "Vendor", "Type", "Status", SPEC, SPRC]


def etilize_feed(rows: list[list[str]]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(ETILIZE_HEADER)
    writer.writerows(rows)
    return text.getvalue().encode("cp1252")


def xorosoft_export(rows: list[dict[str, str]]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(KNOWN_COLUMNS), restval="")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def item(number: str, location: str = "MAIN", quantity: str = "5", **cells: str) -> dict[str, str]:
    return {
        "ItemNumber": number,
        "BasePartNumber": cells.pop("base", number[:-1]),
        "Description": cells.pop("description", f"Item {number}"),
        "UnitPrice": cells.pop("price", "9.99"),
        "QuantityOnHand": quantity,
        "Location": location,
        **cells,
    }


def test_a_later_product_with_a_better_method_takes_an_item_held_in_an_earlier_batch(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH", 2)
    import_xorosoft(engine, xorosoft_export([item("AAA1"), item("BBB1"), item("CCC1")]))
    feed = etilize_feed(
        [
            ["alt-a", "Alt A", "NOPE-1", "3M", "Pens", "", '["AAA1"]', ""],  # cws_a: holds
            ["plain-b", "Plain B", "BBB1", "3M", "Pens", "", "", ""],
            ["bad-status", "Bad", "CCC1", "3M", "Pens", "sold", "", ""],  # a row error
            ["lost", "Lost", "NOPE-2", "3M", "Pens", "", "", ""],  # unmatched
            ["main-a", "Main A", "AAA1", "3M", "Pens", "", "", ""],  # sku: takes AAA1
            ["sprc-a", "Sprc A", "NOPE-3", "3M", "Pens", "", "", '["AAA1"]'],  # loses to main-a
            ["base-c", "Base C", "CCC", "3M", "Pens", "", "", ""],  # CCC1 by its base part
        ]
    )
    import_id = import_etilize(engine, feed)
    assert_same_as_from_memory(engine, feed, import_id)
    with session_scope(engine) as session:
        report = outcome(session, import_id)["report"]
    assert [(d["handle"], d["kept_handle"]) for d in report["duplicates"]] == [
        ("alt-a", "main-a"),
        ("sprc-a", "main-a"),
    ]


def test_the_import_holds_a_batch_of_products_not_the_feed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH", 20)
    etilize, xorosoft = io.BytesIO(), io.BytesIO()
    generate_feeds(600, 3, etilize, xorosoft)
    import_xorosoft(engine, xorosoft.getvalue())
    alive: list[int] = []
    apply_batch = imports._apply_batch

    def counting(*args: Any) -> None:
        gc.collect()  # garbage awaiting the collector is not held
        alive.append(sum(isinstance(o, EtilizeProduct) for o in gc.get_objects()))
        apply_batch(*args)

    gc.collect()
    before = sum(isinstance(o, EtilizeProduct) for o in gc.get_objects())  # other tests' leftovers
    monkeypatch.setattr(imports, "_apply_batch", counting)
    import_id = import_etilize(engine, etilize.getvalue())
    with session_scope(engine) as session:
        assert outcome(session, import_id)["products"] > 550
    # A batch, and what the reader has parsed ahead of it (a slice of rows); never the feed.
    assert len(alive) > 20
    assert max(alive) - before < 200


def test_a_feed_that_changes_between_its_readings_imports_nothing(engine: Engine) -> None:
    etilize, xorosoft = io.BytesIO(), io.BytesIO()
    generate_feeds(50, 2, etilize, xorosoft)
    import_xorosoft(engine, xorosoft.getvalue())
    first = etilize.getvalue()
    second = b"\r\n".join(first.split(b"\r\n")[:-10]) + b"\r\n"  # its last rows gone
    readings = iter([first, second])

    @contextlib.contextmanager
    def opener() -> Iterator[BinaryIO]:
        yield io.BytesIO(next(readings))

    import_id = new_import(engine, "etilize")
    run_etilize_import(engine, import_id, opener)
    with session_scope(engine) as session:
        got = outcome(session, import_id)
        assert got["state"] == "failed"
        assert "changed while the feed was imported" in got["error"]
        assert session.scalar(select(Product.id).limit(1)) is None
        assert got["row_errors"] == []


def test_a_stream_that_cannot_seek_is_refused_before_anything_is_read() -> None:
    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

    with pytest.raises(ValueError, match="reads its feed twice"):
        imports.feed_opener(io.BufferedReader(Pipe()))


# Xorosoft ----------------------------------------------------------------------------------------


def stored_items(session: Session) -> dict[str, dict[str, Any]]:
    return {
        row.item_number: {
            "description": row.description,
            "unit_price": row.unit_price,
            "stock": row.stock,
            "base_key": row.base_key,
            "item_key": row.item_key,
        }
        for row in session.scalars(select(XorosoftItemRow))
    }


def test_rows_of_one_item_far_apart_make_one_item_with_all_its_stock(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH", 2)
    import_xorosoft(
        engine, xorosoft_export([item("OLD1", "MAIN", "1"), item("KEEP1", "WEST", "4")])
    )
    export = xorosoft_export(
        [
            item("KEEP1", "EAST", "9", price="5.00"),  # stored before: its old stock goes
            item("AB-1", "MAIN", "3", description="First row"),
            item("CD1", "MAIN", "1"),
            item("AB-1", "WEST", "x"),  # a row error
            item("CD1", "WEST", "2"),
            item("AB-1", "WEST", "4", description="Later row", price="1.00"),
        ]
    )
    import_id = import_xorosoft(engine, export)
    with session_scope(engine) as session:
        got = outcome(session, import_id)
        assert (got["state"], got["rows"], got["products"], got["errors"]) == (
            "completed",
            6,
            3,
            1,
        )
        assert [row for row, _, _ in got["row_errors"]] == [5]
        items = stored_items(session)
    assert items["AB-1"] == {
        "description": "First row",
        "unit_price": Decimal("9.99"),
        "stock": {"MAIN": 3, "WEST": 4},
        "base_key": "AB",
        "item_key": "AB1",
    }
    assert items["CD1"]["stock"] == {"MAIN": 1, "WEST": 2}
    assert (items["KEEP1"]["stock"], items["KEEP1"]["unit_price"]) == ({"EAST": 9}, Decimal("5"))
    assert items["OLD1"]["stock"] == {"MAIN": 1}  # not in this export: left as it was


class _Pipe(io.RawIOBase):
    """A stream that cannot seek, so the careful reader reads it: a record at a time (the column
    reader makes the records of a 1 MiB chunk together, more than a small export holds)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


def test_the_xorosoft_import_holds_a_batch_of_items_not_the_export(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH", 20)
    etilize, xorosoft = io.BytesIO(), io.BytesIO()
    generate_feeds(300, 4, etilize, xorosoft)
    import_xorosoft(engine, xorosoft.getvalue())
    import_etilize(engine, etilize.getvalue())  # products for the refresh to reach
    alive: dict[str, list[int]] = {"_store_batch": [], "apply_feed_product": []}
    calls = {"_store_batch": 0, "apply_feed_product": 0}

    def probe(name: str, every: int) -> None:
        def counting(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            if calls[name] % every == 1:
                gc.collect()  # garbage awaiting the collector is not held
                alive[name].append(sum(isinstance(o, XorosoftItem) for o in gc.get_objects()))
            return original(*args, **kwargs)

        original = getattr(imports, name)
        monkeypatch.setattr(imports, name, counting)

    gc.collect()
    before = sum(isinstance(o, XorosoftItem) for o in gc.get_objects())  # other tests' leftovers
    probe("_store_batch", every=3)  # while the export is stored
    probe("apply_feed_product", every=25)  # while the catalog's prices and stock are refreshed
    import_id = new_import(engine, "xorosoft")
    records = read_xorosoft_csv(io.BufferedReader(_Pipe(xorosoft.getvalue())))
    run_xorosoft_import(engine, import_id, records)
    with session_scope(engine) as session:
        got = outcome(session, import_id)
    assert got["state"] == "completed"
    assert got["rows"] > 500
    assert len(alive["_store_batch"]) > 5
    assert max(alive["_store_batch"]) - before <= 21
    assert len(alive["apply_feed_product"]) > 5
    assert max(alive["apply_feed_product"]) == before


def test_the_rows_remembered_against_duplicates_cost_little_each() -> None:
    """The Xorosoft readers remember every (item, location) of the export, so that memory grows
    with it: at 470,000 rows (250,000 products) a tuple per row took 110 MB."""
    rows = [
        XorosoftItem(f"CWS-{n:07}-X", "CWS", "", Decimal(1), 1, ("Main", "West", "East")[n % 3])
        for n in range(30_000)
    ]
    seen = SeenRows()
    tracemalloc.start()
    try:
        for row_number, row in enumerate(rows, start=2):
            assert seen.first_row(row, row_number) == row_number
        per_row = tracemalloc.get_traced_memory()[0] / len(rows)
    finally:
        tracemalloc.stop()
    assert per_row < 150  # a key string, its row number and a slot; a tuple key took 240
    assert seen.first_row(rows[7], 99) == 9
