"""/api/batch: updates and deletes through the catalog, per-item results, cancel and retry.

Batches run on the app's real in-process workers; a test starts one and polls its status.
"""

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cowans.api.app import create_app
from cowans.config import Settings
from cowans.db.models import Product, ProductVersion, Role, SyncJob, User
from cowans.db.session import session_scope
from tests.conftest import PASSWORD
from tests.jobs.conftest import run_batch, wait_for_batch

Login = Callable[[Role], dict[str, str]]
AddProducts = Callable[..., list[int]]


def product(engine: Engine, product_id: int) -> Product:
    with session_scope(engine) as session:
        found = session.get(Product, product_id)
        assert found is not None
        _ = found.variants
        session.expunge_all()
        return found


def versions(engine: Engine, product_id: int) -> list[ProductVersion]:
    with session_scope(engine) as session:
        found = list(
            session.scalars(
                select(ProductVersion)
                .where(ProductVersion.product_id == product_id)
                .order_by(ProductVersion.version)
            )
        )
        session.expunge_all()
        return found


def price(engine: Engine, product_id: int) -> Decimal | None:
    return product(engine, product_id).variants[0].price


def user_id(client: TestClient, headers: dict[str, str]) -> int:
    return int(client.get("/api/auth/me", headers=headers).json()["id"])


def update(ids: list[int], **updates: Any) -> dict[str, Any]:
    return {"operation": "update", "product_ids": ids, "updates": updates}


@pytest.fixture
def editor(login: Login) -> dict[str, str]:
    return login(Role.EDITOR)


# Updates ----------------------------------------------------------------------------------------


