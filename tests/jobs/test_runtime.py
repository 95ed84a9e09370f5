"""The job runtime on the embedded queue (SqliteHuey, worker threads in this process).

The handlers here are test job kinds: the runtime is what is under test. Their items are real
job items in the database, worked through by `run_items` as the batch jobs do.
"""

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from cowans.db.base import utcnow
from cowans.db.models import JobItem, JobState, SyncJob
from cowans.db.session import session_scope
from cowans.jobs import items, store
from cowans.jobs.context import JobContext
from cowans.jobs.queue import build_huey
from cowans.jobs.runtime import JobRuntime
from tests.jobs.conftest import RecordedEvents, consuming, job_finished, job_row, wait_for

MakeRuntime = Callable[..., tuple[JobRuntime, RecordedEvents]]


class ItemsKind:
    """A job kind that works through its items, recording each one it does; it can be told to
    hold before an item so a test can act while the job is mid-way."""

    def __init__(self, fail_on: set[int] | None = None) -> None:
        self.done: Counter[int] = Counter()
        self.fail_on = fail_on or set()
        self.hold_at: int | None = None
        # Hold at the n-th item boundary instead: between chunks, outside any transaction.
        self.hold_at_boundary: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(self, context: JobContext) -> dict[str, Any]:
        if self.hold_at_boundary is not None:
            context.checkpoint = self._holding(context.checkpoint)  # type: ignore[method-assign]
        counts = items.run_items(context, self.work, size=5)
        return {"counts": counts}

    def _holding(self, checkpoint: Callable[[], None]) -> Callable[[], None]:
        boundaries = iter(range(1, 1_000_000))

        def held() -> None:
            if next(boundaries) == self.hold_at_boundary:
                self.holding.set()
                self.release.wait(30)
            checkpoint()

        return held

    def work(self, session: Session, item: JobItem) -> None:
        assert item.product_id is not None
        if item.product_id == self.hold_at:
            self.holding.set()
            self.release.wait(30)
        if item.product_id in self.fail_on:
            from cowans.errors import InvalidInput

            raise InvalidInput("test", f"item {item.product_id} refuses")
        self.done[item.product_id] += 1


def submit(runtime: JobRuntime, kind: str, count: int, priority: str = "normal") -> int:
    with session_scope(runtime.engine) as session:
        job = store.create_job(session, kind, params={}, created_by=None, priority=priority)
        items.add_items(session, job.id, range(1, count + 1))
        runtime.submit(session, job)
        return job.id


def test_a_job_runs_its_items_and_reports_them(make_runtime: MakeRuntime, engine: Engine) -> None:
    kind = ItemsKind(fail_on={7})
    runtime, events = make_runtime({"test.items": kind})
    with consuming(runtime, 2):
        job_id = submit(runtime, "test.items", 23)
        job = wait_for(lambda: job_finished(engine, job_id), "the job to finish")
    assert job.state is JobState.COMPLETED
    assert (job.total, job.processed, job.succeeded, job.failed) == (23, 23, 22, 1)
    assert sorted(kind.done) == [n for n in range(1, 24) if n != 7]
    assert set(kind.done.values()) == {1}
    with session_scope(engine) as session:
        [failed] = items.failed_items(session, job_id)
        assert (failed.product_id, failed.message) == (7, "item 7 refuses")
    states = [e["job"]["state"] for e in events.of_type("job.state") if e["job"]["id"] == job_id]
    assert states[0] == "queued"
    assert "running" in states
    assert states[-1] == "completed"
    assert events.of_type("job.progress")[-1]["processed"] == 23


def test_a_cancelled_queued_job_never_starts(make_runtime: MakeRuntime, engine: Engine) -> None:
    kind = ItemsKind()
    runtime, _ = make_runtime({"test.items": kind})
    job_id = submit(runtime, "test.items", 3)  # no consumer yet: it waits in the queue
    with session_scope(engine) as session:
        assert store.request_cancel(session, job_id).state is JobState.CANCELLED
    with consuming(runtime):
        follower = submit(runtime, "test.items", 1)  # queued behind it: proves the queue moved
        wait_for(lambda: job_finished(engine, follower), "the next job")
    assert job_row(engine, job_id).state is JobState.CANCELLED
    assert job_row(engine, job_id).started_at is None
    assert kind.done == Counter({1: 1})


def test_a_running_job_stops_at_an_item_boundary_when_cancelled(
    make_runtime: MakeRuntime, engine: Engine
) -> None:
    kind = ItemsKind()
    # Between the second and third chunks of five: a chunk's transaction holds SQLite's write
    # lock from its start, so a cancel written during a chunk waits for that chunk.
    kind.hold_at_boundary = 3
    runtime, _ = make_runtime({"test.items": kind})
    consumer = runtime.consumer(1, embedded=True, periodic=False)
    consumer.start()
    try:
        job_id = submit(runtime, "test.items", 40)
        assert kind.holding.wait(30)
        with session_scope(engine) as session:
            assert store.request_cancel(session, job_id).state is JobState.RUNNING
        kind.release.set()
        job = wait_for(lambda: job_finished(engine, job_id), "the job to stop")
    finally:
        kind.release.set()
        consumer.stop()
    assert job.state is JobState.CANCELLED
    # The two chunks before the boundary are done; the third never starts.
    assert sorted(kind.done) == list(range(1, 11))
    assert (job.processed, job.succeeded) == (10, 10)
    assert job.result == {"cancelled": "while running"}


