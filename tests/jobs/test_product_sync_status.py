"""Where each product stands with each store: the `sync_status` filter of `GET /api/products`,
each row's `sync_state`, the detail's per-store `sync`, and the same filter in batches."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cowans.catalog.queries import OPEN_CHANGE
from cowans.db.models import Role, StagedChangeStatus, Store, StoreProduct, SyncStaging
from cowans.db.session import session_scope
from cowans.sync.staging import OPEN
from tests.jobs.conftest import wait_for_batch

LoginHeaders = Callable[[Role], dict[str, str]]
AddProducts = Callable[..., list[int]]
PUSHED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def add_store(engine: Engine, name: str, active: bool = True) -> int:
    with session_scope(engine) as session:
        store = Store(
            name=name,
            shop_domain=f"{name.lower()}.myshopify.com",
            access_token="shpat_x",
            is_active=active,
        )
        session.add(store)
        session.flush()
        return store.id


def in_store(engine: Engine, store_id: int, product_id: int, **moments: Any) -> None:
    with session_scope(engine) as session:
        session.add(
            StoreProduct(
                store_id=store_id,
                product_id=product_id,
                handle=f"h-{store_id}-{product_id}",
                base={},
                **moments,
            )
        )


def change(
    engine: Engine, store_id: int, product_id: int, status: StagedChangeStatus, direction="push"
) -> int:
    with session_scope(engine) as session:
        row = SyncStaging(
            store_id=store_id,
            product_id=product_id,
            direction=direction,
            operation_type="update",
            changes={"title": {"old": "a", "new": "b"}},
            status=status,
            handle=f"h-{product_id}",
        )
        session.add(row)
        session.flush()
        return row.id


@pytest.fixture
def catalog(engine: Engine, add_products: AddProducts) -> dict[str, Any]:
    """Seven products and three stores (the third switched off), one of each situation."""
    a, b, off = (
        add_store(engine, "Alpha"),
        add_store(engine, "Beta"),
        add_store(engine, "Off", False),
    )
    ids = add_products(7)
    synced, pending, conflict, _never, closed, only_off, failed = ids
    in_store(engine, a, synced, pushed_at=PUSHED, pulled_at=PUSHED + timedelta(hours=1))
    in_store(engine, a, pending)
    open_id = change(engine, a, pending, StagedChangeStatus.APPROVED)
    change(engine, a, pending, StagedChangeStatus.PENDING)
    conflict_id = change(engine, b, conflict, StagedChangeStatus.CONFLICT, direction="pull")
    change(engine, b, conflict, StagedChangeStatus.PENDING)
    change(engine, b, closed, StagedChangeStatus.APPLIED)
    change(engine, b, closed, StagedChangeStatus.REJECTED)
    in_store(engine, b, closed, pushed_at=PUSHED)
    change(engine, off, only_off, StagedChangeStatus.PENDING)
    change(engine, a, failed, StagedChangeStatus.FAILED)
    return {
        "stores": (a, b, off),
        "ids": dict(
            zip(
                ("synced", "pending", "conflict", "never", "closed", "only_off", "failed"),
                ids,
                strict=True,
            )
        ),
        "open_id": open_id,
        "conflict_id": conflict_id,
    }


def listed(client: TestClient, headers: dict[str, str], **params: Any) -> dict[int, str]:
    response = client.get("/api/products", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"]: item["sync_state"] for item in response.json()["items"]}


def test_the_catalog_and_the_staging_agree_on_what_is_open() -> None:
    assert set(OPEN_CHANGE) == set(OPEN)


def test_sync_status_over_the_active_stores(
    client: TestClient, catalog: dict[str, Any], login: LoginHeaders
) -> None:
    ids, viewer = catalog["ids"], login(Role.VIEWER)
    assert listed(client, viewer) == {
        ids["synced"]: "synced",
        ids["pending"]: "pending",
        ids["conflict"]: "conflict",
        ids["never"]: "never_synced",
        ids["closed"]: "synced",
        ids["only_off"]: "never_synced",  # a switched-off store's changes count no more
        ids["failed"]: "pending",  # a failed push has not reached the store
    }
    by_status = {
        status: sorted(listed(client, viewer, sync_status=status))
        for status in ("pending", "conflict", "synced", "never_synced")
    }
    assert by_status == {
        "pending": sorted([ids["pending"], ids["conflict"], ids["failed"]]),
        "conflict": [ids["conflict"]],
        "synced": sorted([ids["synced"], ids["closed"]]),
        "never_synced": sorted([ids["never"], ids["only_off"]]),
    }
    combined = listed(client, viewer, sync_status="pending", query=f"Product {ids['failed']}")
    assert list(combined) == [ids["failed"]]


def test_sync_status_with_one_store(
    client: TestClient, catalog: dict[str, Any], login: LoginHeaders
) -> None:
    ids, viewer = catalog["ids"], login(Role.VIEWER)
    a, b, off = catalog["stores"]
    with_b = listed(client, viewer, store_id=b)
    assert with_b[ids["synced"]] == "never_synced"  # in Alpha, not in Beta
    assert with_b[ids["pending"]] == "never_synced"
    assert with_b[ids["conflict"]] == "conflict"
    assert with_b[ids["closed"]] == "synced"
    assert sorted(listed(client, viewer, store_id=b, sync_status="synced")) == [ids["closed"]]
    assert sorted(listed(client, viewer, store_id=a, sync_status="synced")) == [ids["synced"]]
    # Asked about by name, a switched-off store still answers for itself.
    assert list(listed(client, viewer, store_id=off, sync_status="pending")) == [ids["only_off"]]


def test_bad_sync_filters_are_4xx(
    client: TestClient, catalog: dict[str, Any], login: LoginHeaders
) -> None:
    viewer = login(Role.VIEWER)
    wrong = client.get("/api/products", params={"sync_status": "sometimes"}, headers=viewer)
    assert wrong.status_code == 422
    gone = client.get(
        "/api/products", params={"sync_status": "synced", "store_id": 9999}, headers=viewer
    )
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "store_not_found"


def test_the_detail_shows_each_store(
    client: TestClient, catalog: dict[str, Any], login: LoginHeaders
) -> None:
    ids, viewer = catalog["ids"], login(Role.VIEWER)
    a, b, off = catalog["stores"]

    def sync_of(key: str) -> dict[int, dict[str, Any]]:
        detail = client.get(f"/api/products/{ids[key]}", headers=viewer).json()
        return {row["store_id"]: row for row in detail["sync"]}

    synced = sync_of("synced")
    assert set(synced) == {a, b}  # the switched-off store has nothing of this product
    assert synced[a]["state"] == "synced"
    assert synced[a]["store_name"] == "Alpha"
    assert synced[a]["last_synced_at"].startswith("2026-03-01T13:00")  # the later of the two
    assert synced[a]["last_pushed_at"].startswith("2026-03-01T12:00")
    assert (synced[b]["state"], synced[b]["last_synced_at"]) == ("never_synced", None)

    pending = sync_of("pending")[a]
    assert pending["state"] == "pending"
    assert pending["open_changes"] == 2
    assert pending["open_change_id"] > catalog["open_id"]  # the newest of the two

    conflict = sync_of("conflict")[b]
    assert (conflict["state"], conflict["open_change_id"]) == ("conflict", catalog["conflict_id"])
    assert (conflict["open_change_status"], conflict["open_change_direction"]) == (
        "conflict",
        "pull",
    )

    only_off = sync_of("only_off")
    assert set(only_off) == {a, b, off}
    assert (only_off[off]["state"], only_off[off]["store_active"]) == ("pending", False)
    detail = client.get(f"/api/products/{ids['conflict']}", headers=viewer).json()
    assert detail["sync_state"] == "conflict"


def test_a_batch_selects_by_sync_status(
    client: TestClient, catalog: dict[str, Any], login: LoginHeaders
) -> None:
    editor = login(Role.EDITOR)
    body = {"operation": "export", "filter": {"sync_status": "never_synced"}}
    started = client.post("/api/batch/process", json=body, headers=editor)
    assert started.status_code == 202, started.text
    assert started.json()["total"] == 2
    assert wait_for_batch(client, started.json()["batch_id"], editor)["succeeded"] == 2
    gone = client.post(
        "/api/batch/process",
        json={"operation": "export", "filter": {"sync_status": "synced", "store_id": 9999}},
        headers=editor,
    )
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "store_not_found"
    wrong = client.post(
        "/api/batch/process",
        json={"operation": "export", "filter": {"sync_status": "often"}},
        headers=editor,
    )
    assert wrong.status_code == 422


def test_facets_and_sku_lookup(
    client: TestClient, add_products: AddProducts, login: LoginHeaders
) -> None:
    first, second, _ = add_products(3)
    add_products(1, vendor="BIC", product_type="Markers", status="draft")
    viewer = login(Role.VIEWER)
    facets = client.get("/api/products/facets", headers=viewer).json()
    assert facets == {
        "vendors": ["Acme", "BIC"],
        "product_types": ["Markers", "Pens"],
        "statuses": ["active", "draft"],
    }
    skus = [f"SKU-{second}", " ", f"SKU-{first}", "NOPE-1", f"SKU-{second}", "NOPE-2"]
    found = client.post("/api/products/lookup-skus", json={"skus": skus}, headers=viewer)
    assert found.status_code == 200, found.text
    assert found.json() == {
        "product_ids": [second, first],
        "found": 2,
        "missing": ["NOPE-1", "NOPE-2"],
        "missing_total": 2,
    }
    too_many = client.post(
        "/api/products/lookup-skus", json={"skus": ["x"] * 25_001}, headers=viewer
    )
    assert too_many.status_code == 422
