"""`staged.changed`: a store's staged changes moved, with their counts by status now.

Sent after staging, pulls, pushes and decisions, so a review page refreshes its list and its
badges without polling. The counts are one grouped query; the event carries no rows (a list of
thousands of changes is the page's to fetch, filtered and paged).
"""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cowans.db.models import StagedChangeStatus, SyncStaging
from cowans.jobs.events import Event


def staged_counts(session: Session, store_id: int) -> dict[str, int]:
    counts = dict.fromkeys((status.value for status in StagedChangeStatus), 0)
    rows = session.execute(
        select(SyncStaging.status, func.count())
        .where(SyncStaging.store_id == store_id)
        .group_by(SyncStaging.status)
    )
    for status, count in rows:
        counts[StagedChangeStatus(status).value] = count
    return counts


def staged_changed(session: Session, store_id: int, reason: str, **details: Any) -> Event:
    return {
        "type": "staged.changed",
        "store_id": store_id,
        "reason": reason,
        "counts": staged_counts(session, store_id),
        **details,
    }
