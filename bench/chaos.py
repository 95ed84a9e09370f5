"""The chaos run (issue #10): a push of thousands of changes while everything goes wrong.

The store is the Shopify emulator as a process, answering 5% of requests with an edge 5xx,
hanging 2% past the client's timeout (and applying them anyway when the hang ends), failing 2%
of mutations with INTERNAL_SERVER_ERROR after applying them, and throttling 2% whatever its
bucket holds. The pushes run on `cowans worker` processes (PostgreSQL and a Redis queue), and a
killer SIGKILLs the worker holding the job at random (seeded) moments and starts a new one.

Pushes: every product created (in bulk, at the long form's size), then deltas of updates
(titles, descriptions, prices, stock, tags, metafields) in pushes small enough to go out as
direct requests. At the end, what must hold (DESIGN.md's invariants 2 and 3):
- the store equals the catalog field by field, for every product;
- no duplicate products, handles or SKUs;
- each job's counters add up (total = applied + failed + conflicts + not run), nothing failed,
  nothing approved left behind.
The report says which faults were survived (the emulator's counters), how many kills, job
attempts and client retries, and the wall time; `--report` writes it into RELIABILITY.md.

    python bench/chaos.py                       # the long form (make chaos)
    python bench/chaos.py --products 200 --updates 120 --kill-gap 5 10 --no-report

tests/reliability/test_chaos.py runs the short form through `run`.
"""

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import EmulatorProcess, write
from sqlalchemy import Engine, select
from system import COWANS, ROOT  # system.py puts the repository root on sys.path
from tests.sync.test_push_job import stage_and_approve, start_push

from cowans.config import Settings, get_settings
from cowans.db import migrate
from cowans.db.models import (
    JobState,
    Product,
    ProductMetafield,
    ProductVariant,
    StagedChangeStatus,
    Store,
    SyncJob,
    SyncStaging,
)
from cowans.db.session import create_db_engine, session_scope
from cowans.jobs.handlers import HANDLERS
from cowans.jobs.runtime import JobRuntime
from cowans.jobs.store import FINISHED
from cowans.sync.snapshots import desired_snapshot, to_json

LOCATIONS = {"MAIN": "Main Warehouse", "WEST": "Store Front"}
VENDORS = ("Acme", "Avery", "Bic")
TYPES = ("Binders", "Pens", "Paper", "Folders")
MATERIALS = ("card", "polypropylene", "recycled board")
REPORT_BEGIN = "<!-- chaos-report:begin -->"
REPORT_END = "<!-- chaos-report:end -->"
FAULT_KINDS = ("http_5xx", "hang", "ise_after_apply", "throttle")


@dataclass(frozen=True)
class ChaosConfig:
    products: int = 5_000
    updates: int = 2_000
    # Updates go out in pushes of this many: a delta small enough to be sent as direct requests
    # (each meeting the fault dice), where a larger one would go as one bulk mutation.
    round_size: int = 80
    workers: int = 2  # `cowans worker` processes, one job thread each
    seed: int = 10
    # Seconds between kills, drawn uniformly: long enough for a new worker to take the job
    # back and get on with it (JOB_STALE_AFTER_SECONDS plus start-up), short enough to land
    # many times in a push.
    kill_gap: tuple[float, float] = (30.0, 60.0)
    max_kills: int | None = None  # the short form stops killing once it has proved the point
    http_5xx: float = 0.05
    hang: float = 0.02
    ise_after_apply: float = 0.02
    throttle: float = 0.02
    # A hung request outlasts the client's timeout, and lands while the retry is on its way.
    # The timeout leaves room for a busy emulator: polling a bulk export of thousands of
    # products once timed out ten times in a row at 2 s on a loaded machine (not a fault).
    hang_seconds: float = 9.0
    client_timeout_seconds: float = 8.0
    batch_size: int = 10  # products per request: small, so thousands of requests meet the dice
    stale_after_seconds: float = 4.0
    job_timeout_seconds: float = 3_600.0


@dataclass
class PhaseReport:
    name: str
    changes: int
    state: str = ""
    attempts: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)  # the final attempt's client retries
    seconds: float = 0.0
    error: str = ""


