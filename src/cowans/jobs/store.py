"""The `sync_jobs` rows: creating, claiming, beating, finishing and recovering jobs.

Every change of state is one conditional UPDATE, so two workers (or a worker and a person
cancelling) can never both win: a job is claimed only while queued, beats only for the worker
that holds it, and is taken back from a worker only when its heartbeat went stale.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, select, update
from sqlalchemy.orm import Session

from cowans.db.base import utcnow
from cowans.db.models import JobState, SyncJob
from cowans.db.session import read_scope, session_scope
from cowans.errors import Conflict, NotFound
from cowans.jobs.errors import JobErrorCode

FINISHED = (
    JobState.COMPLETED,
    JobState.COMPLETED_WITH_ERRORS,
    JobState.FAILED,
    JobState.CANCELLED,
)
PRIORITY_NAMES = ("high", "normal", "low")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def job_view(job: SyncJob) -> dict[str, Any]:
    """A job as the API and the events show it (JSON-ready)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state.value,
        "priority": job.priority,
        "store_id": job.store_id,
        "created_by": job.created_by,
        "config": job.config or {},
        "total": job.total,
        "processed": job.processed,
        "succeeded": job.succeeded,
        "failed": job.failed,
        "phase": job.phase,
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "worker": job.worker,
        "result": job.result or {},
        "error": job.error,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "heartbeat_at": _iso(job.heartbeat_at),
    }


