"""Optional persistence: each shop's data in one SQLite file, so an emulator survives restarts.

The trade-off chosen: every shop's whole `ShopData` is pickled into one row of one table.
- For: exact and maintenance-free. Every object, index, pending operation, webhook subscription
  and the id counter come back as they were, including fields other modules add later, with no
  schema to keep in step with the data model.
- Against: a save costs time in proportion to the shop (a 25,000-product shop pickles in about a
  second), and it runs on the event loop so that the snapshot is consistent, so requests wait
  meanwhile. Saves therefore happen only when a shop changed, at most every `interval` seconds
  (and never taking more than a tenth of the time), and once at shutdown; a crash loses the
  changes since the last save. Only the file write runs in a thread.
- Against: the file is tied to the dataclasses' shape (after a renamed field, delete the file)
  and, being pickle, must never come from anyone you do not trust: loading it runs code.
Plan, faults, tokens and counters are not saved: they come from the command line or side door.
"""

import asyncio
import contextlib
import copyreg
import io
import itertools
import logging
import pickle
import sqlite3
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopify_emulator.gc_pause import gc_paused
from shopify_emulator.shops import Shop, ShopRegistry
from shopify_emulator.state import ShopData

log = logging.getLogger(__name__)

SAVE_SHARE = 10  # wait at least ten times as long as the last snapshot took
FORMAT = 1  # bump when ShopData changes incompatibly: older rows are then ignored
SCHEMA = """
CREATE TABLE IF NOT EXISTS shops (
    name TEXT PRIMARY KEY,
    format INTEGER NOT NULL,
    saved_at TEXT NOT NULL,
    data BLOB NOT NULL
)
"""


def _reduce_count(counter: itertools.count) -> tuple[Any, tuple[int]]:
    """itertools.count by its next value: Python 3.14 no longer pickles it by itself."""
    return itertools.count, (int(repr(counter)[len("count(") :].split(",")[0].rstrip(")")),)


# A dispatch table, not reducer_override: a Python hook called for every object would double
# the time of a save.
_DISPATCH = {**copyreg.dispatch_table, itertools.count: _reduce_count}


def dumps(data: ShopData) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    with gc_paused():
        pickler.dump(data)
    return buffer.getvalue()


def loads(blob: bytes) -> ShopData:
    with gc_paused():
        data = pickle.loads(blob)  # noqa: S301  (our own file: see the module docstring)
    if not isinstance(data, ShopData):
        raise TypeError(f"expected ShopData, found {type(data).__name__}")
    return data


class StateFile:
    """The SQLite file: one row per shop."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path)
        connection.execute(SCHEMA)
        return connection

    def shop_names(self) -> set[str]:
        """Shops the file can restore (none when it does not exist yet)."""
        if not self.path.exists():
            return set()
        with contextlib.closing(self._connect()) as connection:
            rows = connection.execute("SELECT name FROM shops WHERE format = ?", (FORMAT,))
            return {name for (name,) in rows}

    def load_into(self, registry: ShopRegistry) -> list[str]:
        """Replace the data of every registered shop the file holds; returns their names."""
        if not self.path.exists():
            return []
        with contextlib.closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT name, data FROM shops WHERE format = ?", (FORMAT,)
            ).fetchall()
        restored = []
        for name, blob in rows:
            shop = registry.by_name(name)
            if shop is None:
                log.info("state file holds shop %r, which is not served: left alone", name)
                continue
            shop.data = loads(blob)
            restored.append(name)
        return restored

    def write(self, rows: Iterable[tuple[str, bytes]]) -> None:
        saved_at = datetime.now(UTC).isoformat()
        with contextlib.closing(self._connect()) as connection, connection:
            connection.executemany(
                "INSERT OR REPLACE INTO shops (name, format, saved_at, data) VALUES (?, ?, ?, ?)",
                [(name, FORMAT, saved_at, blob) for name, blob in rows],
            )


def fingerprint(shop: Shop) -> tuple[int, int]:
    """Moves whenever the shop's data may have changed: an event was emitted, the side door
    changed it, or a mutation ran (the executor counts them as `mutation:<name>`)."""
    mutations = sum(n for key, n in shop.counters.items() if key.startswith("mutation:"))
    return shop.revision, mutations


class AutoSaver:
    """Saves changed shops every `interval` seconds while the server runs, and at stop."""

    def __init__(self, state: StateFile, registry: ShopRegistry, interval: float) -> None:
        self.state = state
        self.registry = registry
        self.interval = interval
        self._saved: dict[str, tuple[int, int]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        restored = self.state.load_into(self.registry)
        if restored:
            log.info("restored %s from %s", ", ".join(restored), self.state.path)
        # Shops the file did not hold (new or seeded) are saved at the first pass.
        self._saved = {name: fingerprint(self.registry.shops[name]) for name in restored}
        self._task = asyncio.get_running_loop().create_task(self._run(), name="state-autosave")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.state.write(self._snapshot_changed())

    async def _run(self) -> None:
        pause = self.interval
        while True:
            await asyncio.sleep(pause)
            started = time.monotonic()
            rows = self._snapshot_changed()
            # A big shop stalls requests while it pickles: keep that under a tenth of the time.
            pause = max(self.interval, SAVE_SHARE * (time.monotonic() - started))
            if not rows:
                continue
            try:
                await asyncio.to_thread(self.state.write, rows)
            except (sqlite3.Error, OSError):
                log.exception("could not write %s; will try again", self.state.path)
                for name, _blob in rows:
                    self._saved.pop(name, None)

    def _snapshot_changed(self) -> list[tuple[str, bytes]]:
        """Pickle, on the loop, every shop changed since its last save."""
        rows = []
        for shop in self.registry.shops.values():
            mark = fingerprint(shop)
            if self._saved.get(shop.name) == mark:
                continue
            try:
                rows.append((shop.name, dumps(shop.data)))
            except (pickle.PicklingError, TypeError, AttributeError):
                log.exception("shop %s could not be saved; its last saved state stays", shop.name)
                continue
            self._saved[shop.name] = mark
        return rows
