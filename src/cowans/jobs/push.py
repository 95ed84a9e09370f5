"""Push jobs: a store's approved changes, planned and sent to Shopify, outcomes recorded.

The job reads the approved changes when it starts (a change approved later waits for the next
push), plans them with the requested strategy, runs the plan with `maxWorkers` requests in
flight, and writes each change's outcome and a `sync_history` row. A job that lost items ends
`failed` with the count in its error, never `completed`: its result lists each failure.
"""

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from cowans.config import Settings
from cowans.db.models import Store, SyncHistory, SyncJob
from cowans.db.session import session_scope
from cowans.errors import NotFound
from cowans.jobs import store as jobs_store
from cowans.jobs.context import JobContext
from cowans.jobs.errors import CompletedWithErrors
from cowans.shopify.connection import client_for_store
from cowans.shopify.products import list_locations
from cowans.sync.changes import ProductChange
from cowans.sync.planner import StoreConditions, Strategy, plan_changes
from cowans.sync.push import approved_changes, record_outcomes
from cowans.sync.runner import PlanRunner, RunReport, WorkOutcome

KIND = "sync.push"
ERRORS_KEPT = 100


def create_push_job(
    session: Session,
    store: Store,
    config: dict[str, Any],
    created_by: int | None,
    ids: list[int] | None = None,
) -> SyncJob:
    params = {**config, "ids": ids}
    return jobs_store.create_job(
        session,
        KIND,
        params=params,
        created_by=created_by,
        priority=config.get("priority", "normal"),
        store_id=store.id,
    )


def run_push(context: JobContext) -> dict[str, Any]:
    started = datetime.now(UTC)
    with session_scope(context.engine) as session:
        store = session.get(Store, context.store_id)
        if store is None:
            raise NotFound("store_not_found", f"No store with id {context.store_id}.")
        session.expunge(store)
        pending = approved_changes(session, store.id, context.params.get("ids"))
        changes = [change for _, change in pending]
    context.progress(total=len(changes), processed=0, phase="planning")
    report = asyncio.run(_send(context, store, changes)) if changes else RunReport()
    with session_scope(context.engine) as session:
        rows = [(session.merge(row), change) for row, change in pending]
        outcome = record_outcomes(session, store.id, rows, report)
        summary = _summary(report, outcome, len(changes))
        session.add(_history(context, store.id, started, summary, outcome))
        stored = session.get(Store, store.id)
        if stored is not None and outcome.applied:
            stored.last_push_at = datetime.now(UTC)
    context.progress(
        processed=len(changes),
        succeeded=outcome.applied,
        failed=outcome.failed + outcome.conflicts,
        phase="done",
    )
    if outcome.failed or outcome.conflicts:
        raise CompletedWithErrors(
            f"{outcome.failed + outcome.conflicts} of {len(changes)} changes were not applied "
            f"({outcome.conflicts} conflicts); see the job's result and the staged changes.",
            summary,
        )
    return summary


async def _send(context: JobContext, store: Store, changes: list[ProductChange]) -> RunReport:
    settings: Settings = context.settings
    workers = int(context.params.get("maxWorkers") or settings.parallel_sync_max_workers)
    strategy = Strategy(context.params.get("strategy") or "balanced")
    done = 0

    def heard(_: WorkOutcome) -> None:
        nonlocal done
        done += 1
        context.progress(processed=min(done, len(changes)), phase="pushing", persist=False)

    async with client_for_store(store, settings) as client:
        locations = await list_locations(client)
        conditions = StoreConditions.from_settings(settings, locations, concurrency=workers)
        plan = plan_changes(changes, strategy, conditions)
        context.progress(phase="pushing")
        return await PlanRunner(client, concurrency=workers, listener=heard).run(plan)


def _summary(report: RunReport, outcome: Any, total: int) -> dict[str, Any]:
    return {
        "total": total,
        "applied": outcome.applied,
        "failed": outcome.failed,
        "conflicts": outcome.conflicts,
        "requests": report.requests,
        "points": round(report.points, 1),
        "seconds": round(report.seconds, 2),
        "errors": outcome.errors[:ERRORS_KEPT],
    }


def _history(
    context: JobContext, store_id: int, started: datetime, summary: dict[str, Any], outcome: Any
) -> SyncHistory:
    failed = outcome.failed + outcome.conflicts
    return SyncHistory(
        sync_job_id=context.job_id,
        store_id=store_id,
        sync_type="push",
        direction="push",
        status="completed_with_errors" if failed else "completed",
        started_at=started,
        completed_at=datetime.now(UTC),
        total_items=summary["total"],
        processed_items=summary["total"],
        succeeded_items=outcome.applied,
        failed_items=failed,
        performance_metrics={k: summary[k] for k in ("requests", "points", "seconds")},
        error_message=None if not failed else f"{failed} changes not applied",
    )
