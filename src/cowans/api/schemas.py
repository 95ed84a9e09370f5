"""Response and field types more than one router uses."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from cowans.catalog.queries import ProductFilter, SyncState
from cowans.db.models import Role, StagedChangeStatus, SyncStaging
from cowans.sync.review import product_facts

# Every table's id is at most PostgreSQL's integer: a larger one names no row, and sent to the
# database it is an overflow error (a 500) instead of a 404. Refused as invalid input instead.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Paging cursors are ids (or 0 for "from the start").
Cursor = Annotated[int, Field(ge=0, le=MAX_ID)]

# Deliberately loose: internal addresses such as admin@cowans.local must pass.
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=3,
        max_length=320,
        pattern=r"^[^@\s]+@[^@\s]+$",
    ),
]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class StagedChangeOut(BaseModel):
    """One reviewable difference (API.md's StagedChange), plus the product's handle and the
    rule that approved it, if one did."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    sync_job_id: int | None
    product_id: int | None
    store_id: int
    handle: str
    direction: str
    operation_type: str
    changes: dict[str, Any]
    status: StagedChangeStatus
    conflict_fields: list[str]
    error: str | None
    created_at: datetime
    approved_at: datetime | None
    approved_by: int | None
    approval_rule: str | None
    applied_at: datetime | None
    # What a reviewer recognises the product by, without another request (see product_facts).
    title: str = ""
    vendor: str = ""
    product_type: str = ""

    @model_validator(mode="wrap")
    @classmethod
    def _with_product(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> "StagedChangeOut":
        out: StagedChangeOut = handler(value)
        if isinstance(value, SyncStaging):
            facts = product_facts(value)
            out.title, out.vendor, out.product_type = facts.title, facts.vendor, facts.product_type
        return out


class StagedPage(BaseModel):
    items: list[StagedChangeOut]
    total: int
    next_cursor: int | None


class ProductFilterIn(BaseModel):
    """The filters of `GET /api/products`, for staging and batches. Unknown keys are refused: a
    filter silently ignored would widen a delete to the whole catalog."""

    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, Field(max_length=200)] = ""
    status: Annotated[str | None, Field(max_length=20)] = None
    vendor: Annotated[str | None, Field(max_length=255)] = None
    product_type: Annotated[str | None, Field(max_length=255)] = None
    skus: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=255)]] | None,
        Field(max_length=25_000, description="Products with a variant of one of these SKUs."),
    ] = None
    sync_status: Annotated[
        SyncState | None,
        Field(
            description="conflict, pending (any open staged change, conflicts included), "
            "synced (nothing open, in the store) or never_synced (nothing open, never in it)."
        ),
    ] = None
    store_id: Annotated[
        int | None,
        Field(
            ge=1,
            le=2**31 - 1,
            description="The store sync_status is about; default: any active store.",
        ),
    ] = None

    def to_filter(self) -> ProductFilter:
        values = self.model_dump(exclude={"skus", "sync_status"})
        return ProductFilter(
            **values,
            skus=tuple(dict.fromkeys(self.skus or ())),
            sync_status=self.sync_status.value if self.sync_status else None,
        )
