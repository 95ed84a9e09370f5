"""The database goes away in the middle of a job (issue #10, "Database faults").

PostgreSQL (a server of this test's own: the suite's shared one must never go away) is stopped
while a push is under way and started again a few seconds later. What must hold: the job never
stays `running` forever and loses nothing; it goes on once the database is back, and the store
ends exactly as the catalog says, every product once, every change recorded applied.
"""

import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cowans.api.app import create_app
from cowans.auth.service import create_user
from cowans.config import Settings
from cowans.db import migrate
from cowans.db.models import JobState, Role, StagedChangeStatus, SyncJob
from cowans.db.session import create_db_engine, session_scope
from cowans.jobs import store as jobs_store
from cowans.jobs.handlers import HANDLERS
from cowans.jobs.runtime import JobRuntime
from tests.conftest import PASSWORD, create_database
from tests.emulator.conftest import RunningEmulator
from tests.jobs import test_distributed as distributed
from tests.jobs.conftest import RecordedEvents, consuming, job_finished, job_row, wait_for
from tests.reliability.restartable_postgres import RestartablePostgres
from tests.sync.test_push_faults import (
    PUSH_LATENCY,
    add_catalog,
    applied_handles,
    expected_store,
    set_faults,
    staged_statuses,
    store_state,
    submit_push,
)
from tests.sync.test_push_job import connect_store, stage_and_approve

PRODUCTS = 40
DOWN_SECONDS = 3.0

# `cowans worker` processes as the distributed tests start them, on `cluster_settings` below.
start_worker = distributed.start_worker


@pytest.fixture
def cluster_settings(own_postgres: RestartablePostgres, tmp_path: Path) -> Settings:
    """Named as tests/jobs/test_distributed.py names it, so its `start_worker` runs
    `cowans worker` processes on this database (and a SQLite queue file of this test's)."""
    url = create_database(own_postgres.url, "cowans_faults")
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return Settings(
        database_url=url,
        queue_url=f"sqlite:///{tmp_path / 'queue.db'}",
        data_dir=tmp_path / "var",
        job_workers=0,
        job_heartbeat_seconds=0.3,
        job_stale_after_seconds=3,
        event_throttle_seconds=0.0,
        graphql_batch_size=1,
    )


