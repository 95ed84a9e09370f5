"""Jobs: list them, follow one, cancel one. Each kind also has its own API (imports, batch,
sync); this is the common view the dashboard's job list and the WebSocket snapshot share."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from cowans.api.deps import Editor, JobsDep, SessionDep, Viewer, audit
from cowans.api.errors import error_responses
from cowans.api.schemas import Id
from cowans.db.models import JobState, SyncJob
from cowans.jobs import store

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


class JobOut(BaseModel):
    id: int
    kind: str
    state: JobState
    priority: str
    store_id: int | None
    created_by: int | None
    config: dict[str, Any]
    total: int
    processed: int
    succeeded: int
    failed: int
    phase: str
    attempts: int
    cancel_requested: bool
    worker: str | None
    result: dict[str, Any]
    error: str | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None

    @classmethod
    def of(cls, job: SyncJob) -> "JobOut":
        return cls.model_validate(store.job_view(job))


class JobPage(BaseModel):
    items: list[JobOut]
    total: int


@router.get("", response_model=JobPage)
def list_jobs(
    _: Viewer,
    session: SessionDep,
    state: JobState | None = None,
    kind: Annotated[str | None, Query(max_length=50)] = None,
    kind_prefix: Annotated[
        str | None,
        Query(
            max_length=50,
            description="Kinds starting with this, e.g. `batch.` for every batch operation.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobPage:
    """Newest first."""
    statement = select(SyncJob)
    if state is not None:
        statement = statement.where(SyncJob.state == state)
    if kind:
        statement = statement.where(SyncJob.kind == kind)
    if kind_prefix:
        statement = statement.where(SyncJob.kind.startswith(kind_prefix, autoescape=True))
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    jobs = session.scalars(statement.order_by(SyncJob.id.desc()).limit(limit))
    return JobPage(items=[JobOut.of(job) for job in jobs], total=total)


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: Id, _: Viewer, session: SessionDep) -> JobOut:
    return JobOut.of(store.get_job(session, job_id))


@router.post("/{job_id}/cancel", response_model=JobOut, responses=error_responses(409))
def cancel_job(
    job_id: Id, request: Request, _: Editor, session: SessionDep, jobs: JobsDep
) -> JobOut:
    """A queued job never starts; a running one stops at its next item boundary."""
    job = store.request_cancel(session, job_id)
    session.commit()
    jobs.publish_state(job)
    audit(request, job_id=job_id, kind=job.kind)
    return JobOut.of(job)