@dataclass
class ChaosReport:
    config: ChaosConfig
    phases: list[PhaseReport] = field(default_factory=list)
    kills: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    throttled: int = 0  # every THROTTLED answer: forced ones and the bucket's own
    requests: int = 0
    mutations: int = 0
    idempotent_replays: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    logs: str = ""  # the folder of the workers' logs, kept when a check failed

    @property
    def ok(self) -> bool:
        return not self.problems

    def markdown(self) -> str:
        config = self.config
        lines = [
            f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {config.products} "
            f"products created, then {config.updates} updated; {config.workers} worker "
            f"processes; seed {config.seed}; batch size {config.batch_size}.",
            "",
            "| Fault survived | Count |",
            "|---|---:|",
            f"| Edge 5xx answers | {self.faults.get('http_5xx', 0)} |",
            f"| Hung requests (applied after the client gave up) | {self.faults.get('hang', 0)} |",
            f"| INTERNAL_SERVER_ERROR after apply | {self.faults.get('ise_after_apply', 0)} |",
            f"| Forced THROTTLED answers | {self.faults.get('throttle', 0)} |",
            f"| THROTTLED answers in all | {self.throttled} |",
            f"| Worker SIGKILLs | {self.kills} |",
            "",
            "| Push | Changes | State | Attempts | Applied | Failed | Conflicts | Not run "
            "| Client retries (last attempt) | Seconds |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [_row(name, phases) for name, phases in self._grouped().items()]
        lines += [
            "",
            f"Requests to the store: {self.requests}; mutations executed: {self.mutations} "
            f"(of which idempotent replays answered from their key: {self.idempotent_replays}). "
            f"Wall time: {self.seconds:.0f} s.",
            "",
            "Checks: " + ("all held." if self.ok else "FAILED: " + "; ".join(self.problems)),
        ]
        if self.logs:
            lines.append(f"Workers' logs: {self.logs}")
        return "\n".join(lines)

    def _grouped(self) -> dict[str, list[PhaseReport]]:
        """The create push on its own, the update rounds together."""
        updates = [phase for phase in self.phases if phase.name != "create"]
        grouped = {"create": [phase for phase in self.phases if phase.name == "create"]}
        if updates:
            grouped[f"updates ({len(updates)} pushes)"] = updates
        return grouped


def _row(name: str, phases: list[PhaseReport]) -> str:
    def total(key: str) -> int:
        return sum(int(phase.result.get(key) or 0) for phase in phases)

    states = Counter(phase.state for phase in phases)
    state = ", ".join(f"{count} {state}" for state, count in states.items())
    changes = sum(phase.changes for phase in phases)
    attempts = sum(phase.attempts for phase in phases)
    retries = sum(sum(phase.retries.values()) for phase in phases)
    seconds = sum(phase.seconds for phase in phases)
    return (
        f"| {name} | {changes} | {state} | {attempts} | {total('applied')} | {total('failed')} "
        f"| {total('conflicts')} | {total('not_run')} | {retries} | {seconds:.1f} |"
    )


# The system under test ------------------------------------------------------------------------


class NoEvents:
    """The submitting side publishes job states to nobody: the workers publish their own."""

    def publish(self, _event: dict[str, Any]) -> None:
        return None


class WorkerPool:
    """`cowans worker` processes in fixed slots; a killed one is replaced in its slot."""

    def __init__(self, env: dict[str, str], size: int, folder: Path) -> None:
        self.env, self.folder = env, folder
        self.started = 0
        self.processes = [self._start() for _ in range(size)]
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.folder / f"worker-{self.started}.log").open("wb")
        return subprocess.Popen(
            [str(COWANS), "worker", "-w", "1", "--no-periodic"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip

    def kill(self, pid: int) -> bool:
        """SIGKILL the worker with `pid` and start a new one in its slot; False when no
        worker of the pool has that pid (any more)."""
        with self._lock:
            slots = [i for i, p in enumerate(self.processes) if p.pid == pid]
            if not slots:
                return False
            victim = self.processes[slots[0]]
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=30)
            self.processes[slots[0]] = self._start()
            return True

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()


class Killer(threading.Thread):
    """SIGKILLs the worker that holds the current job at seeded random moments."""

    def __init__(self, pool: WorkerPool, engine: Engine, config: ChaosConfig) -> None:
        super().__init__(name="chaos-killer", daemon=True)
        self.pool, self.engine, self.config = pool, engine, config
        self.rng = random.Random(config.seed)
        self.job_id: int | None = None
        self.kills = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.rng.uniform(*self.config.kill_gap)):
            if self.config.max_kills is not None and self.kills >= self.config.max_kills:
                return
            pid = self._holder_pid()
            while pid is None and not self.stopped.wait(0.2):
                pid = self._holder_pid()  # between pushes, or the job waits to be taken back
            if pid is not None and self.pool.kill(pid):
                self.kills += 1

    def _holder_pid(self) -> int | None:
        """The pid of the worker running the current job, if one is."""
        job_id = self.job_id
        if job_id is None:
            return None
        with session_scope(self.engine) as session:
            worker = session.scalar(
                select(SyncJob.worker).where(
                    SyncJob.id == job_id, SyncJob.state == JobState.RUNNING
                )
            )
        return int(worker.rsplit(":", 1)[1]) if worker else None


