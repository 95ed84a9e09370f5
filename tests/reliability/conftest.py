"""Fixtures of the reliability suite: the emulator, runtimes, and a PostgreSQL of its own."""

from collections.abc import Iterator

import pytest

from tests.emulator.conftest import emulator, make_emulator  # noqa: F401 - fixtures
from tests.jobs.conftest import make_runtime  # noqa: F401 - fixture
from tests.reliability.restartable_postgres import RestartablePostgres


@pytest.fixture
def own_postgres() -> Iterator[RestartablePostgres]:
    server = RestartablePostgres()
    try:
        yield server
    finally:
        server.remove()
