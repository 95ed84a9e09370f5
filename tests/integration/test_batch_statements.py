"""What a batch costs the database: a chunk of updates written with one statement per table,
and an export that builds no ORM objects. Their results are the batch tests' business
(tests/jobs); these keep a 10,000-product update under 2 s per 1,000 products and a
100,000-product export under 30 s (bench/batch_bench.py)."""

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select

from cowans.config import Settings
from cowans.db.models import Product, ProductMetafield, ProductVariant, ProductVersion, Role
from cowans.db.session import get_engine, session_scope
from tests.jobs.conftest import run_batch

Login = Callable[[Role], dict[str, str]]
PRODUCTS = 60  # fewer than a chunk (200): one chunk


@pytest.fixture
def products(engine: Engine) -> list[int]:
    made = [
        Product(
            handle=f"pen-{n}",
            title=f"Pen {n}",
            vendor="BIC",
            tags=["office"],
            provenance={},
            locks={},
            variants=[ProductVariant(sku=f"PEN-{n}", price=Decimal("2.00"), inventory={"A": n})],
            metafields=[ProductMetafield(key="color", value=["Blue"])],
        )
        for n in range(PRODUCTS)
    ]
    with session_scope(engine) as session:
        session.add_all(made)
        session.flush()
        return [product.id for product in made]


@pytest.fixture
def statements(settings: Settings) -> Iterator[list[str]]:
    """The statements the app's engine runs (one per executemany)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    app_engine = get_engine(settings.database_url)
    event.listen(app_engine, "before_cursor_execute", record)
    yield seen
    event.remove(app_engine, "before_cursor_execute", record)


def test_a_chunk_of_updates_is_written_with_one_statement_per_table(
    client: TestClient, login: Login, products: list[int], statements: list[str], engine: Engine
) -> None:
    body = {
        "operation": "update",
        "product_ids": products,
        "updates": {"tags": ["sale"], "price_adjust_percent": "10"},
    }
    status = run_batch(client, body, login(Role.EDITOR))
    assert (status["state"], status["succeeded"]) == ("completed", PRODUCTS)
    writes = [s for s in statements if s.startswith(("UPDATE", "INSERT", "SAVEPOINT"))]
    assert len([s for s in writes if s.startswith("UPDATE products ")]) == 1, writes
    assert len([s for s in writes if s.startswith("UPDATE product_variants ")]) == 1, writes
    assert not [s for s in writes if s.startswith("SAVEPOINT")], writes
    with session_scope(engine) as session:
        prices = set(session.scalars(select(ProductVariant.price)))
        versions = session.scalars(select(ProductVersion.changes)).all()
    assert prices == {Decimal("2.20")}
    assert len(versions) == PRODUCTS
    assert all(set(changes) == {"price", "tags"} for changes in versions)


def test_an_export_builds_no_orm_objects(
    client: TestClient, login: Login, products: list[int]
) -> None:
    """Building each product's variants, images and specifications as ORM objects was two
    thirds of an export's time; plain rows write the same file (tests/jobs)."""
    loaded: list[object] = []

    def count(target: object, _context: object) -> None:
        loaded.append(target)

    for model in (Product, ProductVariant, ProductMetafield):
        event.listen(model, "load", count)
    try:
        body = {"operation": "export", "product_ids": products}
        status = run_batch(client, body, login(Role.EDITOR))
    finally:
        for model in (Product, ProductVariant, ProductMetafield):
            event.remove(model, "load", count)
    assert (status["state"], status["succeeded"]) == ("completed", PRODUCTS)
    assert loaded == []
    exported = client.get(status["result_url"], headers=login(Role.VIEWER))
    assert exported.status_code == 200
    assert exported.text.count("PEN-") == PRODUCTS
