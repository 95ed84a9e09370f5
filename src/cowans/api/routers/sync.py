"""Parallel sync API (`parallel_sync_api`): stage the catalog's differences for a store, list
what is staged, predict what a push of the approved changes would cost (`plan`), and push them
(`start`, `stop`, `status`); `debug/*` shows a push's worker pool and performance figures
(cowans.sync.monitor) in detail; `history` lists past pulls and pushes."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import case, select

from cowans.api.deps import (
    Approver,
    Editor,
    JobsDep,
    SessionDep,
    SettingsDep,
    Viewer,
    audit,
    changes_nothing,
)
from cowans.api.errors import error_responses
from cowans.api.schemas import (
    MAX_ID,
    Cursor,
    Id,
    ProductFilterIn,
    StagedChangeOut,
    StagedPage,
)
from cowans.config import Settings
from cowans.db.models import JobState, StagedChangeStatus, SyncJob
from cowans.errors import NotFound
from cowans.jobs import store as jobs_store
from cowans.jobs.push import KIND as PUSH_KIND
from cowans.jobs.push import create_push_job
from cowans.jobs.staged_events import staged_changed
from cowans.sync.planner import Strategy
from cowans.sync.preview import PushSettings, predict_push
from cowans.sync.review import MAX_PAGE, StagedFilter, list_history, list_staged
from cowans.sync.staging import resolve_store, stage_push

# Every operation names a store, a push or changes by id, in its body or query: 404 for any.
router = APIRouter(prefix="/api/sync", tags=["sync"], responses=error_responses(404))

ProductId = Annotated[int, Field(strict=True, ge=1, le=2**31 - 1)]


class StageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_ids: Annotated[list[ProductId] | None, Field(max_length=100_000)] = None
    filter: ProductFilterIn | None = None
    store_id: Id | None = None


class StageOut(BaseModel):
    sync_job_id: int
    staged: int
    unchanged: int
    kept: int
    operations: dict[str, int]
    auto_approved: int


@router.post("/staged", response_model=StageOut)
def stage(
    body: StageIn,
    request: Request,
    principal: Editor,
    session: SessionDep,
    jobs: JobsDep,
    after: BackgroundTasks,
) -> StageOut:
    """Stage the differences between the catalog and the store's last-synced state (the whole
    catalog when neither product_ids nor filter is given)."""
    store = resolve_store(session, body.store_id)
    result = stage_push(
        session,
        store,
        product_ids=body.product_ids,
        filters=body.filter.to_filter() if body.filter else None,
        created_by=principal.user.id,
    )
    audit(request, store_id=store.id, sync_job_id=result.sync_job_id, staged=result.staged)
    session.flush()
    # Published once the response is sent, so after the request's transaction is committed.
    after.add_task(jobs.events.publish, staged_changed(session, store.id, "staged"))
    return StageOut(sync_job_id=result.sync_job_id, **result.summary())


@router.get("/staged", response_model=StagedPage)
def staged(
    _: Viewer,
    session: SessionDep,
    status: StagedChangeStatus | None = None,
    direction: Annotated[str | None, Query(pattern="^(push|pull)$")] = None,
    operation_type: Annotated[str | None, Query(pattern="^(create|update|delete)$")] = None,
    store_id: Id | None = None,
    conflicts_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Cursor | None = None,
) -> StagedPage:
    filters = StagedFilter(status, direction, operation_type, store_id, conflicts_only)
    rows, total, next_cursor = list_staged(session, filters, limit, cursor)
    return StagedPage(
        items=[StagedChangeOut.model_validate(row) for row in rows],
        total=total,
        next_cursor=next_cursor,
    )


class PushConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # None: PARALLEL_SYNC_MIN_WORKERS.
    minWorkers: Annotated[int | None, Field(ge=1, le=10)] = None  # noqa: N815 - API.md's names
    maxWorkers: Annotated[int | None, Field(ge=1, le=10)] = None  # noqa: N815
    batchSize: Annotated[int | None, Field(ge=1, le=250)] = None  # noqa: N815
    priority: Literal["low", "normal", "high"] = "normal"
    strategy: Literal["speed", "cost", "balanced"] = "balanced"


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: PushConfig = PushConfig()
    store_id: Id | None = None


class Started(BaseModel):
    job_id: int


def push_values(config: PushConfig, settings: Settings) -> dict[str, Any]:
    """The config a push job runs with: unset worker bounds from the settings, and a maximum
    never below the minimum."""
    values = config.model_dump()
    values["minWorkers"] = values["minWorkers"] or settings.parallel_sync_min_workers
    values["maxWorkers"] = values["maxWorkers"] or settings.parallel_sync_max_workers
    values["maxWorkers"] = max(values["maxWorkers"], values["minWorkers"])
    return values


def start_push(
    session: Any,
    jobs: Any,
    settings: Any,
    principal: Any,
    store_id: int | None,
    config: PushConfig,
    ids: list[int] | None = None,
) -> SyncJob:
    store = resolve_store(session, store_id)
    values = push_values(config, settings)
    job = create_push_job(session, store, values, principal.user.id, ids)
    jobs.submit(session, job)
    return job


@router.post("/start", response_model=Started, status_code=202)
def start(
    body: StartIn,
    request: Request,
    principal: Approver,
    session: SessionDep,
    jobs: JobsDep,
    settings: SettingsDep,
) -> Started:
    """Push every approved, unapplied change of the store (a job)."""
    job = start_push(session, jobs, settings, principal, body.store_id, body.config)
    audit(request, job_id=job.id, store_id=job.store_id, config=job.config)
    return Started(job_id=job.id)


class PlanKind(BaseModel):
    kind: str
    works: int
    steps: int
    bulk: bool
    predicted_cost: int


class UnplannableChange(BaseModel):
    staged_id: int | None
    handle: str
    reason: str


class PlanWorkers(BaseModel):
    min: int
    max: int


class PlanOut(BaseModel):
    """The planner's prediction for a push (see cowans.sync.preview for what it assumes)."""

    store_id: int
    changes: int
    predicted_cost: int
    requests: int
    bulk_operations: int
    predicted_seconds: float
    unplannable: int
    strategy: str
    operations: dict[str, int]
    by_kind: list[PlanKind]
    steps: int
    workers: PlanWorkers
    batch_size: int
    unplannable_changes: list[UnplannableChange]


