"""SyncPerformanceMonitor: figures that add up, by hand on a fake clock and after real runs
against the emulator with faults."""

from dataclasses import dataclass
from typing import Any

import pytest

from cowans.shopify.client import Backoff, ClientStats
from cowans.shopify.documents import load
from cowans.shopify.throttle import CostThrottle
from cowans.sync.monitor import SyncPerformanceMonitor
from cowans.sync.planner import Phase, Plan, Step, Strategy, Work, WorkKind
from cowans.sync.runner import PlanRunner
from tests.emulator.conftest import RunningEmulator
from tests.sync.harness import LOCATIONS, PushHarness, product, with_variant

STATUS_KEYS = {
    "total",
    "processed",
    "succeeded",
    "failed",
    "queued",
    "items_per_second",
    "eta_seconds",
    "workers",
    "utilization",
    "error_rate",
    "cost_spent",
    "throttle",
}
WORKER_KEYS = {"id", "state", "current_batch", "items_done", "errors", "backoff_until"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Outcome:
    work: Work
    ok: bool
    cost: float = 10.0


def step(kind: WorkKind, *works: Work) -> Step:
    return Step(kind, Phase.FIELDS, list(works), load("product_update"), predicted_cost=10)


def two_changes_plan() -> tuple[Plan, list[Work]]:
    """Change a has a product update and stock; change b a product update only; change c could
    not be planned."""
    works = [
        Work("a", "pen", WorkKind.PRODUCT_UPDATE),
        Work("b", "pad", WorkKind.PRODUCT_UPDATE),
        Work("a", "pen", WorkKind.INVENTORY),
    ]
    steps = [step(WorkKind.PRODUCT_UPDATE, works[0], works[1]), step(WorkKind.INVENTORY, works[2])]
    return Plan(Strategy.BALANCED, steps, {"c": "no such collection"}, 1.0), works


def test_figures_follow_the_run_on_a_fake_clock() -> None:
    clock = FakeClock()
    monitor = SyncPerformanceMonitor(3, 1, 2, clock=clock)
    plan, works = two_changes_plan()
    stats, throttle = ClientStats(), CostThrottle(clock=clock)
    monitor.run_started(plan, stats, throttle, 1, 2)
    monitor.worker_joined(1)
    snapshot = monitor.snapshot()
    assert snapshot.keys() >= STATUS_KEYS
    assert (snapshot["processed"], snapshot["failed"], snapshot["queued"]) == (1, 1, 2)
    assert snapshot["eta_seconds"] is None, "no rate yet"

    monitor.step_started(1, plan.steps[0])
    clock.now += 1
    monitor.backoff(1, Backoff("http_503", 2.0, retry=True))
    row = monitor.snapshot()["pool"][0]
    assert row.keys() >= WORKER_KEYS
    assert (row["state"], row["backoff_cause"]) == ("backoff", "http_5xx")
    assert row["backoff_until"] is not None
    assert row["current_batch"]["works"] == 2
    clock.now += 3
    stats.points_spent += 20
    monitor.step_finished(1, plan.steps[0], [Outcome(works[0], True), Outcome(works[1], True)], 4)
    monitor.step_released(1)
    snapshot = monitor.snapshot()
    # b is done; a is half done (one of its two works): 1 + 1 (c) + 0.5 changes in 4 seconds.
    assert (snapshot["processed"], snapshot["succeeded"], snapshot["failed"]) == (2, 1, 1)
    assert snapshot["items_per_second"] == pytest.approx(2.5 / 4, abs=1e-3)
    assert snapshot["eta_seconds"] == pytest.approx(0.5 / (2.5 / 4), abs=0.1)
    assert snapshot["utilization"] == 0.5, "2 of its 4 seconds went waiting before a retry"
    assert snapshot["pool"][0]["state"] == "idle"
    assert snapshot["retries"] == {"http_5xx": 1}
    assert snapshot["cost_spent"] == 20

    clock.now += 4  # idle for as long as it was busy
    monitor.step_started(1, plan.steps[1])
    monitor.backoff(1, Backoff("bucket", 0.5, retry=False))
    clock.now += 1
    monitor.step_finished(1, plan.steps[1], [Outcome(works[2], False)], 1)
    monitor.step_released(1)
    monitor.run_finished()
    snapshot = monitor.snapshot()
    assert (snapshot["processed"], snapshot["succeeded"], snapshot["failed"]) == (3, 1, 2)
    assert (snapshot["queued"], snapshot["eta_seconds"], snapshot["state"]) == (0, 0.0, "finished")
    assert snapshot["error_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert snapshot["utilization"] == pytest.approx(2.5 / 9, abs=1e-3)
    assert snapshot["pool"][0]["utilization"] == pytest.approx(2.5 / 9, abs=1e-3)
    assert snapshot["bucket_waits"] == {"count": 1, "seconds": 0.5}
    assert snapshot["works"] == {"total": 3, "done": 3, "failed": 1, "not_run": 0}
    latency = snapshot["latency"]
    assert latency["product_update"]["p50"] == 4
    assert latency["inventory"]["steps"] == 1
    assert snapshot["pool"][0]["state"] == "stopped"
    assert snapshot["workers"]["active"] == 0


def test_the_reporter_gets_snapshots_and_a_forced_last_one() -> None:
    heard: list[tuple[dict[str, Any], bool]] = []

    def reporter(snapshot: dict[str, Any], *, force: bool = False) -> None:
        heard.append((snapshot, force))

    monitor = SyncPerformanceMonitor(0, reporter=reporter)
    plan, _ = two_changes_plan()
    monitor.run_started(plan, ClientStats(), CostThrottle(), 1, 1)
    monitor.tick()
    monitor.run_finished()
    assert [force for _, force in heard] == [False, True]
    assert heard[-1][0]["total"] == 3


def test_a_failing_reporter_does_not_stop_the_run(caplog: pytest.LogCaptureFixture) -> None:
    def reporter(snapshot: dict[str, Any], *, force: bool = False) -> None:
        raise OSError("database is locked")

    monitor = SyncPerformanceMonitor(reporter=reporter)
    monitor.run_started(two_changes_plan()[0], ClientStats(), CostThrottle(), 1, 1)
    monitor.tick()
    monitor.run_finished()
    assert "sync metrics not reported" in caplog.text


@pytest.mark.anyio
async def test_figures_are_consistent_after_a_run_with_faults_and_a_conflict(
    make_emulator: Any,
) -> None:
    emulator: RunningEmulator = make_emulator()
    harness = PushHarness(emulator, timeout_seconds=0.5)
    catalog = [product(f"ink-{n}", f"INK-{n}", f"INK-{n}-B") for n in range(16)]
    await harness.push(catalog)
    # Someone sold ink-3 in Shopify: its stock change is a conflict.
    shop = emulator.shop()
    item = int(harness.remote["ink-3"].inventory_item_ids["INK-3"].rsplit("/", 1)[1])
    location = next(n for n, loc in shop.data.locations.items() if loc.name == LOCATIONS[0])
    shop.data.inventory_levels[(item, location)].quantities["available"] = 1
    faults = shop.faults
    faults.reseed(7)
    faults.http_5xx, faults.hang, faults.hang_seconds = 0.2, 0.05, 2.0
    changed = [
        with_variant(
            with_variant(p, p.variants[0].sku, inventory={LOCATIONS[0]: 50 + n, LOCATIONS[1]: n}),
            p.variants[1].sku,
            price=p.variants[1].price + 1,
        )
        for n, p in enumerate(catalog)
    ]
    changes = harness.changes(changed)
    plan = harness.plan(changes, max_aliases=2, bulk_threshold=10_000)
    monitor = SyncPerformanceMonitor(len(changes), 1, 4)
    report = await PlanRunner(harness.client, min_workers=1, max_workers=4, monitor=monitor).run(
        plan
    )
    await harness.client.close()
    snapshot = monitor.snapshot()
    assert list(report.failed_changes()) == [c.change_id for c in changes if c.handle == "ink-3"]
    assert snapshot["total"] == 16
    assert snapshot["processed"] == snapshot["succeeded"] + snapshot["failed"] == 16
    assert (snapshot["failed"], snapshot["queued"], snapshot["eta_seconds"]) == (1, 0, 0.0)
    assert snapshot["error_rate"] == pytest.approx(1 / 16, abs=1e-4)
    assert 0 < snapshot["utilization"] <= 1
    assert all(0 <= row["utilization"] <= 1 for row in snapshot["pool"])
    assert sum(row["items_done"] for row in snapshot["pool"]) == len(report.outcomes)
    assert sum(row["errors"] for row in snapshot["pool"]) == 1
    assert snapshot["cost_spent"] == pytest.approx(report.points, abs=0.1)
    assert snapshot["cost_per_item"] == pytest.approx(report.points / 16, abs=0.01)
    assert snapshot["requests"] == report.requests
    counters = shop.counters
    assert snapshot["retries"].get("http_5xx", 0) == counters["faults_5xx"] > 0
    assert snapshot["retries"].get("timeout", 0) == counters["faults_hang"]
    for kind, figures in snapshot["latency"].items():
        assert 0 < figures["p50"] <= figures["p90"] <= figures["p99"] <= figures["max"], kind
    assert set(snapshot["latency"]) == {"variants", "inventory"}
    assert snapshot["workers"]["min"] == 1
    assert snapshot["workers"]["max"] == 4
