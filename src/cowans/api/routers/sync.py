"""Parallel sync API (`parallel_sync_api`): stage the catalog's differences for a store, list
what is staged, and push what was approved (`start`, `stop`, `status`)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from cowans.api.deps import Approver, Editor, JobsDep, SessionDep, SettingsDep, Viewer, audit
from cowans.api.schemas import StagedChangeOut, StagedPage
from cowans.catalog.queries import ProductFilter
from cowans.db.models import JobState, StagedChangeStatus, SyncJob
from cowans.errors import NotFound
from cowans.jobs import store as jobs_store
from cowans.jobs.push import KIND as PUSH_KIND
from cowans.jobs.push import create_push_job
from cowans.sync.review import MAX_PAGE, StagedFilter, list_staged
from cowans.sync.staging import resolve_store, stage_push

router = APIRouter(prefix="/api/sync", tags=["sync"])

ProductId = Annotated[int, Field(strict=True, ge=1, le=2**31 - 1)]


class ProductFilterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, Field(max_length=200)] = ""
    status: Annotated[str | None, Field(max_length=20)] = None
    vendor: Annotated[str | None, Field(max_length=255)] = None
    product_type: Annotated[str | None, Field(max_length=255)] = None


class StageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_ids: Annotated[list[ProductId] | None, Field(max_length=100_000)] = None
    filter: ProductFilterIn | None = None
    store_id: int | None = None


class StageOut(BaseModel):
    sync_job_id: int
    staged: int
    unchanged: int
    kept: int
    operations: dict[str, int]
    auto_approved: int


@router.post("/staged", response_model=StageOut)
def stage(body: StageIn, request: Request, principal: Editor, session: SessionDep) -> StageOut:
    """Stage the differences between the catalog and the store's last-synced state (the whole
    catalog when neither product_ids nor filter is given)."""
    store = resolve_store(session, body.store_id)
    result = stage_push(
        session,
        store,
        product_ids=body.product_ids,
        filters=ProductFilter(**body.filter.model_dump()) if body.filter else None,
        created_by=principal.user.id,
    )
    audit(request, store_id=store.id, sync_job_id=result.sync_job_id, staged=result.staged)
    return StageOut(sync_job_id=result.sync_job_id, **result.summary())


@router.get("/staged", response_model=StagedPage)
def staged(
    _: Viewer,
    session: SessionDep,
    status: StagedChangeStatus | None = None,
    direction: Annotated[str | None, Query(pattern="^(push|pull)$")] = None,
    operation_type: Annotated[str | None, Query(pattern="^(create|update|delete)$")] = None,
    store_id: int | None = None,
    conflicts_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[int | None, Query(ge=0)] = None,
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

    minWorkers: Annotated[int, Field(ge=1, le=10)] = 1  # noqa: N815 - API.md's names
    maxWorkers: Annotated[int | None, Field(ge=1, le=10)] = None  # noqa: N815
    batchSize: Annotated[int | None, Field(ge=1, le=250)] = None  # noqa: N815
    priority: Literal["low", "normal", "high"] = "normal"
    strategy: Literal["speed", "cost", "balanced"] = "balanced"


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: PushConfig = PushConfig()
    store_id: int | None = None


class Started(BaseModel):
    job_id: int


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
    values = config.model_dump()
    values["maxWorkers"] = values["maxWorkers"] or settings.parallel_sync_max_workers
    values["maxWorkers"] = max(values["maxWorkers"], values["minWorkers"])
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


class StopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: int | None = None


class Stopping(BaseModel):
    job_id: int
    state: str


@router.post("/stop", response_model=Stopping)
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


class PushStatus(BaseModel):
    state: Literal["idle", "running", "stopping"]
    job_id: int | None
    config: dict[str, Any]
    metrics: dict[str, Any]


@router.get("/status", response_model=PushStatus)
def push_status(_: Viewer, session: SessionDep) -> PushStatus:
    """The current (or last) push and its figures."""
    job = session.scalar(
        select(SyncJob).where(SyncJob.kind == PUSH_KIND).order_by(SyncJob.id.desc()).limit(1)
    )
    if job is None:
        return PushStatus(state="idle", job_id=None, config={}, metrics={})
    active = job.state in (JobState.QUEUED, JobState.RUNNING)
    state = ("stopping" if job.cancel_requested else "running") if active else "idle"
    metrics = {
        "total": job.total,
        "processed": job.processed,
        "succeeded": job.succeeded,
        "failed": job.failed,
        "queued": max(job.total - job.processed, 0),
        "job_state": job.state.value,
        **{k: v for k, v in (job.result or {}).items() if k in ("requests", "points", "seconds")},
    }
    return PushStatus(state=state, job_id=job.id, config=job.config or {}, metrics=metrics)
