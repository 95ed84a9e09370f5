"""Staging pushes against a store's base, approval rules, and the review API."""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cowans.db.models import (
    Product,
    ProductImage,
    ProductMetafield,
    ProductVariant,
    Role,
    StagedChangeStatus,
    Store,
    StoreProduct,
    SyncStaging,
)
from cowans.db.session import session_scope
from cowans.sync import snapshots
from cowans.sync.staging import stage_push

Login = Callable[[Role], dict[str, str]]


def add_store(session: Session, rules: list[dict] | None = None, name: str = "Demo") -> Store:
    store = Store(
        name=name,
        shop_domain=f"{name.lower()}.myshopify.com",
        access_token="shpat_secret",
        location_map={"MAIN": "Main warehouse"},
        approval_rules=rules or [],
    )
    session.add(store)
    session.flush()
    return store


def add_product(session: Session, number: int, price: str = "10.00") -> Product:
    product = Product(
        handle=f"stapler-{number}",
        title=f"Stapler {number}",
        vendor="Acme",
        product_type="Staplers",
        tags=["office"],
        variants=[
            ProductVariant(
                sku=f"ACM-{number}", price=Decimal(price), inventory={"MAIN": 5, "WEST": 2}
            )
        ],
        images=[ProductImage(src=f"https://img.example/{number}.jpg", position=1, alt_text="")],
        metafields=[
            ProductMetafield(
                namespace="custom", key="color", type="list.single_line_text_field", value=["Red"]
            )
        ],
    )
    session.add(product)
    session.flush()
    return product


def as_pushed(session: Session, store: Store, product: Product) -> None:
    """Record the product's current state as the store's base, as a push would."""
    desired = snapshots.desired_snapshot(product, store.location_map)
    session.add(
        StoreProduct(
            store_id=store.id,
            product_id=product.id,
            handle=product.handle,
            shopify_product_id=f"gid://shopify/Product/{product.id}",
            base=snapshots.to_json(desired),
            pushed_at=datetime.now(UTC),
        )
    )
    session.flush()


def open_changes(session: Session) -> list[SyncStaging]:
    return list(session.scalars(select(SyncStaging).order_by(SyncStaging.id)))


def test_a_product_the_store_lacks_is_a_create_with_every_field(session: Session) -> None:
    store = add_store(session)
    product = add_product(session, 1)
    result = stage_push(session, store)
    assert (result.staged, result.operations["create"]) == (1, 1)
    [change] = open_changes(session)
    assert (change.operation_type, change.status, change.handle) == (
        "create",
        StagedChangeStatus.PENDING,
        "stapler-1",
    )
    assert change.changes["title"] == {"old": None, "new": "Stapler 1"}
    assert change.changes["variants.ACM-1.price"] == {"old": None, "new": "10"}
    # Xorosoft's MAIN is the store's "Main warehouse"; an unmapped location keeps its name.
    assert change.changes["variants.ACM-1.inventory.Main warehouse"]["new"] == 5
    assert change.changes["variants.ACM-1.inventory.WEST"]["new"] == 2
    assert change.changes["metafields.custom.color"]["new"] == '["Red"]'
    assert snapshots.from_json(change.desired) == snapshots.desired_snapshot(
        product, store.location_map
    )


def test_an_unchanged_product_stages_nothing_and_withdraws_its_open_change(
    session: Session,
) -> None:
    store = add_store(session)
    product = add_product(session, 1)
    stage_push(session, store)
    as_pushed(session, store, product)
    result = stage_push(session, store)
    assert (result.staged, result.unchanged) == (0, 1)
    assert open_changes(session) == []


def test_an_update_lists_only_the_fields_that_moved(session: Session) -> None:
    store = add_store(session)
    product = add_product(session, 1)
    as_pushed(session, store, product)
    product.variants[0].price = Decimal("12.50")
    product.title = "Stapler One"
    stage_push(session, store)
    [change] = open_changes(session)
    assert change.operation_type == "update"
    assert change.changes == {
        "title": {"old": "Stapler 1", "new": "Stapler One"},
        "variants.ACM-1.price": {"old": "10", "new": "12.5"},
    }


