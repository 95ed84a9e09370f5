"""The catalog list at scale: the text search's index, lists answered from indexes, and
pages that do not need the stores' secrets."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select, text, update

from cowans.catalog.feed import FeedProduct
from cowans.catalog.queries import ProductFilter, SearchIndex, search_index, search_products
from cowans.catalog.upsert import apply_feed_product
from cowans.db.models import Product, Role, StagedChangeStatus, Store, SyncStaging
from cowans.db.session import read_scope, session_scope

LoginHeaders = Callable[[Role], dict[str, str]]


def feed(handle: str, title: str, sku: str, vendor: str = "Swingline") -> FeedProduct:
    values = {
        "title": title,
        "vendor": vendor,
        "product_type": "Staplers",
        "tags": ["office"],
        "status": "active",
        "sku": sku,
        "price": Decimal("12.50"),
        "inventory": {"MAIN": 3},
    }
    return FeedProduct(handle, values, {"sku": "xorosoft", "price": "xorosoft"})


def load(engine: Engine, *feeds: FeedProduct) -> None:
    """Through the import's own upsert: the index must follow what imports write."""
    with session_scope(engine) as session:
        for item in feeds:
            existing = session.scalar(select(Product).where(Product.handle == item.handle))
            apply_feed_product(
                session, existing, item, source="etilize", import_id=None, moment=datetime.now(UTC)
            )


@pytest.fixture
def catalog(engine: Engine) -> Engine:
    load(
        engine,
        feed("swi-stapler-1", "Swingline Heavy Duty Stapler, Black", "SWI0000001"),
        feed("ave-labels-2", "Avery Address Labels, 30/Sheet", "AVE0000002", vendor="Avery"),
        feed("bic-pen-3", "BIC Round Stic Pen, Blue, 60/Box", "BIC_3-50%", vendor="BIC"),
        feed("pil-gel-4", "Pilot G2 Gel Pen, Crème", "PIL0000004", vendor="Pilot"),
    )
    return engine


def handles(engine: Engine, words: str) -> list[str]:
    with read_scope(engine) as session:
        found, total = search_products(session, ProductFilter(query=words), 1, 50)
    assert total == len(found)
    return [product.handle for product in found]


def test_the_migrations_give_each_database_its_search_index(engine: Engine) -> None:
    with read_scope(engine) as session:
        index = search_index(session)
    expected = SearchIndex.FTS5 if engine.dialect.name == "sqlite" else SearchIndex.TRIGRAM
    assert index is expected


def test_the_search_finds_a_part_of_a_title_handle_vendor_or_sku_in_any_case(
    catalog: Engine,
) -> None:
    assert handles(catalog, "heavy duty") == ["swi-stapler-1"]
    assert handles(catalog, "STAPLER") == ["swi-stapler-1"]
    assert handles(catalog, "labels-2") == ["ave-labels-2"]
    assert handles(catalog, "avery") == ["ave-labels-2"]
    assert handles(catalog, "000000") == ["swi-stapler-1", "ave-labels-2", "pil-gel-4"]
    assert handles(catalog, "pen") == ["bic-pen-3", "pil-gel-4"]
    assert handles(catalog, "no such thing") == []


def test_the_search_takes_wildcards_and_quotes_literally_and_short_words_too(
    catalog: Engine,
) -> None:
    assert handles(catalog, "50%") == ["bic-pen-3"]
    assert handles(catalog, "c_3") == ["bic-pen-3"]
    assert handles(catalog, "%") == ["bic-pen-3"]
    assert handles(catalog, '"gel') == []
    assert handles(catalog, "G2") == ["pil-gel-4"]
    assert handles(catalog, "è") == ["pil-gel-4"]