# The catalog and what the store must show -----------------------------------------------------


def add_catalog(engine: Engine, count: int) -> None:
    """`count` products: every fifth with two sizes, every third with a metafield, stock at
    both locations, four product types (and so four collections)."""
    with session_scope(engine) as session:
        for n in range(count):
            sizes = ("Small", "Large") if n % 5 == 0 else ("Default Title",)
            session.add(
                Product(
                    handle=f"chaos-{n}",
                    title=f"Chaos Binder {n}",
                    body_html=f"<p>Binder {n}, {n % 3 + 1} rings.</p>",
                    vendor=VENDORS[n % len(VENDORS)],
                    product_type=TYPES[n % len(TYPES)],
                    tags=["office", f"shelf-{n % 7}"],
                    metafields=[
                        ProductMetafield(
                            namespace="custom",
                            key="material",
                            type="single_line_text_field",
                            value=MATERIALS[n % len(MATERIALS)],
                        )
                    ]
                    if n % 3 == 0
                    else [],
                    variants=[
                        ProductVariant(
                            sku=f"CHS-{n}-{size[0]}",
                            price=Decimal(f"{3 + n % 90}.{size_number}9"),
                            option1_name="Size" if len(sizes) > 1 else "Title",
                            option1_value=size,
                            position=size_number + 1,
                            inventory={"MAIN": (n * 7 + size_number) % 13, "WEST": n % 4},
                        )
                        for size_number, size in enumerate(sizes)
                    ],
                )
            )


def change_catalog(engine: Engine, count: int, rng: random.Random) -> None:
    """Update `count` products picked at random; each gets one to three kinds of change."""
    with session_scope(engine) as session:
        products = list(session.scalars(select(Product).order_by(Product.id)))
        for product in rng.sample(products, min(count, len(products))):
            kinds = rng.sample(("title", "price", "stock", "tags", "body", "metafield"), 3)
            for kind in kinds[: rng.randint(1, 3)]:
                _change(product, kind, rng)


def _change(product: Product, kind: str, rng: random.Random) -> None:
    if kind == "title":
        product.title = f"{product.title} (2027)"
    elif kind == "body":
        product.body_html = f"{product.body_html}<p>Now with a pocket.</p>"
    elif kind == "tags":
        product.tags = sorted({*product.tags, "sale"})
    elif kind == "metafield" and product.metafields:
        product.metafields[0].value = "steel"
    elif kind == "metafield":
        product.metafields.append(
            ProductMetafield(
                namespace="custom", key="material", type="single_line_text_field", value="steel"
            )
        )
    for variant in product.variants:
        if kind == "price":
            variant.price = Decimal(variant.price or 0) + Decimal("1.25")
        elif kind == "stock":
            variant.inventory = {**variant.inventory, "MAIN": rng.randint(0, 99)}


def _money(value: Any) -> str | None:
    return None if value is None else f"{Decimal(str(value)):.2f}"


