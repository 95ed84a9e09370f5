"""Running one import from its row: fetch or open the source, then read, match and write.

The job runtime calls this for the API's imports and the schedules; the CLI runs the same job
in its own process. A source that cannot be read fails the import here; anything else
(including a stop raised by the caller's checkpoint) propagates to the caller, which ends the
import with `end_import`.
"""

import asyncio
import functools
import hashlib
import logging
from pathlib import Path

from sqlalchemy import Engine, select

from cowans.config import Settings
from cowans.db.base import utcnow
from cowans.db.models import Import
from cowans.db.session import session_scope
from cowans.sources.etilize_fetch import download_feed, open_feed_file
from cowans.sources.imports import ImportHooks, ImportRun, run_etilize_import, run_xorosoft_import
from cowans.sources.records import RowError, SourceError, XorosoftItem
from cowans.sources.xorosoft import XorosoftClient, read_xorosoft_csv

logger = logging.getLogger(__name__)

FINISHED = ("completed", "failed", "cancelled")


def run(
    engine: Engine,
    settings: Settings,
    import_id: int,
    kind: str,
    path: Path | None,
    hooks: ImportHooks | None = None,
) -> None:
    """Run one import to its end; a source that cannot be read ends as a failed import."""
    try:
        if kind == "etilize":
            _run_etilize(engine, settings, import_id, path, hooks)
        else:
            _run_xorosoft(engine, settings, import_id, path, hooks)
    except SourceError as exc:
        ImportRun(engine, import_id).fail(exc.message)


def end_import(engine: Engine, import_id: int, state: str, error: str | None = None) -> None:
    """Record how an import stopped when it did not finish by itself; nothing it read was
    written (the catalog changes commit only at its end)."""
    run = ImportRun(engine, import_id)
    if state == "failed":
        run.fail(error or "The import failed.")
    elif state == "queued":
        run.update(state="queued")
    else:
        run.update(state=state, error=error, finished_at=utcnow())


def import_state(engine: Engine, import_id: int) -> Import:
    with session_scope(engine) as session:
        record = session.get(Import, import_id)
        if record is None:
            raise LookupError(f"import {import_id} does not exist")
        session.expunge(record)
        return record


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _already_imported(engine: Engine, import_id: int, content_hash: str) -> int | None:
    with session_scope(engine) as session:
        return session.scalar(
            select(Import.id).where(
                Import.kind == "etilize",
                Import.state == "completed",
                Import.content_hash == content_hash,
                Import.id != import_id,
            )
        )


def _run_etilize(
    engine: Engine, settings: Settings, import_id: int, path: Path | None, hooks: ImportHooks | None
) -> None:
    run = ImportRun(engine, import_id, hooks)
    if path is None:
        run.update(state="running")
        path, content_hash = download_feed(settings)
        previous = _already_imported(engine, import_id, content_hash)
        if previous is not None:
            run.update(
                state="completed",
                content_hash=content_hash,
                report={"skipped": f"the same file as import {previous}"},
            )
            return
        run.update(content_hash=content_hash, filename=path.name)
    else:  # an upload keeps the name it was sent with, not the name it is stored under
        run.update(content_hash=file_hash(path))
    # The import reads the feed twice, opening it each time.
    run_etilize_import(engine, import_id, functools.partial(open_feed_file, path), hooks)


def _run_xorosoft(
    engine: Engine, settings: Settings, import_id: int, path: Path | None, hooks: ImportHooks | None
) -> None:
    if path is not None:
        with path.open("rb") as stream:
            run_xorosoft_import(engine, import_id, read_xorosoft_csv(stream), hooks)
        return
    records = asyncio.run(_fetch_all(settings))
    run_xorosoft_import(engine, import_id, records, hooks)


async def _fetch_all(settings: Settings) -> list[XorosoftItem | RowError]:
    """The whole item list (tens of thousands of small records) before anything is written:
    a transfer that fails halfway must not leave half a stock refresh."""
    async with XorosoftClient.from_settings(settings) as client:
        return [item async for item in client.iter_items()]