@pytest.fixture
def fault_engine(cluster_settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(cluster_settings.database_url)
    yield engine
    engine.dispose()


def _pushable(engine: Engine, emulator: RunningEmulator) -> int:
    """A store with PRODUCTS new products approved, and an emulator slow enough that the push
    takes a few seconds; returns the store's id."""
    set_faults(emulator, PUSH_LATENCY)
    store_id = connect_store(engine, emulator)
    add_catalog(engine, PRODUCTS)
    assert stage_and_approve(engine, store_id) == PRODUCTS
    return store_id


def _outage_under_way(engine: Engine, server: RestartablePostgres, job_id: int) -> set[str]:
    """Stop the database once the push has recorded 5 changes applied, start it again
    DOWN_SECONDS later; returns what was recorded applied before the stop."""

    def some_applied() -> bool:
        assert job_row(engine, job_id).state in (JobState.QUEUED, JobState.RUNNING)
        return len(applied_handles(engine, job_id)) >= 5

    wait_for(some_applied, "the push to be under way")
    done = applied_handles(engine, job_id)
    server.stop()
    time.sleep(DOWN_SECONDS)
    server.start()
    return done


def _assert_nothing_lost(engine: Engine, emulator: RunningEmulator, job_id: int) -> Any:
    job = wait_for(lambda: job_finished(engine, job_id), "the job to finish", timeout=120)
    assert job.state is JobState.COMPLETED, (job.state, job.error, job.result)
    assert (job.result["applied"], job.result["failed"]) == (PRODUCTS, 0), job.result
    assert staged_statuses(engine) == {StagedChangeStatus.APPLIED: PRODUCTS}
    found, state = store_state(emulator)
    assert [handle for handle, count in found.items() if count > 1] == [], "duplicates"
    assert state == expected_store(engine)
    return job


def test_an_in_process_push_survives_the_database_going_away(
    cluster_settings: Settings,
    fault_engine: Engine,
    own_postgres: RestartablePostgres,
    emulator: RunningEmulator,
) -> None:
    """The runtime as `cowans serve` embeds it: one process, its own monitor."""
    store_id = _pushable(fault_engine, emulator)
    runtime = JobRuntime(cluster_settings, fault_engine, RecordedEvents(), HANDLERS)
    with consuming(runtime):
        job_id = submit_push(cluster_settings, fault_engine, store_id)
        _outage_under_way(fault_engine, own_postgres, job_id)
        job = _assert_nothing_lost(fault_engine, emulator, job_id)
    runtime.shutting_down.set()
    assert job.attempts == 2, "dropped in the outage, then run again from its recorded items"


def test_a_worker_process_push_survives_the_database_going_away(
    cluster_settings: Settings,
    fault_engine: Engine,
    own_postgres: RestartablePostgres,
    emulator: RunningEmulator,
    start_worker: Callable[[str], subprocess.Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same with a `cowans worker` process, which must go on by itself: nobody restarts
    it, and no other worker is there to take its job back."""
    monkeypatch.setenv("GRAPHQL_BATCH_SIZE", "1")
    store_id = _pushable(fault_engine, emulator)
    worker = start_worker("only")
    job_id = submit_push(cluster_settings, fault_engine, store_id)
    _outage_under_way(fault_engine, own_postgres, job_id)
    job = _assert_nothing_lost(fault_engine, emulator, job_id)
    assert job.attempts == 2, "dropped in the outage, then run again from its recorded items"
    assert worker.poll() is None, "the worker outlived the outage"
    assert Counter(store_state(emulator)[0].values()) == {1: PRODUCTS}


# The API while the database is away --------------------------------------------------------


def _api_during_outage(cluster_settings: Settings, server: RestartablePostgres) -> dict[str, Any]:
    """Health and an authenticated request answered while the database is stopped."""
    with TestClient(create_app(cluster_settings), raise_server_exceptions=False) as client:
        engine = create_db_engine(cluster_settings.database_url)
        with session_scope(engine) as session:
            create_user(session, "admin@faults.test", PASSWORD, Role.ADMIN)
        engine.dispose()
        login = {"email": "admin@faults.test", "password": PASSWORD}
        token = client.post("/api/auth/login", json=login).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/health").status_code == 200
        server.stop()
        try:
            health = client.get("/api/health")
            products = client.get("/api/products", headers=headers)
        finally:
            server.start()
        back = client.get("/api/products", headers=headers)
    return {"health": health, "products": products, "back": back}


def test_the_api_says_degraded_while_the_database_is_away(
    cluster_settings: Settings, own_postgres: RestartablePostgres
) -> None:
    answers = _api_during_outage(cluster_settings, own_postgres)
    health = answers["health"]
    assert health.status_code == 503
    assert (health.json()["status"], health.json()["db"]) == ("degraded", "error")
    assert answers["back"].status_code == 200, "the API serves again once the database is back"
    unavailable = answers["products"]
    assert unavailable.status_code == 503, unavailable.text
    error = unavailable.json()["error"]
    assert error["code"] == "database_unavailable"
    assert "127.0.0.1" not in error["message"], "no connection details in the answer"


# The runtime's handling, step by step ----------------------------------------------------------


def _outage_kind(server: RestartablePostgres, engine: Engine) -> Callable[[Any], dict[str, Any]]:
    """A job kind whose first run loses the database mid-way (it stops the server, then reads),
    and whose later runs finish."""
    runs: list[int] = []

    def handler(_context: Any) -> dict[str, Any]:
        runs.append(1)
        if len(runs) == 1:
            server.stop()
            with session_scope(engine) as session:
                session.execute(select(SyncJob.id)).all()
        return {"runs": len(runs)}

    return handler


def _queued_job(engine: Engine, runtime: JobRuntime) -> int:
    with session_scope(engine) as session:
        job = jobs_store.create_job(session, "outage", params={}, created_by=None)
        runtime.submit(session, job)
        return job.id


@pytest.mark.parametrize(("max_attempts", "ends"), [(3, JobState.COMPLETED), (1, JobState.FAILED)])
def test_a_job_dropped_in_an_outage_is_handed_back_when_the_database_returns(
    cluster_settings: Settings,
    fault_engine: Engine,
    own_postgres: RestartablePostgres,
    max_attempts: int,
    ends: JobState,
) -> None:
    """The Huey task ran (its queue entry is spent) and the database went away under the job:
    the process keeps the job until its monitor reaches the database again, then queues it once
    more, or fails it clearly once it has used its attempts. Before, it stayed `running`."""
    tuned = cluster_settings.model_copy(update={"job_max_attempts": max_attempts})
    kinds = {"outage": _outage_kind(own_postgres, fault_engine)}
    runtime = JobRuntime(tuned, fault_engine, RecordedEvents(), kinds)
    job_id = _queued_job(fault_engine, runtime)
    runtime.huey.dequeue()  # what a Huey worker takes before it calls the task
    runtime.run_job(job_id)  # raises nothing: the outage is the runtime's to handle
    own_postgres.start()
    assert job_row(fault_engine, job_id).state is JobState.RUNNING  # nobody knows yet
    runtime.tick()
    if ends is JobState.FAILED:
        job = job_row(fault_engine, job_id)
        assert job.state is JobState.FAILED
        assert "database was unavailable" in (job.error or "")
        assert runtime.huey.pending_count() == 0
        return
    assert job_row(fault_engine, job_id).state is JobState.QUEUED
    assert runtime.huey.pending_count() == 1, "queued again"
    with consuming(runtime):
        job = wait_for(lambda: job_finished(fault_engine, job_id), "the job to finish")
    runtime.shutting_down.set()
    assert (job.state, job.attempts, job.result) == (JobState.COMPLETED, 2, {"runs": 2})


def test_a_job_taken_from_the_queue_while_the_database_is_away_is_not_lost(
    cluster_settings: Settings, fault_engine: Engine, own_postgres: RestartablePostgres
) -> None:
    """The worker cannot even claim the job: it stays `queued` in the database while its queue
    entry is gone, so the process queues it again once the database answers."""
    runtime = JobRuntime(cluster_settings, fault_engine, RecordedEvents(), {"outage": _noop})
    job_id = _queued_job(fault_engine, runtime)
    runtime.huey.dequeue()
    own_postgres.stop()
    runtime.run_job(job_id)
    own_postgres.start()
    runtime.tick()
    assert runtime.huey.pending_count() == 1, "queued again"
    with consuming(runtime):
        job = wait_for(lambda: job_finished(fault_engine, job_id), "the job to finish")
    runtime.shutting_down.set()
    assert (job.state, job.attempts) == (JobState.COMPLETED, 1)


def _noop(_context: Any) -> dict[str, Any]:
    return {}
