"""Alembic, driven from code: `cowans db upgrade`, `cowans serve` and the tests all come here."""

from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# What migration 0008 builds beside the models for the product search: a narrow copy of the
# searched fields kept by triggers (SQLite: an FTS5 table and the shadow tables FTS5 names
# after it; PostgreSQL: a table with trigram indexes, which exist only where pg_trgm does).
SEARCH_TABLE = "product_search"


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Leave the search index out of comparisons with the models (`alembic check`, the tests):
    the models cannot declare a virtual table, nor what exists only where pg_trgm is."""
    if type_ == "table" and name is not None:
        return name != SEARCH_TABLE and not name.startswith(f"{SEARCH_TABLE}_")
    return True


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None for a database no migration has touched."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
