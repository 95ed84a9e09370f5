"""The distributed setup for real: PostgreSQL, Redis, two `cowans worker` processes and an API
process without workers. A worker is SIGKILLed mid-job; the other one finishes its job, and
every item is applied exactly once. The API's WebSocket sees the workers' events via Redis.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import websockets
from sqlalchemy import Engine, func, select

from cowans.config import Settings
from cowans.db import migrate
from cowans.db.models import (
    JobState,
    Product,
    ProductVariant,
    ProductVersion,
    Role,
    User,
    WorkerProcess,
)
from cowans.db.session import create_db_engine, session_scope
from tests.conftest import create_database
from tests.jobs.conftest import job_row, wait_for
from tests.jobs.test_live_events import Served, login, serve

PRODUCTS_PER_BATCH = 2_000
QUEUE_DB = 2  # a Redis database of its own: other tests flush database 0


@pytest.fixture
def cluster_settings(postgres_server: str, redis_url: str, tmp_path: Path) -> Settings:
    url = create_database(postgres_server, "cowans_distributed")
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    queue_url = redis_url.rsplit("/", 1)[0] + f"/{QUEUE_DB}"
    redis.Redis.from_url(queue_url).flushdb()
    return Settings(
        database_url=url,
        queue_url=queue_url,
        data_dir=tmp_path / "api",
        job_workers=0,  # the API process runs no jobs: the worker processes do
        job_heartbeat_seconds=0.3,
        job_stale_after_seconds=3,
    )


@pytest.fixture
def cluster_engine(cluster_settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(cluster_settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def start_worker(
    cluster_settings: Settings, tmp_path: Path
) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DATABASE_URL": cluster_settings.database_url,
            "QUEUE_URL": cluster_settings.queue_url,
            "DATA_DIR": str(tmp_path / name),
            "JOB_HEARTBEAT_SECONDS": "0.3",
            "JOB_STALE_AFTER_SECONDS": "3",
            "LOG_LEVEL": "WARNING",
        }
        cowans = Path(sys.executable).with_name("cowans")
        process = subprocess.Popen(
            [str(cowans), "worker", "-w", "1", "--no-periodic"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"{name}.log").open("wb"),
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def served_cluster(cluster_settings: Settings) -> Iterator[Served]:
    yield from serve(cluster_settings)


def seed(engine: Engine, count: int) -> list[int]:
    with session_scope(engine) as session:
        products = [
            Product(
                handle=f"product-{n}",
                title=f"Product {n}",
                vendor="Acme",
                variants=[ProductVariant(sku=f"SKU-{n}", price=10)],
            )
            for n in range(count)
        ]
        session.add_all(products)
        session.flush()
        return [product.id for product in products]


def live_workers(engine: Engine) -> list[WorkerProcess]:
    with session_scope(engine) as session:
        rows = list(session.scalars(select(WorkerProcess).where(WorkerProcess.state != "stopped")))
        session.expunge_all()
        return rows


def make_cluster_user(engine: Engine) -> Callable[..., User]:
    from cowans.auth import service as auth
    from tests.conftest import PASSWORD

    def make(role: Role = Role.EDITOR) -> User:
        with session_scope(engine) as session:
            return auth.create_user(session, f"{role.value}@cluster.test", PASSWORD, role)

    return make


def test_two_workers_share_the_jobs_and_a_killed_workers_job_finishes_once(
    cluster_engine: Engine,
    served_cluster: Served,
    start_worker: Callable[[str], subprocess.Popen[bytes]],
) -> None:
    ids = seed(cluster_engine, 2 * PRODUCTS_PER_BATCH)
    workers = {process.pid: process for process in (start_worker("one"), start_worker("two"))}
    wait_for(lambda: len(live_workers(cluster_engine)) == 2, "both workers to report")
    token = login(served_cluster, make_cluster_user(cluster_engine))
    headers = {"Authorization": f"Bearer {token}"}

    async def run_and_watch() -> tuple[list[dict[str, Any]], list[int]]:
        async with websockets.connect(f"{served_cluster.ws_url}?token={token}") as socket:
            batches = []
            for half in (ids[:PRODUCTS_PER_BATCH], ids[PRODUCTS_PER_BATCH:]):
                response = await asyncio.to_thread(
                    served_cluster.http.post,
                    "/api/batch/process",
                    json={
                        "operation": "update",
                        "product_ids": half,
                        "updates": {"vendor": "Bolt"},
                    },
                    headers=headers,
                )
                assert response.status_code == 202, response.text
                batches.append(response.json()["batch_id"])
            victim = await asyncio.to_thread(_kill_mid_job, cluster_engine, batches[0], workers)
            events = []
            async with asyncio.timeout(180):
                while not all(_finished(cluster_engine, b) for b in batches):
                    try:
                        async with asyncio.timeout(0.5):
                            events.append(json.loads(await socket.recv()))
                    except TimeoutError:
                        pass
            assert victim in workers
            return events, batches

    events, batches = asyncio.run(run_and_watch())
    jobs = [job_row(cluster_engine, batch) for batch in batches]
    assert [job.state for job in jobs] == [JobState.COMPLETED, JobState.COMPLETED]
    assert [(job.succeeded, job.failed) for job in jobs] == [(PRODUCTS_PER_BATCH, 0)] * 2
    assert jobs[0].attempts == 2  # started by the killed worker, finished by the other
    survivors = {pid for pid, process in workers.items() if process.poll() is None}
    assert len(survivors) == 1
    assert jobs[0].worker is None or jobs[0].worker.endswith(f":{survivors.pop()}")
    with session_scope(cluster_engine) as session:
        vendors = session.execute(select(Product.vendor, func.count()).group_by(Product.vendor))
        assert dict(vendors.all()) == {"Bolt": 2 * PRODUCTS_PER_BATCH}
        versions_per_product = session.execute(
            select(ProductVersion.product_id, func.count())
            .where(ProductVersion.source == "user")
            .group_by(ProductVersion.product_id)
        ).all()
    assert len(versions_per_product) == 2 * PRODUCTS_PER_BATCH
    assert {count for _, count in versions_per_product} == {1}  # no item applied twice
    progress_from_workers = [e for e in events if e["type"] == "job.progress"]
    assert {e["job_id"] for e in progress_from_workers} == set(batches)
    states = [e["job"]["state"] for e in events if e["type"] == "job.state"]
    assert states.count("running") >= 3  # both jobs, and the killed one a second time


def _kill_mid_job(engine: Engine, job_id: int, workers: dict[int, Any]) -> int:
    """SIGKILL the worker running `job_id` once it has finished some items; returns its pid."""

    def under_way() -> Any:
        row = job_row(engine, job_id)
        assert row.state is not JobState.COMPLETED, "the job finished before it could be killed"
        return row.state is JobState.RUNNING and row.processed > 0 and row.worker and row

    job = wait_for(under_way, "the job to be under way")
    pid = int(job.worker.rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)
    workers[pid].wait(timeout=10)
    return pid


def _finished(engine: Engine, job_id: int) -> bool:
    return job_row(engine, job_id).state.value in ("completed", "failed", "cancelled")