@router.post("/plan", response_model=PlanOut)
def plan(
    body: StartIn, request: Request, _: Approver, session: SessionDep, settings: SettingsDep
) -> PlanOut:
    """What `POST /api/sync/start` with the same body would send: the planner's predicted points,
    requests, bulk operations and seconds for the store's approved, unapplied changes. A
    prediction, made without contacting Shopify and without changing anything (no job, no
    claim on the changes, no audit entry); with nothing approved, all zeros."""
    changes_nothing(request)
    store = resolve_store(session, body.store_id)
    values = push_values(body.config, settings)
    push = PushSettings(
        strategy=Strategy(values["strategy"]),
        min_workers=values["minWorkers"],
        max_workers=values["maxWorkers"],
        batch_size=values["batchSize"],
    )
    return PlanOut.model_validate(predict_push(session, store, push, settings))


class StopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: Id | None = None


class Stopping(BaseModel):
    job_id: int
    state: str


@router.post("/stop", response_model=Stopping, responses=error_responses(409))
def stop(
    body: StopIn, request: Request, _: Approver, session: SessionDep, jobs: JobsDep
) -> Stopping:
    """Stop a push (the running one when none is named); changes not sent stay approved."""
    job_id = body.job_id or _running_push(session)
    job = jobs_store.request_cancel(session, job_id)
    session.commit()
    jobs.publish_state(job)
    audit(request, job_id=job.id)
    return Stopping(job_id=job.id, state="stopping" if job.state is JobState.RUNNING else job.state)


def _running_push(session: Any) -> int:
    job_id = session.scalar(
        select(SyncJob.id)
        .where(SyncJob.kind == PUSH_KIND, SyncJob.state.in_([JobState.QUEUED, JobState.RUNNING]))
        .order_by(SyncJob.id.desc())
    )
    if job_id is None:
        raise NotFound("no_running_push", "No push is queued or running.")
    return job_id


# Status and debug: one push job's figures --------------------------------------------------------

