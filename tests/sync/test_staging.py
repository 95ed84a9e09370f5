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
from cowans.sync.review import StagedFilter, product_facts, review_page
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


def test_a_failed_push_change_approved_again_goes_with_the_next_push(
    client: TestClient, engine: Engine, login: Login
) -> None:
    """Once the cause is fixed (in Shopify, or it was passing), approving a failed change is
    the retry: it is approved again, without the old reason; rejecting it stays possible."""
    seed(engine, 2)
    approver = login(Role.APPROVER)
    client.post("/api/sync/staged", json={}, headers=approver)
    decided = client.post(
        "/api/enhanced-sync/approve-changes",
        json={"all_pending": True, "decision": "approve"},
        headers=approver,
    )
    assert decided.json()["approved"] == 2
    with session_scope(engine) as session:  # what a push writes when Shopify refuses a change
        first, second = open_changes(session)
        first.status = second.status = StagedChangeStatus.FAILED
        first.error = second.error = "Shopify: Price must be a valid non-negative amount"
        first_id, second_id = first.id, second.id

    retried = client.post(
        "/api/enhanced-sync/approve-changes",
        json={"ids": [first_id], "decision": "approve"},
        headers=approver,
    )
    assert retried.status_code == 200, retried.text
    assert (retried.json()["approved"], retried.json()["skipped"]) == (1, 0)
    dropped = client.post(
        "/api/enhanced-sync/approve-changes",
        json={"ids": [second_id], "decision": "reject"},
        headers=approver,
    )
    assert dropped.json()["rejected"] == 1
    with session_scope(engine) as session:
        first, second = open_changes(session)
        assert (first.status, first.error) == (StagedChangeStatus.APPROVED, None)
        assert first.approved_by is not None
        assert second.status is StagedChangeStatus.REJECTED


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


# The review list: filters, facets, product facts, and decisions over a filter -----------------


def seed_catalog(engine: Engine) -> None:
    """Two stores; six staplers of Acme, two folders of Bolt (one with "50%" in its title)."""
    with session_scope(engine) as session:
        add_store(session)
        add_store(session, name="Other")
        for number in range(8):
            product = add_product(session, number)
            if number >= 6:
                product.vendor, product.product_type = "Bolt", "Folders"
                product.title = "Folder 50% off" if number == 7 else f"Folder {number}"


def stage_all(client: TestClient, headers: dict[str, str], store_id: int = 1) -> None:
    response = client.post("/api/sync/staged", json={"store_id": store_id}, headers=headers)
    assert response.status_code == 200, response.text


