"""GET /metrics: Prometheus figures for jobs, items, the queue and the workers.

They are read from the database (and the queue) at scrape time rather than counted in this
process: with workers on other machines, only the database has seen every job. Totals only ever
grow while job rows are kept, so the counters behave as Prometheus expects.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from cowans.db.base import utcnow
from cowans.db.models import JobState, SyncJob
from cowans.db.session import read_only
from cowans.jobs.push import KIND as PUSH_KIND
from cowans.jobs.workers import list_workers

router = APIRouter(tags=["health"])

DURATION_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)


class _JobsCollector:
    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        with self.app.state.session_factory() as session:
            read_only(session)
            yield from _job_states(session)
            yield from _items(session)
            yield from _durations(session)
            yield from _heartbeats(session)
            yield from _running_syncs(session)
        yield from _queue(self.app)
        yield from _workers(self.app)


def _job_states(session: Any) -> Iterator[Metric]:
    jobs = GaugeMetricFamily("cowans_jobs", "Jobs by kind and state.", labels=["kind", "state"])
    rows = session.execute(
        select(SyncJob.kind, SyncJob.state, func.count()).group_by(SyncJob.kind, SyncJob.state)
    )
    for kind, state, count in rows:
        jobs.add_metric([kind, state.value], count)
    yield jobs


def _items(session: Any) -> Iterator[Metric]:
    items = CounterMetricFamily(
        "cowans_job_items", "Items jobs have finished, by outcome.", labels=["kind", "outcome"]
    )
    rows = session.execute(
        select(SyncJob.kind, func.sum(SyncJob.succeeded), func.sum(SyncJob.failed)).group_by(
            SyncJob.kind
        )
    )
    for kind, succeeded, failed in rows:
        items.add_metric([kind, "succeeded"], succeeded or 0)
        items.add_metric([kind, "failed"], failed or 0)
    yield items


def _durations(session: Any) -> Iterator[Metric]:
    histogram = HistogramMetricFamily(
        "cowans_job_duration_seconds", "Run time of finished jobs.", labels=["kind"]
    )
    rows = session.execute(
        select(SyncJob.kind, SyncJob.started_at, SyncJob.finished_at).where(
            SyncJob.started_at.is_not(None), SyncJob.finished_at.is_not(None)
        )
    )
    by_kind: dict[str, list[float]] = {}
    for kind, started, finished in rows:
        by_kind.setdefault(kind, []).append(max((finished - started).total_seconds(), 0.0))
    for kind, durations in sorted(by_kind.items()):
        buckets = [(str(b), sum(1 for d in durations if d <= b)) for b in DURATION_BUCKETS]
        buckets.append(("+Inf", len(durations)))
        histogram.add_metric([kind], buckets, sum(durations))
    yield histogram


def _heartbeats(session: Any) -> Iterator[Metric]:
    oldest = session.scalar(
        select(func.min(SyncJob.heartbeat_at)).where(SyncJob.state == JobState.RUNNING)
    )
    age = GaugeMetricFamily(
        "cowans_running_job_heartbeat_age_seconds",
        "Age of the stalest heartbeat among running jobs (0 when none runs).",
    )
    age.add_metric([], (utcnow() - oldest).total_seconds() if oldest else 0.0)
    yield age


# The running syncs' figures (SyncJob.metrics, from cowans.sync.monitor): name, help, and the
# path to the figure in a snapshot. Gauges, since each push starts again from zero.
SYNC_GAUGES = (
    (
        "cowans_sync_items_per_second",
        "Changes a running push processes per second.",
        ("items_per_second",),
    ),
    ("cowans_sync_workers_active", "Workers in a running push's pool.", ("workers", "active")),
    (
        "cowans_sync_workers_busy",
        "Workers of a running push with a step in flight.",
        ("workers", "busy"),
    ),
    (
        "cowans_sync_utilization",
        "Busy time over pool time of a running push's workers.",
        ("utilization",),
    ),
    ("cowans_sync_error_rate", "Failed over processed changes of a running push.", ("error_rate",)),
    (
        "cowans_sync_cost_spent_points",
        "Shopify cost points a running push has spent.",
        ("cost_spent",),
    ),
    ("cowans_sync_queued_items", "Changes a running push has still to process.", ("queued",)),
    (
        "cowans_sync_throttle_available_points",
        "Points in the store's Shopify bucket, as last known by the running push.",
        ("throttle", "currently_available"),
    ),
)


def _running_syncs(session: Any) -> Iterator[Metric]:
    """Figures of each store's running push (its latest, should there be several)."""
    rows = session.execute(
        select(SyncJob.store_id, SyncJob.metrics)
        .where(SyncJob.kind == PUSH_KIND, SyncJob.state == JobState.RUNNING)
        .order_by(SyncJob.id)
    )
    latest = {str(store_id): metrics or {} for store_id, metrics in rows}
    for name, documentation, path in SYNC_GAUGES:
        gauge = GaugeMetricFamily(name, documentation, labels=["store"])
        for store, metrics in sorted(latest.items()):
            value = _figure(metrics, path)
            if value is not None:
                gauge.add_metric([store], value)
        yield gauge
    retries = GaugeMetricFamily(
        "cowans_sync_retries", "Retries of a running push, by cause.", labels=["store", "cause"]
    )
    for store, metrics in sorted(latest.items()):
        for cause, count in sorted((metrics.get("retries") or {}).items()):
            retries.add_metric([store, cause], count)
    yield retries


def _figure(metrics: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = metrics
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _queue(app: Any) -> Iterator[Metric]:
    depth = GaugeMetricFamily("cowans_queue_depth", "Messages waiting in the job queue.")
    depth.add_metric([], app.state.jobs.huey.pending_count())
    yield depth


def _workers(app: Any) -> Iterator[Metric]:
    stale_after = app.state.settings.job_stale_after_seconds
    gauge = GaugeMetricFamily("cowans_workers", "Job worker processes by state.", labels=["state"])
    threads = GaugeMetricFamily(
        "cowans_worker_threads", "Job worker threads of live processes.", labels=["state"]
    )
    counts: dict[str, int] = dict.fromkeys(("idle", "busy", "lost"), 0)
    thread_counts: dict[str, int] = dict.fromkeys(("idle", "busy"), 0)
    recent = utcnow() - timedelta(days=1)
    for worker in list_workers(app.state.engine, stale_after):
        if worker["state"] == "lost" and worker["heartbeat_at"] < recent.isoformat():
            continue  # a process gone for a day is history, not an alert
        counts[worker["state"]] = counts.get(worker["state"], 0) + 1
        if worker["state"] in thread_counts:
            busy = len(worker["running_jobs"])
            thread_counts["busy"] += busy
            thread_counts["idle"] += max(worker["threads"] - busy, 0)
    for state, count in counts.items():
        gauge.add_metric([state], count)
    for state, count in thread_counts.items():
        threads.add_metric([state], count)
    yield gauge
    yield threads


@router.get("/metrics", include_in_schema=True, response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    """Prometheus text format. Aggregates only: no names or secrets (a sync's figures are
    labelled with its store's id)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_JobsCollector(request.app))  # type: ignore[arg-type]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