ACTIVE = (JobState.QUEUED, JobState.RUNNING)
# API.md's `metrics` of GET /api/sync/status; a monitor snapshot carries them all.
STATUS_FIELDS = (
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
)
DEBUG_METRICS_FIELDS = (
    "items_per_second",
    "error_rate",
    "utilization",
    "cost_spent",
    "cost_per_item",
    "latency",
    "retries",
    "retries_total",
    "bucket_waits",
)
RUN_FIELDS = (
    "state",
    "started_at",
    "updated_at",
    "elapsed_seconds",
    "requests",
    "works",
    "steps",
    "bucket_waits",
    "retries_total",
)
SyncState = Literal["idle", "running", "stopping"]


def _push_job(session: Any, store_id: int | None, job_id: int | None = None) -> SyncJob | None:
    """The push named, else the store's running push, else its queued one, else its latest
    (any store's when none is named)."""
    if job_id is not None:
        job = session.get(SyncJob, job_id)
        if job is None or job.kind != PUSH_KIND:
            raise NotFound("push_not_found", f"No push job with id {job_id}.")
        return job
    query = select(SyncJob).where(SyncJob.kind == PUSH_KIND)
    if store_id is not None:
        query = query.where(SyncJob.store_id == store_id)
    running_first = case((SyncJob.state == JobState.RUNNING, 0), else_=1)
    active = session.scalar(
        query.where(SyncJob.state.in_(ACTIVE)).order_by(running_first, SyncJob.id.desc()).limit(1)
    )
    return active or session.scalar(query.order_by(SyncJob.id.desc()).limit(1))


def _sync_state(job: SyncJob | None) -> SyncState:
    if job is None or job.state not in ACTIVE:
        return "idle"
    return "stopping" if job.cancel_requested else "running"


def _worker_bounds(config: dict[str, Any], settings: Settings) -> dict[str, int]:
    maximum = int(config.get("maxWorkers") or settings.parallel_sync_max_workers)
    minimum = int(config.get("minWorkers") or settings.parallel_sync_min_workers)
    return {"active": 0, "min": min(minimum, maximum), "max": maximum}


def _status_metrics(job: SyncJob | None, settings: Settings) -> dict[str, Any]:
    """API.md's metrics: the monitor's latest figures where the job has them, else what the
    job row knows, else zeros (and no ETA: it is unknown, not zero)."""
    config = (job.config if job is not None else None) or {}
    metrics: dict[str, Any] = {
        "total": 0,
        "processed": 0,
        "succeeded": 0,
        "failed": 0,
        "queued": 0,
        "items_per_second": 0.0,
        "eta_seconds": None,
        "workers": _worker_bounds(config, settings),
        "utilization": 0.0,
        "error_rate": 0.0,
        "cost_spent": 0.0,
        "throttle": {"currently_available": 0.0, "maximum_available": 0.0, "restore_rate": 0.0},
    }
    if job is None:
        return metrics
    metrics.update(
        total=job.total,
        processed=job.processed,
        succeeded=job.succeeded,
        failed=job.failed,
        queued=max(job.total - job.processed, 0),
        error_rate=round(job.failed / job.processed, 4) if job.processed else 0.0,
        job_state=job.state.value,
        **{k: v for k, v in (job.result or {}).items() if k in ("requests", "points", "seconds")},
    )
    if job.state is JobState.COMPLETED:
        metrics["eta_seconds"] = 0.0
    snapshot = job.metrics or {}
    metrics.update({key: snapshot[key] for key in STATUS_FIELDS if key in snapshot})
    return metrics


class PushStatus(BaseModel):
    state: SyncState
    job_id: int | None
    config: dict[str, Any]
    metrics: dict[str, Any]


@router.get("/status", response_model=PushStatus)
def push_status(
    _: Viewer, session: SessionDep, settings: SettingsDep, store_id: Id | None = None
) -> PushStatus:
    """The running (else the latest) push and its figures, of one store when named."""
    job = _push_job(session, store_id)
    return PushStatus(
        state=_sync_state(job),
        job_id=job.id if job is not None else None,
        config=(job.config or {}) if job is not None else {},
        metrics=_status_metrics(job, settings),
    )


class DebugStatus(PushStatus):
    store_id: int | None
    job_state: str | None
    phase: str | None
    worker: str | None
    error: str | None
    started_at: str | None
    finished_at: str | None
    heartbeat_at: str | None
    run: dict[str, Any]
    scaling: list[dict[str, Any]]


