"""A batch with `push`: its products' changes staged, approved by the batch's author, pushed.

Asking for `push` is the author's approval of exactly what the batch changed (the API lets
only approvers ask for it), recorded as theirs on each staged change. Whatever else was
already pending for those products is staged afresh with them and approved in the same way:
it is what the store would show after the push, and the author saw the products' state.
One push job per active store follows the batch; the batch's result names them.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowans.db.models import (
    JobItem,
    JobItemState,
    StagedChangeStatus,
    Store,
    SyncStaging,
)
from cowans.db.session import session_scope
from cowans.jobs.context import JobContext
from cowans.jobs.push import create_push_job
from cowans.jobs.staged_events import staged_changed
from cowans.sync.review import decide
from cowans.sync.staging import stage_push


def push_batch(context: JobContext) -> dict[str, Any]:
    """Stage, approve and push the batch's products to every active store."""
    if not context.params.get("push") or context.submit is None:
        return {}
    context.progress(phase="staging")
    pushes: list[int] = []
    with session_scope(context.engine) as session:
        product_ids = _succeeded(session, context.job_id)
        if not product_ids:
            return {"push_jobs": []}
        stores = list(session.scalars(select(Store).where(Store.is_active.is_(True))))
        for store in stores:
            stage_push(session, store, product_ids=product_ids, created_by=context.created_by)
            ids = _open_changes(session, store.id, product_ids)
            if not ids:
                continue
            if context.created_by is not None:
                decide(session, decision="approve", user_id=context.created_by, ids=ids)
            job = create_push_job(
                session,
                store,
                {"priority": context.params.get("priority", "normal")},
                context.created_by,
                ids,
            )
            pushes.append(job.id)
            session.flush()
            event = staged_changed(session, store.id, "staged", batch_id=context.job_id)
            context.submit(session, job)
            context.publish(event)
    return {"push_jobs": pushes}


def _succeeded(session: Session, job_id: int) -> list[int]:
    return [
        product_id
        for product_id in session.scalars(
            select(JobItem.product_id).where(
                JobItem.job_id == job_id, JobItem.state == JobItemState.SUCCEEDED
            )
        )
        if product_id is not None
    ]


def _open_changes(session: Session, store_id: int, product_ids: list[int]) -> list[int]:
    found: list[int] = []
    for start in range(0, len(product_ids), 500):
        found += session.scalars(
            select(SyncStaging.id).where(
                SyncStaging.store_id == store_id,
                SyncStaging.direction == "push",
                SyncStaging.product_id.in_(product_ids[start : start + 500]),
                SyncStaging.status.in_([StagedChangeStatus.PENDING, StagedChangeStatus.APPROVED]),
            )
        )
    return found