def test_a_stopping_worker_gives_its_job_back_and_the_next_goes_on(
    make_runtime: MakeRuntime, engine: Engine
) -> None:
    kind = ItemsKind()
    kind.hold_at = 8
    runtime, _ = make_runtime({"test.items": kind})
    first = runtime.consumer(1, embedded=True, periodic=False)
    first.start()
    job_id = submit(runtime, "test.items", 20)
    assert kind.holding.wait(30)
    stopper = threading.Thread(target=first.stop)
    stopper.start()
    wait_for(runtime.shutting_down.is_set, "the stop to begin")
    kind.release.set()
    stopper.join(30)
    assert job_row(engine, job_id).state is JobState.QUEUED
    assert job_row(engine, job_id).attempts == 0  # a clean hand-back is not a failed attempt

    kind.hold_at = None
    second_runtime, _ = make_runtime({"test.items": kind})
    second = second_runtime.consumer(1, embedded=True, periodic=False)
    second.start()
    try:
        job = wait_for(lambda: job_finished(engine, job_id), "the job to finish")
    finally:
        second.stop()
    assert job.state is JobState.COMPLETED
    assert sorted(kind.done) == list(range(1, 21))
    assert set(kind.done.values()) == {1}


def _as_if_its_worker_died(engine: Engine, job_id: int, attempts: int) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(SyncJob)
            .where(SyncJob.id == job_id)
            .values(
                state=JobState.RUNNING,
                worker="gone-host:4242",
                attempts=attempts,
                heartbeat_at=utcnow() - timedelta(minutes=10),
            )
        )
        session.execute(
            update(JobItem)
            .where(JobItem.job_id == job_id, JobItem.seq < 6)
            .values(state="succeeded")
        )


def test_a_job_whose_worker_died_is_taken_back_and_finishes_without_redoing_items(
    make_runtime: MakeRuntime, engine: Engine
) -> None:
    kind = ItemsKind()
    runtime, _ = make_runtime({"test.items": kind}, job_stale_after_seconds=30)
    job_id = submit(runtime, "test.items", 10)
    _as_if_its_worker_died(engine, job_id, attempts=1)
    with consuming(runtime):
        job = wait_for(lambda: job_finished(engine, job_id), "the recovered job")
    assert job.state is JobState.COMPLETED
    assert sorted(kind.done) == [7, 8, 9, 10]  # items 1-6 were finished by the dead worker
    assert job.attempts == 2
    assert (job.processed, job.succeeded) == (10, 10)


def test_a_job_that_keeps_losing_its_worker_fails_clearly(
    make_runtime: MakeRuntime, engine: Engine
) -> None:
    kind = ItemsKind()
    runtime, _ = make_runtime({"test.items": kind}, job_max_attempts=3)
    job_id = submit(runtime, "test.items", 10)
    _as_if_its_worker_died(engine, job_id, attempts=3)
    runtime.tick()
    job = job_row(engine, job_id)
    assert job.state is JobState.FAILED
    assert job.error is not None
    assert "lost its worker 3 times" in job.error
    assert not kind.done


def test_a_job_of_an_unknown_kind_fails_with_a_clear_error(
    make_runtime: MakeRuntime, engine: Engine
) -> None:
    runtime, _ = make_runtime({})
    with consuming(runtime):
        job_id = submit(runtime, "test.nobody", 1)
        job = wait_for(lambda: job_finished(engine, job_id), "the job to fail")
    assert job.state is JobState.FAILED
    assert job.error == "No worker knows jobs of kind test.nobody."


def test_a_crashing_handler_fails_its_job_without_leaking_details(
    make_runtime: MakeRuntime, engine: Engine
) -> None:
    def crash(context: JobContext) -> None:
        raise RuntimeError("secret-token-123 exploded")

    runtime, _ = make_runtime({"test.crash": crash})
    with consuming(runtime):
        job_id = submit(runtime, "test.crash", 1)
        job = wait_for(lambda: job_finished(engine, job_id), "the job to fail")
    assert job.state is JobState.FAILED
    assert job.error == "The job failed unexpectedly (RuntimeError); see the worker log."


def test_progress_events_are_throttled(make_runtime: MakeRuntime, engine: Engine) -> None:
    kind = ItemsKind()
    runtime, events = make_runtime({"test.items": kind}, event_throttle_seconds=60.0)
    with consuming(runtime):
        job_id = submit(runtime, "test.items", 500)
        job = wait_for(lambda: job_finished(engine, job_id), "the job to finish")
    assert job.processed == 500  # the end always writes the last figures
    # 100 chunks of progress, but a minute's throttle lets only the phase change through.
    assert len(events.of_type("job.progress")) <= 2


@pytest.mark.parametrize("backend_name", ["sqlite", "redis"])
def test_the_queue_runs_high_priority_jobs_first(
    backend_name: str, settings: Any, request: pytest.FixtureRequest
) -> None:
    if backend_name == "redis":
        settings = settings.model_copy(update={"queue_url": request.getfixturevalue("redis_url")})
    huey = build_huey(settings)
    huey.flush()
    seen: list[str] = []
    task = huey.task(name="record")(seen.append)
    for name, priority in (("low", 0), ("normal", 10), ("high", 20), ("normal-2", 10)):
        huey.enqueue(task.s(name, priority=priority))
    while (message := huey.dequeue()) is not None:
        huey.execute(message)
    assert seen == ["high", "normal", "normal-2", "low"]
