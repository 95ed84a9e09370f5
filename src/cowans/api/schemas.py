"""Response and field types more than one router uses."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cowans.catalog.queries import ProductFilter
from cowans.db.models import Role, StagedChangeStatus

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

    def to_filter(self) -> ProductFilter:
        values = self.model_dump(exclude={"skus"})
        return ProductFilter(**values, skus=tuple(dict.fromkeys(self.skus or ())))
