"""Fixtures for the job runtime: runtimes with test job kinds, and waiting for jobs."""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from cowans.config import Settings
from cowans.db.models import Product, ProductVariant, SyncJob
from cowans.db.session import session_scope
from cowans.jobs.events import Event
from cowans.jobs.runtime import Handler, JobRuntime
from cowans.jobs.store import FINISHED


class RecordedEvents:
    """An event sink that keeps what it is given, for assertions."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def publish(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def of_type(self, kind: str) -> list[Event]:
        with self._lock:
            return [event for event in self.events if event["type"] == kind]


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll until `condition` returns something truthy; the deadline only guards a hang."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return result


def job_row(engine: Engine, job_id: int) -> SyncJob:
    with session_scope(engine) as session:
        job = session.get(SyncJob, job_id)
        assert job is not None
        session.expunge(job)
        return job


def job_finished(engine: Engine, job_id: int) -> SyncJob | None:
    job = job_row(engine, job_id)
    return job if job.state in FINISHED else None


@contextlib.contextmanager
def consuming(runtime: JobRuntime, threads: int = 1) -> Iterator[None]:
    """The runtime's embedded workers, running for the block."""
    consumer = runtime.consumer(threads, embedded=True, periodic=False)
    consumer.start()
    try:
        yield
    finally:
        consumer.stop()


@pytest.fixture
def make_runtime(
    settings: Settings, engine: Engine
) -> Iterator[Callable[..., tuple[JobRuntime, RecordedEvents]]]:
    """A runtime with the given handlers on the test's database and its own SQLite queue."""
    made: list[JobRuntime] = []

    def make(handlers: dict[str, Handler], **overrides: Any) -> tuple[JobRuntime, RecordedEvents]:
        events = RecordedEvents()
        tuned = settings.model_copy(
            update={"job_heartbeat_seconds": 0.2, "event_throttle_seconds": 0.0, **overrides}
        )
        runtime = JobRuntime(tuned, engine, events, handlers)
        made.append(runtime)
        return runtime, events

    yield make
    for runtime in made:
        runtime.shutting_down.set()


# Batch API (tests/jobs/test_batch_*.py) -----------------------------------------------------------


def wait_for_batch(client: Any, batch_id: int, headers: dict[str, str]) -> dict[str, Any]:
    """Poll the batch's status until it has finished; returns that status."""

    def finished() -> dict[str, Any] | None:
        response = client.get(f"/api/batch/status/{batch_id}", headers=headers)
        assert response.status_code == 200, response.text
        status = response.json()
        return status if status["state"] in ("completed", "failed", "cancelled") else None

    return wait_for(finished, f"batch {batch_id}", timeout=120.0)


def run_batch(client: Any, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """Start a batch and wait for it; returns its final status."""
    response = client.post("/api/batch/process", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return wait_for_batch(client, response.json()["batch_id"], headers)


@pytest.fixture
def add_products(engine: Engine) -> Callable[..., list[int]]:
    """Products straight into the catalog (no import, no version), fast enough for thousands:
    `add_products(3, vendor="BIC", price=Decimal("9.99"))` -> their ids, in creation order."""
    counter = iter(range(1, 1_000_000))

    def add(count: int, *, price: Any = "10.00", **fields: Any) -> list[int]:
        made = []
        for _ in range(count):
            number = next(counter)
            values = {
                "handle": f"product-{number}",
                "title": f"Product {number}",
                "vendor": "Acme",
                "product_type": "Pens",
                "tags": ["office"],
                "status": "active",
                "provenance": {},
                "locks": {},
                "version": 0,
                **fields,
            }
            product = Product(**values)
            product.variants = [
                ProductVariant(
                    sku=f"SKU-{number}",
                    price=None if price is None else Decimal(str(price)),
                    inventory={"MAIN": number % 7},
                )
            ]
            made.append(product)
        with session_scope(engine) as session:
            session.add_all(made)
            session.flush()
            return [product.id for product in made]

    return add