def test_restaging_keeps_a_decision_for_the_same_change_and_drops_it_for_a_new_one(
    session: Session,
) -> None:
    store = add_store(session)
    product = add_product(session, 1)
    as_pushed(session, store, product)
    product.title = "Stapler One"
    stage_push(session, store)
    [change] = open_changes(session)
    change.status = StagedChangeStatus.APPROVED
    assert stage_push(session, store).kept == 1
    assert open_changes(session)[0].status is StagedChangeStatus.APPROVED

    product.title = "Stapler Uno"
    stage_push(session, store)
    [fresh] = open_changes(session)
    assert fresh.status is StagedChangeStatus.PENDING
    assert fresh.changes["title"]["new"] == "Stapler Uno"


def test_a_deleted_product_is_a_delete_only_if_the_store_has_it(session: Session) -> None:
    store = add_store(session)
    pushed, never_pushed = add_product(session, 1), add_product(session, 2)
    as_pushed(session, store, pushed)
    stage_push(session, store)  # a create for the second
    for product in (pushed, never_pushed):
        product.deleted_at = datetime.now(UTC)
    stage_push(session, store)
    [change] = open_changes(session)
    assert (change.product_id, change.operation_type) == (pushed.id, "delete")


@pytest.mark.parametrize(
    ("rules", "new_price", "stock", "expected"),
    [
        ([], "10.00", 9, None),
        ([{"kind": "stock_only"}], "10.00", 9, "rule:stock only"),
        ([{"kind": "stock_only"}], "10.50", 9, None),
        ([{"kind": "price_within_percent", "percent": 20}], "11.50", 5, "rule:price within 20%"),
        ([{"kind": "price_within_percent", "percent": 20}], "12.50", 5, None),
    ],
)
def test_approval_rules_approve_only_what_they_cover(
    session: Session, rules: list[dict], new_price: str, stock: int, expected: str | None
) -> None:
    store = add_store(session, rules)
    product = add_product(session, 1)
    as_pushed(session, store, product)
    product.variants[0].price = Decimal(new_price)
    product.variants[0].inventory = {"MAIN": stock, "WEST": 2}
    stage_push(session, store)
    [change] = open_changes(session)
    assert change.approval_rule == expected
    assert change.status is (
        StagedChangeStatus.APPROVED if expected else StagedChangeStatus.PENDING
    )


def test_creates_and_deletes_always_wait_for_a_person(session: Session) -> None:
    store = add_store(
        session, [{"kind": "stock_only"}, {"kind": "price_within_percent", "percent": 100}]
    )
    add_product(session, 1)
    stage_push(session, store)
    assert open_changes(session)[0].status is StagedChangeStatus.PENDING


# The API ----------------------------------------------------------------------------------------


def seed(engine: Engine, count: int) -> None:
    with session_scope(engine) as session:
        add_store(session)
        for number in range(count):
            add_product(session, number)


def test_staging_listing_and_deciding_through_the_api(
    client: TestClient, engine: Engine, login: Login
) -> None:
    seed(engine, 7)
    editor, approver = login(Role.EDITOR), login(Role.APPROVER)
    staged = client.post("/api/sync/staged", json={}, headers=editor)
    assert staged.status_code == 200, staged.text
    assert staged.json()["staged"] == 7
    assert staged.json()["operations"] == {"create": 7, "update": 0, "delete": 0}

    first = client.get("/api/sync/staged?limit=5", headers=editor).json()
    assert (first["total"], len(first["items"])) == (7, 5)
    rest = client.get(f"/api/sync/staged?limit=5&cursor={first['next_cursor']}", headers=editor)
    assert len(rest.json()["items"]) == 2
    assert rest.json()["next_cursor"] is None
    ids = [item["id"] for item in first["items"]]

    refused = client.post(
        "/api/enhanced-sync/approve-changes",
        json={"ids": ids, "decision": "approve"},
        headers=editor,
    )
    assert refused.status_code == 403
    approved = client.post(
        "/api/enhanced-sync/approve-changes",
        json={"ids": ids[:3], "decision": "approve"},
        headers=approver,
    )
    assert approved.json() == {
        "approved": 3,
        "rejected": 0,
        "unresolved_conflicts": 0,
        "skipped": 0,
    }
    rejected = client.post(
        "/api/enhanced-sync/approve-changes",
        json={"ids": [ids[3]], "decision": "reject"},
        headers=approver,
    )
    assert rejected.json()["rejected"] == 1
    rest_approved = client.post(
        "/api/enhanced-sync/approve-changes",
        json={"all_pending": True, "decision": "approve"},
        headers=approver,
    )
    assert rest_approved.json()["approved"] == 3

    status = client.get("/api/enhanced-sync/status", headers=editor).json()
    assert status["staged"]["approved"] == 6
    assert status["staged"]["rejected"] == 1
    assert status["stores"][0]["name"] == "Demo"
    listed = client.get("/api/enhanced-sync/staged-changes?status=rejected", headers=editor).json()
    assert [item["id"] for item in listed["items"]] == [ids[3]]
    assert listed["items"][0]["approved_by"] is not None


