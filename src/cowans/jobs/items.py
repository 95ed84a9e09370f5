"""A job's items: the selection it works through, chunk by chunk, each item done exactly once.

An item's work and its new state commit in one transaction, per chunk; so after a crash the
job goes on with the items still pending and never applies one twice. Selections are written
and read in chunks, so 100,000 items take no more memory than one chunk.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, insert, literal, select, update
from sqlalchemy.orm import Session

from cowans.db.base import utcnow
from cowans.db.models import JobItem, JobItemState
from cowans.db.session import session_scope
from cowans.errors import DomainError
from cowans.jobs.context import JobContext

logger = logging.getLogger(__name__)

CHUNK = 200
ERRORS_SHOWN = 100

ItemWork = Callable[[Session, JobItem], None]


def add_items(session: Session, job_id: int, product_ids: Iterable[int]) -> int:
    """Add ids as items in the order given; returns how many."""
    count = 0
    ids = iter(product_ids)
    while chunk := list(islice(ids, 5_000)):
        session.execute(
            insert(JobItem),
            [
                {
                    "job_id": job_id,
                    "seq": count + offset,
                    "product_id": product_id,
                    "state": JobItemState.PENDING,
                }
                for offset, product_id in enumerate(chunk)
            ],
        )
        count += len(chunk)
    return count


def add_items_from_query(session: Session, job_id: int, product_ids: Select[Any]) -> int:
    """Add the ids a query selects, inside the database (a filter over the whole catalog never
    passes through this process)."""
    selected = product_ids.subquery()
    column = next(iter(selected.c))
    session.execute(
        insert(JobItem).from_select(
            ["job_id", "seq", "product_id", "state"],
            select(literal(job_id), column, column, literal(JobItemState.PENDING.value)),
        )
    )
    return count_items(session, job_id)


def count_items(session: Session, job_id: int, state: JobItemState | None = None) -> int:
    statement = select(func.count(JobItem.id)).where(JobItem.job_id == job_id)
    if state is not None:
        statement = statement.where(JobItem.state == state)
    return session.scalar(statement) or 0


def tally(session: Session, job_id: int) -> dict[str, int]:
    rows = session.execute(
        select(JobItem.state, func.count(JobItem.id))
        .where(JobItem.job_id == job_id)
        .group_by(JobItem.state)
    ).all()
    counts = {state.value: 0 for state in JobItemState} | {s.value: n for s, n in rows}
    done = counts["succeeded"] + counts["failed"]
    return {"total": sum(counts.values()), "processed": done, **counts}


def run_items(
    context: JobContext, work: ItemWork, size: int = CHUNK, *, session_only: bool = False
) -> dict[str, int]:
    """Apply `work` to every pending item; a failing item is recorded and the others go on.

    `session_only` says the work does nothing but write through the session, so a chunk can
    be done at once and, on an error, undone and done again item by item. Work with any other
    effect runs each item once, in its own savepoint.

    Each chunk commits its items' work and states together; progress is reported after the
    commit (on SQLite another connection could not write while the chunk holds the lock).
    """
    with session_scope(context.engine) as session:
        counts = tally(session, context.job_id)
    context.progress(**_progress(counts), phase="processing")
    after = -1
    while True:
        context.checkpoint()
        with session_scope(context.engine) as session:
            chunk = pending_chunk(session, context.job_id, after, size)
            if session_only:
                _run_chunk(session, chunk, work)
            else:
                for item in chunk:
                    _run_one(session, item, work)
            for item in chunk:
                counts["processed"] += 1
                counts[item.state.value] += 1
        if not chunk:
            return counts
        after = chunk[-1].seq
        context.progress(**_progress(counts))


def _run_chunk(session: Session, chunk: list[JobItem], work: ItemWork) -> None:
    """The whole chunk at once, flushed once: one statement per table for all its items,
    where a savepoint and a flush per item made most of a batch's time. The first error of
    any kind undoes the chunk, which is then done item by item, each in its own savepoint:
    a failing item fails alone and leaves nothing half-written."""
    try:
        for item in chunk:
            work(session, item)
            item.state, item.message = JobItemState.SUCCEEDED, None
        session.flush()
    except Exception:
        session.rollback()
        for item in chunk:
            _run_one(session, item, work)


def pending_chunk(session: Session, job_id: int, after: int, size: int = CHUNK) -> list[JobItem]:
    """The next pending items after position `after`, in order."""
    return list(
        session.scalars(
            select(JobItem)
            .where(
                JobItem.job_id == job_id,
                JobItem.state == JobItemState.PENDING,
                JobItem.seq > after,
            )
            .order_by(JobItem.seq)
            .limit(size)
        )
    )


@dataclass(frozen=True)
class ItemRef:
    id: int
    seq: int
    product_id: int | None


def pending_refs(session: Session, job_id: int, after: int, size: int = CHUNK) -> list[ItemRef]:
    """`pending_chunk` as plain rows, for work that marks its items with `mark_done`."""
    rows = session.execute(
        select(JobItem.id, JobItem.seq, JobItem.product_id)
        .where(JobItem.job_id == job_id, JobItem.state == JobItemState.PENDING, JobItem.seq > after)
        .order_by(JobItem.seq)
        .limit(size)
    )
    return [ItemRef(row.id, row.seq, row.product_id) for row in rows]


@dataclass(frozen=True)
class Span:
    """A job's items from one position to another: a chunk, named without listing it."""

    job_id: int
    first: int
    last: int

    def pending(self) -> ColumnElement[bool]:
        return and_(
            JobItem.job_id == self.job_id,
            JobItem.state == JobItemState.PENDING,
            JobItem.seq.between(self.first, self.last),
        )

    def pending_product_ids(self) -> Select[Any]:
        return select(JobItem.product_id).where(self.pending())


