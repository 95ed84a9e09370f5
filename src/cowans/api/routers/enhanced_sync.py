"""Enhanced sync API (`enhanced_sync_api`): Pull -> Review -> Push. Pulling stages what
changed in Shopify, reviewing approves, rejects and resolves conflicts, pushing sends the
approved changes."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from cowans.api.deps import Approver, Editor, JobsDep, SessionDep, SettingsDep, Viewer, audit
from cowans.api.errors import error_responses
from cowans.api.routers.sync import PushConfig, Started, start_push
from cowans.api.schemas import Cursor, Id, StagedChangeOut, StagedPage
from cowans.db.models import StagedChangeStatus, Store, SyncStaging
from cowans.jobs.pull import create_pull_job
from cowans.jobs.staged_events import staged_changed
from cowans.sync.review import MAX_PAGE, StagedFilter, decide, facets, review_page
from cowans.sync.staging import resolve_store

# Stores and changes are named by id in bodies and queries: 404 for any operation.
router = APIRouter(
    prefix="/api/enhanced-sync", tags=["enhanced sync"], responses=error_responses(404)
)


class StoreSyncStatus(BaseModel):
    store_id: int
    name: str
    last_pull_at: datetime | None
    last_push_at: datetime | None
    staged: dict[str, int]


class SyncStatusOut(BaseModel):
    stores: list[StoreSyncStatus]
    staged: dict[str, int]


@router.get("/status", response_model=SyncStatusOut)
def status(_: Viewer, session: SessionDep) -> SyncStatusOut:
    """Last pull and push per store, and staged changes by status."""
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(SyncStaging.store_id, SyncStaging.status, func.count()).group_by(
            SyncStaging.store_id, SyncStaging.status
        )
    )
    for store_id, state, count in rows:
        counts.setdefault(store_id, {})[state.value] = count
    blank = {state.value: 0 for state in StagedChangeStatus}
    # The columns shown only: a whole Store would decrypt its token and webhook secret.
    shown = select(Store.id, Store.name, Store.last_pull_at, Store.last_push_at).order_by(Store.id)
    stores = [
        StoreSyncStatus(
            store_id=store.id,
            name=store.name,
            last_pull_at=store.last_pull_at,
            last_push_at=store.last_push_at,
            staged=blank | counts.get(store.id, {}),
        )
        for store in session.execute(shown)
    ]
    totals = dict(blank)
    for per_store in counts.values():
        for state, count in per_store.items():
            totals[state] += count
    return SyncStatusOut(stores=stores, staged=totals)


class StagedReviewPage(StagedPage):
    """`GET /api/sync/staged`'s page, plus the newest id matching the filter: send it back as
    `filter.max_id` to decide everything the list showed, and nothing staged since."""

    max_id: int | None


def staged_filter(
    status: StagedChangeStatus | None = None,
    direction: Annotated[str | None, Query(pattern="^(push|pull)$")] = None,
    operation_type: Annotated[str | None, Query(pattern="^(create|update|delete)$")] = None,
    store_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    conflicts_only: bool = False,
    vendor: Annotated[str | None, Query(max_length=255)] = None,
    product_type: Annotated[str | None, Query(max_length=255)] = None,
    query: Annotated[
        str, Query(max_length=200, description="Part of the handle, title or a SKU.")
    ] = "",
) -> StagedFilter:
    """The list's filters, shared by the list and its facets."""
    return StagedFilter(
        status=status,
        direction=direction,
        operation_type=operation_type,
        store_id=store_id,
        conflicts_only=conflicts_only,
        vendor=vendor,
        product_type=product_type,
        query=query,
    )


FilterDep = Annotated[StagedFilter, Depends(staged_filter)]


@router.get("/staged-changes", response_model=StagedReviewPage, name="staged_changes")
def staged_changes(
    _: Viewer,
    session: SessionDep,
    filters: FilterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Cursor | None = None,
) -> StagedReviewPage:
    """Staged changes in id order, a page at a time (`cursor` = the previous `next_cursor`);
    `total` counts every change matching. Each item carries its product's title, vendor and
    type, so a review needs no other request."""
    rows, total, next_cursor, newest = review_page(session, filters, limit, cursor)
    return StagedReviewPage(
        items=[StagedChangeOut.model_validate(row) for row in rows],
        total=total,
        next_cursor=next_cursor,
        max_id=newest,
    )


class FacetOut(BaseModel):
    value: str
    count: int


class StagedFacetsOut(BaseModel):
    vendors: list[FacetOut]
    product_types: list[FacetOut]


@router.get("/staged-changes/facets", response_model=StagedFacetsOut)
def staged_change_facets(_: Viewer, session: SessionDep, filters: FilterDep) -> StagedFacetsOut:
    """The vendors and product types among the changes the filters match, with counts (each
    ignoring its own filter): the choices of the review's filter menus."""
    found = facets(session, filters)
    return StagedFacetsOut(
        vendors=[FacetOut(value=f.value, count=f.count) for f in found["vendors"]],
        product_types=[FacetOut(value=f.value, count=f.count) for f in found["product_types"]],
    )