def expected_store(engine: Engine) -> dict[str, dict[str, Any]]:
    """handle -> what the store must show, from the catalog's own desired snapshots."""
    expected = {}
    with session_scope(engine) as session:
        for product in session.scalars(select(Product)):
            snapshot = to_json(desired_snapshot(product, LOCATIONS))
            expected[product.handle] = {
                "title": snapshot["title"],
                "body_html": snapshot["body_html"],
                "vendor": snapshot["vendor"],
                "product_type": snapshot["product_type"],
                "tags": sorted(snapshot["tags"]),
                "metafields": sorted(
                    (m["namespace"], m["key"], m["type"], m["value"])
                    for m in snapshot["metafields"]
                ),
                "collections": sorted(snapshot["collections"]),
                "variants": {
                    v["sku"]: {
                        "price": _money(v["price"]),
                        "barcode": v["barcode"] or None,
                        "stock": dict(sorted(v["inventory"].items())),
                    }
                    for v in snapshot["variants"]
                },
            }
    return expected


def store_products(emulator: EmulatorProcess) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The emulator's products as its side door dumps them, and collection handle -> title."""
    response = emulator.http.get(f"{emulator.root}/_emulator/demo/state")
    response.raise_for_status()
    state = response.json()
    titles = {collection["handle"]: collection["title"] for collection in state["collections"]}
    return state["products"], titles


def actual_store(products: list[dict[str, Any]], titles: dict[str, str]) -> dict[str, Any]:
    return {
        product["handle"]: {
            "title": product["title"],
            "body_html": product["descriptionHtml"],
            "vendor": product["vendor"],
            "product_type": product["productType"],
            "tags": sorted(product["tags"]),
            "metafields": sorted(
                (m["namespace"], m["key"], m["type"], m["value"]) for m in product["metafields"]
            ),
            "collections": sorted(titles.get(handle, handle) for handle in product["collections"]),
            "variants": {
                variant["sku"]: {
                    "price": _money(variant["price"]),
                    "barcode": variant["barcode"] or None,
                    "stock": dict(
                        sorted(
                            (location, levels["available"])
                            for location, levels in variant["inventory"].items()
                        )
                    ),
                }
                for variant in product["variants"]
            },
        }
        for product in products
    }


def compare_store(engine: Engine, emulator: EmulatorProcess) -> list[str]:
    """What differs between the store and the catalog, at most a few of each kind."""
    products, titles = store_products(emulator)
    problems = []
    handles = Counter(product["handle"] for product in products)
    skus = Counter(v["sku"] for product in products for v in product["variants"])
    duplicated = [handle for handle, count in handles.items() if count > 1]
    if duplicated:
        problems.append(f"{len(duplicated)} duplicated handles, e.g. {duplicated[:3]}")
    twice = [sku for sku, count in skus.items() if count > 1]
    if twice:
        problems.append(f"{len(twice)} duplicated SKUs, e.g. {twice[:3]}")
    expected, actual = expected_store(engine), actual_store(products, titles)
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing:
        problems.append(f"{len(missing)} products missing from the store, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} products the catalog does not have, e.g. {extra[:3]}")
    differing = [
        (handle, name, expected[handle][name], actual[handle][name])
        for handle in sorted(set(expected) & set(actual))
        for name in expected[handle]
        if expected[handle][name] != actual[handle][name]
    ]
    if differing:
        problems.append(f"{len(differing)} fields differ, e.g. {differing[:3]}")
    return problems


# The run ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _servers(database_url: str | None, queue_url: str | None) -> Iterator[tuple[str, str]]:
    """The given database and queue, or a PostgreSQL and a Redis of the run's own."""
    from tests.postgres_server import running_postgres, wait_until_ready
    from tests.redis_server import running_redis

    with contextlib.ExitStack() as stack:
        if database_url is None:
            database_url = stack.enter_context(running_postgres())
            wait_until_ready(database_url)
        if queue_url is None:
            queue_url = stack.enter_context(running_redis())
        yield database_url, queue_url


