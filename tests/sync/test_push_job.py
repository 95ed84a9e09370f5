"""Push jobs end to end: staged, approved changes sent to the Shopify emulator over HTTP by a job
worker, outcomes recorded, and the store's base updated so the next staging sees no change."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select

from cowans.auth.service import create_user
from cowans.db.models import (
    JobState,
    Product,
    Role,
    StagedChangeStatus,
    Store,
    StoreProduct,
    SyncHistory,
    SyncStaging,
    User,
)
from cowans.db.session import session_scope
from cowans.jobs import push as push_job
from cowans.jobs import store as jobs_store
from cowans.jobs.handlers import HANDLERS
from cowans.jobs.push import create_push_job
from cowans.jobs.runtime import JobRuntime
from cowans.sync.push import approved_changes
from cowans.sync.review import decide
from cowans.sync.staging import stage_push
from tests.conftest import PASSWORD
from tests.emulator.conftest import TOKEN, RunningEmulator
from tests.jobs.conftest import RecordedEvents, consuming, job_finished, wait_for
from tests.sync.test_staging import add_product

MakeRuntime = Callable[..., tuple[JobRuntime, RecordedEvents]]
REMOTE_PRODUCTS = """
{ products(first: 10) { nodes { handle title
    variants(first: 1) { nodes { sku price inventoryItem { inventoryLevels(first: 2) {
      nodes { location { name } quantities(names: ["available"]) { quantity } } } } } } } } }
