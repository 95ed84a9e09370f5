"""New products are built as plain rows (`catalog.upsert.new_product_rows`) and written by bulk
INSERTs (`insert_new_products`): the rows must be exactly those the ORM's unit of work writes
for the same products built as ORM objects (`NewProduct.build`), on both databases.

The same generated feed (with its quirks: images, specifications, duplicates, row errors) is
imported twice into empty catalogs, once as the import runs and once with ORM objects built and
handed to the session instead, and every catalog table is compared row by row.
"""

import io
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cowans.catalog.upsert import NewProduct
from cowans.db.models import (
    Import,
    Product,
    ProductImage,
    ProductMetafield,
    ProductVariant,
    ProductVersion,
)
from cowans.db.session import session_scope
from cowans.sources import imports
from cowans.sources.feedgen import generate_feeds
from cowans.sources.imports import run_etilize_import, run_xorosoft_import
from cowans.sources.xorosoft import read_xorosoft_csv

# Ids, and the import's id and moment: they differ between any two runs.
NOT_COMPARED = {"id", "product_id", "created_at", "updated_at", "import_id"}


def _orm_insert(session: Session, new: list[Any]) -> None:
    for item in new:  # built by NewProduct.build, in place of new_product_rows
        session.add(item.product)
        if item.version is not None:
            session.add(item.version)


def _import(engine: Engine, etilize: bytes, xorosoft: bytes) -> dict[str, Any]:
    ids = {}
    with session_scope(engine) as session:
        for kind in ("xorosoft", "etilize"):
            record = Import(kind=kind, source="file", filename=f"{kind}.csv")
            session.add(record)
            session.flush()
            ids[kind] = record.id
    run_xorosoft_import(engine, ids["xorosoft"], read_xorosoft_csv(io.BytesIO(xorosoft)))
    run_etilize_import(engine, ids["etilize"], io.BytesIO(etilize))
    with session_scope(engine) as session:
        report = session.get(Import, ids["etilize"])
        assert report is not None
        assert report.state == "completed", report.error
        return {"created": report.created, "tables": _catalog(session)}


def _catalog(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every catalog row as plain values, the product named by its handle, in a stable order."""
    handles = {row.id: row.handle for row in session.execute(select(Product.id, Product.handle))}
    tables: dict[str, list[dict[str, Any]]] = {}
    for model in (Product, ProductVariant, ProductImage, ProductMetafield, ProductVersion):
        rows = []
        for row in session.scalars(select(model).order_by(model.id)):
            values = {
                column.key: getattr(row, column.key)
                for column in model.__mapper__.column_attrs
                if column.key not in NOT_COMPARED
            }
            if model is Product:  # where each value came from, without the run's id and time
                values["provenance"] = {f: p["source"] for f, p in values["provenance"].items()}
            else:
                values["handle"] = handles[row.product_id]
            rows.append(values)
        tables[model.__tablename__] = rows
    return tables


@pytest.fixture
def feeds() -> tuple[bytes, bytes]:
    etilize, xorosoft = io.BytesIO(), io.BytesIO()
    generate_feeds(300, 11, etilize, xorosoft)
    return etilize.getvalue(), xorosoft.getvalue()


def test_bulk_inserts_write_what_the_orm_writes(
    engine: Engine, feeds: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    bulk = _import(engine, *feeds)
    assert bulk["created"] > 200  # most of the feed matched: the comparison covers it
    tables = bulk["tables"]
    assert all(tables[name] for name in tables), "every table has rows to compare"

    with session_scope(engine) as session:  # empty the catalog, keep the migrations
        for model in (ProductVersion, ProductMetafield, ProductImage, ProductVariant, Product):
            session.query(model).delete()
    monkeypatch.setattr(imports, "new_product_rows", NewProduct.build)
    monkeypatch.setattr(imports, "insert_new_products", _orm_insert)
    orm = _import(engine, *feeds)

    assert orm["created"] == bulk["created"]
    for name, rows in orm["tables"].items():
        assert rows == tables[name], name
