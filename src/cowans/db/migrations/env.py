"""Alembic environment: runs against the engine handed over by `cowans.db.migrate`."""

from alembic import context

from cowans.db.base import Base
from cowans.db.migrate import include_name
from cowans.db.models import __all__ as _registered_models  # noqa: F401 - registers every table

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that
        compare_type=True,
        include_name=include_name,  # the search index is not the models' business
    )
    context.run_migrations()
