"""Batch operations (update, delete, export) on a list of product ids or a filter.

A batch runs as a job: `POST /api/batch/process` checks the request, records the selection and
answers 202 at once; `GET /api/batch/status/{id}` follows it, with each failed product and why;
an export's file is served from `result_url` once the batch has completed.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from cowans.api.deps import Editor, JobsDep, SessionDep, SettingsDep, Viewer, audit
from cowans.api.errors import error_responses
from cowans.api.schemas import Id, ProductFilterIn
from cowans.catalog.editing import STATUSES
from cowans.db.models import JobState, Role, SyncJob
from cowans.errors import NotFound, PermissionDenied
from cowans.jobs import batch, store
from cowans.jobs.batch_export import export_path
from cowans.sources.product_csv import MEDIA_TYPES, Format

# A batch names its store and products by id: 404 for any operation.
router = APIRouter(prefix="/api/batch", tags=["batch"], responses=error_responses(404))

ProductId = Annotated[int, Field(strict=True, ge=1, le=2**31 - 1)]
Tag = Annotated[str, Field(max_length=255)]


class UpdatesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: (
        Annotated[str, Field(max_length=20, json_schema_extra={"enum": list(STATUSES)})] | None
    ) = None
    tags: Annotated[list[Tag], Field(max_length=250, description="Tags to add.")] = []
    tags_remove: Annotated[list[Tag], Field(max_length=250, description="Tags to remove.")] = []
    vendor: Annotated[str | None, Field(min_length=1, max_length=255)] = None
    product_type: Annotated[str | None, Field(min_length=1, max_length=255)] = None
    price_adjust_percent: Annotated[
        Decimal | None,
        Field(description="Prices times (1 + p/100), rounded half-up to cents; -100 to 1000."),
    ] = None

    def updates(self) -> batch.Updates:
        return batch.Updates(
            status=self.status,
            tags=tuple(self.tags),
            tags_remove=tuple(self.tags_remove),
            vendor=self.vendor,
            product_type=self.product_type,
            price_adjust_percent=self.price_adjust_percent,
        )


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: Annotated[str, Field(json_schema_extra={"enum": list(batch.Operation)})]
    product_ids: Annotated[
        list[ProductId] | None,
        Field(description=f"At most {batch.MAX_IDS:,}; duplicates are processed once."),
    ] = None
    filter: ProductFilterIn | None = None
    updates: UpdatesIn | None = None
    format: Annotated[
        Annotated[str, Field(json_schema_extra={"enum": list(Format)})] | None,
        Field(description="Export only; csv by default."),
    ] = None
    push: Annotated[
        bool,
        Field(
            description="Update and delete only, approvers only: stage the batch's changes, "
            "approve them as yours and push them to every active store (one push job each, "
            "named in the batch's result)."
        ),
    ] = False
    priority: Literal["high", "normal", "low"] = "normal"

    def request(self) -> batch.BatchRequest:
        return batch.BatchRequest(
            operation=self.operation,
            product_ids=self.product_ids,
            filter=self.filter.to_filter() if self.filter else None,
            updates=self.updates.updates() if self.updates else None,
            format=self.format,
            push=self.push,
        )


class BatchStarted(BaseModel):
    batch_id: int
    job_id: int
    operation: str
    state: JobState
    total: int


class BatchError(BaseModel):
    product_id: int | None
    message: str | None


class BatchStatus(BaseModel):
    batch_id: int
    job_id: int
    operation: str
    state: JobState
    total: int
    processed: int
    succeeded: int
    failed: int
    errors: list[BatchError]
    result_url: str | None
    push_jobs: list[int] = []  # the push jobs a batch with `push` started, one per store
    format: str | None
    phase: str
    error: str | None
    cancel_requested: bool
    priority: str
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class BatchCancelled(BaseModel):
    batch_id: int
    state: JobState
    cancel_requested: bool


class BatchRetried(BaseModel):
    batch_id: int
    state: JobState
    retried: int


def _result_url(job: SyncJob) -> str | None:
    exported = batch.operation_of(job) is batch.Operation.EXPORT
    return f"/api/batch/result/{job.id}" if exported and job.state == JobState.COMPLETED else None


def _status(session: Any, job: SyncJob) -> BatchStatus:
    return BatchStatus(
        batch_id=job.id,
        job_id=job.id,
        operation=batch.operation_of(job).value,
        state=job.state,
        total=job.total,
        processed=job.processed,
        succeeded=job.succeeded,
        failed=job.failed,
        errors=[BatchError(**error) for error in batch.errors_of(session, job)],
        result_url=_result_url(job),
        push_jobs=list((job.result or {}).get("push_jobs") or []),
        format=(job.config or {}).get("format"),
        phase=job.phase,
        error=job.error,
        cancel_requested=job.cancel_requested,
        priority=job.priority,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


@router.post("/process", response_model=BatchStarted, status_code=status.HTTP_202_ACCEPTED)
def process(
    body: BatchIn, request: Request, principal: Editor, session: SessionDep, jobs: JobsDep
) -> BatchStarted:
    """Start a batch over `product_ids` or a `filter`; follow it at `/api/batch/status/{id}`."""
    if body.push and not principal.user.role.includes(Role.APPROVER):
        raise PermissionDenied(
            batch.BatchErrorCode.PUSH_NOT_ALLOWED,
            "Pushing approves the batch's changes: it takes the approver role.",
        )
    job = batch.start_batch(session, body.request(), principal.user.id, body.priority)
    jobs.submit(session, job)
    audit(
        request,
        batch_id=job.id,
        operation=body.operation,
        total=job.total,
        selection="filter" if body.filter is not None else "product_ids",
    )
    return BatchStarted(
        batch_id=job.id, job_id=job.id, operation=body.operation, state=job.state, total=job.total
    )


@router.get("/status/{batch_id}", response_model=BatchStatus)
def batch_status(batch_id: Id, _: Viewer, session: SessionDep) -> BatchStatus:
    """Counters, the first 100 failed products with why, and an export's `result_url`."""
    return _status(session, batch.get_batch(session, batch_id))


