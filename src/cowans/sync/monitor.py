"""SyncPerformanceMonitor: the figures of one push while it runs, as the API and dashboard show
them.

The runner feeds it (steps starting and ending, with their works' outcomes), the worker pool
tells it about workers joining, leaving and the pool resizing, and the client about every wait
(retries by cause, waits for the bucket). `snapshot()` is one JSON-ready dict: the `metrics`
shape of `GET /api/sync/status` (API.md) plus the details of `/api/sync/debug/*`.

Items are changes (products), the unit a person approved: `processed` counts changes all of whose
works have an outcome, `failed` those with at least one failed work. A change's works run in
several phases (structure, fields, stock), so a change finishes late in the run; `items_per_second`
and the ETA therefore count finished works as fractions of their change (a change of 4 works is
a quarter done after one), which keeps the rate steady from the first step on. Worker figures
(`items_done`, `errors`) count works, since a worker never handles a whole change.

A worker is busy while it runs a step, except while it waits for the bucket or before a retry
(its `backoff`): that time is Shopify's limit, not work. A worker's utilisation is its busy time
over the run's wall time; the pool's is all busy time over all time workers spent in the pool,
so an elastic pool that lets idle workers go reads near 1 when it waits on nothing, and low when
its workers mostly wait for the bucket (more workers would not help then).
"""

import logging
import math
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from cowans.shopify.client import Backoff, ClientStats
from cowans.shopify.throttle import CostThrottle
from cowans.sync.planner import Plan, Step, Work

logger = logging.getLogger(__name__)

LATENCY_WINDOW = 2000  # latest step durations kept per kind, for the percentiles
SCALING_KEPT = 50
PERCENTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}


class Outcome(Protocol):
    """What the monitor reads of a work's outcome (cowans.sync.runner.WorkOutcome)."""

    @property
    def work(self) -> Work: ...

    @property
    def ok(self) -> bool: ...

    @property
    def cost(self) -> float: ...


class MetricsReporter(Protocol):
    """Where snapshots go while the run goes on (JobContext.report_metrics, which throttles);
    `force` for the last one of a run, which must not be held back."""

    def __call__(self, snapshot: dict[str, Any], *, force: bool = False) -> None: ...


def retry_cause(cause: str) -> str:
    """The client's cause, grouped as people read them: every 5xx is one cause."""
    if re.fullmatch(r"http_5\d\d", cause):
        return "http_5xx"
    return {"connection": "network"}.get(cause, cause)


def step_kind(step: Step) -> str:
    """The operation kind a step's latency is filed under: a bulk mutation takes minutes where
    a request takes a second, so it has its own."""
    return f"{step.kind.value}_bulk" if step.is_bulk else step.kind.value


@dataclass
class _Worker:
    id: int
    in_pool_since: float | None = None
    alive_before: float = 0.0  # time in the pool in earlier stints
    busy_before: float = 0.0  # busy time of finished steps
    step: Step | None = None
    step_started: float = 0.0
    # Counted once when the step starts: a bulk step holds every change of its window, and
    # counting them on each report made a 100,000-product push spend a fifth of its CPU here.
    step_changes: int = 0
    backoff_until: float = 0.0
    backoff_cause: str | None = None
    step_backoff: float = 0.0  # waits announced during the current step
    steps_done: int = 0
    works_done: int = 0
    errors: int = 0

    def alive(self, now: float) -> float:
        current = now - self.in_pool_since if self.in_pool_since is not None else 0.0
        return self.alive_before + current

    def busy(self, now: float) -> float:
        return self.busy_before + self.step_busy(now)

    def step_busy(self, now: float) -> float:
        """The current step's time so far, less the waits already waited (a task waits for one
        thing at a time, so only the last announced wait can still be running)."""
        if self.step is None:
            return 0.0
        waited = self.step_backoff - max(0.0, self.backoff_until - now)
        return max(0.0, now - self.step_started - waited)

    def state(self, now: float) -> str:
        if self.in_pool_since is None and self.step is None:
            return "stopped"
        if self.step is None:
            return "idle"
        return "backoff" if self.backoff_until > now else "busy"


