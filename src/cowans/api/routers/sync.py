"""Parallel sync API (`parallel_sync_api`): stage the catalog's differences for a store and
list what is staged. Pushing them arrives with the sync engine."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from cowans.api.deps import Editor, SessionDep, Viewer, audit
from cowans.api.schemas import StagedChangeOut, StagedPage
from cowans.catalog.queries import ProductFilter
from cowans.db.models import StagedChangeStatus
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
