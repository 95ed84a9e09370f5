"""POST /api/sync/plan: the planner's prediction for a push, made without Shopify and without
writing anything, and how close it comes to what the push then really spends in the emulator."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cowans.db.models import (
    JobState,
    Product,
    Role,
    StagedChangeStatus,
    StoreProduct,
    SyncHistory,
    SyncJob,
    SyncStaging,
)
from cowans.db.session import session_scope
from tests.emulator.conftest import RunningEmulator
from tests.jobs.conftest import job_finished, wait_for
from tests.sync.test_push_job import approved_store, connect_store, stage_and_approve

Login = Callable[[Role], dict[str, str]]
ZERO_PLAN = {
    "changes": 0,
    "predicted_cost": 0,
    "requests": 0,
    "bulk_operations": 0,
    "predicted_seconds": 0.0,
    "unplannable": 0,
}


def database_state(engine: Engine) -> dict[str, Any]:
    """Everything a push would touch: jobs, staged rows (status and owner), the store's bases,
    the history."""
    with session_scope(engine) as session:
        staged = session.execute(
            select(SyncStaging.id, SyncStaging.status, SyncStaging.sync_job_id).order_by(
                SyncStaging.id
            )
        ).all()
        bases = session.execute(
            select(StoreProduct.handle, StoreProduct.base, StoreProduct.shopify_product_id)
        ).all()
        return {
            "jobs": session.scalar(select(func.count()).select_from(SyncJob)),
            "history": session.scalar(select(func.count()).select_from(SyncHistory)),
            "staged": [tuple(row) for row in staged],
            "bases": sorted((row[0], str(row[1]), row[2]) for row in bases),
        }


def plan(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/sync/plan", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def push(client: TestClient, engine: Engine, headers: dict[str, str], **body: Any) -> SyncJob:
    started = client.post("/api/sync/start", json=body, headers=headers)
    assert started.status_code == 202, started.text
    job = wait_for(lambda: job_finished(engine, started.json()["job_id"]), "the push")
    assert job.state is JobState.COMPLETED, (job.error, job.result)
    return job


def assert_close(predicted: dict[str, Any], job: SyncJob) -> None:
    """Direct requests are predicted exactly; points within a tenth (Shopify charges the
    requested cost up front and refunds what a mutation did not use)."""
    assert job.result["total"] == predicted["changes"]
    assert job.result["requests"] == predicted["requests"]
    assert job.result["points"] <= predicted["predicted_cost"]
    assert job.result["points"] >= 0.9 * predicted["predicted_cost"]


@pytest.mark.parametrize(
    ("config", "kinds"),
    [
        ({"maxWorkers": 2, "strategy": "balanced", "batchSize": 4}, {"product_set": (12, 3)}),
        ({"maxWorkers": 4, "strategy": "speed", "batchSize": 1}, {"product_set": (12, 12)}),
    ],
)
def test_the_prediction_writes_nothing_and_matches_the_push(
    client: TestClient,
    engine: Engine,
    emulator: RunningEmulator,
    login: Login,
    config: dict[str, Any],
    kinds: dict[str, tuple[int, int]],
) -> None:
    store_id = approved_store(engine, emulator, 12)
    approver = login(Role.APPROVER)
    before = database_state(engine)
    predicted = plan(client, approver, config=config, store_id=store_id)
    assert database_state(engine) == before  # no job, no claim on the changes, no base
    assert emulator.shop().counters["requests"] == 0  # Shopify was not asked
    assert predicted["store_id"] == store_id
    assert predicted["changes"] == 12
    assert predicted["operations"] == {"create": 12, "update": 0, "delete": 0}
    assert predicted["strategy"] == config["strategy"]
    assert (predicted["bulk_operations"], predicted["unplannable"]) == (0, 0)
    assert predicted["workers"]["max"] == config["maxWorkers"]
    assert predicted["batch_size"] == config["batchSize"]
    assert {row["kind"]: (row["works"], row["steps"]) for row in predicted["by_kind"]} == kinds
    assert predicted["requests"] == predicted["steps"] == sum(s for _, s in kinds.values())
    assert predicted["predicted_cost"] > 0
    assert predicted["predicted_seconds"] > 0

    job = push(client, engine, approver, config=config, store_id=store_id)
    assert_close(predicted, job)
    assert job.result["applied"] == 12


def test_updates_are_predicted_from_the_stored_bases(
    client: TestClient, engine: Engine, emulator: RunningEmulator, login: Login
) -> None:
    """After a first push the store's bases and ids are known: an update of prices and stock
    is planned as variant and stock updates, as the push then sends them."""
    store_id = approved_store(engine, emulator, 6)
    approver = login(Role.APPROVER)
    push(client, engine, approver, store_id=store_id)
    with session_scope(engine) as session:
        for product in session.scalars(select(Product)):
            product.variants[0].price = Decimal("12.50")
            product.variants[0].inventory = {"MAIN": 9, "WEST": 1}
    assert stage_and_approve(engine, store_id) == 6
    config = {"maxWorkers": 3, "strategy": "balanced"}
    predicted = plan(client, approver, config=config, store_id=store_id)
    assert predicted["operations"] == {"create": 0, "update": 6, "delete": 0}
    assert predicted["unplannable"] == 0
    kinds = {row["kind"]: row["works"] for row in predicted["by_kind"]}
    assert kinds == {"variants": 6, "inventory": 6}
    job = push(client, engine, approver, config=config, store_id=store_id)
    assert_close(predicted, job)


def test_a_strategy_that_goes_bulk_says_so(
    client: TestClient, engine: Engine, emulator: RunningEmulator, login: Login
) -> None:
    store_id = approved_store(engine, emulator, 12)
    approver = login(Role.APPROVER)
    cost = plan(client, approver, config={"strategy": "cost"}, store_id=store_id)
    speed = plan(client, approver, config={"strategy": "speed"}, store_id=store_id)
    assert cost["bulk_operations"] == 1
    assert cost["requests"] == 4  # staged upload, start, and polls, as the planner counts them
    assert [row["bulk"] for row in cost["by_kind"]] == [True]
    assert speed["bulk_operations"] == 0
    assert cost["predicted_cost"] < speed["predicted_cost"]


def test_nothing_approved_is_a_plan_of_zeros(
    client: TestClient, engine: Engine, emulator: RunningEmulator, login: Login
) -> None:
    store_id = connect_store(engine, emulator)
    predicted = plan(client, login(Role.APPROVER), store_id=store_id)
    assert {key: predicted[key] for key in ZERO_PLAN} == ZERO_PLAN
    assert predicted["by_kind"] == []
    assert predicted["unplannable_changes"] == []


def test_only_approved_unapplied_changes_are_planned(
    client: TestClient, engine: Engine, emulator: RunningEmulator, login: Login
) -> None:
    store_id = approved_store(engine, emulator, 3)
    with session_scope(engine) as session:
        row = session.scalars(select(SyncStaging).order_by(SyncStaging.id)).first()
        assert row is not None
        row.status = StagedChangeStatus.PENDING
    predicted = plan(client, login(Role.APPROVER), store_id=store_id)
    assert predicted["changes"] == 2


def test_who_may_ask_and_which_store(
    client: TestClient, engine: Engine, emulator: RunningEmulator, login: Login
) -> None:
    connect_store(engine, emulator)
    editor = client.post("/api/sync/plan", json={}, headers=login(Role.EDITOR))
    assert editor.status_code == 403
    approver = login(Role.APPROVER)
    assert client.post("/api/sync/plan", json={}, headers=approver).status_code == 200  # the only
    missing = client.post("/api/sync/plan", json={"store_id": 999}, headers=approver)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "store_not_found"
    bad = client.post(
        "/api/sync/plan",
        json={"config": {"minWorkers": 0, "strategy": "fastest"}},
        headers=approver,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"]
