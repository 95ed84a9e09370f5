"""A push's performance figures: reported through JobContext.report_metrics (saved on the job's
row, published as `sync.metrics`), read back by /api/sync/status, /api/sync/debug/* and
/metrics."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cowans.api.app import create_app
from cowans.config import Settings
from cowans.db.models import JobState, Role, Store
from cowans.db.session import session_scope
from cowans.jobs import store as jobs_store
from cowans.jobs.context import JobContext
from cowans.jobs.push import KIND as PUSH_KIND
from cowans.shopify.client import Backoff, ClientStats
from cowans.shopify.throttle import CostThrottle
from cowans.sync.monitor import SyncPerformanceMonitor
from tests.jobs.conftest import RecordedEvents, job_row
from tests.sync.test_monitor import STATUS_KEYS, WORKER_KEYS, FakeClock, Outcome, two_changes_plan

WORKER = "test-worker"


@pytest.fixture
def quiet_client(settings: Settings) -> Iterator[TestClient]:
    """An app whose process runs no jobs: the push rows here are driven by the test."""
    with TestClient(create_app(settings.model_copy(update={"job_workers": 0}))) as client:
        yield client


def running_push(engine: Engine, config: dict[str, Any] | None = None) -> tuple[int, int]:
    """A store and a push job claimed by WORKER; returns (store id, job id)."""
    with session_scope(engine) as session:
        store = Store(name="Demo", shop_domain="demo.myshopify.com", access_token="shpat_x")
        session.add(store)
        session.flush()
        params = config or {"minWorkers": 1, "maxWorkers": 2, "strategy": "balanced"}
        job = jobs_store.create_job(
            session, PUSH_KIND, params=params, created_by=None, store_id=store.id
        )
        store_id, job_id = store.id, job.id
    assert jobs_store.claim(engine, job_id, WORKER) is not None
    return store_id, job_id


def context_for(engine: Engine, settings: Settings, job_id: int, worker: str = WORKER):
    events = RecordedEvents()
    job = job_row(engine, job_id)
    context = JobContext.for_job(job, worker, engine, settings, events, threading.Event())
    return context, events


def mid_run_snapshot() -> dict[str, Any]:
    """A monitor half-way: one step done, worker 1 busy on the next and backing off, worker 2
    idle."""
    clock = FakeClock()
    monitor = SyncPerformanceMonitor(3, 1, 2, clock=clock)
    plan, works = two_changes_plan()
    stats, throttle = ClientStats(), CostThrottle(clock=clock)
    monitor.run_started(plan, stats, throttle, 1, 2)
    monitor.worker_joined(1)
    monitor.worker_joined(2)
    monitor.scaled(1, 2, "queue_deep")
    monitor.step_started(1, plan.steps[0])
    clock.now += 2
    stats.points_spent, stats.requests = 24.0, 2
    monitor.backoff(1, Backoff("throttled", 1.0, retry=True))
    monitor.step_finished(1, plan.steps[0], [Outcome(works[0], True), Outcome(works[1], True)], 2)
    monitor.step_released(1)
    monitor.step_started(1, plan.steps[1])
    monitor.backoff(1, Backoff("timeout", 30.0, retry=True))
    clock.now += 1
    return monitor.snapshot()


def test_status_and_debug_without_any_push_are_zeros(
    quiet_client: TestClient, login: Any, settings: Settings
) -> None:
    viewer = login(Role.VIEWER)
    status = quiet_client.get("/api/sync/status", headers=viewer).json()
    assert (status["state"], status["job_id"], status["config"]) == ("idle", None, {})
    metrics = status["metrics"]
    assert metrics.keys() >= STATUS_KEYS
    assert (metrics["processed"], metrics["items_per_second"], metrics["eta_seconds"]) == (
        0,
        0.0,
        None,
    )
    assert metrics["workers"] == {"active": 0, "min": 1, "max": settings.parallel_sync_max_workers}
    assert metrics["throttle"] == {
        "currently_available": 0.0,
        "maximum_available": 0.0,
        "restore_rate": 0.0,
    }
    workers = quiet_client.get("/api/sync/debug/workers", headers=viewer).json()
    assert workers["workers"] == []
    figures = quiet_client.get("/api/sync/debug/metrics", headers=viewer).json()
    assert (figures["latency"], figures["retries"], figures["cost_per_item"]) == ({}, {}, None)
    debug = quiet_client.get("/api/sync/debug/status", headers=viewer).json()
    assert (debug["state"], debug["run"], debug["scaling"]) == ("idle", {}, [])
    for path in ("/api/sync/status", "/api/sync/debug/status", "/api/sync/debug/workers"):
        assert quiet_client.get(path).status_code == 401, path
    missing = quiet_client.get("/api/sync/debug/metrics?job_id=999", headers=viewer)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "push_not_found"


def test_reported_metrics_are_throttled_saved_published_and_served(
    quiet_client: TestClient, login: Any, engine: Engine, settings: Settings
) -> None:
    store_id, job_id = running_push(engine)
    context, events = context_for(
        engine, settings.model_copy(update={"event_throttle_seconds": 60}), job_id
    )
    snapshot = mid_run_snapshot()
    context.report_metrics({**snapshot, "items_per_second": 0.1})  # the first one goes out
    context.report_metrics(snapshot)  # held back by the throttle...
    assert job_row(engine, job_id).metrics["items_per_second"] == 0.1
    context.flush()  # ...also when the worker's monitor flushes
    assert len(events.of_type("sync.metrics")) == 1
    context.report_metrics(snapshot, force=True)  # the last figures of a run are never held
    published = events.of_type("sync.metrics")
    assert len(published) == 2
    assert published[-1] == {
        "type": "sync.metrics",
        "job_id": job_id,
        "kind": PUSH_KIND,
        "store_id": store_id,
        "metrics": snapshot,
    }

    viewer = login(Role.VIEWER)
    status = quiet_client.get(f"/api/sync/status?store_id={store_id}", headers=viewer).json()
    assert (status["state"], status["job_id"]) == ("running", job_id)
    assert status["config"]["maxWorkers"] == 2
    metrics = status["metrics"]
    assert {key: metrics[key] for key in STATUS_KEYS} == {key: snapshot[key] for key in STATUS_KEYS}
    assert metrics["job_state"] == "running"
    assert (metrics["processed"], metrics["succeeded"], metrics["failed"]) == (2, 1, 1)
    assert metrics["workers"] == {"active": 2, "min": 1, "max": 2, "busy": 1, "peak": 2}
    assert 0 <= metrics["utilization"] <= 1
    assert metrics["cost_spent"] == 24.0

    debug = quiet_client.get("/api/sync/debug/status", headers=viewer).json()
    assert (debug["job_id"], debug["store_id"], debug["worker"]) == (job_id, store_id, WORKER)
    assert debug["run"]["works"] == {"total": 3, "done": 2, "failed": 0, "not_run": 0}
    assert debug["scaling"][-1]["reason"] == "queue_deep"

    rows = quiet_client.get("/api/sync/debug/workers", headers=viewer).json()
    assert rows["pool"]["active"] == 2
    busy, idle = rows["workers"]
    assert busy.keys() >= WORKER_KEYS
    assert (busy["id"], busy["state"], busy["items_done"], busy["errors"]) == (1, "backoff", 2, 0)
    assert busy["current_batch"]["kind"] == "inventory"
    assert busy["backoff_until"] is not None
    assert (idle["id"], idle["state"], idle["current_batch"], idle["backoff_until"]) == (
        2,
        "idle",
        None,
        None,
    )

    figures = quiet_client.get(f"/api/sync/debug/metrics?job_id={job_id}", headers=viewer).json()
    assert figures["retries"] == {"throttled": 1, "timeout": 1}
    assert figures["retries_total"] == 2
    latency = figures["latency"]["product_update"]
    assert latency["p50"] <= latency["p90"] <= latency["p99"]
    assert figures["cost_per_item"] == snapshot["cost_per_item"]

    scraped = quiet_client.get("/metrics").text
    assert f'cowans_sync_workers_active{{store="{store_id}"}} 2.0' in scraped
    assert f'cowans_sync_cost_spent_points{{store="{store_id}"}} 24.0' in scraped
    assert f'cowans_sync_retries{{cause="timeout",store="{store_id}"}} 1.0' in scraped

    assert jobs_store.finish(engine, job_id, WORKER, JobState.COMPLETED)
    after = quiet_client.get("/api/sync/status", headers=viewer).json()
    assert (after["state"], after["job_id"]) == ("idle", job_id)
    assert after["metrics"]["items_per_second"] == snapshot["items_per_second"], "kept at the end"
    assert "cowans_sync_workers_active{" not in quiet_client.get("/metrics").text


def test_a_running_push_is_shown_before_a_later_finished_one(
    quiet_client: TestClient, login: Any, engine: Engine
) -> None:
    store_id, running = running_push(engine)
    with session_scope(engine) as session:
        later = jobs_store.create_job(
            session, PUSH_KIND, params={}, created_by=None, store_id=store_id
        ).id
    assert jobs_store.claim(engine, later, "other") is not None
    assert jobs_store.finish(engine, later, "other", JobState.COMPLETED)
    status = quiet_client.get("/api/sync/status", headers=login(Role.VIEWER)).json()
    assert (status["state"], status["job_id"]) == ("running", running)


def test_metrics_of_a_job_no_longer_held_mark_it_lost(engine: Engine, settings: Settings) -> None:
    _, job_id = running_push(engine)
    context, events = context_for(engine, settings, job_id, worker="someone-else")
    context.report_metrics(mid_run_snapshot(), force=True)
    assert context.lost.is_set()
    assert events.of_type("sync.metrics") == []
    assert job_row(engine, job_id).metrics == {}