@router.get("/debug/status", response_model=DebugStatus)
def debug_status(
    _: Viewer,
    session: SessionDep,
    settings: SettingsDep,
    store_id: Id | None = None,
    job_id: Id | None = None,
) -> DebugStatus:
    """The status, plus the job row and the run's counts (works, steps, requests, waits) and
    the pool's recent resizes with their reasons."""
    job = _push_job(session, store_id, job_id)
    view = jobs_store.job_view(job) if job is not None else {}
    snapshot = (job.metrics if job is not None else None) or {}
    return DebugStatus(
        state=_sync_state(job),
        job_id=view.get("id"),
        config=view.get("config", {}),
        metrics=_status_metrics(job, settings),
        store_id=view.get("store_id"),
        job_state=view.get("state"),
        phase=view.get("phase"),
        worker=view.get("worker"),
        error=view.get("error"),
        started_at=view.get("started_at"),
        finished_at=view.get("finished_at"),
        heartbeat_at=view.get("heartbeat_at"),
        run={key: snapshot[key] for key in RUN_FIELDS if key in snapshot},
        scaling=snapshot.get("scaling", []),
    )


class DebugWorkers(BaseModel):
    state: SyncState
    job_id: int | None
    pool: dict[str, Any]
    workers: list[dict[str, Any]]


@router.get("/debug/workers", response_model=DebugWorkers)
def debug_workers(
    _: Viewer,
    session: SessionDep,
    settings: SettingsDep,
    store_id: Id | None = None,
    job_id: Id | None = None,
) -> DebugWorkers:
    """One row per worker of the push's pool: id, state (idle, busy, backoff, stopped), current
    batch, items done (works), errors, backoff_until, busy time and utilisation."""
    job = _push_job(session, store_id, job_id)
    snapshot = (job.metrics if job is not None else None) or {}
    return DebugWorkers(
        state=_sync_state(job),
        job_id=job.id if job is not None else None,
        pool=_status_metrics(job, settings)["workers"],
        workers=snapshot.get("pool", []),
    )


class DebugMetrics(BaseModel):
    state: SyncState
    job_id: int | None
    items_per_second: float
    error_rate: float
    utilization: float
    cost_spent: float
    cost_per_item: float | None
    latency: dict[str, dict[str, Any]]
    retries: dict[str, int]
    retries_total: int
    bucket_waits: dict[str, float]


@router.get("/debug/metrics", response_model=DebugMetrics)
def debug_metrics(
    _: Viewer,
    session: SessionDep,
    settings: SettingsDep,
    store_id: Id | None = None,
    job_id: Id | None = None,
) -> DebugMetrics:
    """Latency percentiles per operation kind (seconds a step took, p50/p90/p99), points per
    item and per work, retries by cause, waits for the bucket."""
    job = _push_job(session, store_id, job_id)
    status = _status_metrics(job, settings)
    snapshot = (job.metrics if job is not None else None) or {}
    figures: dict[str, Any] = {
        "cost_per_item": None,
        "latency": {},
        "retries": {},
        "retries_total": 0,
        "bucket_waits": {"count": 0, "seconds": 0.0},
        **{key: status[key] for key in DEBUG_METRICS_FIELDS if key in status},
        **{key: snapshot[key] for key in DEBUG_METRICS_FIELDS if key in snapshot},
    }
    return DebugMetrics(
        state=_sync_state(job), job_id=job.id if job is not None else None, **figures
    )


class SyncHistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sync_job_id: int | None
    store_id: int | None
    direction: str
    status: str
    started_at: datetime
    completed_at: datetime | None
    total_items: int
    processed_items: int
    succeeded_items: int
    failed_items: int
    performance_metrics: dict[str, Any]
    error_message: str | None


class SyncHistoryPage(BaseModel):
    items: list[SyncHistoryOut]
    total: int
    next_cursor: int | None


@router.get("/history", response_model=SyncHistoryPage)
def history(
    _: Viewer,
    session: SessionDep,
    store_id: Id | None = None,
    direction: Annotated[str | None, Query(pattern="^(push|pull)$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> SyncHistoryPage:
    """Past pulls and pushes, newest first, with their counts, figures and errors; `cursor`
    is the previous page's `next_cursor`."""
    rows, total, next_cursor = list_history(session, store_id, direction, limit, cursor)
    return SyncHistoryPage(
        items=[SyncHistoryOut.model_validate(row) for row in rows],
        total=total,
        next_cursor=next_cursor,
    )
