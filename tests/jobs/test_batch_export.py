"""Export batches: the CSV goes back through our importer without loss, the XLSX opens, the
file is served once the batch has completed, and a retried export writes its file anew."""

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import selectinload

from cowans.catalog.upsert import current_values
from cowans.db.models import (
    Product,
    ProductImage,
    ProductMetafield,
    ProductVariant,
    ProductVersion,
    Role,
)
from cowans.db.session import session_scope
from cowans.sources.etilize import read_etilize
from cowans.sources.feedgen import generate_feeds
from cowans.sources.records import EtilizeProduct
from tests.jobs.conftest import run_batch, wait_for_batch

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
Login = Callable[[Role], dict[str, str]]
AddProducts = Callable[..., list[int]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def editor(login: Login) -> dict[str, str]:
    return login(Role.EDITOR)


def import_file(client: TestClient, kind: str, content: bytes, headers: dict[str, str]) -> dict:
    response = client.post(
        f"/api/imports/{kind}", files={"file": (f"{kind}.csv", content)}, headers=headers
    )
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 120
    while True:
        record = client.get(f"/api/imports/{response.json()['import_id']}", headers=headers).json()
        if record["state"] in ("completed", "failed", "cancelled"):
            assert record["state"] == "completed", record
            return record
        assert time.monotonic() < deadline, record
        time.sleep(0.05)


def catalog(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every product the catalog lists, as the feeds see it, by handle. Specifications are
    compared by key: the catalog loads a product's metafields without an ORDER BY, so their
    order is the database's (PostgreSQL's can differ from the order they were written in)."""
    with session_scope(engine) as session:
        products = session.scalars(
            select(Product)
            .where(Product.deleted_at.is_(None))
            .options(
                selectinload(Product.variants),
                selectinload(Product.images),
                selectinload(Product.metafields),
            )
        )
        return {product.handle: _by_key(current_values(product)) for product in products}


def _by_key(values: dict[str, Any]) -> dict[str, Any]:
    return {**values, "specifications": sorted(values["specifications"])}


def empty_the_catalog(engine: Engine) -> None:
    """A fresh catalog beside the same Xorosoft items."""
    with session_scope(engine) as session:
        for model in (ProductVersion, ProductMetafield, ProductImage, ProductVariant, Product):
            session.execute(delete(model))


def download(client: TestClient, status: dict[str, Any], headers: dict[str, str]) -> Any:
    assert status["result_url"] == f"/api/batch/result/{status['batch_id']}", status
    response = client.get(status["result_url"], headers=headers)
    assert response.status_code == 200, response.text
    return response


def test_a_csv_export_reimports_into_the_same_catalog(
    client: TestClient, editor: dict[str, str], engine: Engine
) -> None:
    generated_feed, generated_items = io.BytesIO(), io.BytesIO()
    generate_feeds(60, 3, generated_feed, generated_items)
    import_file(client, "xorosoft", (SAMPLES / "xorosoft_sample.csv").read_bytes(), editor)
    import_file(client, "xorosoft", generated_items.getvalue(), editor)
    import_file(client, "etilize", (SAMPLES / "etilize_sample.csv").read_bytes(), editor)
    import_file(client, "etilize", generated_feed.getvalue(), editor)
    listed = client.get("/api/products", params={"page_size": 3}, headers=editor).json()
    edits = {"status": "archived", "tags": ["clearance"], "vendor": "Cowan's Own"}
    edited = run_batch(
        client,
        {
            "operation": "update",
            "product_ids": [p["id"] for p in listed["items"]],
            "updates": edits,
        },
        editor,
    )
    assert edited["succeeded"] == 3
    before = catalog(engine)
    assert len(before) > 40

    status = run_batch(client, {"operation": "export", "filter": {}}, editor)
    assert (status["state"], status["succeeded"], status["failed"]) == (
        "completed",
        len(before),
        0,
    )
    assert status["format"] == "csv"
    response = download(client, status, editor)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        f'filename="products-batch-{status["batch_id"]}.csv"'
        in response.headers["content-disposition"]
    )
    exported = response.content
    records = list(read_etilize(io.BytesIO(exported)))
    assert all(isinstance(record, EtilizeProduct) for record in records), [
        record for record in records if not isinstance(record, EtilizeProduct)
    ]
    assert sorted(record.handle for record in records) == sorted(before)

    empty_the_catalog(engine)
    assert catalog(engine) == {}
    report = import_file(client, "etilize", exported, editor)
    assert (report["matched"], report["unmatched"], report["errors"]) == (len(before), 0, 0)
    after = catalog(engine)
    assert sorted(after) == sorted(before)
    for handle, values in before.items():
        assert after[handle] == values, handle


def test_an_xlsx_export_opens_with_the_products_in_the_order_given(
    client: TestClient, login: Login, add_products: AddProducts
) -> None:
    editor, viewer = login(Role.EDITOR), login(Role.VIEWER)
    ids = add_products(3, title="=cmd|' /C calc'!A0")
    body = {"operation": "export", "product_ids": [ids[2], 777_777, ids[0], ids[1]]}
    status = run_batch(client, {**body, "format": "xlsx"}, editor)
    assert (status["state"], status["total"], status["succeeded"], status["failed"]) == (
        "completed",
        4,
        3,
        1,
    )
    assert status["errors"] == [{"product_id": 777_777, "message": "No product with id 777777."}]
    response = download(client, status, viewer)
    assert response.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content))["Products"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    head = rows[0]
    assert head[:3] == ["Handle", "Title", "URL handle"]
    handles = [row[0] for row in rows[1:]]
    assert handles == [f"product-{n}" for n in (3, 1, 2)]
    price = head.index("Price")
    assert [row[price] for row in rows[1:]] == [10, 10, 10]
    title = head.index("Title")
    first = next(sheet.iter_rows(min_row=2, max_row=2))
    assert (first[title].value, first[title].data_type) == ("=cmd|' /C calc'!A0", "s")


def test_a_file_is_served_only_for_a_completed_export(
    client: TestClient, editor: dict[str, str], add_products: AddProducts
) -> None:
    ids = add_products(2)
    updated = run_batch(
        client, {"operation": "update", "product_ids": ids, "updates": {"vendor": "X"}}, editor
    )
    assert updated["result_url"] is None
    for batch_id in (updated["batch_id"], 424_242):
        response = client.get(f"/api/batch/result/{batch_id}", headers=editor)
        assert response.status_code == 404, batch_id
    assert client.get(f"/api/batch/result/{updated['batch_id']}").status_code == 401


def test_a_retried_export_writes_its_whole_file_again(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    ids = add_products(3)
    status = run_batch(client, {"operation": "export", "product_ids": [*ids, 555_555]}, editor)
    assert (status["succeeded"], status["failed"]) == (3, 1)
    first = download(client, status, editor).content
    with session_scope(engine) as session:
        session.get(Product, ids[1]).title = "Renamed since"  # type: ignore[union-attr]

    retried = client.post(f"/api/batch/retry/{status['batch_id']}", headers=editor)
    assert (retried.status_code, retried.json()["retried"]) == (202, 1)
    status = wait_for_batch(client, status["batch_id"], editor)
    assert (status["state"], status["succeeded"], status["failed"]) == ("completed", 3, 1)
    again = download(client, status, editor).content
    titles = [r.title for r in read_etilize(io.BytesIO(again)) if isinstance(r, EtilizeProduct)]
    assert titles == ["Product 1", "Renamed since", "Product 3"]
    assert first != again
