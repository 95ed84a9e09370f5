"""Schedules (Huey periodic tasks that create jobs) and the Prometheus endpoint."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cowans.config import ConfigError, Settings
from cowans.db.models import Import, JobState, Role, Store, SyncJob
from cowans.db.session import session_scope
from cowans.jobs import items, store
from cowans.jobs.schedules import (
    current_slot,
    parse_cron,
    schedules,
    start_reconciliation,
    start_scheduled,
)
from tests.jobs.conftest import RecordedEvents

MakeRuntime = Callable[..., Any]


def periodic_names(runtime: Any, moment: datetime) -> list[str]:
    return sorted(task.name for task in runtime.huey.read_periodic(moment))


def test_schedules_are_off_outside_production_unless_turned_on(
    make_runtime: MakeRuntime,
) -> None:
    runtime, _ = make_runtime({})
    assert runtime.schedules == []
    assert periodic_names(runtime, datetime(2026, 11, 28, 3, 0, tzinfo=UTC)) == []
    assert Settings(environment="production", secret_key="x" * 40).schedules_enabled
    assert not Settings(
        environment="production", secret_key="x" * 40, schedules=False
    ).schedules_enabled


def test_enabled_schedules_are_registered_as_periodic_tasks(make_runtime: MakeRuntime) -> None:
    runtime, _ = make_runtime({}, schedules=True)
    assert runtime.schedules == ["etilize-import", "xorosoft-refresh", "reconciliation"]
    assert periodic_names(runtime, datetime(2026, 11, 28, 3, 0, tzinfo=UTC)) == [
        "schedule.etilize-import"
    ]
    assert periodic_names(runtime, datetime(2026, 11, 28, 14, 15, tzinfo=UTC)) == [
        "schedule.xorosoft-refresh"
    ]
    assert periodic_names(runtime, datetime(2026, 11, 28, 1, 30, tzinfo=UTC)) == [
        "schedule.reconciliation"
    ]
    assert periodic_names(runtime, datetime(2026, 11, 28, 14, 16, tzinfo=UTC)) == []


def test_a_time_slot_gets_one_job_whichever_scheduler_fires_it(
    make_runtime: MakeRuntime, engine: Engine
) -> None:
    runtime, _ = make_runtime({}, schedules=True, etilize_ftp_host="ftp.example.com")
    other_machine, _ = make_runtime({}, schedules=True, etilize_ftp_host="ftp.example.com")
    etilize = schedules(runtime.settings)[0]
    slot = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    first = start_scheduled(runtime, etilize, slot)
    assert first is not None
    assert start_scheduled(other_machine, etilize, slot) is None
    with session_scope(engine) as session:
        job = session.get(SyncJob, first)
        assert job is not None
        assert (job.kind, job.state, job.config["schedule"]) == (
            "import.etilize",
            JobState.QUEUED,
            "etilize-import",
        )
        record = session.get(Import, job.config["import_id"])
        assert record is not None
        assert (record.kind, record.source) == ("etilize", "ftp")
        assert session.scalar(select(func.count()).select_from(Import)) == 1
    assert runtime.huey.pending_count() == 1


def test_reconciliation_pulls_each_active_store_once_per_slot(
    make_runtime: MakeRuntime, engine: Engine
) -> None:
    runtime, _ = make_runtime({}, schedules=True)
    other_machine, _ = make_runtime({}, schedules=True)
    with session_scope(engine) as session:
        for number, active in ((1, True), (2, True), (3, False)):
            session.add(
                Store(
                    name=f"Shop {number}",
                    shop_domain=f"shop-{number}.myshopify.com",
                    access_token="shpat_x",
                    is_active=active,
                )
            )
    reconciliation = schedules(runtime.settings)[2]
    slot = datetime(2026, 11, 28, 1, 30, tzinfo=UTC)
    created = start_reconciliation(runtime, reconciliation, slot)
    assert len(created) == 2
    assert start_reconciliation(other_machine, reconciliation, slot) == []
    with session_scope(engine) as session:
        jobs = session.scalars(select(SyncJob).order_by(SyncJob.id)).all()
        assert [(job.kind, job.store_id, job.config["full"]) for job in jobs] == [
            ("sync.pull", 1, True),
            ("sync.pull", 2, True),
        ]


def test_the_etilize_schedule_waits_for_an_ftp_server(
    make_runtime: MakeRuntime, engine: Engine
) -> None:
    runtime, _ = make_runtime({}, schedules=True)
    slot = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    assert start_scheduled(runtime, schedules(runtime.settings)[0], slot) is None
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(SyncJob)) == 0


def test_slots_and_cron_expressions() -> None:
    daily = parse_cron("0 3 * * *")
    assert current_slot(daily, datetime(2026, 11, 28, 14, 7, 31, tzinfo=UTC)) == datetime(
        2026, 11, 28, 3, 0, tzinfo=UTC
    )
    assert current_slot(daily, datetime(2026, 11, 28, 2, 59, tzinfo=UTC)) == datetime(
        2026, 11, 27, 3, 0, tzinfo=UTC
    )
    for bad in ("0 3 * *", "61 * * * *", "every day"):
        with pytest.raises(ConfigError):
            parse_cron(bad)


def test_metrics_expose_jobs_items_queue_and_workers(
    client: TestClient, engine: Engine, login: Callable[[Role], dict[str, str]]
) -> None:
    with session_scope(engine) as session:
        done = store.create_job(session, "batch.update", params={}, created_by=None)
        done.state, done.succeeded, done.failed = JobState.COMPLETED, 40, 2
        done.started_at = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
        done.finished_at = datetime(2026, 11, 28, 3, 0, 7, tzinfo=UTC)
        queued = store.create_job(session, "batch.update", params={}, created_by=None)
        items.add_items(session, queued.id, [1])
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'cowans_jobs{kind="batch.update",state="completed"} 1.0' in text
    assert 'cowans_jobs{kind="batch.update",state="queued"} 1.0' in text
    assert 'cowans_job_items_total{kind="batch.update",outcome="succeeded"} 40.0' in text
    assert 'cowans_job_items_total{kind="batch.update",outcome="failed"} 2.0' in text
    assert 'cowans_job_duration_seconds_bucket{kind="batch.update",le="5"} 0.0' in text
    assert 'cowans_job_duration_seconds_bucket{kind="batch.update",le="15"} 1.0' in text
    assert "cowans_queue_depth 0.0" in text
    assert 'cowans_workers{state="idle"} 1.0' in text  # the app's own embedded workers
    assert "cowans_running_job_heartbeat_age_seconds 0.0" in text


def test_recorded_events_helper_is_thread_safe() -> None:
    events = RecordedEvents()
    events.publish({"type": "a"})
    assert events.of_type("a") == [{"type": "a"}]