def create_job(
    session: Session,
    kind: str,
    *,
    params: dict[str, Any],
    created_by: int | None,
    priority: str = "normal",
    store_id: int | None = None,
    total: int = 0,
) -> SyncJob:
    if priority not in PRIORITY_NAMES:
        raise ValueError(f"unknown priority {priority!r}")
    job = SyncJob(
        kind=kind,
        priority=priority,
        config=params,
        created_by=created_by,
        store_id=store_id,
        total=total,
        state=JobState.QUEUED,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> SyncJob:
    job = session.get(SyncJob, job_id)
    if job is None:
        raise NotFound(JobErrorCode.JOB_NOT_FOUND, f"No job with id {job_id}.")
    return job


def load_job(engine: Engine, job_id: int) -> SyncJob | None:
    with read_scope(engine) as session:
        job = session.get(SyncJob, job_id)
        if job is not None:
            session.expunge(job)
        return job


def _changed(engine: Engine, *conditions: ColumnElement[bool], **values: Any) -> bool:
    """One conditional UPDATE of a job in its own transaction; True when the job matched."""
    with session_scope(engine) as session:
        statement = update(SyncJob).where(*conditions).values(**values, updated_at=utcnow())
        return bool(session.execute(statement).rowcount)


def _held_by(job_id: int, worker: str) -> tuple[ColumnElement[bool], ...]:
    return SyncJob.id == job_id, SyncJob.worker == worker, SyncJob.state == JobState.RUNNING


def claim(engine: Engine, job_id: int, worker: str) -> SyncJob | None:
    """Take a queued job for `worker`; None when it is not there to take (running elsewhere,
    finished, or cancelled while it waited)."""
    now = utcnow()
    taken = _changed(
        engine,
        SyncJob.id == job_id,
        SyncJob.state == JobState.QUEUED,
        SyncJob.cancel_requested.is_(False),
        state=JobState.RUNNING,
        worker=worker,
        heartbeat_at=now,
        attempts=SyncJob.attempts + 1,
        started_at=func.coalesce(SyncJob.started_at, now),
    )
    return load_job(engine, job_id) if taken else None


def beat(engine: Engine, job_ids: Iterable[int], worker: str) -> set[int]:
    """Refresh the heartbeat of `worker`'s jobs; returns those it no longer holds."""
    now = utcnow()
    return {
        job_id
        for job_id in job_ids
        if not _changed(engine, *_held_by(job_id, worker), heartbeat_at=now)
    }


def cancel_requested(engine: Engine, job_id: int) -> bool:
    with read_scope(engine) as session:
        return bool(session.scalar(select(SyncJob.cancel_requested).where(SyncJob.id == job_id)))


@dataclass(frozen=True)
class Counters:
    processed: int | None = None
    total: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    phase: str | None = None

    def values(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if value is not None}


def save_counters(engine: Engine, job_id: int, worker: str, counters: Counters) -> bool:
    """Store progress; False when the job is no longer ours."""
    values = counters.values()
    return not values or _changed(engine, *_held_by(job_id, worker), **values)


def save_metrics(engine: Engine, job_id: int, worker: str, metrics: dict[str, Any]) -> bool:
    """Store a running sync's latest performance figures; False when the job is no longer ours.
    The figures stay on the row when the job ends: the last ones are the run's summary."""
    return _changed(engine, *_held_by(job_id, worker), metrics=metrics)


def finish(
    engine: Engine,
    job_id: int,
    worker: str,
    state: JobState,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    counters: Counters = Counters(),
) -> bool:
    """End a job this worker holds; False when it was no longer ours to end."""
    values: dict[str, Any] = {"state": state, "finished_at": utcnow(), "error": error}
    if result is not None:
        values["result"] = result
    return _changed(engine, *_held_by(job_id, worker), **values, **counters.values())


def give_back(engine: Engine, job_id: int, worker: str) -> bool:
    """Return a job to the queue because this worker is shutting down; the start it had does
    not count against its attempts."""
    return _changed(
        engine,
        *_held_by(job_id, worker),
        state=JobState.QUEUED,
        worker=None,
        attempts=SyncJob.attempts - 1,
    )


def release_after_outage(engine: Engine, job_id: int, worker: str, max_attempts: int) -> bool:
    """Hand back a job this worker had to drop because the database went away under it: queued
    again to go on from its recorded items, or failed once it has used its attempts (a job that
    meets a database error every time must not loop). True when it is queued to run again:
    queued, whether this call or another worker's recovery put it there."""
    if not _changed(
        engine,
        *_held_by(job_id, worker),
        SyncJob.attempts < max_attempts,
        state=JobState.QUEUED,
        worker=None,
    ):
        _changed(
            engine,
            *_held_by(job_id, worker),
            state=JobState.FAILED,
            finished_at=utcnow(),
            error=(
                f"The database was unavailable during each of the job's {max_attempts} "
                "attempts, so it is not started again. Its finished items are kept; retry it "
                "once the database is healthy."
            ),
        )
    with read_scope(engine) as session:
        state = session.scalar(select(SyncJob.state).where(SyncJob.id == job_id))
    return state is JobState.QUEUED


def requeue_for_retry(session: Session, job_id: int) -> SyncJob:
    """Queue a finished job again, for its failed items. Conditional, so two retries at once
    cannot put a job that already runs again back in the queue."""
    requeued = session.execute(
        update(SyncJob)
        .where(SyncJob.id == job_id, SyncJob.state.in_(FINISHED))
        .values(
            state=JobState.QUEUED,
            worker=None,
            error=None,
            cancel_requested=False,
            attempts=0,
            finished_at=None,
            updated_at=utcnow(),
        )
    ).rowcount
    job = session.scalar(
        select(SyncJob).where(SyncJob.id == job_id).execution_options(populate_existing=True)
    )
    if job is None:
        raise NotFound(JobErrorCode.JOB_NOT_FOUND, f"No job with id {job_id}.")
    if not requeued:
        raise Conflict(JobErrorCode.JOB_NOT_RETRYABLE, f"Job {job_id} is still {job.state}.")
    return job


@dataclass(frozen=True)
class Recovered:
    requeued: list[int]
    failed: list[int]


def recover_stale(
    engine: Engine, stale_after: float, max_attempts: int, alive_worker: str
) -> Recovered:
    """Take back running jobs whose worker stopped beating (killed, machine gone).

    Each is queued again to go on from its finished items, or failed once it has used its
    attempts: a job that kills its worker every time must not take the fleet down with it.
    The calling process's own jobs are never taken: it knows they are alive, even when its
    heartbeat waited on a busy database.
    """
    cutoff = utcnow() - timedelta(seconds=stale_after)
    requeued: list[int] = []
    failed: list[int] = []
    with session_scope(engine) as session:
        stale = session.execute(
            select(SyncJob.id, SyncJob.attempts).where(
                SyncJob.state == JobState.RUNNING,
                SyncJob.heartbeat_at < cutoff,
                SyncJob.worker != alive_worker,
            )
        ).all()
    for job_id, attempts in stale:
        if attempts >= max_attempts:
            if _take_stale(engine, job_id, cutoff, _lost_too_often(attempts)):
                failed.append(job_id)
        elif _take_stale(engine, job_id, cutoff, None):
            requeued.append(job_id)
    return Recovered(requeued, failed)


def _lost_too_often(attempts: int) -> dict[str, Any]:
    return {
        "state": JobState.FAILED,
        "finished_at": utcnow(),
        "error": (
            f"The job lost its worker {attempts} times (the process was killed or crashed while "
            "running it), so it is not started again. Its finished items are kept; retry it once "
            "the cause is fixed."
        ),
    }


def _take_stale(
    engine: Engine, job_id: int, cutoff: datetime, failed: dict[str, Any] | None
) -> bool:
    return _changed(
        engine,
        SyncJob.id == job_id,
        SyncJob.state == JobState.RUNNING,
        SyncJob.heartbeat_at < cutoff,
        **(failed or {"state": JobState.QUEUED}),
        worker=None,
    )


def request_cancel(session: Session, job_id: int) -> SyncJob:
    """A queued job is cancelled at once and never starts; a running one is asked to stop at
    its next item boundary. Conditional updates, so a worker claiming the job at the same
    moment cannot be overruled half-way."""
    now = utcnow()
    cancelled_queued = session.execute(
        update(SyncJob)
        .where(SyncJob.id == job_id, SyncJob.state == JobState.QUEUED)
        .values(
            state=JobState.CANCELLED,
            cancel_requested=True,
            finished_at=now,
            updated_at=now,
            phase="cancelled before it started",
        )
    ).rowcount
    if not cancelled_queued:
        session.execute(
            update(SyncJob)
            .where(SyncJob.id == job_id, SyncJob.state == JobState.RUNNING)
            .values(cancel_requested=True, updated_at=now)
        )
    job = session.scalar(
        select(SyncJob).where(SyncJob.id == job_id).execution_options(populate_existing=True)
    )
    if job is None:
        raise NotFound(JobErrorCode.JOB_NOT_FOUND, f"No job with id {job_id}.")
    if not job.cancel_requested:
        raise Conflict(
            JobErrorCode.JOB_FINISHED,
            f"Job {job_id} is already {job.state.value}; there is nothing to cancel.",
        )
    return job
