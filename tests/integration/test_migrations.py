"""The migration history is linear, runs both ways on both databases, and matches the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from cowans.db import migrate
from cowans.db.base import Base
from cowans.db.session import create_db_engine
from tests.conftest import create_database


def _fresh_url(backend: str, request: pytest.FixtureRequest, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{request.getfixturevalue('tmp_path') / name}.db"
    return create_database(request.getfixturevalue("postgres_server"), name)


def test_history_is_linear() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(scripts.get_heads()) == 1, "several heads: merge or renumber the migrations"
    revisions = list(scripts.walk_revisions())
    for revision in revisions:
        assert not revision.is_merge_point, f"{revision.revision} is a merge point"
        assert not revision.is_branch_point, f"{revision.revision} branches the history"
    assert revisions[-1].down_revision is None


def test_upgrade_downgrade_upgrade(backend: str, request: pytest.FixtureRequest) -> None:
    engine = create_db_engine(_fresh_url(backend, request, "migrate_roundtrip"))
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    expected_tables = set(Base.metadata.tables)
    assert expected_tables <= set(inspect(engine).get_table_names())

    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_models_match_migrations(backend: str, request: pytest.FixtureRequest) -> None:
    """A model change without its migration fails here, on either database."""
    engine = create_db_engine(_fresh_url(backend, request, "migrate_compare"))
    migrate.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": migrate.include_name}
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrading_a_database_that_has_products(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """New NOT NULL columns must not break an existing catalog."""
    engine = create_db_engine(_fresh_url(backend, request, "migrate_with_data"))
    migrate.upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO products (handle, title, body_html, vendor, product_type, tags,"
                " status, published, seo_title, seo_description, content_hash, created_at,"
                " updated_at)"
                " VALUES ('pen', 'Pen', '', '', '', '[]', 'active', true, '', '', '',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    migrate.upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT handle, version, match_method FROM products")).one()
    engine.dispose()
    assert tuple(row) == ("pen", 0, "")
