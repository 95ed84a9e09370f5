"""The elastic worker pool against the Shopify emulator over HTTP: it grows while steps wait and
the bucket has room, shrinks when Shopify throttles, stops between steps, and hands each step's
outcomes to `on_step` before its worker moves on."""

import asyncio
from typing import Any

import pytest

from cowans.sync.engine import current_worker
from cowans.sync.monitor import SyncPerformanceMonitor
from cowans.sync.planner import Plan, Step, Strategy
from cowans.sync.runner import PlanRunner, WorkOutcome
from shopify_emulator.throttle import LeakyBucket
from tests.emulator.conftest import RunningEmulator
from tests.sync.harness import PushHarness, product

pytestmark = pytest.mark.anyio

# One productSet per step: a deep queue of small steps.
ONE_PER_STEP: dict[str, Any] = {"max_aliases": 1, "bulk_threshold": 10_000}


@pytest.fixture
async def harness(emulator: RunningEmulator):
    # Some latency, so steps overlap and the queue stays deep while the pool grows.
    emulator.shop().faults.latency_ms = (20, 40)
    harness = PushHarness(emulator)
    yield harness
    await harness.client.close()


def creates(harness: PushHarness, count: int, prefix: str = "pen") -> Plan:
    changes = harness.changes(
        [product(f"{prefix}-{n}", f"{prefix.upper()}-{n}") for n in range(count)]
    )
    return harness.plan(changes, **ONE_PER_STEP)


def grown(monitor: SyncPerformanceMonitor) -> list[dict[str, Any]]:
    return [event for event in monitor.scaling if event["to"] > event["from"]]


async def test_a_deep_queue_with_room_grows_the_pool_to_its_maximum(
    harness: PushHarness, emulator: RunningEmulator
) -> None:
    plan = creates(harness, 24)
    monitor = SyncPerformanceMonitor(24, 1, 6)
    report = await PlanRunner(harness.client, min_workers=1, max_workers=6, monitor=monitor).run(
        plan
    )
    assert report.failed_changes() == {}
    assert len(emulator.shop().data.products) == 24
    assert monitor.scaling[0] == {"at": 0.0, "from": 0, "to": 1, "reason": "start"}
    assert report.peak_workers == 6
    ups = grown(monitor)[1:]
    assert ups
    assert {event["reason"] for event in ups} == {"queue_deep"}
    assert ups[0]["to"] == 2, "before Shopify has reported its bucket, at most doubling"
    rows = monitor.snapshot()["pool"]
    assert [row["id"] for row in rows] == [1, 2, 3, 4, 5, 6]
    assert sum(row["items_done"] for row in rows) == 24
    assert emulator.shop().counters["throttled"] == 0


async def test_throttling_shrinks_the_pool(harness: PushHarness, emulator: RunningEmulator) -> None:
    """Half-way the store's bucket becomes tiny: requests in flight are throttled, the client
    learns the new size from the answers, and the pool lets workers go."""
    plan = creates(harness, 40)
    monitor = SyncPerformanceMonitor(40, 1, 6)
    steps_done = 0

    async def shrink_the_bucket(step: Step, outcomes: list[WorkOutcome]) -> None:
        nonlocal steps_done
        steps_done += 1
        if steps_done == 12:
            emulator.shop().bucket = LeakyBucket(60, 200)

    runner = PlanRunner(
        harness.client, min_workers=1, max_workers=6, monitor=monitor, on_step=shrink_the_bucket
    )
    report = await runner.run(plan)
    assert report.failed_changes() == {}
    assert len(emulator.shop().data.products) == 40
    events = list(monitor.scaling)
    peak_at = max(range(len(events)), key=lambda i: events[i]["to"])
    assert events[peak_at]["to"] == report.peak_workers > 1
    downs = [e for e in events[peak_at:] if e["to"] < e["from"]]
    assert {e["reason"] for e in downs} & {"throttled", "bucket_low"}, events
    snapshot = monitor.snapshot()
    assert snapshot["throttle"]["maximum_available"] == 60.0
    assert snapshot["retries"].get("throttled", 0) + snapshot["bucket_waits"]["count"] > 0
    assert snapshot["retries"].get("throttled", 0) == emulator.shop().counters["throttled"]


async def test_a_fixed_pool_never_resizes_and_naive_runs_one_at_a_time(
    harness: PushHarness,
) -> None:
    fixed = SyncPerformanceMonitor()
    report = await PlanRunner(harness.client, concurrency=3, monitor=fixed).run(creates(harness, 9))
    assert report.peak_workers == 3
    assert [e["reason"] for e in fixed.scaling] == ["start"]
    naive = SyncPerformanceMonitor()
    changes = harness.changes([product(f"pad-{n}", f"PAD-{n}") for n in range(4)])
    plan = harness.plan(changes, Strategy.NAIVE)
    report = await PlanRunner(harness.client, min_workers=2, max_workers=8, monitor=naive).run(plan)
    assert report.failed_changes() == {}
    assert report.peak_workers == 1
    assert naive.snapshot()["workers"] == {"active": 0, "min": 1, "max": 1, "busy": 0, "peak": 1}


