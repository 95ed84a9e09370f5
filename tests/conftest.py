"""Fixtures shared by the whole suite.

Every test that touches the database runs twice, on SQLite and on a real PostgreSQL server that
the suite starts itself (see postgres_server.py). Each test gets an empty, fully migrated
database: a copy of a migrated SQLite file, or the shared PostgreSQL database with its tables
emptied.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

# Set before any cowans import reads the environment: tests never touch ./var or a real key.
os.environ.update(
    {
        "ENVIRONMENT": "test",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-production-rules",
        "DATA_DIR": "/nonexistent-cowans-test-data-dir",
        "WEB_DIST_DIR": "/nonexistent-cowans-test-web-dist",  # tests build their own
    }
)

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from cowans.api.app import create_app
from cowans.auth import service as auth
from cowans.config import Settings, get_settings
from cowans.db import migrate
from cowans.db.base import Base
from cowans.db.models import Role, User
from cowans.db.session import create_db_engine, session_scope
from tests.postgres_server import running_postgres, wait_until_ready
from tests.redis_server import running_redis

BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    external = os.environ.get("TEST_POSTGRESQL_URL")
    if external:
        yield external
        return
    with running_postgres() as url:
        wait_until_ready(url)
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis server of the suite's own (the distributed queue and events)."""
    with running_redis() as url:
        yield url


def create_database(server_url: str, name: str) -> str:
    """A new, empty PostgreSQL database on the suite's server; returns its URL. Each pytest-xdist
    worker names its own, for a server they share (TEST_POSTGRESQL_URL)."""
    name = f"{name}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_db_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, built once; each test works on a copy."""
    template = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{template}")
    migrate.upgrade(engine)
    engine.dispose()
    return template


@pytest.fixture(scope="session")
def postgres_database(postgres_server: str) -> str:
    url = create_database(postgres_server, "cowans_test")
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        copy = tmp_path / "cowans.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), copy)
        return f"sqlite:///{copy}"
    url: str = request.getfixturevalue("postgres_database")
    _empty_all_tables(url)
    return url


def _empty_all_tables(url: str) -> None:
    engine = create_db_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path / "var")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_scope(engine) as session:
        yield session


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def make_user(engine: Engine) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(role: Role = Role.VIEWER, email: str | None = None, password: str = PASSWORD) -> User:
        email = email or f"{role.value}{next(counter)}@example.com"
        with session_scope(engine) as session:
            return auth.create_user(session, email, password, role)

    return make


@pytest.fixture
def login(client: TestClient, make_user: Callable[..., User]) -> Callable[[Role], dict[str, str]]:
    """Create a user with the role and return the headers of a logged-in request."""

    def headers_for(role: Role) -> dict[str, str]:
        user = make_user(role)
        response = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return headers_for


@pytest.fixture(autouse=True)
def _fresh_global_settings() -> Iterator[None]:
    """Tests that change the environment must not leak settings into the next test."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
