"""Running a plan against a store, work by work, and saying what happened to each.

Steps of one phase run concurrently (a bounded number at a time), phases one after another.
A failed request fails only its works; a batch that Shopify refused as a whole because of some of
its entries (stale stock, an invalid metafield: those mutations are atomic) is sent again
without them, so one bad product never holds up 249 good ones.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cowans.shopify.bulk import DEFAULT_POLL, BulkLineResult, PollPolicy, run_bulk_mutation
from cowans.shopify.client import ShopifyClient
from cowans.shopify.documents import Document, load
from cowans.shopify.errors import ShopifyError
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

    def failed_changes(self) -> dict[str, list[str]]:
        failed: dict[str, list[str]] = {}
        for outcome in self.outcomes:
            if not outcome.ok:
                failed.setdefault(outcome.work.change_id, []).append(outcome.error or "failed")
        return failed

    def succeeded_changes(self) -> set[str]:
        failed = self.failed_changes()
        return {o.work.change_id for o in self.outcomes if o.work.change_id not in failed}


BulkMutationRunner = Callable[
    [ShopifyClient, Document, Sequence[dict[str, Any]]], Awaitable[list[BulkLineResult]]
]


def polling_bulk_runner(poll: PollPolicy = DEFAULT_POLL) -> BulkMutationRunner:
    """Bulk mutations that wait for their result by polling."""

    async def run(
        client: ShopifyClient, document: Document, lines: Sequence[dict[str, Any]]
    ) -> list[BulkLineResult]:
        return await run_bulk_mutation(client, document, lines, poll=poll)

    return run


OutcomeListener = Callable[[WorkOutcome], None]


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


class PlanRunner:
    def __init__(
        self,
        client: ShopifyClient,
        *,
        concurrency: int = 4,
        pause_seconds: float = 0.0,
        bulk: BulkMutationRunner | None = None,
        listener: OutcomeListener | None = None,
    ) -> None:
        self.client = client
        self.concurrency = concurrency
        self.pause_seconds = pause_seconds
        self.bulk = bulk or polling_bulk_runner()
        self.listener = listener

    async def run(self, plan: Plan) -> RunReport:
        started, requests, points = (
            time.monotonic(),
            self.client.stats.requests,
            self.client.stats.points_spent,
        )
        report = RunReport()
        for phase in sorted({step.phase for step in plan.steps}):
            steps = [step for step in plan.steps if step.phase == phase]
            report.outcomes += await self._run_phase(steps, ordered=plan.strategy is Strategy.NAIVE)
        report.requests = self.client.stats.requests - requests
        report.points = self.client.stats.points_spent - points
        report.seconds = time.monotonic() - started
        return report

    async def _run_phase(self, steps: list[Step], *, ordered: bool) -> list[WorkOutcome]:
        if ordered or self.concurrency <= 1:
            outcomes: list[WorkOutcome] = []
            for step in steps:
                outcomes += await self.run_step(step)
            return outcomes
        gate = asyncio.Semaphore(self.concurrency)

        async def gated(step: Step) -> list[WorkOutcome]:
            async with gate:
                return await self.run_step(step)

        results = await asyncio.gather(*(gated(step) for step in steps))
        return [outcome for result in results for outcome in result]

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
        if self.pause_seconds:
            await asyncio.sleep(self.pause_seconds)
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