async def test_should_stop_lets_steps_in_flight_finish_and_lists_the_rest(
    harness: PushHarness, emulator: RunningEmulator
) -> None:
    await harness.push([product(f"old-{n}", f"OLD-{n}") for n in range(3)])
    changes = harness.changes(
        [product(f"new-{n}", f"NEW-{n}") for n in range(12)], deletes=("old-0", "old-1", "old-2")
    )
    plan = harness.plan(changes, **ONE_PER_STEP)
    persisted: list[Step] = []
    stop = False

    async def on_step(step: Step, outcomes: list[WorkOutcome]) -> None:
        nonlocal stop
        persisted.append(step)
        stop = stop or len(persisted) == 4

    monitor = SyncPerformanceMonitor(len(changes), 3, 3)
    runner = PlanRunner(
        harness.client, concurrency=3, monitor=monitor, on_step=on_step, should_stop=lambda: stop
    )
    report = await runner.run(plan)
    sent = {outcome.work.handle for outcome in report.outcomes}
    never = {work.handle for work in report.not_run}
    assert 4 <= len(report.outcomes) <= 4 + 2, "only the steps in flight finish after the stop"
    assert all(outcome.ok for outcome in report.outcomes)
    assert len(persisted) == len(report.outcomes), "on_step heard every step that ran"
    assert sent | never == {f"new-{n}" for n in range(12)} | {"old-0", "old-1", "old-2"}
    assert not sent & never
    assert {"old-0", "old-1", "old-2"} <= never, "no later phase starts after a stop"
    assert sorted(emulator.shop().data.handles) == sorted(sent | {"old-0", "old-1", "old-2"})
    assert report.stopped
    assert report.not_run_changes().isdisjoint(report.succeeded_changes())
    snapshot = monitor.snapshot()
    assert snapshot["state"] == "stopped"
    assert snapshot["works"]["not_run"] == len(report.not_run)
    assert snapshot["queued"] == len(changes) - snapshot["processed"] > 0
    assert snapshot["eta_seconds"] is None


async def test_on_step_is_awaited_before_its_worker_takes_the_next_step(
    harness: PushHarness,
) -> None:
    persisting: dict[int, bool] = {}
    overlaps: list[int] = []

    class Watching(SyncPerformanceMonitor):
        def step_started(self, worker_id: int, step: Step) -> None:
            if persisting.get(worker_id):
                overlaps.append(worker_id)
            super().step_started(worker_id, step)

    heard: list[tuple[int, int]] = []

    async def on_step(step: Step, outcomes: list[WorkOutcome]) -> None:
        worker = current_worker()
        assert worker is not None
        persisting[worker] = True
        await asyncio.sleep(0.01)  # a database write, say
        heard.append((len(step.works), len(outcomes)))
        persisting[worker] = False

    plan = creates(harness, 16)
    runner = PlanRunner(
        harness.client, min_workers=2, max_workers=4, monitor=Watching(), on_step=on_step
    )
    report = await runner.run(plan)
    assert report.failed_changes() == {}
    assert len(heard) == len(plan.steps) == 16
    assert all(works == outcomes for works, outcomes in heard)
    assert overlaps == []


async def test_a_failing_on_step_stops_the_run_after_the_steps_in_flight(
    harness: PushHarness,
) -> None:
    calls = 0

    async def on_step(step: Step, outcomes: list[WorkOutcome]) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the database went away")

    plan = creates(harness, 12)
    with pytest.raises(RuntimeError, match="database went away"):
        await PlanRunner(harness.client, concurrency=2, on_step=on_step).run(plan)
    assert calls <= 4, "at most the other step in flight finished after the failure"


async def test_a_failing_should_stop_is_raised_once_the_steps_in_flight_finish(
    harness: PushHarness, emulator: RunningEmulator
) -> None:
    asked = 0
    persisted: list[Step] = []

    def should_stop() -> bool:
        nonlocal asked
        asked += 1
        if asked == 4:  # the first three steps have started
            raise RuntimeError("cannot read the job's row")
        return False

    async def on_step(step: Step, outcomes: list[WorkOutcome]) -> None:
        persisted.append(step)

    runner = PlanRunner(harness.client, concurrency=3, on_step=on_step, should_stop=should_stop)
    with pytest.raises(RuntimeError, match="cannot read"):
        await runner.run(creates(harness, 10))
    assert len(persisted) == 3, "every step started was finished and recorded"
    assert len(emulator.shop().data.products) == 3


def test_pool_bounds_are_checked() -> None:
    client: Any = object()
    with pytest.raises(ValueError, match="either concurrency"):
        PlanRunner(client, concurrency=2, max_workers=4)
    with pytest.raises(ValueError, match="1 <= min <= max"):
        PlanRunner(client, min_workers=5, max_workers=2)
    for runner, bounds in [
        (PlanRunner(client), (4, 4)),
        (PlanRunner(client, concurrency=3), (3, 3)),
    ]:
        assert (runner.min_workers, runner.max_workers) == bounds
    assert PlanRunner(client, max_workers=8).min_workers == 1
    assert PlanRunner(client, min_workers=6).max_workers == 6
