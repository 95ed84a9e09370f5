"""What a job handler gets: its parameters, a way to report progress, and item boundaries.

Handlers call `checkpoint()` between items. That is where a job stops: for a cancel, for a
worker shutting down, or because another worker took it over. Progress goes to the database
and to the browsers at most every EVENT_THROTTLE_SECONDS, so a 100,000-item job neither floods
the WebSockets nor writes a row per item; the last figures are always written at the end.
A sync's performance figures (`report_metrics`) are held back the same way, on their own clock.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cowans.config import Settings
from cowans.db.models import SyncJob
from cowans.jobs import store
from cowans.jobs.errors import JobCancelled, JobInterrupted, JobLost
from cowans.jobs.events import Event, EventSink


@dataclass
class JobContext:
    job_id: int
    kind: str
    params: dict[str, Any]
    created_by: int | None
    store_id: int | None
    attempt: int
    worker: str
    engine: Engine
    settings: Settings
    events: EventSink
    shutting_down: threading.Event
    # Queues a follow-up job (JobRuntime.submit): a batch with `push` starts its push job.
    submit: Callable[[Session, SyncJob], None] | None = None
    lost: threading.Event = field(default_factory=threading.Event)
    counters: store.Counters = field(default_factory=store.Counters)
    _dirty: bool = False
    _persist: bool = True
    _last_flush: float = 0.0
    _metrics: dict[str, Any] | None = None
    _metrics_dirty: bool = False
    _last_metrics: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # One metrics writer at a time: an older snapshot must never land after a newer one.
    _metrics_writer: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_job(
        cls,
        job: SyncJob,
        worker: str,
        engine: Engine,
        settings: Settings,
        events: EventSink,
        shutting_down: threading.Event,
        submit: Callable[[Session, SyncJob], None] | None = None,
    ) -> "JobContext":
        return cls(
            job_id=job.id,
            kind=job.kind,
            params=dict(job.config or {}),
            created_by=job.created_by,
            store_id=job.store_id,
            attempt=job.attempts,
            worker=worker,
            engine=engine,
            settings=settings,
            events=events,
            shutting_down=shutting_down,
            submit=submit,
            counters=store.Counters(job.processed, job.total, job.succeeded, job.failed),
        )

    def progress(
        self,
        *,
        processed: int | None = None,
        total: int | None = None,
        succeeded: int | None = None,
        failed: int | None = None,
        phase: str | None = None,
        persist: bool = True,
    ) -> None:
        """Record where the job is; written and published when the throttle allows (a new
        phase at once). `persist=False` publishes without writing the row, for a handler
        whose own transaction holds SQLite's writer lock; the end of the job writes it."""
        update = store.Counters(processed, total, succeeded, failed, phase).values()
        with self._lock:
            new_phase = phase is not None and phase != self.counters.phase
            self.counters = replace(self.counters, **update)
            self._dirty, self._persist = True, persist
        self.flush(force=new_phase)

    def flush(self, force: bool = False) -> None:
        """Write and publish the latest counters (and metrics) if they changed and the throttle
        allows; the worker's monitor calls this too, so the last figures of a pause arrive."""
        self._flush_counters(force)
        self.flush_metrics()

    def _flush_counters(self, force: bool) -> None:
        with self._lock:
            due = time.monotonic() - self._last_flush >= self.settings.event_throttle_seconds
            if not self._dirty or not (force or due):
                return
            counters, persist = self.counters, self._persist
            self._dirty, self._last_flush = False, time.monotonic()
        if persist and not store.save_counters(self.engine, self.job_id, self.worker, counters):
            self.lost.set()
            return
        self.events.publish(self.progress_event(counters))

    def progress_event(self, counters: store.Counters) -> Event:
        return {
            "type": "job.progress",
            "job_id": self.job_id,
            "kind": self.kind,
            **counters.values(),
        }

    def report_metrics(self, snapshot: dict[str, Any], *, force: bool = False) -> None:
        """Keep a sync's latest performance figures (cowans.sync.monitor): saved on the job's
        row (`SyncJob.metrics`) and published as `sync.metrics` when the throttle allows, at
        once with `force` (the last figures of a run)."""
        with self._lock:
            self._metrics, self._metrics_dirty = snapshot, True
        self.flush_metrics(force=force)

    def flush_metrics(self, force: bool = False) -> None:
        with self._metrics_writer:
            with self._lock:
                due = time.monotonic() - self._last_metrics >= self.settings.event_throttle_seconds
                if not self._metrics_dirty or self._metrics is None or not (force or due):
                    return
                snapshot = self._metrics
                self._metrics_dirty, self._last_metrics = False, time.monotonic()
            if not store.save_metrics(self.engine, self.job_id, self.worker, snapshot):
                self.lost.set()
                return
            self.events.publish(metrics_event(self.job_id, self.kind, self.store_id, snapshot))

    def publish(self, event: Event) -> None:
        self.events.publish(event)

    def checkpoint(self) -> None:
        """An item boundary: stop here if the job must stop. One indexed read; handlers call it
        per chunk of items, not per item."""
        if self.lost.is_set():
            raise JobLost
        if self.shutting_down.is_set():
            raise JobInterrupted
        if store.cancel_requested(self.engine, self.job_id):
            raise JobCancelled


def metrics_event(job_id: int, kind: str, store_id: int | None, metrics: dict[str, Any]) -> Event:
    """The `sync.metrics` event of a job's figures (also what a reconnecting browser should be
    sent for a running sync)."""
    return {
        "type": "sync.metrics",
        "job_id": job_id,
        "kind": kind,
        "store_id": store_id,
        "metrics": metrics,
    }