class SyncPerformanceMonitor:
    def __init__(
        self,
        total_changes: int = 0,
        min_workers: int = 1,
        max_workers: int = 1,
        *,
        reporter: MetricsReporter | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.total = total_changes
        self.min_workers, self.max_workers = min_workers, max_workers
        self.reporter = reporter
        self.clock, self.wall_clock = clock, wall_clock
        self.state = "pending"
        self.started_at: float | None = None
        self.started_wall: datetime | None = None
        self.ended_at: float | None = None
        self.throttle: CostThrottle | None = None
        self._stats: ClientStats | None = None
        self._points_before = 0.0
        self._requests_before = 0
        self._works_total: dict[str, int] = {}
        self._works_left: dict[str, int] = {}
        self._failed: set[str] = set()
        self._planned = self._unplannable = 0  # changes of every run so far
        self.processed = self.succeeded = self.failed = 0
        self._progress = 0.0  # changes done, counting unfinished ones by their finished works
        self.works = Counter[str]()  # total, done, failed, not_run
        self.steps = Counter[str]()  # total, done
        self._latency: dict[str, deque[float]] = {}
        self._kinds = Counter[str]()  # "<kind>:steps", "<kind>:works", "<kind>:points"
        self.retries = Counter[str]()
        self.bucket_waits = 0
        self.bucket_wait_seconds = 0.0
        self._workers: dict[int, _Worker] = {}
        self.peak_workers = 0
        self.scaling: deque[dict[str, Any]] = deque(maxlen=SCALING_KEPT)

    # Fed by the runner --------------------------------------------------------------------------

    def run_started(
        self,
        plan: Plan,
        stats: ClientStats,
        throttle: CostThrottle,
        min_workers: int,
        max_workers: int,
    ) -> None:
        """The run's plan and link: every change's works are known from here on. A push sends
        its changes a window at a time, each window a run of its own: the figures of later
        runs add to the first's, timed from its start."""
        self.state, self.ended_at = "running", None
        if self.started_at is None:
            self.started_at, self.started_wall = self.clock(), self.wall_clock()
            self._points_before, self._requests_before = stats.points_spent, stats.requests
        self.min_workers, self.max_workers = min_workers, max_workers
        self._stats, self.throttle = stats, throttle
        for step in plan.steps:
            self.steps["total"] += 1
            for work in step.works:
                self._planned += work.change_id not in self._works_total
                self._works_total[work.change_id] = self._works_total.get(work.change_id, 0) + 1
                self._works_left[work.change_id] = self._works_left.get(work.change_id, 0) + 1
                self.works["total"] += 1
        self._unplannable += len(plan.unplannable)
        for change_id in plan.unplannable:  # they never get a work: failed from the start
            self._progress += 1
            self._finish_change(change_id, ok=False)
        self.total = max(self.total, self._planned + self._unplannable)

    def step_started(self, worker_id: int, step: Step) -> None:
        worker = self._worker(worker_id)
        worker.step, worker.step_started = step, self.clock()
        worker.step_changes = len({work.change_id for work in step.works})

    def step_finished(
        self, worker_id: int, step: Step, outcomes: Sequence[Outcome], seconds: float
    ) -> None:
        """Shopify answered for the step (its works have outcomes); the worker may still be
        recording them, see `step_released`."""
        kind = step_kind(step)
        self._latency.setdefault(kind, deque(maxlen=LATENCY_WINDOW)).append(seconds)
        self._kinds[f"{kind}:steps"] += 1
        self._kinds[f"{kind}:works"] += len(outcomes)
        self._kinds[f"{kind}:points"] += sum(outcome.cost for outcome in outcomes)
        self.steps["done"] += 1
        worker = self._worker(worker_id)
        worker.steps_done += 1
        for outcome in outcomes:
            worker.works_done += 1
            worker.errors += not outcome.ok
            self._work_done(outcome.work, outcome.ok)

    def step_released(self, worker_id: int) -> None:
        """The worker is done with its step (outcomes recorded) and free for the next."""
        worker = self._worker(worker_id)
        worker.busy_before += worker.step_busy(self.clock())
        worker.step, worker.backoff_until, worker.backoff_cause = None, 0.0, None
        worker.step_backoff = 0.0

    def backoff(self, worker_id: int | None, backoff: Backoff) -> None:
        if backoff.retry:
            self.retries[retry_cause(backoff.cause)] += 1
        else:
            self.bucket_waits += 1
            self.bucket_wait_seconds += backoff.seconds
        if worker_id is not None:
            worker = self._worker(worker_id)
            worker.backoff_until = max(worker.backoff_until, self.clock() + backoff.seconds)
            worker.backoff_cause = retry_cause(backoff.cause)
            worker.step_backoff += backoff.seconds

    def not_run(self, works: Iterable[Work]) -> None:
        """Works the run never sent: their changes stay queued for the next run."""
        self.works["not_run"] += sum(1 for _ in works)

    def stopping(self) -> None:
        self.state = "stopping"

    def run_finished(self) -> None:
        self.ended_at = self.clock()
        self.state = "stopped" if self.works["not_run"] else "finished"
        now = self.clock()
        for worker in self._workers.values():
            if worker.in_pool_since is not None:
                worker.alive_before += now - worker.in_pool_since
                worker.in_pool_since = None
        self.report(force=True)

    # Fed by the pool (cowans.sync.engine.PoolObserver) ------------------------------------------

    def worker_joined(self, worker_id: int) -> None:
        self._worker(worker_id).in_pool_since = self.clock()

    def worker_left(self, worker_id: int) -> None:
        worker = self._worker(worker_id)
        if worker.in_pool_since is not None:
            worker.alive_before += self.clock() - worker.in_pool_since
            worker.in_pool_since = None

    def scaled(self, before: int, after: int, reason: str) -> None:
        self.peak_workers = max(self.peak_workers, after)
        self.scaling.append(
            {"at": round(self._elapsed(), 3), "from": before, "to": after, "reason": reason}
        )

    def tick(self) -> None:
        self.report()

    def report(self, *, force: bool = False) -> None:
        """Hand the figures to the reporter. They are a view of the run, not part of it: a
        report that fails is logged, and the steps go on (the next report tries again)."""
        if self.reporter is None:
            return
        try:
            self.reporter(self.snapshot(), force=force)
        except Exception:
            logger.warning("sync metrics not reported", exc_info=True)

    # Figures -------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The figures now, JSON-ready: API.md's status `metrics` fields first, then details."""
        now = self.clock()
        elapsed = self._elapsed()
        rate = self._progress / elapsed if elapsed > 0 else 0.0
        cost = self._cost_spent()
        return {
            "total": self.total,
            "processed": self.processed,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "queued": max(self.total - self.processed, 0),
            "items_per_second": round(rate, 3),
            "eta_seconds": self._eta(rate),
            "workers": self._pool_figures(now),
            "utilization": self._utilization(now),
            "error_rate": round(self.failed / self.processed, 4) if self.processed else 0.0,
            "cost_spent": round(cost, 1),
            "throttle": self._throttle(),
            "state": self.state,
            "started_at": self.started_wall.isoformat() if self.started_wall else None,
            "updated_at": self.wall_clock().isoformat(),
            "elapsed_seconds": round(elapsed, 3),
            "cost_per_item": round(cost / self._progress, 2) if self._progress else None,
            "requests": self._requests(),
            "works": {key: self.works[key] for key in ("total", "done", "failed", "not_run")},
            "steps": {
                "total": self.steps["total"],
                "done": self.steps["done"],
                "running": sum(1 for w in self._workers.values() if w.step is not None),
            },
            "retries": dict(sorted(self.retries.items())),
            "retries_total": sum(self.retries.values()),
            "bucket_waits": {
                "count": self.bucket_waits,
                "seconds": round(self.bucket_wait_seconds, 3),
            },
            "latency": self._latency_figures(),
            "pool": [self._worker_row(w, now) for _, w in sorted(self._workers.items())],
            "scaling": list(self.scaling),
        }

    def _elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.ended_at if self.ended_at is not None else self.clock()) - self.started_at

    def _eta(self, rate: float) -> float | None:
        """Seconds until every change is processed at the rate so far; None while there is no
        rate yet, or when the run ended with changes left (they wait for the next run)."""
        if self.processed >= self.total:
            return 0.0
        if rate <= 0 or self.state in ("stopped", "finished"):
            return None
        return round(max(self.total - self._progress, 0.0) / rate, 1)

    def _cost_spent(self) -> float:
        return self._stats.points_spent - self._points_before if self._stats else 0.0

    def _requests(self) -> int:
        return self._stats.requests - self._requests_before if self._stats else 0

    def _pool_figures(self, now: float) -> dict[str, int]:
        states = Counter(worker.state(now) for worker in self._workers.values())
        return {
            "active": sum(n for state, n in states.items() if state != "stopped"),
            "min": self.min_workers,
            "max": self.max_workers,
            "busy": states["busy"] + states["backoff"],
            "peak": self.peak_workers,
        }

    def _utilization(self, now: float) -> float:
        alive = sum(worker.alive(now) for worker in self._workers.values())
        busy = sum(worker.busy(now) for worker in self._workers.values())
        return round(min(1.0, busy / alive), 4) if alive > 0 else 0.0

    def _throttle(self) -> dict[str, float]:
        status = self.throttle.status() if self.throttle is not None else {}
        return {
            "currently_available": status.get("currentlyAvailable", 0.0),
            "maximum_available": status.get("maximumAvailable", 0.0),
            "restore_rate": status.get("restoreRate", 0.0),
        }

    def _latency_figures(self) -> dict[str, dict[str, Any]]:
        figures = {}
        for kind, durations in sorted(self._latency.items()):
            ordered = sorted(durations)
            works, points = self._kinds[f"{kind}:works"], self._kinds[f"{kind}:points"]
            figures[kind] = {
                "steps": self._kinds[f"{kind}:steps"],
                "works": works,
                **{name: round(_percentile(ordered, q), 4) for name, q in PERCENTILES.items()},
                "max": round(ordered[-1], 4),
                "points_per_work": round(points / works, 2) if works else None,
            }
        return figures

    def _worker_row(self, worker: _Worker, now: float) -> dict[str, Any]:
        wall = self._elapsed()
        return {
            "id": worker.id,
            "state": worker.state(now),
            "current_batch": self._batch(worker, now),
            "items_done": worker.works_done,
            "errors": worker.errors,
            "steps_done": worker.steps_done,
            "busy_seconds": round(worker.busy(now), 3),
            "pool_seconds": round(worker.alive(now), 3),
            "utilization": round(min(1.0, worker.busy(now) / wall), 4) if wall > 0 else 0.0,
            "backoff_until": self._wall(worker.backoff_until, now)
            if worker.backoff_until > now
            else None,
            "backoff_cause": worker.backoff_cause if worker.backoff_until > now else None,
        }

    def _batch(self, worker: _Worker, now: float) -> dict[str, Any] | None:
        step = worker.step
        if step is None:
            return None
        return {
            "kind": step.kind.value,
            "bulk": step.is_bulk,
            "works": len(step.works),
            "changes": worker.step_changes,
            "predicted_cost": step.predicted_cost,
            "started_at": self._wall(worker.step_started, now),
            "running_seconds": round(now - worker.step_started, 3),
        }

    def _wall(self, moment: float, now: float) -> str:
        return (self.wall_clock() + timedelta(seconds=moment - now)).isoformat()

    # Bookkeeping ---------------------------------------------------------------------------------

    def _worker(self, worker_id: int) -> _Worker:
        if worker_id not in self._workers:
            self._workers[worker_id] = _Worker(worker_id)
        return self._workers[worker_id]

    def _work_done(self, work: Work, ok: bool) -> None:
        self.works["done"] += 1
        self.works["failed"] += not ok
        change = work.change_id
        if not ok:
            self._failed.add(change)
        if change not in self._works_left:
            return  # a work of a change outside the plan: nothing to finish
        self._progress += 1 / self._works_total[change]
        self._works_left[change] -= 1
        if self._works_left[change] == 0:
            del self._works_left[change], self._works_total[change]  # a long push's memory
            self._finish_change(change, ok=change not in self._failed)

    def _finish_change(self, change_id: str, *, ok: bool) -> None:
        self.processed += 1
        if ok:
            self.succeeded += 1
        else:
            self.failed += 1
            self._failed.add(change_id)


def _percentile(ordered: Sequence[float], quantile: float) -> float:
    """Nearest rank: a duration that really happened, never an interpolation."""
    return ordered[max(0, math.ceil(quantile * len(ordered)) - 1)]