def test_each_update_field_is_a_versioned_locked_edit(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    ids = add_products(2, tags=["office", "Sale"])
    cases: list[tuple[dict[str, Any], str, Any]] = [
        ({"status": "draft"}, "status", "draft"),
        ({"vendor": "BIC"}, "vendor", "BIC"),
        ({"product_type": "Markers"}, "product_type", "Markers"),
        ({"tags": ["new", "Office"], "tags_remove": ["sale"]}, "tags", ["new", "office"]),
        ({"price_adjust_percent": 10}, "price", Decimal("11.00")),
    ]
    for version, (updates, field, expected) in enumerate(cases, start=1):
        status = run_batch(client, update(ids, **updates), editor)
        assert (status["state"], status["total"], status["succeeded"], status["failed"]) == (
            "completed",
            2,
            2,
            0,
        ), status
        for product_id in ids:
            edited = product(engine, product_id)
            value = price(engine, product_id) if field == "price" else getattr(edited, field)
            assert value == expected, field
            assert edited.version == version
            assert set(versions(engine, product_id)[-1].changes) == {field}
            assert field in edited.locks
            assert edited.provenance[field]["source"] == "user"

    combined = {
        "status": "archived",
        "vendor": "Pilot",
        "product_type": "Pens",
        "tags": ["clearance"],
        "price_adjust_percent": -50,
    }
    status = run_batch(client, update(ids, **combined), editor)
    assert (status["succeeded"], status["errors"]) == (2, [])
    last = versions(engine, ids[0])[-1]
    assert last.version == 6  # one version for all the fields of one batch
    assert last.user_id == user_id(client, editor)
    assert last.source == "user"
    assert last.changes == {
        "status": ["draft", "archived"],
        "vendor": ["BIC", "Pilot"],
        "product_type": ["Markers", "Pens"],
        "tags": [["new", "office"], ["clearance", "new", "office"]],
        "price": ["11.00", "5.50"],
    }
    detail = client.get(f"/api/products/{ids[0]}", headers=editor).json()
    assert detail["locked_fields"] == ["price", "product_type", "status", "tags", "vendor"]


def test_price_adjustment_rounds_half_up_to_cents(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    cases = [
        ("19.99", 15, "22.99"),  # 22.9885
        ("1.15", 10, "1.27"),  # 1.265: half-even would give 1.26
        ("9.99", -12.5, "8.74"),  # 8.74125
        ("10.00", "0.1", "10.01"),  # 10.01 exactly, the percent sent as text
        ("10.00", -100, "0.00"),  # as low as a price may go
    ]
    for before, percent, after in cases:
        (product_id,) = add_products(1, price=before)
        status = run_batch(client, update([product_id], price_adjust_percent=percent), editor)
        assert status["succeeded"] == 1, status
        assert price(engine, product_id) == Decimal(after), (before, percent)


def test_tags_are_added_and_removed_ignoring_case(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    ids = add_products(2, tags=["Sale", "office", "Blue"])
    status = run_batch(
        client, update(ids, tags=["SALE", "new "], tags_remove=["blue", "absent"]), editor
    )
    assert status["succeeded"] == 2
    assert product(engine, ids[0]).tags == ["Sale", "new", "office"]


# Deletes ----------------------------------------------------------------------------------------


def test_delete_is_a_soft_delete_with_a_version(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    ids = add_products(3)
    status = run_batch(client, {"operation": "delete", "product_ids": ids[:2]}, editor)
    assert (status["state"], status["succeeded"], status["failed"]) == ("completed", 2, 0)

    listed = client.get("/api/products", headers=editor).json()
    assert [item["id"] for item in listed["items"]] == [ids[2]]
    assert client.get(f"/api/products/{ids[0]}", headers=editor).status_code == 404
    (version,) = versions(engine, ids[0])
    assert (version.changes, version.user_id) == (
        {"deleted": [False, True]},
        user_id(client, editor),
    )
    assert product(engine, ids[0]).deleted_at is not None

    again = run_batch(client, {"operation": "delete", "product_ids": ids[:1]}, editor)
    assert again["errors"] == [{"product_id": ids[0], "message": f"No product with id {ids[0]}."}]
    edit = run_batch(client, update(ids[:1], status="draft"), editor)
    assert (edit["state"], edit["failed"]) == ("completed", 1)


# Selections -------------------------------------------------------------------------------------


def test_a_filter_selects_like_the_product_list(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    chosen = add_products(3, vendor="BIC")
    others = [
        *add_products(2, vendor="BIC", status="draft"),
        *add_products(2, vendor="Pilot"),
    ]
    body = {
        "operation": "update",
        "filter": {"vendor": "BIC", "status": "active"},
        "updates": {"tags": ["bic-active"]},
    }
    started = client.post("/api/batch/process", json=body, headers=editor)
    assert started.status_code == 202, started.text
    assert started.json()["total"] == 3
    assert started.json()["batch_id"] == started.json()["job_id"]
    status = wait_for_batch(client, started.json()["batch_id"], editor)
    assert (status["succeeded"], status["operation"]) == (3, "update")
    assert all("bic-active" in product(engine, pid).tags for pid in chosen)
    assert not any("bic-active" in product(engine, pid).tags for pid in others)


def test_pasted_skus_select_their_products(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    ids = add_products(4)
    skus = [product(engine, ids[1]).variants[0].sku, "NOT-A-SKU"]
    skus.append(product(engine, ids[3]).variants[0].sku)
    body = {"operation": "update", "filter": {"skus": skus}, "updates": {"tags": ["pasted"]}}
    status = run_batch(client, body, editor)
    assert (status["state"], status["total"], status["succeeded"]) == ("completed", 2, 2)
    assert ["pasted" in product(engine, pid).tags for pid in ids] == [False, True, False, True]


def test_listed_ids_keep_their_order_and_unknown_ones_fail_alone(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    ids = add_products(3)
    body = update([ids[2], 999_999, ids[0], ids[2], 888_888], status="draft")
    status = run_batch(client, body, editor)
    assert (status["state"], status["total"], status["processed"]) == ("completed", 4, 4)
    assert (status["succeeded"], status["failed"]) == (2, 2)
    assert status["errors"] == [
        {"product_id": 999_999, "message": "No product with id 999999."},
        {"product_id": 888_888, "message": "No product with id 888888."},
    ]
    assert [product(engine, pid).status for pid in ids] == ["draft", "active", "draft"]


def test_several_thousand_ids_are_processed_in_chunks(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    ids = add_products(3_000)
    unknown = list(range(90_000_000, 90_000_150))
    status = run_batch(client, {"operation": "delete", "product_ids": [*ids, *unknown]}, editor)
    assert (status["state"], status["total"], status["processed"]) == ("completed", 3_150, 3_150)
    assert (status["succeeded"], status["failed"]) == (3_000, 150)
    assert [error["product_id"] for error in status["errors"]] == unknown[:100]  # the first 100
    assert client.get("/api/products", headers=editor).json()["total"] == 0
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(ProductVersion)) == 3_000


# Refusals ---------------------------------------------------------------------------------------


def invalid_requests(ids: list[int]) -> list[tuple[dict[str, Any], str]]:
    updates = {"status": "draft"}
    return [
        ({"operation": "archive", "product_ids": ids}, "unknown_operation"),
        ({"operation": "update", "updates": updates}, "no_selection"),
        ({"operation": "update", "product_ids": [], "updates": updates}, "empty_selection"),
        (
            {"operation": "update", "filter": {"vendor": "Nobody"}, "updates": updates},
            "empty_selection",
        ),
        (
            {"operation": "delete", "product_ids": ids, "filter": {"vendor": "Acme"}},
            "ambiguous_selection",
        ),
        ({"operation": "delete", "product_ids": list(range(1, 100_002))}, "too_many_ids"),
        ({"operation": "update", "product_ids": ids}, "no_updates"),
        ({"operation": "update", "product_ids": ids, "updates": {}}, "no_updates"),
        (update(ids, tags=[], tags_remove=[]), "no_updates"),
        (update(ids, status="deleted"), "invalid_update"),
        (update(ids, price_adjust_percent=-100.01), "invalid_update"),
        (update(ids, price_adjust_percent=1000.5), "invalid_update"),
        (update(ids, tags=["a,b"]), "invalid_update"),
        (update(ids, tags=["  "]), "invalid_update"),
        (update(ids, tags=["Sale"], tags_remove=["sale"]), "invalid_update"),
        (update(ids, vendor=""), "validation_error"),
        (update(ids, title="New title"), "validation_error"),
        (update(ids, price_adjust_percent="NaN"), "validation_error"),
        ({**update(ids, status="draft"), "format": "csv"}, "format_not_allowed"),
        ({"operation": "delete", "product_ids": ids, "updates": updates}, "updates_not_allowed"),
        ({"operation": "export", "product_ids": ids, "updates": updates}, "updates_not_allowed"),
        ({"operation": "export", "product_ids": ids, "format": "pdf"}, "invalid_format"),
        ({"operation": "delete", "product_ids": [0]}, "validation_error"),
        ({"operation": "delete", "product_ids": [2**31]}, "validation_error"),
        ({"operation": "delete", "product_ids": ["1"]}, "validation_error"),
        ({"operation": "delete", "filter": {"sync_status": "sometimes"}}, "validation_error"),
        ({"operation": "delete", "filter": {"colour": "red"}}, "validation_error"),
        ({"operation": "delete", "product_ids": ids, "selection": "all"}, "validation_error"),
    ]


def test_invalid_requests_are_refused_before_anything_is_queued(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    ids = add_products(2)
    for body, code in invalid_requests(ids):
        response = client.post("/api/batch/process", json=body, headers=editor)
        assert response.status_code == 422, (body, response.text)
        error = response.json()["error"]
        assert (error["code"], bool(error["message"])) == (code, True), body
    refused = client.post("/api/batch/process", content=b"{not json", headers=editor)
    assert refused.status_code == 422
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(SyncJob)) == 0


def test_push_takes_an_approver_and_an_update_or_delete(
    client: TestClient, login: Login, add_products: AddProducts
) -> None:
    ids = add_products(1)
    body = {**update(ids, status="draft"), "push": True}
    refused = client.post("/api/batch/process", json=body, headers=login(Role.EDITOR))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "push_not_allowed")
    export = {"operation": "export", "product_ids": ids, "push": True}
    refused = client.post("/api/batch/process", json=export, headers=login(Role.APPROVER))
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "push_needs_update")


def test_roles(client: TestClient, login: Login, add_products: AddProducts) -> None:
    viewer, editor = login(Role.VIEWER), login(Role.EDITOR)
    body = update(add_products(1), status="draft")
    assert client.post("/api/batch/process", json=body).status_code == 401
    assert client.post("/api/batch/process", json=body, headers=viewer).status_code == 403
    batch_id = run_batch(client, body, editor)["batch_id"]
    assert client.get(f"/api/batch/status/{batch_id}", headers=viewer).status_code == 200
    for action in ("cancel", "retry"):
        response = client.post(f"/api/batch/{action}/{batch_id}", headers=viewer)
        assert response.status_code == 403, action


# Cancel and retry -------------------------------------------------------------------------------


def headers_for(client: TestClient, make_user: Callable[..., User], role: Role) -> dict[str, str]:
    user = make_user(role)
    response = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def idle_client(settings: Settings) -> Iterator[TestClient]:
    """An app whose process runs no jobs, so a batch stays queued."""
    with TestClient(create_app(settings.model_copy(update={"job_workers": 0}))) as client:
        yield client


def test_a_queued_batch_can_be_cancelled_and_never_starts(
    idle_client: TestClient,
    make_user: Callable[..., User],
    add_products: AddProducts,
    engine: Engine,
    settings: Settings,
) -> None:
    client = idle_client
    editor = headers_for(client, make_user, Role.EDITOR)
    ids = add_products(2)
    started = client.post("/api/batch/process", json=update(ids, status="draft"), headers=editor)
    assert started.status_code == 202, started.text
    batch_id = started.json()["batch_id"]
    status = client.get(f"/api/batch/status/{batch_id}", headers=editor).json()
    assert (status["state"], status["total"], status["processed"]) == ("queued", 2, 0)
    retried = client.post(f"/api/batch/retry/{batch_id}", headers=editor)
    assert (retried.status_code, retried.json()["error"]["code"]) == (409, "batch_not_finished")

    cancelled = client.post(f"/api/batch/cancel/{batch_id}", headers=editor)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["batch_id"], cancelled.json()["state"]) == (batch_id, "cancelled")

    # A process with workers now takes the queue: the cancelled batch is never started.
    with TestClient(create_app(settings)) as workers:
        later = run_batch(workers, update(ids[:1], vendor="Later"), editor)
        assert later["state"] == "completed"
        status = workers.get(f"/api/batch/status/{batch_id}", headers=editor).json()
    assert (status["state"], status["processed"], status["started_at"]) == ("cancelled", 0, None)
    assert [product(engine, pid).status for pid in ids] == ["active", "active"]


def test_cancelling_an_ended_or_unknown_batch(
    client: TestClient, editor: dict[str, str], add_products: AddProducts
) -> None:
    batch_id = run_batch(client, update(add_products(1), status="draft"), editor)["batch_id"]
    ended = client.post(f"/api/batch/cancel/{batch_id}", headers=editor)
    assert (ended.status_code, ended.json()["error"]["code"]) == (409, "job_finished")
    for path in ("/api/batch/cancel/424242", "/api/batch/retry/424242"):
        response = client.post(path, headers=editor)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "batch_not_found")
    unknown = client.get("/api/batch/status/424242", headers=editor)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "batch_not_found")


def test_retry_runs_the_failed_items_again_and_only_those(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    priced = add_products(3, price="10.00")
    unpriced = add_products(2, price=None)
    body = update([*priced, *unpriced], status="draft", price_adjust_percent=10)
    status = run_batch(client, body, editor)
    assert (status["state"], status["succeeded"], status["failed"]) == ("completed", 3, 2)
    assert status["errors"] == [
        {"product_id": pid, "message": f"Product {pid} has no price, so there is none to adjust."}
        for pid in unpriced
    ]
    assert [product(engine, pid).status for pid in unpriced] == ["active", "active"]

    for pid in unpriced:  # a person gives them a price
        edited = client.patch(f"/api/products/{pid}", json={"price": "5.00"}, headers=editor)
        assert edited.status_code == 200, edited.text
    retried = client.post(f"/api/batch/retry/{status['batch_id']}", headers=editor)
    assert retried.status_code == 202, retried.text
    assert retried.json()["retried"] == 2
    status = wait_for_batch(client, status["batch_id"], editor)
    assert (status["state"], status["total"], status["succeeded"], status["failed"]) == (
        "completed",
        5,
        5,
        0,
    )
    assert status["errors"] == []
    assert [price(engine, pid) for pid in unpriced] == [Decimal("5.50")] * 2
    assert [price(engine, pid) for pid in priced] == [Decimal("11.00")] * 3  # not raised twice
    assert [len(versions(engine, pid)) for pid in priced] == [1, 1, 1]
    assert [len(versions(engine, pid)) for pid in unpriced] == [2, 2]

    nothing = client.post(f"/api/batch/retry/{status['batch_id']}", headers=editor)
    assert (nothing.status_code, nothing.json()["error"]["code"]) == (409, "nothing_to_retry")


def test_recent_batches_are_listed_by_their_kind_prefix(
    client: TestClient, editor: dict[str, str], add_products: AddProducts, engine: Engine
) -> None:
    ids = add_products(2)
    exported = run_batch(client, {"operation": "export", "product_ids": ids}, editor)
    updated = run_batch(client, update(ids, status="draft"), editor)
    with session_scope(engine) as session:
        session.add(SyncJob(kind="import.etilize", config={}, state="completed"))
    listed = client.get("/api/jobs", params={"kind_prefix": "batch."}, headers=editor).json()
    assert [(job["id"], job["kind"]) for job in listed["items"]] == [
        (updated["batch_id"], "batch.update"),
        (exported["batch_id"], "batch.export"),
    ]
    assert listed["total"] == 2
    assert listed["items"][1]["config"]["format"] == "csv"
    # The prefix is literal: a wildcard in it matches nothing.
    wild = client.get("/api/jobs", params={"kind_prefix": "%"}, headers=editor).json()
    assert wild["total"] == 0
