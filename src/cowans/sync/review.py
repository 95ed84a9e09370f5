"""Reviewing staged changes: listing them page by page, approving and rejecting them.

A decision only moves a change that has not reached Shopify: pending changes can be approved or
rejected, approved ones rejected again (until a push applies them), conflicts approved only
with a resolution for each conflicting field. A decision on a pull change, or a resolution, is
carried out at once (see `settle`). Who decided and when is kept on the row; the request's
audit entry lists the ids.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cowans.db.models import StagedChangeStatus, SyncHistory, SyncStaging
from cowans.errors import InvalidInput
from cowans.sync.errors import SyncErrorCode
from cowans.sync.settle import resolve_conflict, settle_pull

MAX_PAGE = 500
PULL = "pull"
DECIDABLE = {
    "approve": (StagedChangeStatus.PENDING, StagedChangeStatus.CONFLICT),
    "reject": (
        StagedChangeStatus.PENDING,
        StagedChangeStatus.CONFLICT,
        StagedChangeStatus.APPROVED,
        StagedChangeStatus.FAILED,
    ),
}


@dataclass(frozen=True)
class StagedFilter:
    status: StagedChangeStatus | None = None
    direction: str | None = None
    operation_type: str | None = None
    store_id: int | None = None
    conflicts_only: bool = False

    def apply(self, statement: Select[Any]) -> Select[Any]:
        for column, value in (
            (SyncStaging.status, self.status),
            (SyncStaging.direction, self.direction),
            (SyncStaging.operation_type, self.operation_type),
            (SyncStaging.store_id, self.store_id),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if self.conflicts_only:
            statement = statement.where(SyncStaging.status == StagedChangeStatus.CONFLICT)
        return statement


def list_staged(
    session: Session, filters: StagedFilter, limit: int, cursor: int | None
) -> tuple[list[SyncStaging], int, int | None]:
    """A page in id order after `cursor`, the total matching, and the next cursor."""
    total = session.scalar(filters.apply(select(func.count(SyncStaging.id)))) or 0
    statement = filters.apply(select(SyncStaging)).order_by(SyncStaging.id).limit(limit + 1)
    if cursor is not None:
        statement = statement.where(SyncStaging.id > cursor)
    rows = list(session.scalars(statement))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, total, rows[-1].id if more and rows else None


@dataclass
class Decisions:
    approved: int = 0
    rejected: int = 0
    unresolved_conflicts: int = 0
    skipped: int = 0
    ids: list[int] = field(default_factory=list)
    store_ids: set[int] = field(default_factory=set)


Resolution = str | Mapping[str, Any]


def decide(
    session: Session,
    *,
    decision: str,
    user_id: int,
    ids: Sequence[int] | None = None,
    all_pending: bool = False,
    filters: StagedFilter | None = None,
    resolutions: Mapping[str, Mapping[str, Resolution]] | None = None,
) -> Decisions:
    rows = _selected(session, ids, all_pending, filters or StagedFilter())
    outcome = Decisions()
    now = datetime.now(UTC)
    for row in rows:
        if row.status not in DECIDABLE[decision]:
            outcome.skipped += 1
            continue
        if decision == "reject":
            if row.direction == PULL:
                settle_pull(session, row, approved=False, user_id=user_id)
            row.status, row.approved_by, row.approved_at = StagedChangeStatus.REJECTED, user_id, now
            outcome.rejected += 1
        elif row.status is StagedChangeStatus.CONFLICT:
            resolution = (resolutions or {}).get(str(row.id))
            if not resolve_conflict(session, row, resolution, user_id):
                outcome.unresolved_conflicts += 1
                continue
            nothing_to_send = row.status is StagedChangeStatus.APPLIED
            _approve(row, user_id, now)
            if nothing_to_send:
                row.status = StagedChangeStatus.APPLIED
            outcome.approved += 1
        elif row.direction == PULL:
            settle_pull(session, row, approved=True, user_id=user_id)
            _approve(row, user_id, now)
            row.status, row.applied_at = StagedChangeStatus.APPLIED, now
            outcome.approved += 1
        else:
            _approve(row, user_id, now)
            outcome.approved += 1
        outcome.ids.append(row.id)
        outcome.store_ids.add(row.store_id)
    session.flush()
    return outcome


def _approve(row: SyncStaging, user_id: int, moment: datetime) -> None:
    row.status, row.approved_by, row.approved_at = StagedChangeStatus.APPROVED, user_id, moment
    row.approval_rule = None


def _selected(
    session: Session, ids: Sequence[int] | None, all_pending: bool, filters: StagedFilter
) -> list[SyncStaging]:
    if ids:
        rows = list(session.scalars(select(SyncStaging).where(SyncStaging.id.in_(list(ids)))))
        missing = sorted(set(ids) - {row.id for row in rows})
        if missing:
            raise InvalidInput(
                SyncErrorCode.STAGED_CHANGE_NOT_FOUND,
                f"No staged change with id {', '.join(map(str, missing[:20]))}.",
                {"missing": missing[:100]},
            )
        return sorted(rows, key=lambda row: row.id)
    if all_pending:
        pending = StagedFilter(
            status=StagedChangeStatus.PENDING,
            direction=filters.direction,
            operation_type=filters.operation_type,
            store_id=filters.store_id,
        )
        return list(session.scalars(pending.apply(select(SyncStaging)).order_by(SyncStaging.id)))
    raise InvalidInput(
        SyncErrorCode.NOTHING_SELECTED, "Name the changes (ids) or choose all_pending."
    )


def list_history(
    session: Session,
    store_id: int | None,
    direction: str | None,
    limit: int,
    cursor: int | None,
) -> tuple[list[SyncHistory], int, int | None]:
    """A page of sync history, newest first (ids below `cursor`), the total, the next cursor."""
    statement = select(SyncHistory)
    if store_id is not None:
        statement = statement.where(SyncHistory.store_id == store_id)
    if direction is not None:
        statement = statement.where(SyncHistory.direction == direction)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    if cursor is not None:
        statement = statement.where(SyncHistory.id < cursor)
    rows = list(session.scalars(statement.order_by(SyncHistory.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, total, rows[-1].id if more and rows else None