@router.post("/cancel/{batch_id}", response_model=BatchCancelled, responses=error_responses(409))
def cancel(
    batch_id: Id, request: Request, _: Editor, session: SessionDep, jobs: JobsDep
) -> BatchCancelled:
    """A queued batch never starts; a running one stops after the product it is on, keeping
    what it finished. 409 for a batch that already ended."""
    batch.get_batch(session, batch_id)
    job = store.request_cancel(session, batch_id)
    session.commit()
    jobs.publish_state(job)
    audit(request, batch_id=batch_id)
    return BatchCancelled(batch_id=job.id, state=job.state, cancel_requested=job.cancel_requested)


@router.post(
    "/retry/{batch_id}",
    response_model=BatchRetried,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(409),
)
def retry(
    batch_id: Id, request: Request, _: Editor, session: SessionDep, jobs: JobsDep
) -> BatchRetried:
    """Run a finished batch again for its failed products (and any a cancel left undone);
    what succeeded is not redone. 409 while it runs or when nothing failed."""
    job = batch.get_batch(session, batch_id)
    retried = batch.retry_batch(session, job)
    jobs.submit(session, job)
    audit(request, batch_id=batch_id, retried=retried)
    return BatchRetried(batch_id=job.id, state=job.state, retried=retried)


@router.get(
    "/result/{batch_id}",
    response_class=FileResponse,
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}}},
)
def result(batch_id: Id, _: Viewer, session: SessionDep, settings: SettingsDep) -> FileResponse:
    """The file of a completed export batch."""
    job = batch.get_batch(session, batch_id)
    file_format = Format((job.config or {}).get("format") or Format.CSV)
    path = export_path(settings, job.id, file_format)
    if _result_url(job) is None or not path.is_file():
        raise NotFound(
            batch.BatchErrorCode.RESULT_NOT_AVAILABLE,
            f"Batch {batch_id} has no file to download: only a completed export has one.",
        )
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[file_format],
        filename=f"products-batch-{job.id}.{file_format.value}",
    )
