"""Pulls and pushes of one store take turns.

Two of them at once would compare and write the same staged rows and bases from two
transactions: a pull could stage a product the push is changing, or two webhook pulls could
each add the same pull row. A job takes the store's turn before it starts (one conditional
UPDATE, so two workers cannot both take it) and gives it back when it ends. A turn held by a
job that is no longer running (it finished, or its worker died and the job went back to the
queue) is free.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, and_, exists, or_, select, update

from cowans.db.models import JobState, Store, SyncJob
from cowans.db.session import session_scope
from cowans.errors import NotFound
from cowans.jobs.context import JobContext

WAIT_SECONDS = 1.0
StoreWork = Callable[[JobContext, Store], dict[str, Any]]


def run_on_store(context: JobContext, work: StoreWork) -> dict[str, Any]:
    """Run a pull's or push's `work` on the job's store (detached from any session), in the
    store's turn."""
    with session_scope(context.engine) as session:
        store = session.get(Store, context.store_id)
        if store is None:
            raise NotFound("store_not_found", f"No store with id {context.store_id}.")
        session.expunge(store)
    with store_turn(context):
        return work(context, store)


@contextmanager
def store_turn(context: JobContext) -> Iterator[None]:
    """Wait for the store's turn (stopping there if the job is cancelled), then hold it."""
    assert context.store_id is not None
    waited = False
    while not take_turn(context.engine, context.store_id, context.job_id):
        if not waited:
            context.progress(phase="waiting for the store", persist=True)
            waited = True
        context.checkpoint()
        time.sleep(WAIT_SECONDS)
    try:
        yield
    finally:
        give_turn_back(context.engine, context.store_id, context.job_id)


def take_turn(engine: Engine, store_id: int, job_id: int) -> bool:
    holder_running = exists(
        select(SyncJob.id).where(
            and_(SyncJob.id == Store.sync_job_id, SyncJob.state == JobState.RUNNING)
        )
    )
    with session_scope(engine) as session:
        taken = session.execute(
            update(Store)
            .where(
                Store.id == store_id,
                or_(Store.sync_job_id.is_(None), Store.sync_job_id == job_id, ~holder_running),
            )
            .values(sync_job_id=job_id)
            .execution_options(synchronize_session=False)
        )
        return bool(taken.rowcount)


def give_turn_back(engine: Engine, store_id: int, job_id: int) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(Store)
            .where(Store.id == store_id, Store.sync_job_id == job_id)
            .values(sync_job_id=None)
            .execution_options(synchronize_session=False)
        )