def test_the_search_index_follows_imports_edits_and_new_skus(
    catalog: Engine, client: TestClient, login: LoginHeaders
) -> None:
    load(catalog, feed("swi-stapler-1", "Swingline Mini Stapler", "SWI-NEW-9"))
    assert handles(catalog, "heavy duty") == []
    assert handles(catalog, "mini") == ["swi-stapler-1"]
    assert handles(catalog, "SWI0000001") == []
    assert handles(catalog, "new-9") == ["swi-stapler-1"]
    with read_scope(catalog) as session:
        labels = session.scalar(select(Product.id).where(Product.handle == "ave-labels-2"))
    edited = client.patch(
        f"/api/products/{labels}",
        json={"title": "Avery Shipping Labels"},
        headers=login(Role.EDITOR),
    )
    assert edited.status_code == 200, edited.text
    assert handles(catalog, "shipping") == ["ave-labels-2"]
    assert handles(catalog, "address") == []
    load(catalog, feed("fel-shredder-5", "Fellowes Shredder", "FEL0000005", vendor="Fellowes"))
    assert handles(catalog, "shredder") == ["fel-shredder-5"]


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    "filters",
    [
        ProductFilter(),
        ProductFilter(vendor="Avery", status="active"),
        ProductFilter(product_type="Staplers"),
        ProductFilter(sync_status="pending"),
        ProductFilter(query="stapler"),
    ],
    ids=["all", "vendor+status", "type", "pending", "search"],
)
def test_a_page_of_the_list_never_reads_the_whole_products_table(
    catalog: Engine, statements: list[tuple[str, Any]], filters: ProductFilter
) -> None:
    """Each product row is kilobytes (provenance, description): at 100,000 products a count
    that read them took 100 ms, a correlated EXISTS per product 300 ms. SQLite's plans say
    which tables a query reads whole; PostgreSQL's depend on statistics, not checked here."""
    if catalog.dialect.name != "sqlite":
        pytest.skip("SQLite's query plans are deterministic enough to assert on")
    with read_scope(catalog) as session:
        search_products(session, filters, 2, 2)
    with catalog.connect() as connection:
        plans = [
            row[3]
            for statement, parameters in statements
            if "products" in statement
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        ]
    assert plans
    assert not [step for step in plans if step == "SCAN products"], plans


def test_the_sync_status_pages_need_no_store_secrets(
    catalog: Engine, client: TestClient, login: LoginHeaders
) -> None:
    """A store whose token cannot be decrypted (SECRET_KEY changed) must not take the status
    page and the product list down with it: neither shows a secret, so neither reads one."""
    with session_scope(catalog) as session:
        store = Store(name="Demo", shop_domain="demo.myshopify.com", access_token="shpat_x")
        session.add(store)
        session.flush()
        product = session.scalar(select(Product.id).where(Product.handle == "bic-pen-3"))
        session.add(
            SyncStaging(
                product_id=product,
                store_id=store.id,
                handle="bic-pen-3",
                direction="push",
                operation_type="create",
                status=StagedChangeStatus.PENDING,
            )
        )
        store_id = store.id
    with session_scope(catalog) as session:
        session.execute(
            update(Store.__table__).values(access_token=text("'written with another key'"))
        )
    headers = login(Role.VIEWER)
    status = client.get("/api/enhanced-sync/status", headers=headers)
    assert status.status_code == 200, status.text
    assert status.json()["stores"][0]["staged"]["pending"] == 1
    pending = client.get(
        "/api/products", params={"sync_status": "pending", "store_id": store_id}, headers=headers
    )
    assert pending.status_code == 200, pending.text
    assert [item["handle"] for item in pending.json()["items"]] == ["bic-pen-3"]


def test_the_lists_build_no_orm_objects(
    catalog: Engine, client: TestClient, login: LoginHeaders
) -> None:
    """A page of 50 products or 100 changes built as ORM entities (identity map, instance
    state, a loader for each deferred column) cost more than its queries: the lists read
    plain rows."""
    with session_scope(catalog) as session:
        store = Store(name="Demo", shop_domain="demo.myshopify.com", access_token="shpat_x")
        session.add(store)
        session.flush()
        for product_id in session.scalars(select(Product.id)):
            session.add(
                SyncStaging(
                    product_id=product_id,
                    store_id=store.id,
                    handle=f"p{product_id}",
                    direction="push",
                    operation_type="create",
                    changes={"title": {"old": None, "new": "x"}},
                )
            )
    loaded: list[object] = []

    def count(target: object, _context: object) -> None:
        loaded.append(target)

    headers = login(Role.VIEWER)
    for model in (Product, SyncStaging, Store):
        event.listen(model, "load", count)
    try:
        products = client.get("/api/products", headers=headers)
        changes = client.get("/api/enhanced-sync/staged-changes", headers=headers)
    finally:
        for model in (Product, SyncStaging, Store):
            event.remove(model, "load", count)
    assert (products.status_code, changes.status_code) == (200, 200)
    assert (products.json()["total"], changes.json()["total"]) == (4, 4)
    assert {item["vendor"] for item in changes.json()["items"]} == {
        "Swingline",
        "Avery",
        "BIC",
        "Pilot",
    }
    assert loaded == []