def test_review_api_errors_are_clear(client: TestClient, engine: Engine, login: Login) -> None:
    approver = login(Role.APPROVER)
    none = client.post("/api/sync/staged", json={}, headers=approver)
    assert none.status_code == 422
    assert none.json()["error"]["code"] == "store_required"
    with session_scope(engine) as session:
        add_store(session, name="One")
        add_store(session, name="Two")
    several = client.post("/api/sync/staged", json={}, headers=approver)
    assert several.json()["error"]["code"] == "store_required"
    assert (
        client.post("/api/sync/staged", json={"store_id": 999}, headers=approver).status_code == 404
    )
    unknown = client.post(
        "/api/enhanced-sync/approve-changes",
        json={"ids": [42], "decision": "approve"},
        headers=approver,
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "staged_change_not_found"
    nothing = client.post(
        "/api/enhanced-sync/approve-changes", json={"decision": "approve"}, headers=approver
    )
    assert nothing.json()["error"]["code"] == "nothing_selected"
    bad = client.post(
        "/api/enhanced-sync/approve-changes",
        json={"ids": [1], "decision": "maybe"},
        headers=approver,
    )
    assert bad.status_code == 422


def test_an_import_stages_its_changes_for_every_active_store(
    client: TestClient, engine: Engine, login: Login
) -> None:
    from tests.integration.test_imports import SAMPLES, upload
    from tests.jobs.conftest import wait_for

    with session_scope(engine) as session:
        add_store(session)
    editor = login(Role.EDITOR)
    for kind, name in (("xorosoft", "xorosoft_sample.csv"), ("etilize", "etilize_sample.csv")):
        assert upload(client, kind, (SAMPLES / name).read_bytes(), name, editor)["state"] == (
            "completed"
        )

    def etilize_job() -> dict | None:
        [job] = client.get("/api/jobs?kind=import.etilize", headers=editor).json()["items"]
        return job if job["state"] == "completed" else None

    job = wait_for(etilize_job, "the import job, staging included")
    products = client.get("/api/products", headers=editor).json()["total"]
    assert products > 0
    assert job["result"]["staged"] == {"Demo": products}
    staged = client.get("/api/sync/staged", headers=editor).json()
    assert staged["total"] == products
    assert {item["operation_type"] for item in staged["items"]} == {"create"}


def test_approval_rules_are_set_per_store_by_an_admin(
    client: TestClient, engine: Engine, login: Login
) -> None:
    with session_scope(engine) as session:
        store_id = add_store(session).id
    admin, approver = login(Role.ADMIN), login(Role.APPROVER)
    url = f"/api/shopify/stores/{store_id}/approval-rules"
    rules = {"rules": [{"kind": "stock_only"}, {"kind": "price_within_percent", "percent": 20}]}
    assert client.put(url, json=rules, headers=approver).status_code == 403
    response = client.put(url, json=rules, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["approval_rules"] == rules["rules"]
    missing_percent = client.put(
        url, json={"rules": [{"kind": "price_within_percent"}]}, headers=admin
    )
    assert missing_percent.status_code == 422
    assert missing_percent.json()["error"]["code"] == "invalid_approval_rule"
    assert client.put(url, json={"rules": [{"kind": "always"}]}, headers=admin).status_code == 422
    assert client.put(url, json={"rules": []}, headers=admin).json()["approval_rules"] == []