"""


def connect_store(engine: Engine, emulator: RunningEmulator) -> int:
    with session_scope(engine) as session:
        store = Store(
            name="Demo",
            shop_domain="demo.myshopify.com",
            access_token=TOKEN,
            admin_url=f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json",
            location_map={"MAIN": "Main Warehouse", "WEST": "Store Front"},
        )
        session.add(store)
        session.flush()
        return store.id


def approved_store(engine: Engine, emulator: RunningEmulator, products: int) -> int:
    """A store connected to the emulator, with `products` staplers staged and approved."""
    store_id = connect_store(engine, emulator)
    with session_scope(engine) as session:
        for number in range(products):
            add_product(session, number)
    stage_and_approve(engine, store_id)
    return store_id


def stage_and_approve(engine: Engine, store_id: int) -> int:
    with session_scope(engine) as session:
        store = session.get(Store, store_id)
        assert store is not None
        staged = stage_push(session, store).staged
        approver = session.scalars(select(User)).first() or create_user(
            session, "approver@example.com", PASSWORD, Role.APPROVER
        )
        decide(session, decision="approve", user_id=approver.id, all_pending=True)
        return staged


def start_push(
    runtime: JobRuntime, engine: Engine, store_id: int, config: dict[str, Any] | None = None
) -> int:
    with session_scope(engine) as session:
        store = session.get(Store, store_id)
        assert store is not None
        config = config or {"maxWorkers": 4, "strategy": "balanced"}
        job = create_push_job(session, store, config, None)
        runtime.submit(session, job)
        return job.id


def push(
    runtime: JobRuntime, engine: Engine, store_id: int, config: dict[str, Any] | None = None
) -> Any:
    job_id = start_push(runtime, engine, store_id, config)
    return wait_for(lambda: job_finished(engine, job_id), "the push")


def remote(emulator: RunningEmulator) -> dict[str, dict[str, Any]]:
    nodes = emulator.gql(REMOTE_PRODUCTS)["data"]["products"]["nodes"]
    found = {}
    for node in nodes:
        [variant] = node["variants"]["nodes"]
        levels = variant["inventoryItem"]["inventoryLevels"]["nodes"]
        found[node["handle"]] = {
            "sku": variant["sku"],
            "price": Decimal(variant["price"]),
            "stock": {lvl["location"]["name"]: lvl["quantities"][0]["quantity"] for lvl in levels},
        }
    return found


def test_approved_changes_are_pushed_and_become_the_base(
    make_runtime: MakeRuntime, engine: Engine, emulator: RunningEmulator
) -> None:
    store_id = connect_store(engine, emulator)
    with session_scope(engine) as session:
        for number in range(3):
            add_product(session, number)
    assert stage_and_approve(engine, store_id) == 3
    runtime, _ = make_runtime(HANDLERS)
    with consuming(runtime):
        job = push(runtime, engine, store_id)
        assert job.state is JobState.COMPLETED, (job.error, job.result)
        assert (job.result["applied"], job.result["failed"]) == (3, 0)
        shop = remote(emulator)
        assert sorted(shop) == ["stapler-0", "stapler-1", "stapler-2"]
        assert shop["stapler-1"] == {
            "sku": "ACM-1",
            "price": Decimal("10.00"),
            "stock": {"Main Warehouse": 5, "Store Front": 2},
        }
        with session_scope(engine) as session:
            rows = session.scalars(select(SyncStaging)).all()
            assert {row.status for row in rows} == {StagedChangeStatus.APPLIED}
            known = session.scalars(select(StoreProduct)).all()
            assert len(known) == 3
            assert all(k.shopify_product_id and k.variant_ids for k in known)
            [history] = session.scalars(select(SyncHistory)).all()
            assert (history.status, history.succeeded_items) == ("completed", 3)
        assert stage_and_approve(engine, store_id) == 0  # the store now has what we have

        with session_scope(engine) as session:
            product = session.scalars(select(Product).where(Product.handle == "stapler-2")).one()
            product.variants[0].price = Decimal("14.25")
        assert stage_and_approve(engine, store_id) == 1
        job = push(runtime, engine, store_id)
        assert job.state is JobState.COMPLETED
        assert job.result["applied"] == 1
        assert remote(emulator)["stapler-2"]["price"] == Decimal("14.25")
        assert remote(emulator)["stapler-1"]["price"] == Decimal("10.00")


def test_outcomes_are_written_a_chunk_at_a_time_and_all_reach_their_rows(
    make_runtime: MakeRuntime,
    engine: Engine,
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Five changes answered at once, written two per transaction: every row and base arrives.
    monkeypatch.setattr(push_job, "WRITE_CHUNK", 2)
    store_id = approved_store(engine, emulator, 5)
    runtime, _ = make_runtime(HANDLERS)
    with consuming(runtime):
        job = push(runtime, engine, store_id)
    assert job.state is JobState.COMPLETED, (job.error, job.result)
    assert (job.result["applied"], job.result["failed"]) == (5, 0)
    with session_scope(engine) as session:
        statuses = session.scalars(select(SyncStaging.status)).all()
        assert statuses == [StagedChangeStatus.APPLIED] * 5
        bases = session.scalars(select(StoreProduct.base)).all()
        assert len(bases) == 5
        assert all(bases)
    assert sorted(remote(emulator)) == [f"stapler-{n}" for n in range(5)]


def test_a_push_holds_its_rows_without_their_json(
    engine: Engine, emulator: RunningEmulator
) -> None:
    # The change carries the reviewed snapshot; the row a push keeps until its outcome is
    # written holds neither it nor the field list as dicts.
    store_id = approved_store(engine, emulator, 2)
    with session_scope(engine) as session:
        pairs = approved_changes(session, store_id)
        assert len(pairs) == 2
        for row, change in pairs:
            assert {"desired", "changes"} <= inspect(row).unloaded
            assert change.desired is not None
            assert change.desired.handle == row.handle


def test_the_review_and_push_api_from_staging_to_the_store(
    client: Any, engine: Engine, emulator: RunningEmulator, login: Callable[..., dict[str, str]]
) -> None:
    store_id = connect_store(engine, emulator)
    with session_scope(engine) as session:
        for number in range(2):
            add_product(session, number)
    approver = login(Role.APPROVER)
    assert client.get("/api/sync/status", headers=approver).json()["state"] == "idle"
    assert client.post("/api/sync/staged", json={}, headers=approver).json()["staged"] == 2
    decided = client.post(
        "/api/enhanced-sync/approve-changes",
        json={"all_pending": True, "decision": "approve"},
        headers=approver,
    )
    assert decided.json()["approved"] == 2
    editor = login(Role.EDITOR)
    assert client.post("/api/sync/start", json={}, headers=editor).status_code == 403
    started = client.post(
        "/api/sync/start",
        json={"config": {"maxWorkers": 3, "strategy": "speed", "priority": "high"}},
        headers=approver,
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    job = wait_for(lambda: job_finished(engine, job_id), "the push")
    assert job.state is JobState.COMPLETED
    assert (job.priority, job.config["maxWorkers"], job.store_id) == ("high", 3, store_id)
    status = client.get("/api/sync/status", headers=approver).json()
    assert (status["state"], status["job_id"]) == ("idle", job_id)
    assert (status["metrics"]["succeeded"], status["metrics"]["failed"]) == (2, 0)
    applied = client.get("/api/sync/staged?status=applied", headers=approver).json()
    assert applied["total"] == 2
    history = client.get("/api/sync/history?direction=push", headers=approver).json()
    assert history["total"] == 1
    [run] = history["items"]
    assert (run["sync_job_id"], run["status"], run["succeeded_items"]) == (job_id, "completed", 2)
    assert run["performance_metrics"]["requests"] >= 1
    assert sorted(remote(emulator)) == ["stapler-0", "stapler-1"]
    again = client.post("/api/enhanced-sync/shopify-up", json={}, headers=approver)
    assert again.status_code == 202  # nothing approved: an empty push that completes
    empty = wait_for(lambda: job_finished(engine, again.json()["job_id"]), "the empty push")
    assert empty.state is JobState.COMPLETED
    assert empty.result["total"] == 0
    first = client.get("/api/sync/history?limit=1", headers=approver).json()
    assert (first["total"], first["items"][0]["sync_job_id"]) == (2, empty.id)  # newest first
    rest = client.get(f"/api/sync/history?limit=1&cursor={first['next_cursor']}", headers=approver)
    assert [run["sync_job_id"] for run in rest.json()["items"]] == [job_id]
    stop = client.post("/api/sync/stop", json={}, headers=approver)
    assert stop.status_code == 404
    assert stop.json()["error"]["code"] == "no_running_push"


BATCH_SIZE = 1


def test_batch_size_caps_the_products_of_one_request(
    make_runtime: MakeRuntime, engine: Engine, emulator: RunningEmulator
) -> None:
    store_id = approved_store(engine, emulator, 3)
    runtime, _ = make_runtime(HANDLERS)
    with consuming(runtime):
        # Without batchSize, balanced puts up to ten products in one request.
        config = {"maxWorkers": 1, "strategy": "balanced", "batchSize": BATCH_SIZE}
        job = push(runtime, engine, store_id, config)
    assert job.state is JobState.COMPLETED, (job.error, job.result)
    product_sets = job.metrics["latency"]["product_set"]
    assert (product_sets["steps"], product_sets["works"]) == (3, 3)  # one product a request


def test_only_approved_changes_reach_shopify(
    make_runtime: MakeRuntime, engine: Engine, emulator: RunningEmulator
) -> None:
    """DESIGN.md invariant 1: nothing is written unless a staged change was approved."""
    store_id = connect_store(engine, emulator)
    with session_scope(engine) as session:
        for number in range(3):
            add_product(session, number)
        store = session.get(Store, store_id)
        assert store is not None
        stage_push(session, store)
        approver = create_user(session, "approver@example.com", PASSWORD, Role.APPROVER)
        rows = {row.handle: row.id for row in session.scalars(select(SyncStaging))}
        decide(session, decision="approve", user_id=approver.id, ids=[rows["stapler-0"]])
        decide(session, decision="reject", user_id=approver.id, ids=[rows["stapler-1"]])
    runtime, _ = make_runtime(HANDLERS)
    with consuming(runtime):
        job = push(runtime, engine, store_id)
    assert job.state is JobState.COMPLETED, (job.error, job.result)
    assert sorted(remote(emulator)) == ["stapler-0"]
    with session_scope(engine) as session:
        statuses = {row.handle: row.status for row in session.scalars(select(SyncStaging))}
    assert statuses == {
        "stapler-0": StagedChangeStatus.APPLIED,
        "stapler-1": StagedChangeStatus.REJECTED,
        "stapler-2": StagedChangeStatus.PENDING,
    }


def test_a_stopped_push_finishes_its_requests_and_leaves_the_rest_approved(
    make_runtime: MakeRuntime, engine: Engine, emulator: RunningEmulator
) -> None:
    store_id = approved_store(engine, emulator, 30)
    emulator.http.patch(
        f"{emulator.base_url}/_emulator/demo/config", json={"faults": {"latency_ms": [100, 150]}}
    )
    runtime, _ = make_runtime(HANDLERS)
    with consuming(runtime):
        config = {"minWorkers": 1, "maxWorkers": 1, "batchSize": 1}
        job_id = start_push(runtime, engine, store_id, config)
        wait_for(lambda: applied_count(engine) >= 3, "the first changes to be applied")
        with session_scope(engine) as session:
            jobs_store.request_cancel(session, job_id)  # what POST /api/sync/stop does
        job = wait_for(lambda: job_finished(engine, job_id), "the push to stop")
    assert job.state is JobState.CANCELLED
    applied = applied_count(engine)
    assert 3 <= applied < 30
    assert (job.result["applied"], job.result["not_run"]) == (applied, 30 - applied)
    with session_scope(engine) as session:
        left = session.scalars(
            select(SyncStaging).where(SyncStaging.status == StagedChangeStatus.APPROVED)
        ).all()
    assert len(left) == 30 - applied  # approved still: the next push sends them
    products = emulator.gql("{ products(first: 50) { nodes { id } } }")["data"]["products"]
    assert len(products["nodes"]) == applied


def test_a_push_sends_its_changes_a_window_at_a_time(
    make_runtime: MakeRuntime, engine: Engine, emulator: RunningEmulator
) -> None:
    # Windows of two: five creates in three windows, then three updates and a create in two.
    store_id = approved_store(engine, emulator, 5)
    runtime, _ = make_runtime(HANDLERS, push_window=2)
    with consuming(runtime):
        job = push(runtime, engine, store_id)
        assert job.state is JobState.COMPLETED, (job.error, job.result)
        assert (job.result["total"], job.result["applied"]) == (5, 5)
        assert job.metrics["processed"] == 5
        with session_scope(engine) as session:
            for number in range(3):
                product = session.scalars(
                    select(Product).where(Product.handle == f"stapler-{number}")
                ).one()
                product.variants[0].price = Decimal("20.00") + number
            add_product(session, 5)
        assert stage_and_approve(engine, store_id) == 4
        job = push(runtime, engine, store_id)
    assert job.state is JobState.COMPLETED, (job.error, job.result)
    assert (job.result["total"], job.result["applied"], job.result["failed"]) == (4, 4, 0)
    shop = remote(emulator)
    assert sorted(shop) == [f"stapler-{n}" for n in range(6)]
    assert [shop[f"stapler-{n}"]["price"] for n in range(4)] == [
        Decimal("20.00"),
        Decimal("21.00"),
        Decimal("22.00"),
        Decimal("10.00"),
    ]
    assert stage_and_approve(engine, store_id) == 0


def test_a_push_stopped_between_windows_leaves_the_windows_not_sent_approved(
    make_runtime: MakeRuntime, engine: Engine, emulator: RunningEmulator
) -> None:
    store_id = approved_store(engine, emulator, 30)
    emulator.http.patch(
        f"{emulator.base_url}/_emulator/demo/config", json={"faults": {"latency_ms": [100, 150]}}
    )
    runtime, _ = make_runtime(HANDLERS, push_window=4)
    with consuming(runtime):
        config = {"minWorkers": 1, "maxWorkers": 1, "batchSize": 1}
        job_id = start_push(runtime, engine, store_id, config)
        wait_for(lambda: applied_count(engine) >= 5, "the second window to begin")
        with session_scope(engine) as session:
            jobs_store.request_cancel(session, job_id)
        job = wait_for(lambda: job_finished(engine, job_id), "the push to stop")
    assert job.state is JobState.CANCELLED
    applied = applied_count(engine)
    assert 5 <= applied < 30
    assert (job.result["total"], job.result["applied"]) == (30, applied)
    assert job.result["not_run"] == 30 - applied
    with session_scope(engine) as session:
        left = session.scalars(
            select(SyncStaging).where(SyncStaging.status == StagedChangeStatus.APPROVED)
        ).all()
    assert len(left) == 30 - applied


def applied_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(
            session.scalars(
                select(SyncStaging).where(SyncStaging.status == StagedChangeStatus.APPLIED)
            ).all()
        )
