"""The job runtime: submit jobs, run them on Huey workers, and keep them alive across crashes.

One `JobRuntime` per process. `cowans serve` runs its consumer in-process (threads, no signal
handlers: uvicorn owns those); `cowans worker` runs it in the foreground. Each process that
runs jobs also runs a monitor thread that, every JOB_HEARTBEAT_SECONDS, beats for its jobs and
for itself, pushes out held-back progress, and takes back jobs whose worker died elsewhere.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

from huey import Huey
from huey.consumer import Consumer
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cowans.config import Settings
from cowans.db.models import JobState, SyncJob
from cowans.errors import DomainError
from cowans.jobs import store, workers
from cowans.jobs.context import JobContext
from cowans.jobs.errors import CompletedWithErrors, JobCancelled, JobInterrupted, JobLost
from cowans.jobs.events import EventSink
from cowans.jobs.queue import PRIORITIES, build_huey
from cowans.jobs.schedules import register_schedules

logger = logging.getLogger(__name__)

Handler = Callable[[JobContext], dict[str, Any] | None]
# How long a stopping worker waits for its jobs to reach an item boundary.
SHUTDOWN_TIMEOUT_SECONDS = 30.0


class JobRuntime:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        events: EventSink,
        handlers: Mapping[str, Handler],
        huey: Huey | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.events = events
        self.handlers = handlers
        self.huey = huey or build_huey(settings)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.shutting_down = threading.Event()
        self._running: dict[int, JobContext] = {}
        self._running_lock = threading.Lock()
        # Jobs this process dropped because the database went away: the monitor hands them
        # back (queued again, or failed) once it can reach the database. Nobody else would: a
        # process never takes back its own jobs, and it may be the only one.
        self._dropped: set[int] = set()
        self._dropped_lock = threading.Lock()
        self._run_task = self.huey.task(name="run_job")(self.run_job)
        self.schedules = register_schedules(self)

    # Submitting ---------------------------------------------------------------------------------

    def submit(self, session: Session, job: SyncJob) -> None:
        """Commit the job (a worker must find its row) and queue it."""
        session.commit()
        self.enqueue(job.id, job.priority)
        self.publish_state(job)

    def enqueue(self, job_id: int, priority: str) -> None:
        self.huey.enqueue(self._run_task.s(job_id, priority=PRIORITIES.get(priority, 10)))

    def publish_state(self, job: SyncJob) -> None:
        self.events.publish({"type": "job.state", "job": store.job_view(job)})

    def _publish_state_of(self, job_id: int) -> None:
        job = store.load_job(self.engine, job_id)
        if job is not None:
            self.publish_state(job)

    # Running ------------------------------------------------------------------------------------

    def run_job(self, job_id: int) -> None:
        """The Huey task: run the job if it is still there to run. The queue has handed the
        task over: if the database goes away now, the job is kept in `_dropped` until it can be
        handed back, never lost with the task."""
        try:
            self._claim_and_run(job_id)
        except OperationalError as exc:
            logger.warning(
                "job %s: database unavailable (%s); queued again later", job_id, exc.orig
            )
            with self._dropped_lock:
                self._dropped.add(job_id)

    def _claim_and_run(self, job_id: int) -> None:
        job = store.claim(self.engine, job_id, self.worker_id)
        if job is None:
            return
        context = JobContext.for_job(
            job,
            self.worker_id,
            self.engine,
            self.settings,
            self.events,
            self.shutting_down,
            submit=self.submit,
        )
        with self._running_lock:
            self._running[job_id] = context
        self.publish_state(job)
        try:
            self._execute(context)
        finally:
            with self._running_lock:
                self._running.pop(job_id, None)
        self._publish_state_of(job_id)

    def _execute(self, context: JobContext) -> None:
        handler = self.handlers.get(context.kind)
        if handler is None:
            self._end(
                context, JobState.FAILED, error=f"No worker knows jobs of kind {context.kind}."
            )
            return
        try:
            result = handler(context) or {}
        except JobCancelled as exc:
            result = {"cancelled": "while running", **exc.result}
            self._end(context, JobState.CANCELLED, result=result)
        except JobInterrupted:
            if store.give_back(self.engine, context.job_id, self.worker_id):
                self.enqueue(context.job_id, "high")  # it was running: let it go on first
        except JobLost:
            logger.warning("job %s was taken over by another worker", context.job_id)
        except OperationalError:
            raise  # the database went away: not the job's fault, see run_job
        except CompletedWithErrors as exc:
            self._end(context, JobState.COMPLETED_WITH_ERRORS, result=exc.result, error=exc.message)
        except DomainError as exc:
            self._end(context, JobState.FAILED, error=exc.message)
        except Exception as exc:
            logger.exception("job %s (%s) failed", context.job_id, context.kind)
            message = f"The job failed unexpectedly ({type(exc).__name__}); see the worker log."
            self._end(context, JobState.FAILED, error=message)
        else:
            self._end(context, JobState.COMPLETED, result=result)

    def _end(
        self,
        context: JobContext,
        state: JobState,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        store.finish(
            self.engine,
            context.job_id,
            self.worker_id,
            state,
            result=result,
            error=error,
            counters=context.counters,
        )

    def running_jobs(self) -> list[JobContext]:
        with self._running_lock:
            return list(self._running.values())

    # Keeping jobs alive -------------------------------------------------------------------------

    def tick(self) -> None:
        """One round of the monitor: beat, flush progress, recover jobs of dead workers."""
        running = self.running_jobs()
        lost = store.beat(self.engine, [c.job_id for c in running], self.worker_id)
        for context in running:
            if context.job_id in lost:
                context.lost.set()
            else:
                context.flush()
        recovered = store.recover_stale(
            self.engine,
            self.settings.job_stale_after_seconds,
            self.settings.job_max_attempts,
            self.worker_id,
        )
        for job_id in recovered.requeued:
            logger.warning("job %s lost its worker; queued again", job_id)
            self.enqueue(job_id, "high")
        for job_id in recovered.failed:
            logger.error("job %s lost its worker too often; failed", job_id)
        for job_id in recovered.requeued + recovered.failed:
            self._publish_state_of(job_id)
        self._hand_back_dropped()

    def _hand_back_dropped(self) -> None:
        """Queue again (or fail, past their attempts) the jobs dropped in an outage; runs in
        the monitor after a round that reached the database."""
        with self._dropped_lock:
            dropped = sorted(self._dropped)
        for job_id in dropped:
            max_attempts = self.settings.job_max_attempts
            if store.release_after_outage(self.engine, job_id, self.worker_id, max_attempts):
                logger.warning("job %s queued again after a database outage", job_id)
                self.enqueue(job_id, "high")  # it was running: let it go on first
            with self._dropped_lock:
                self._dropped.discard(job_id)
            self._publish_state_of(job_id)

    # Consumers ----------------------------------------------------------------------------------

    def consumer(self, threads: int, *, embedded: bool, periodic: bool) -> "JobConsumer":
        return JobConsumer(self, threads=threads, embedded=embedded, periodic=periodic)

    def run_here(self, job_id: int) -> None:
        """Run a job in this thread, with a monitor beating for it (the CLI's foreground
        imports): the job is recorded and shown like any other."""
        monitor = Monitor(self, "cli", 1)
        monitor.start()
        try:
            self.run_job(job_id)
        finally:
            monitor.stop()


class _HueyConsumer(Consumer):  # type: ignore[misc]  # huey ships no type hints
    """Huey's consumer, told first when it stops so running jobs give themselves back."""

    def __init__(self, runtime: JobRuntime, embedded: bool, **options: Any) -> None:
        self._runtime = runtime
        self._embedded = embedded
        super().__init__(runtime.huey, **options)

    def stop(self, graceful: bool = False) -> None:
        self._runtime.shutting_down.set()
        super().stop(graceful=True)

    def _set_signal_handlers(self) -> None:
        if not self._embedded:  # inside `cowans serve`, uvicorn owns the signals
            super()._set_signal_handlers()