class StagedFilterIn(BaseModel):
    """`GET /staged-changes`' filters, for a decision over everything they match."""

    model_config = ConfigDict(extra="forbid")

    status: StagedChangeStatus | None = None
    direction: Literal["push", "pull"] | None = None
    operation_type: Literal["create", "update", "delete"] | None = None
    store_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None
    conflicts_only: bool = False
    vendor: Annotated[str | None, Field(max_length=255)] = None
    product_type: Annotated[str | None, Field(max_length=255)] = None
    query: Annotated[str, Field(max_length=200)] = ""
    max_id: Annotated[
        int | None,
        Field(ge=0, description="The list's max_id: nothing staged after it is decided."),
    ] = None

    def to_filter(self) -> StagedFilter:
        return StagedFilter(**self.model_dump())


Resolution = Literal["local", "remote"] | dict[str, Any]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[Id] | None, Field(max_length=100_000)] = None
    all_pending: bool = False
    decision: Literal["approve", "reject"]
    resolutions: dict[str, dict[str, Resolution]] | None = None
    # Everything matching (what "select all N matching" means), instead of ids.
    filter: StagedFilterIn | None = None
    direction: Literal["push", "pull"] | None = None
    operation_type: Literal["create", "update", "delete"] | None = None
    store_id: Id | None = None


class DecisionOut(BaseModel):
    approved: int
    rejected: int
    unresolved_conflicts: int
    skipped: int


@router.post("/approve-changes", response_model=DecisionOut)
def approve_changes(
    body: DecisionIn,
    request: Request,
    principal: Approver,
    session: SessionDep,
    jobs: JobsDep,
    after: BackgroundTasks,
) -> DecisionOut:
    """Approve or reject the changes named by `ids`, every decidable one matching `filter`, or
    all pending ones (optionally of one direction, operation or store). Conflicts need a
    resolution per conflicting field: without one they stay conflicts (`unresolved_conflicts`)."""
    outcome = decide(
        session,
        decision=body.decision,
        user_id=principal.user.id,
        ids=body.ids,
        all_pending=body.all_pending,
        filters=StagedFilter(
            direction=body.direction, operation_type=body.operation_type, store_id=body.store_id
        ),
        matching=body.filter.to_filter() if body.filter else None,
        resolutions=body.resolutions,
    )
    audit(request, decision=body.decision, ids=outcome.ids[:1000], count=len(outcome.ids))
    if body.filter is not None:
        # What "all matching" meant, for the record (the ids above are cut at 1,000).
        audit(request, filter=body.filter.model_dump(mode="json", exclude_defaults=True))
    session.flush()
    for store_id in sorted(outcome.store_ids):
        after.add_task(jobs.events.publish, staged_changed(session, store_id, "decided"))
    return DecisionOut(
        approved=outcome.approved,
        rejected=outcome.rejected,
        unresolved_conflicts=outcome.unresolved_conflicts,
        skipped=outcome.skipped,
    )


class ShopifyUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[Id] | None, Field(max_length=100_000)] = None
    store_id: Id | None = None
    config: PushConfig = PushConfig()


@router.post("/shopify-up", response_model=Started, status_code=202)
def shopify_up(
    body: ShopifyUpIn,
    request: Request,
    principal: Approver,
    session: SessionDep,
    jobs: JobsDep,
    settings: SettingsDep,
) -> Started:
    """Push the approved changes (those of `ids` only, when given)."""
    job = start_push(session, jobs, settings, principal, body.store_id, body.config, body.ids)
    audit(request, job_id=job.id, store_id=job.store_id)
    return Started(job_id=job.id)


class ShopifyDownIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store_id: Id | None = None
    modified_since: datetime | None = None
    full: bool = False
    priority: Literal["high", "normal", "low"] = "normal"


@router.post("/shopify-down", response_model=Started, status_code=202)
def shopify_down(
    body: ShopifyDownIn, request: Request, principal: Editor, session: SessionDep, jobs: JobsDep
) -> Started:
    """Pull from Shopify and stage what changed there: the whole store (`full`), what changed
    since `modified_since`, or by default what changed since the store's last pull."""
    store = resolve_store(session, body.store_id)
    params: dict[str, Any] = {"full": body.full, "priority": body.priority, "reason": "request"}
    if body.modified_since is not None:
        since = body.modified_since
        params["modified_since"] = (
            since if since.tzinfo else since.replace(tzinfo=UTC)
        ).isoformat()
    job = create_pull_job(session, store, params, principal.user.id)
    jobs.submit(session, job)
    audit(request, job_id=job.id, store_id=store.id, full=body.full)
    return Started(job_id=job.id)