def _worker_env(
    config: ChaosConfig, database_url: str, queue_url: str, folder: Path
) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "QUEUE_URL": queue_url,
        "DATA_DIR": str(folder / "var"),
        "JOB_HEARTBEAT_SECONDS": "0.5",
        "JOB_STALE_AFTER_SECONDS": str(config.stale_after_seconds),
        "JOB_MAX_ATTEMPTS": "100",  # every kill costs the job an attempt
        "SHOPIFY_TIMEOUT_SECONDS": str(config.client_timeout_seconds),
        "SHOPIFY_MAX_ATTEMPTS": "10",
        "SHOPIFY_BACKOFF_BASE_SECONDS": "0.1",
        "SHOPIFY_BACKOFF_MAX_SECONDS": "1.0",
        "GRAPHQL_BATCH_SIZE": str(config.batch_size),
        "SCHEDULES": "false",
        "LOG_LEVEL": "WARNING",
    }


def _push(
    runtime: JobRuntime, engine: Engine, store_id: int, killer: Killer, phase: PhaseReport
) -> None:
    started = time.monotonic()
    job_id = start_push(runtime, engine, store_id)
    killer.job_id = job_id
    deadline = time.monotonic() + killer.config.job_timeout_seconds
    while True:
        with session_scope(engine) as session:
            row = session.get(SyncJob, job_id)
            assert row is not None
            if row.state in FINISHED:
                break
        if time.monotonic() > deadline:
            raise TimeoutError(f"push {job_id} did not finish")
        time.sleep(0.25)
    killer.job_id = None
    phase.state, phase.attempts, phase.result = row.state.value, row.attempts, row.result or {}
    phase.error = row.error or ""
    phase.retries = dict((row.metrics or {}).get("retries", {}))
    phase.seconds = time.monotonic() - started


def _check_phase(engine: Engine, phase: PhaseReport) -> list[str]:
    result, problems = phase.result, []
    if phase.state != JobState.COMPLETED.value:
        problems.append(f"{phase.name}: ended {phase.state}: {phase.error} {result.get('errors')}")
    parts = [result.get(key, 0) for key in ("applied", "failed", "conflicts", "not_run")]
    if result.get("total") != sum(parts) or result.get("total") != phase.changes:
        problems.append(f"{phase.name}: counters do not add up: {result}")
    if parts[1:] != [0, 0, 0]:
        problems.append(f"{phase.name}: not every change applied: {result}")
    with session_scope(engine) as session:
        left = session.scalars(
            select(SyncStaging.handle).where(SyncStaging.status == StagedChangeStatus.APPROVED)
        ).all()
    if left:
        problems.append(f"{phase.name}: {len(left)} approved changes left behind: {left[:3]}")
    return problems


def _settle(config: ChaosConfig, emulator: EmulatorProcess, hangs_before: int) -> int:
    """Let hung requests the client gave up on land before the next push (which may change
    the same product again): the store is final only once they have. Returns the hang count."""
    hangs = emulator.counters()["faults"]["hang"]
    if hangs != hangs_before:
        time.sleep(config.hang_seconds + 1.0)
    return hangs


def _record_counters(report: ChaosReport, emulator: EmulatorProcess) -> None:
    counters = emulator.counters()
    report.faults = counters["faults"]
    report.throttled = counters["throttled"]
    report.requests = counters["requests"]
    report.mutations = sum(counters["mutations"].values())
    report.idempotent_replays = counters["other"].get("idempotent_replays", 0)


def run(
    config: ChaosConfig, *, database_url: str | None = None, queue_url: str | None = None
) -> ChaosReport:
    """The whole run; `database_url` (empty, migrated here) and `queue_url` default to servers
    of the run's own. The workers' logs are kept when a check fails (`ChaosReport.logs`)."""
    started = time.monotonic()
    report = ChaosReport(config)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))  # the workers share it
    get_settings.cache_clear()
    folder = Path(tempfile.mkdtemp(prefix="cowans-chaos-"))
    with _servers(database_url, queue_url) as (database, queue):
        engine = create_db_engine(database)
        migrate.upgrade(engine)
        emulator = EmulatorProcess(
            "--shop", "demo", "--access-token", "shpat_chaos",
            "--locations", ",".join(LOCATIONS.values()),
            token="shpat_chaos",  # noqa: S106 - the emulator's, made up here
        )  # fmt: skip
        settings = Settings(database_url=database, queue_url=queue, data_dir=folder / "var")
        runtime = JobRuntime(settings, engine, NoEvents(), HANDLERS)
        pool = WorkerPool(_worker_env(config, database, queue, folder), config.workers, folder)
        killer = Killer(pool, engine, config)
        try:
            store_id = _connect_store(engine, emulator)
            add_catalog(engine, config.products)
            emulator.configure(faults=_faults(config))
            killer.start()
            _run_pushes(config, report, runtime, store_id, killer, emulator)
            killer.stopped.set()
            killer.join()
            report.kills = killer.kills
            emulator.configure(faults=dict.fromkeys(FAULT_KINDS, 0))
            _record_counters(report, emulator)
            report.problems += compare_store(engine, emulator)
        finally:
            killer.stopped.set()
            pool.stop()
            emulator.stop()
            runtime.shutting_down.set()
            engine.dispose()
    report.seconds = time.monotonic() - started
    if report.ok:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        report.logs = str(folder)
    return report


