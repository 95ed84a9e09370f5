"""Starting an import from the API or the command line.

Until the job runtime lands, the API runs an import in a background thread of its own process;
the CLI runs it in the foreground. Either way the import row carries its state and report.
"""

import asyncio
import hashlib
import logging
import threading
from pathlib import Path

from sqlalchemy import Engine, select

from cowans.config import Settings
from cowans.db.models import Import
from cowans.db.session import session_scope
from cowans.sources.etilize_fetch import download_feed, open_feed_file
from cowans.sources.imports import ImportRun, run_etilize_import, run_xorosoft_import
from cowans.sources.records import RowError, SourceError, XorosoftItem
from cowans.sources.xorosoft import XorosoftClient, read_xorosoft_csv

logger = logging.getLogger(__name__)


def start(
    engine: Engine, settings: Settings, import_id: int, kind: str, path: Path | None
) -> threading.Thread:
    thread = threading.Thread(
        target=run,
        args=(engine, settings, import_id, kind, path),
        name=f"import-{import_id}",
        daemon=True,
    )
    thread.start()
    return thread


def run(engine: Engine, settings: Settings, import_id: int, kind: str, path: Path | None) -> None:
    """Run one import to its end; any failure ends up in the import row, never unhandled."""
    try:
        if kind == "etilize":
            _run_etilize(engine, settings, import_id, path)
        else:
            _run_xorosoft(engine, settings, import_id, path)
    except SourceError as exc:
        ImportRun(engine, import_id).fail(exc.message)
    except Exception:
        logger.exception("import %s crashed", import_id)
        ImportRun(engine, import_id).fail("The import failed unexpectedly; see the server log.")


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


def _run_etilize(engine: Engine, settings: Settings, import_id: int, path: Path | None) -> None:
    run = ImportRun(engine, import_id)
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
    else:
        content_hash = file_hash(path)
    run.update(content_hash=content_hash, filename=path.name)
    with open_feed_file(path) as stream:
        run_etilize_import(engine, import_id, stream)


def _run_xorosoft(engine: Engine, settings: Settings, import_id: int, path: Path | None) -> None:
    if path is not None:
        with path.open("rb") as stream:
            run_xorosoft_import(engine, import_id, read_xorosoft_csv(stream))
        return
    records = asyncio.run(_fetch_all(settings))
    run_xorosoft_import(engine, import_id, records)


async def _fetch_all(settings: Settings) -> list[XorosoftItem | RowError]:
    """The whole item list (tens of thousands of small records) before anything is written:
    a transfer that fails halfway must not leave half a stock refresh."""
    async with XorosoftClient.from_settings(settings) as client:
        return [item async for item in client.iter_items()]
