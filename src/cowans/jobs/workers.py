"""The `workers` rows: each process that runs jobs says who it is, how busy, and that it lives.

The dashboard and /metrics read them; a row whose heartbeat is older than
JOB_STALE_AFTER_SECONDS belongs to a process that is gone (shown as `lost`).
"""

import os
import socket
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from cowans.db.base import utcnow
from cowans.db.models import WorkerProcess
from cowans.db.session import read_scope, session_scope

if TYPE_CHECKING:
    from cowans.jobs.runtime import JobRuntime


def worker_view(worker: WorkerProcess, stale_after: float) -> dict[str, Any]:
    lost = worker.state != "stopped" and worker.heartbeat_at < utcnow() - timedelta(
        seconds=stale_after
    )
    return {
        "id": worker.id,
        "hostname": worker.hostname,
        "pid": worker.pid,
        "mode": worker.mode,
        "threads": worker.threads,
        "state": "lost" if lost else worker.state,
        "running_jobs": list(worker.running_jobs or []),
        "started_at": worker.started_at.isoformat(),
        "heartbeat_at": worker.heartbeat_at.isoformat(),
    }


def report(runtime: "JobRuntime", mode: str, threads: int, *, stopped: bool = False) -> None:
    """Upsert this process's row and publish it when its state or jobs changed."""
    running = sorted(context.job_id for context in runtime.running_jobs())
    state = "stopped" if stopped else ("busy" if running else "idle")
    with session_scope(runtime.engine) as session:
        row = session.get(WorkerProcess, runtime.worker_id)
        if row is None:
            row = WorkerProcess(
                id=runtime.worker_id,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                mode=mode,
                threads=threads,
                started_at=utcnow(),
            )
            session.add(row)
            changed = True
        else:
            changed = row.state != state or list(row.running_jobs or []) != running
        row.state, row.running_jobs, row.heartbeat_at = state, running, utcnow()
        row.mode, row.threads = mode, threads
        session.flush()
        view = worker_view(row, runtime.settings.job_stale_after_seconds)
    if changed:
        runtime.events.publish({"type": "worker.state", "worker": view})


def list_workers(
    engine: Engine, stale_after: float, include_stopped: bool = False
) -> list[dict[str, Any]]:
    with read_scope(engine) as session:
        rows = session.scalars(select(WorkerProcess).order_by(WorkerProcess.started_at.desc()))
        views = [worker_view(row, stale_after) for row in rows]
    return [view for view in views if include_stopped or view["state"] != "stopped"]