def listed(client: TestClient, headers: dict[str, str], **query: object) -> dict:
    response = client.get("/api/enhanced-sync/staged-changes", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_review_list_filters_by_product_and_text_and_carries_the_product(
    client: TestClient, engine: Engine, login: Login
) -> None:
    seed_catalog(engine)
    editor = login(Role.EDITOR)
    stage_all(client, editor)
    everything = listed(client, editor)
    assert everything["total"] == 8
    first = everything["items"][0]
    assert (first["title"], first["vendor"], first["product_type"]) == (
        "Stapler 0",
        "Acme",
        "Staplers",
    )
    assert everything["max_id"] == max(item["id"] for item in everything["items"])

    bolt = listed(client, editor, vendor="Bolt")
    assert [item["handle"] for item in bolt["items"]] == ["stapler-6", "stapler-7"]
    assert listed(client, editor, product_type="Staplers", vendor="Bolt")["total"] == 0
    assert listed(client, editor, product_type="Folders")["total"] == 2
    # The text search: a SKU, a title, a handle; case-insensitive, % taken literally.
    assert [i["handle"] for i in listed(client, editor, query="acm-3")["items"]] == ["stapler-3"]
    assert [i["handle"] for i in listed(client, editor, query="50%")["items"]] == ["stapler-7"]
    assert listed(client, editor, query="stapler-")["total"] == 8
    assert listed(client, editor, query="folder")["total"] == 2
    assert listed(client, editor, query="no such thing")["total"] == 0
    assert listed(client, editor, operation_type="create")["total"] == 8
    assert listed(client, editor, operation_type="update")["total"] == 0
    assert listed(client, editor, store_id=2)["total"] == 0
    assert listed(client, editor, direction="pull")["total"] == 0
    # The other list of the same changes carries the product too.
    other = client.get("/api/sync/staged?limit=1", headers=editor).json()["items"][0]
    assert (other["title"], other["vendor"]) == ("Stapler 0", "Acme")

    # Pages of a filtered list: the total counts every match, the cursor moves on.
    page = listed(client, editor, vendor="Acme", limit=4)
    assert (page["total"], len(page["items"])) == (6, 4)
    rest = listed(client, editor, vendor="Acme", limit=4, cursor=page["next_cursor"])
    assert [i["handle"] for i in rest["items"]] == ["stapler-4", "stapler-5"]
    assert rest["next_cursor"] is None

    bad = client.get("/api/enhanced-sync/staged-changes?direction=sideways", headers=editor)
    assert bad.status_code == 422
    too_long = client.get(f"/api/enhanced-sync/staged-changes?query={'x' * 201}", headers=editor)
    assert too_long.status_code == 422


def test_the_facets_count_vendors_and_types_each_ignoring_its_own_filter(
    client: TestClient, engine: Engine, login: Login
) -> None:
    seed_catalog(engine)
    viewer, editor = login(Role.VIEWER), login(Role.EDITOR)
    stage_all(client, editor)
    url = "/api/enhanced-sync/staged-changes/facets"
    found = client.get(url, headers=viewer).json()
    assert found == {
        "vendors": [{"value": "Acme", "count": 6}, {"value": "Bolt", "count": 2}],
        "product_types": [{"value": "Staplers", "count": 6}, {"value": "Folders", "count": 2}],
    }
    narrowed = client.get(url, params={"vendor": "Bolt"}, headers=viewer).json()
    assert narrowed["vendors"] == found["vendors"]  # the vendor menu still offers Acme
    assert narrowed["product_types"] == [{"value": "Folders", "count": 2}]
    assert client.get(url, params={"status": "approved"}, headers=viewer).json() == {
        "vendors": [],
        "product_types": [],
    }


def test_a_decision_over_a_filter_takes_what_the_list_showed_and_no_more(
    client: TestClient, engine: Engine, login: Login
) -> None:
    seed_catalog(engine)
    editor, approver = login(Role.EDITOR), login(Role.APPROVER)
    stage_all(client, editor)
    shown = listed(client, editor, vendor="Acme", status="pending")
    assert shown["total"] == 6
    conflict_id = shown["items"][0]["id"]
    with session_scope(engine) as session:
        row = session.get(SyncStaging, conflict_id)
        assert row is not None
        row.status, row.conflict_fields = StagedChangeStatus.CONFLICT, ["title"]
        row.changes = {"title": {"old": "A", "new": "B", "remote": "C"}}
        # Staged after the person looked: a new Acme product.
        store = session.get(Store, 1)
        assert store is not None
        stage_push(session, store, product_ids=[add_product(session, 20).id])

    decide = "/api/enhanced-sync/approve-changes"
    body = {"decision": "approve", "filter": {"vendor": "Acme", "max_id": shown["max_id"]}}
    refused = client.post(decide, json=body, headers=editor)
    assert refused.status_code == 403
    outcome = client.post(decide, json=body, headers=approver)
    assert outcome.status_code == 200, outcome.text
    # Five pending approved; the conflict has no resolution and stays one; the newcomer waits.
    assert outcome.json() == {
        "approved": 5,
        "rejected": 0,
        "unresolved_conflicts": 1,
        "skipped": 0,
    }
    assert listed(client, editor, status="conflict")["items"][0]["id"] == conflict_id
    newcomer = listed(client, editor, query="stapler-20")["items"][0]
    assert newcomer["status"] == "pending"
    assert listed(client, editor, vendor="Bolt", status="pending")["total"] == 2

    # The same filter again with a resolution for the conflict: only the conflict moves.
    again = client.post(
        decide,
        json={**body, "resolutions": {str(conflict_id): {"title": "local"}}},
        headers=approver,
    )
    assert again.json()["approved"] == 1
    assert again.json()["unresolved_conflicts"] == 0

    # Rejecting by filter reaches approved changes too (not yet pushed); a repeat finds none.
    rejected = client.post(
        decide,
        json={"decision": "reject", "filter": {"query": "folder", "status": "pending"}},
        headers=approver,
    )
    assert rejected.json()["rejected"] == 2
    everything_acme = {"decision": "reject", "filter": {"vendor": "Acme"}}
    assert client.post(decide, json=everything_acme, headers=approver).json()["rejected"] == 7
    assert client.post(decide, json=everything_acme, headers=approver).json()["rejected"] == 0


def test_a_decision_names_its_changes_one_way_only(
    client: TestClient, engine: Engine, login: Login
) -> None:
    seed_catalog(engine)
    approver = login(Role.APPROVER)
    stage_all(client, approver)
    [first] = listed(client, approver, limit=1)["items"]
    decide = "/api/enhanced-sync/approve-changes"
    for selection in ({"ids": [first["id"]]}, {"all_pending": True}):
        both = client.post(
            decide,
            json={"decision": "approve", "filter": {"vendor": "Acme"}, **selection},
            headers=approver,
        )
        assert both.status_code == 422
        assert both.json()["error"]["code"] == "ambiguous_selection"
    unknown_key = client.post(
        decide, json={"decision": "approve", "filter": {"brand": "Acme"}}, headers=approver
    )
    assert unknown_key.status_code == 422  # never silently widened to everything
    assert listed(client, approver, status="pending")["total"] == 8


def test_a_change_without_a_catalog_product_shows_what_it_carries(session: Session) -> None:
    store = add_store(session)
    row = SyncStaging(
        store_id=store.id,
        direction="pull",
        operation_type="create",
        handle="hand-made",
        changes={
            "title": {"old": None, "new": "Hand-made Folder"},
            "vendor": {"old": None, "new": "Cowan's"},
        },
    )
    session.add(row)
    session.flush()
    facts = product_facts(row)
    assert (facts.title, facts.vendor, facts.product_type) == ("Hand-made Folder", "Cowan's", "")
    found, total, _, _ = review_page(session, StagedFilter(query="hand-made"), 10, None)
    assert ([r.id for r in found], total) == ([row.id], 1)
    assert review_page(session, StagedFilter(vendor="Cowan's"), 10, None)[1] == 0


@pytest.mark.parametrize(
    ("name", "typed", "accepted"),
    [
        ("variants.ACM-0.price", "abc", None),
        ("variants.ACM-0.price", "-3", None),
        ("variants.ACM-0.price", " 13.50 ", "13.5"),
        ("variants.ACM-0.inventory.Main warehouse", "many", None),
        ("variants.ACM-0.inventory.Main warehouse", "7", 7),
        ("tags", "office, red", None),
        ("tags", ["red", "office", "red"], ["office", "red"]),
        ("title", 5, None),
        ("status", "gone", None),
    ],
)
def test_an_entered_value_is_checked_before_it_goes_anywhere(
    client: TestClient, engine: Engine, login: Login, name: str, typed: object, accepted: object
) -> None:
    with session_scope(engine) as session:
        store = add_store(session)
        product = add_product(session, 0)
        as_pushed(session, store, product)
        product.title = "Stapler Zero"
        stage_push(session, store)
        row = session.scalars(select(SyncStaging)).one()
        row.status, row.conflict_fields = StagedChangeStatus.CONFLICT, [name]
        row.changes = {name: {"old": "1", "new": "2", "remote": "3"}}
        row_id = row.id
    response = client.post(
        "/api/enhanced-sync/approve-changes",
        json={
            "ids": [row_id],
            "decision": "approve",
            "resolutions": {str(row_id): {name: {"value": typed}}},
        },
        headers=login(Role.APPROVER),
    )
    with session_scope(engine) as session:
        row = session.get(SyncStaging, row_id)
        assert row is not None
        if accepted is None:
            assert response.status_code == 422, response.text
            error = response.json()["error"]
            assert error["code"] == "invalid_resolution"
            assert error["message"].startswith(f"Change {row_id} (stapler-0), {name}: enter ")
            assert row.status is StagedChangeStatus.CONFLICT  # nothing half-done
        else:
            assert response.json()["approved"] == 1, response.text
            assert row.changes[name]["new"] == accepted
