"""Engines and sessions. One engine per database URL per process."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def _normalize_url(url: str) -> str:
    """Accept the `postgresql://` form people copy from elsewhere; we drive it with psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# Execution option naming how a SQLite transaction begins: "IMMEDIATE" (the default) or
# "DEFERRED" for units that only read.
SQLITE_BEGIN = "sqlite_begin"


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the API read while a worker writes; foreign keys are off by default in SQLite.
    The driver's own BEGIN is switched off: `_begin_sqlite` issues it."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    """Writers take SQLite's write lock when they begin. A deferred transaction that has read
    and then writes after another connection committed fails at once (SQLITE_BUSY_SNAPSHOT:
    the busy timeout does not apply), so two jobs writing at once would fail at random; taking
    the lock first makes the second wait its turn instead."""
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


# Connections each process keeps open, and as many again it may open in a burst. The API lets
# at most POOL_SIZE requests hold a session at once (cowans.api.deps), so a request never
# waits for a connection that only another request, waiting for a thread, could give back.
POOL_SIZE = 20


def create_db_engine(url: str) -> Engine:
    url = _normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            pool_size=POOL_SIZE,
            max_overflow=POOL_SIZE,
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_SIZE)


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    return create_db_engine(url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def read_only(session: Session) -> Session:
    """Begin the session's transaction without SQLite's write lock, so it reads while a long
    write (an import) runs. The unit must not write: on SQLite a late write could fail."""
    session.connection(execution_options={SQLITE_BEGIN: "DEFERRED"})
    return session


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A unit that only reads (see `read_only`): it never waits for a writer."""
    with session_factory(engine)() as session:
        yield read_only(session)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    with session_factory(engine)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
