"""The chaos run's short form (issue #10): bench/chaos.py's `run` at a small size.

A few hundred changes pushed by `cowans worker` processes that are SIGKILLed mid-push, against
the emulator as a process injecting every fault kind. `make chaos` is the long form; this one
runs in the suite, on its PostgreSQL server and Redis, with fault rates about twice the issue's
so each kind is met at this size (the counters prove it).
"""

import sys
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import create_database

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import chaos  # noqa: E402 - bench/ is a folder of scripts, not a package

SHORT = chaos.ChaosConfig(
    products=60,
    updates=40,
    round_size=40,
    workers=2,
    seed=4,
    kill_gap=(3.0, 6.0),
    max_kills=2,
    http_5xx=0.08,
    hang=0.06,
    ise_after_apply=0.05,
    throttle=0.05,
    hang_seconds=1.5,
    client_timeout_seconds=1.0,
    batch_size=2,
    stale_after_seconds=3.0,
    job_timeout_seconds=600.0,
)


@pytest.mark.timeout(300)  # a guard against a hang on a busy machine, not a time bound
def test_a_push_under_faults_and_kills_ends_with_the_store_equal_to_the_catalog(
    postgres_server: str, redis_url: str
) -> None:
    database = create_database(postgres_server, "cowans_chaos")
    queue = redis_url.rsplit("/", 1)[0] + "/3"  # a database of its own: others flush 0
    redis.Redis.from_url(queue).flushdb()
    report = chaos.run(SHORT, database_url=database, queue_url=queue)
    print(report.markdown())  # noqa: T201 - the figures, when run with -s
    assert report.problems == [], report.markdown()
    assert report.kills == 2, report.markdown()
    assert all(report.faults[kind] >= 1 for kind in chaos.FAULT_KINDS), report.faults
    phases: list[Any] = report.phases
    assert [(p.name, p.state) for p in phases] == [
        ("create", "completed"),
        ("update 1", "completed"),
    ]
    assert sum(p.attempts for p in phases) >= 2 + 1, "a kill took a running job back"
