"""Running a plan against a store, work by work, and saying what happened to each.

Steps of one phase run concurrently on an elastic worker pool (cowans.sync.engine: between
`min_workers` and `max_workers`, following Shopify's bucket), phases one after another, so
structure exists before its fields and stock are set. A failed request fails only its works; a
batch that Shopify refused as a whole because of some of its entries (stale stock, an invalid
metafield: those mutations are atomic) is sent again without them, so one bad product never
holds up 249 good ones.

A worker awaits `on_step` after each step before it takes the next, so the caller can persist
the outcomes while nothing else is sent for them. `should_stop` is asked before each step
starts: once it says yes, the steps in flight finish and every work never sent is listed in
`RunReport.not_run`, so its change can stay approved for the next run.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cowans.shopify.bulk import DEFAULT_POLL, BulkLineResult, PollPolicy, run_bulk_mutation
from cowans.shopify.client import Backoff, ShopifyClient
from cowans.shopify.documents import Document, load
from cowans.shopify.errors import ShopifyError
from cowans.sync.engine import ElasticPool, ScalingPolicy, current_worker
from cowans.sync.monitor import SyncPerformanceMonitor
from cowans.sync.planner import (
    DOCUMENTS,
    Plan,
    Step,
    Strategy,
    Work,
    WorkKind,
    request_variables,
)

# Shopify's answer when the store changed since our base: a conflict for a person, not a retry.
CONFLICT_CODES = frozenset({"CHANGE_FROM_QUANTITY_STALE", "STALE_OBJECT"})


@dataclass
class WorkOutcome:
    work: Work
    ok: bool
    error: str | None = None
    cost: float = 0.0
    payload: dict[str, Any] | None = None
    conflict: bool = False


@dataclass
class RunReport:
    outcomes: list[WorkOutcome] = field(default_factory=list)
    requests: int = 0
    points: float = 0.0
    seconds: float = 0.0
    # Works never sent because the run was told to stop: their changes are not done.
    not_run: list[Work] = field(default_factory=list)
    peak_workers: int = 0

    @property
    def stopped(self) -> bool:
        return bool(self.not_run)

    def failed_changes(self) -> dict[str, list[str]]:
        failed: dict[str, list[str]] = {}
        for outcome in self.outcomes:
            if not outcome.ok:
                failed.setdefault(outcome.work.change_id, []).append(outcome.error or "failed")
        return failed

    def not_run_changes(self) -> set[str]:
        """Changes with at least one work never sent (some of their works may have run)."""
        return {work.change_id for work in self.not_run}

    def succeeded_changes(self) -> set[str]:
        """Changes all of whose works ran and succeeded."""
        unfinished = self.failed_changes().keys() | self.not_run_changes()
        return {o.work.change_id for o in self.outcomes if o.work.change_id not in unfinished}


BulkMutationRunner = Callable[
    [ShopifyClient, Document, Sequence[dict[str, Any]]], Awaitable[list[BulkLineResult]]
]


# A push's bulk mutations are looked at soon: the small ones of a day's changes are done in a
# second, and from the first look on the waits follow the operation's pace (shopify.bulk).
PUSH_POLL = replace(DEFAULT_POLL, first_seconds=0.25)


def polling_bulk_runner(poll: PollPolicy = PUSH_POLL) -> BulkMutationRunner:
    """Bulk mutations that wait for their result by polling."""

    async def run(
        client: ShopifyClient, document: Document, lines: Sequence[dict[str, Any]]
    ) -> list[BulkLineResult]:
        return await run_bulk_mutation(client, document, lines, poll=poll)

    return run


OutcomeListener = Callable[[WorkOutcome], None]
StepHook = Callable[[Step, list[WorkOutcome]], Awaitable[None]]
StopCheck = Callable[[], bool]


def _user_errors(payload: dict[str, Any] | None) -> list[dict[str, Any]]:
    return (payload or {}).get("userErrors") or []


def _describe(errors: list[dict[str, Any]]) -> str:
    described = "; ".join(
        f"{'.'.join(e.get('field') or []) or 'input'}: {e.get('message')}" for e in errors
    )
    if _is_conflict(errors):
        return f"Changed in Shopify since the last sync; not overwritten ({described})"
    return described


def _is_conflict(errors: list[dict[str, Any]]) -> bool:
    return any(e.get("code") in CONFLICT_CODES for e in errors)


def _failed(work: Work, errors: list[dict[str, Any]], share: float) -> WorkOutcome:
    return WorkOutcome(work, False, _describe(errors), share, conflict=_is_conflict(errors))


def _already_gone(work: Work, errors: list[dict[str, Any]]) -> bool:
    """Deleting what is not there is done: a retry of an applied delete must not fail."""
    return work.kind is WorkKind.DELETE and all(
        "not exist" in (e.get("message") or "") or "not found" in (e.get("message") or "").lower()
        for e in errors
    )


def _judge(work: Work, payload: dict[str, Any] | None, share: float) -> WorkOutcome:
    errors = _user_errors(payload)
    if payload is None:
        return WorkOutcome(work, False, "Shopify returned no result", share)
    if errors and not _already_gone(work, errors):
        return _failed(work, errors, share)
    return WorkOutcome(work, True, None, share, payload)


def _pool_bounds(
    concurrency: int | None, min_workers: int | None, max_workers: int | None
) -> tuple[int, int]:
    """`concurrency=N` is a fixed pool (min = max = N); otherwise min defaults to 1 and max to
    4, or to min when only min is given."""
    if concurrency is not None:
        if min_workers is not None or max_workers is not None:
            raise ValueError("give either concurrency or min_workers/max_workers, not both")
        return concurrency, concurrency
    if min_workers is None and max_workers is None:
        return 4, 4
    low = min_workers or 1
    return low, max_workers or max(low, 4)


class PlanRunner:
    def __init__(
        self,
        client: ShopifyClient,
        *,
        concurrency: int | None = None,
        min_workers: int | None = None,
        max_workers: int | None = None,
        pause_seconds: float = 0.0,
        bulk: BulkMutationRunner | None = None,
        listener: OutcomeListener | None = None,
        monitor: SyncPerformanceMonitor | None = None,
        on_step: StepHook | None = None,
        should_stop: StopCheck | None = None,
        scaling: ScalingPolicy | None = None,
        tick_seconds: float = 0.1,
    ) -> None:
        self.client = client
        self.min_workers, self.max_workers = _pool_bounds(concurrency, min_workers, max_workers)
        if not 1 <= self.min_workers <= self.max_workers:
            raise ValueError(
                f"workers must be 1 <= min <= max, not {self.min_workers}..{self.max_workers}"
            )
        self.pause_seconds = pause_seconds
        self.bulk = bulk or polling_bulk_runner()
        self.listener = listener
        self.monitor = monitor
        self.on_step = on_step
        self.should_stop = should_stop
        self.scaling = scaling or ScalingPolicy()
        self.tick_seconds = tick_seconds

    async def run(self, plan: Plan) -> RunReport:
        """Run the plan's phases in order on one pool; a NAIVE plan one step at a time."""
        started, requests, points = (
            time.monotonic(),
            self.client.stats.requests,
            self.client.stats.points_spent,
        )
        monitor = self.monitor or SyncPerformanceMonitor()
        low, high = (
            (1, 1) if plan.strategy is Strategy.NAIVE else (self.min_workers, self.max_workers)
        )
        monitor.run_started(plan, self.client.stats, self.client.throttle, low, high)
        pool = ElasticPool(
            low,
            high,
            self.client.throttle,
            monitor,
            policy=self.scaling,
            tick_seconds=self.tick_seconds,
        )

        def heard(backoff: Backoff) -> None:
            pool.signal(backoff.cause)
            monitor.backoff(current_worker(), backoff)

        report = RunReport()
        self.client.backoff_listeners.append(heard)
        try:
            for phase in sorted({step.phase for step in plan.steps}):
                steps = [step for step in plan.steps if step.phase == phase]
                await self._run_phase(steps, pool, monitor, report)
        finally:
            self.client.backoff_listeners.remove(heard)
        monitor.not_run(report.not_run)
        report.requests = self.client.stats.requests - requests
        report.points = self.client.stats.points_spent - points
        report.seconds = time.monotonic() - started
        report.peak_workers = pool.peak
        monitor.run_finished()
        return report

    async def _run_phase(
        self,
        steps: list[Step],
        pool: ElasticPool,
        monitor: SyncPerformanceMonitor,
        report: RunReport,
    ) -> None:
        """Run one phase's steps; outcomes go into the report in the plan's order."""
        results: dict[int, list[WorkOutcome]] = {}

        async def run_one(worker_id: int, step: Step) -> None:
            monitor.step_started(worker_id, step)
            began = time.monotonic()
            outcomes = await self.run_step(step)
            monitor.step_finished(worker_id, step, outcomes, time.monotonic() - began)
            results[id(step)] = outcomes
            try:
                if self.on_step is not None:
                    await self.on_step(step, outcomes)
            finally:
                monitor.step_released(worker_id)
            monitor.report()
            if self.pause_seconds:
                await asyncio.sleep(self.pause_seconds)

        def stop_now() -> bool:
            if self.should_stop is not None and self.should_stop():
                monitor.stopping()
                return True
            return False

        left = steps if pool.stopped else await pool.run(steps, run_one, stop_now)
        for step in steps:
            report.outcomes += results.get(id(step), [])
        report.not_run += [work for step in left for work in step.works]

    async def run_step(self, step: Step) -> list[WorkOutcome]:
        if step.is_bulk:
            outcomes = await self._run_bulk(step)
        elif step.kind in (WorkKind.INVENTORY, WorkKind.METAFIELDS):
            outcomes = await self._run_shared(step.works)
        else:
            outcomes = await self._run_aliased(step)
        for outcome in outcomes:
            if self.listener is not None:
                self.listener(outcome)
        return outcomes

    async def _execute(
        self, document: Document, variables: dict[str, Any], works: list[Work]
    ) -> tuple[dict[str, Any] | None, float, list[WorkOutcome]]:
        try:
            result = await self.client.execute(document, variables)
        except ShopifyError as exc:
            return None, 0.0, [WorkOutcome(w, False, f"{exc.code}: {exc.message}") for w in works]
        return result.data, (result.actual_cost or 0) / max(1, len(works)), []

    async def _run_aliased(self, step: Step) -> list[WorkOutcome]:
        data, share, failed = await self._execute(step.document, step.variables, step.works)
        if data is None:
            return failed
        root = step.document.root_field
        if len(step.works) == 1:
            return [_judge(step.works[0], data.get(root), share)]
        return [_judge(work, data.get(f"m{i}"), share) for i, work in enumerate(step.works)]

    async def _run_shared(self, works: list[Work]) -> list[WorkOutcome]:
        """One call carrying several works' entries; it is all-or-nothing on Shopify's side."""
        document = load(DOCUMENTS[works[0].kind])
        variables = request_variables(works[0], works)
        data, share, failed = await self._execute(document, variables, works)
        if data is None:
            return failed
        payload = data.get(document.root_field)
        errors = _user_errors(payload)
        if not errors:
            return [WorkOutcome(work, True, None, share, payload) for work in works]
        culprits = self._culprits(works, errors)
        if not culprits or len(culprits) == len(works):
            return [_failed(work, errors, share) for work in works]
        rejected = [_failed(work, errs, share) for work, errs in culprits.items()]
        rest = [work for work in works if work not in culprits]
        return rejected + await self._run_shared(rest)

    @staticmethod
    def _culprits(
        works: list[Work], errors: list[dict[str, Any]]
    ) -> dict[Work, list[dict[str, Any]]]:
        """Which works the errors point at, by the entry index in their `field` path."""
        owners = [work for work in works for _ in work.entries]
        culprits: dict[Work, list[dict[str, Any]]] = {}
        for error in errors:
            path = error.get("field") or []
            index = next((int(part) for part in path if str(part).isdigit()), None)
            if index is None and error.get("elementIndex") is not None:
                index = error["elementIndex"]
            if index is None or index >= len(owners):
                return {}
            culprits.setdefault(owners[index], []).append(error)
        return culprits

    async def _run_bulk(self, step: Step) -> list[WorkOutcome]:
        try:
            results = await self.bulk(self.client, step.document, step.bulk_lines or [])
        except ShopifyError as exc:
            return [WorkOutcome(w, False, f"{exc.code}: {exc.message}") for w in step.works]
        outcomes = []
        for work, line in zip(step.works, results, strict=True):
            if line.errors:
                messages = "; ".join(str(e.get("message", e)) for e in line.errors)
                outcomes.append(WorkOutcome(work, False, messages))
            else:
                outcomes.append(_judge(work, dict(line.data) if line.data else None, 0.0))
        return outcomes