def _connect_store(engine: Engine, emulator: EmulatorProcess) -> int:
    with session_scope(engine) as session:
        store = Store(
            name="Demo",
            shop_domain="demo.myshopify.com",
            access_token=emulator.token,
            admin_url=emulator.admin_url(),
            location_map=LOCATIONS,
        )
        session.add(store)
        session.flush()
        return store.id


def _run_pushes(
    config: ChaosConfig,
    report: ChaosReport,
    runtime: JobRuntime,
    store_id: int,
    killer: Killer,
    emulator: EmulatorProcess,
) -> None:
    """The create push, then the update rounds; each checked as it ends."""
    engine = runtime.engine
    changes = random.Random(config.seed + 1)  # the killer draws from its own
    hangs = 0
    rounds = -(-config.updates // config.round_size)
    for number in range(rounds + 1):
        if number:
            size = min(config.round_size, config.updates - (number - 1) * config.round_size)
            change_catalog(engine, size, changes)
        name = f"update {number}" if number else "create"
        phase = PhaseReport(name, stage_and_approve(engine, store_id))
        report.phases.append(phase)
        _push(runtime, engine, store_id, killer, phase)
        hangs = _settle(config, emulator, hangs)
        report.problems += _check_phase(engine, phase)
        write(f"  {phase.name}: {phase.state}, {phase.attempts} attempt(s), "
              f"{phase.seconds:.1f} s, {killer.kills} kills so far")  # fmt: skip


def _faults(config: ChaosConfig) -> dict[str, Any]:
    return {
        **{kind: getattr(config, kind) for kind in FAULT_KINDS},
        "hang_seconds": config.hang_seconds,
        "seed": config.seed,
    }


def write_report(report: ChaosReport, path: Path) -> None:
    """Put the report between the markers in `path` (appended with them the first time)."""
    section = f"{REPORT_BEGIN}\n{report.markdown()}\n{REPORT_END}"
    text = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(REPORT_BEGIN) + ".*?" + re.escape(REPORT_END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: section, text)
    else:
        text = f"{text.rstrip()}\n\n{section}\n" if text else f"{section}\n"
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = ChaosConfig()
    parser.add_argument("--products", type=int, default=defaults.products)
    parser.add_argument("--updates", type=int, default=defaults.updates)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--round-size", type=int, default=defaults.round_size)
    parser.add_argument(
        "--kill-gap", type=float, nargs=2, default=defaults.kill_gap, metavar=("MIN", "MAX")
    )
    parser.add_argument("--report", type=Path, default=ROOT / "RELIABILITY.md")
    parser.add_argument("--no-report", action="store_true", help="print the report only")
    args = parser.parse_args()
    config = ChaosConfig(
        products=args.products,
        updates=args.updates,
        workers=args.workers,
        seed=args.seed,
        batch_size=args.batch_size,
        round_size=args.round_size,
        kill_gap=tuple(args.kill_gap),
    )
    # A run in the background ignores SIGINT: SIGTERM then stops it with its cleanup (servers,
    # workers, the emulator), as Ctrl-C does in the foreground.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    write(f"chaos: {json.dumps(asdict(config))}")
    report = run(config)
    write(report.markdown())
    if not args.no_report:
        write_report(report, args.report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