def mark_done(session: Session, span: Span, failed: dict[int, str]) -> None:
    """The span's pending items succeeded, but those in `failed` (item id: why)."""
    for item_id, message in failed.items():
        session.execute(
            update(JobItem)
            .where(JobItem.id == item_id)
            .values(state=JobItemState.FAILED, message=message, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(JobItem)
        .where(span.pending())
        .values(state=JobItemState.SUCCEEDED, message=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _progress(counts: dict[str, int]) -> dict[str, int]:
    return {
        "total": counts["total"],
        "processed": counts["processed"],
        "succeeded": counts["succeeded"],
        "failed": counts["failed"],
    }


def _run_one(session: Session, item: JobItem, work: ItemWork) -> None:
    try:
        with session.begin_nested():
            work(session, item)
    except DomainError as exc:
        item.state, item.message = JobItemState.FAILED, exc.message
    except Exception as exc:
        logger.exception("job %s item %s failed", item.job_id, item.seq)
        item.state = JobItemState.FAILED
        item.message = f"Unexpected error ({type(exc).__name__}); see the worker log."
    else:
        item.state, item.message = JobItemState.SUCCEEDED, None


def failed_items(session: Session, job_id: int, limit: int = ERRORS_SHOWN) -> list[JobItem]:
    return list(
        session.scalars(
            select(JobItem)
            .where(JobItem.job_id == job_id, JobItem.state == JobItemState.FAILED)
            .order_by(JobItem.seq)
            .limit(limit)
        )
    )


def reset_failed(session: Session, job_id: int) -> int:
    """Failed items back to pending, for a retry; returns how many."""
    return session.execute(
        update(JobItem)
        .where(JobItem.job_id == job_id, JobItem.state == JobItemState.FAILED)
        .values(state=JobItemState.PENDING, message=None)
    ).rowcount


def reset_all(session: Session, job_id: int) -> None:
    """Every item pending again: for jobs whose output is rebuilt whole (an export)."""
    session.execute(
        update(JobItem).where(JobItem.job_id == job_id).values(state=JobItemState.PENDING)
    )