class Monitor:
    """The thread that keeps a process's jobs alive (see `JobRuntime.tick`) and reports the
    process in `workers`."""

    def __init__(self, runtime: JobRuntime, mode: str, threads: int) -> None:
        self.runtime, self.mode, self.threads = runtime, mode, threads
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="job-monitor", daemon=True)

    def start(self) -> None:
        self._guarded(lambda: workers.report(self.runtime, self.mode, self.threads))
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._guarded(lambda: workers.report(self.runtime, self.mode, self.threads, stopped=True))

    def _watch(self) -> None:
        interval = self.runtime.settings.job_heartbeat_seconds
        while not self._stopped.wait(interval):
            self._guarded(self._round)

    def _round(self) -> None:
        self.runtime.tick()
        workers.report(self.runtime, self.mode, self.threads)

    @staticmethod
    def _guarded(action: Callable[[], None]) -> None:
        """The monitor must outlive a database hiccup (or a database not migrated yet)."""
        try:
            action()
        except OperationalError as exc:  # e.g. SQLite's writer lock, held by a long import
            logger.warning("job monitor: database unavailable (%s)", exc.orig)
        except Exception:
            logger.exception("job monitor round failed")


class JobConsumer:
    """A process's job workers: Huey's worker threads plus the monitor."""

    def __init__(self, runtime: JobRuntime, *, threads: int, embedded: bool, periodic: bool):
        self.runtime = runtime
        self._huey_consumer = _HueyConsumer(
            runtime,
            embedded,
            workers=threads,
            periodic=periodic,
            worker_type="thread",
            graceful_signal="TERM",  # systemd's stop signal finishes at an item boundary
            shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
            max_delay=1.0,
        )
        self._monitor = Monitor(runtime, "embedded" if embedded else "worker", threads)

    def start(self) -> None:
        """Start in the background (embedded mode)."""
        self._monitor.start()
        self._huey_consumer.start()

    def run(self) -> None:
        """Run in the foreground until a signal stops it (`cowans worker`)."""
        self._monitor.start()
        try:
            self._huey_consumer.run()
        finally:
            self._monitor.stop()

    def stop(self) -> None:
        self._huey_consumer.stop(graceful=True)
        self._monitor.stop()
