"""Initial load: Cowan's catalog from the supplier feeds into an empty Shopify store.

    .venv/bin/python bench/initial_load_bench.py [--quick] [--products 25000] [--naive-share 0.01]

The whole system as a user runs it (`bench/system.py`: `cowans serve` on SQLite, its in-process
job workers) against a Standard-plan emulator (2,000-point bucket, 100 points/s) answering with
50-150 ms of latency. Generated feeds (`cowans.sources.feedgen`, seed 1: about three Etilize rows
a product) are uploaded (Xorosoft, then Etilize), the catalog is staged for the store, every
change approved, and the push sent with the default (balanced) strategy.

Points are what the emulator charged (actual cost), requests what it received. The cost bound
is points / restore rate: the least time any client needs to be allowed to spend those points.
The naive strategy (three calls per product, one at a time, RATELIMIT_CALLS_PER_SECOND apart)
would need hours for the whole catalog, so it sends a sample of the same approved changes (read
from the system's database with the push job's own `approved_changes`) through the same planner,
runner and client to a second shop of the same emulator, and is compared per product.

The daily-delta scenario imports this module for its setup (`Pipeline`, `load_catalog`).
"""

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import EmulatorProcess, write
from section import Section, arguments, plot_path, runs_of, save_figure, seconds
from system import FINISHED, System

from cowans.shopify.client import RetryPolicy, ShopifyClient, StoreEndpoint
from cowans.shopify.collections import ensure_collections, find_collections
from cowans.shopify.products import list_locations
from cowans.sources.feedgen import generate_feeds
from cowans.sync.changes import ProductChange
from cowans.sync.planner import StoreConditions, Strategy, collection_titles, plan_changes
from cowans.sync.runner import PlanRunner, RunReport

SHOP, NAIVE_SHOP = "cowans", "naive"
TOKEN = "shpat_bench"
# Xorosoft's warehouses and the Shopify locations they stock (the store's location_map).
LOCATIONS = {"MAIN": "Main Warehouse", "WEST": "West Branch", "EAST": "East Branch"}
RESTORE_RATE = 100.0  # Standard plan: points per second
BULK_ROWS_PER_SECOND = "2000"  # as push_bench: a bulk operation is not instantaneous
FEED_SEED = 1
NAIVE_PAUSE = 0.25  # 1 / RATELIMIT_CALLS_PER_SECOND (4, the default)


# The store and the system -----------------------------------------------------------------------


def start_emulator() -> EmulatorProcess:
    """Our shop and the naive baseline's, same plan, same latency, one emulator process."""
    return EmulatorProcess(
        *("--shop", SHOP, "--access-token", TOKEN),
        *("--shop", NAIVE_SHOP, "--access-token", TOKEN),
        *("--plan", "standard", "--latency-ms", "50-150"),
        *("--locations", ",".join(LOCATIONS.values())),
        *("--bulk-rows-per-second", BULK_ROWS_PER_SECOND),
        token=TOKEN,
    )


def start_system() -> System:
    """Staging after each import is off so that staging is timed as a stage of its own (it
    would otherwise run inside both import jobs, once after each)."""
    return System(env={"STAGE_AFTER_IMPORT": "false"})


def write_feeds(folder: Path, products: int, seed: int = FEED_SEED) -> tuple[Path, Path]:
    etilize, xorosoft = folder / "etilize.csv", folder / "xorosoft.csv"
    with etilize.open("wb") as etilize_out, xorosoft.open("wb") as xorosoft_out:
        generate_feeds(products, seed, etilize_out, xorosoft_out)
    return etilize, xorosoft


@dataclass
class PushRun:
    """One push job, as the emulator and the job saw it."""

    changes: int
    points: float
    requests: int
    seconds: float  # from POST /api/sync/start to the job's end, as a user waits for it
    job_seconds: float  # the job's own run (started_at .. finished_at)
    applied: int
    failed: int
    predicted_cost: int
    predicted_seconds: float
    predicted_requests: int
    bulk_operations: int
    by_kind: list[dict[str, Any]] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    bulk_runs: int = 0  # bulk operations Shopify ran for the push (the read, the mutations)
    bulk_seconds: float = 0.0  # Shopify's own time running them, created to completed

    @property
    def cost_bound(self) -> float:
        return self.points / RESTORE_RATE

    @property
    def time_bound(self) -> float:
        """The least time the push's requests can take on this store: the bucket's time for
        its points plus Shopify's time running its bulk operations, which no client shortens
        and the bucket does not govern (a bulk operation costs about ten points whatever its
        size). Sequential because the push is: the check's export before the mutations it
        allows, and the plan's phases one after another."""
        return self.cost_bound + self.bulk_seconds

    @property
    def plan_points(self) -> float:
        """What the plan's own requests cost (the job's figure): the rest of `points` went on
        reading the store first (locations, collections, the check before updates)."""
        return float(self.result.get("points", 0.0))

    @property
    def sending_seconds(self) -> float:
        return float(self.result.get("seconds", 0.0))


@dataclass
class Pipeline:
    """The system, its store and the emulator, driven stage by stage over the API."""

    system: System
    emulator: EmulatorProcess
    store_id: int
    stages: dict[str, float] = field(default_factory=dict)

    @classmethod
    def connect(cls, system: System, emulator: EmulatorProcess) -> "Pipeline":
        store = system.connect_store(emulator, SHOP, location_map=LOCATIONS)
        return cls(system, emulator, store["id"])

    def timed(self, stage: str, started: float) -> float:
        self.stages[stage] = time.perf_counter() - started
        return self.stages[stage]

    def import_feed(self, kind: str, path: Path) -> dict[str, Any]:
        started = time.perf_counter()
        with path.open("rb") as feed:
            begun = self.system.api("POST", f"/api/imports/{kind}", files={"file": feed})
        self.system.wait_job(begun["job_id"])
        self.timed(f"import {kind}", started)
        record = self.system.api("GET", f"/api/imports/{begun['import_id']}")
        if record["state"] != "completed":
            raise RuntimeError(f"{kind} import ended {record['state']}: {record['error']}")
        return record

    def import_feeds(self, etilize: Path, xorosoft: Path) -> None:
        """Xorosoft first: the Etilize import matches its products against Xorosoft's items."""
        self.import_feed("xorosoft", xorosoft)
        self.import_feed("etilize", etilize)

    def stage(self) -> dict[str, Any]:
        started = time.perf_counter()
        result = self.system.api("POST", "/api/sync/staged", json={"store_id": self.store_id})
        self.timed("stage", started)
        return result

    def approve_pending(self, stage: str = "approve") -> int:
        started = time.perf_counter()
        body = {"all_pending": True, "decision": "approve", "store_id": self.store_id}
        decided = self.system.api("POST", "/api/enhanced-sync/approve-changes", json=body)
        self.timed(stage, started)
        return decided["approved"]

    def plan(self, strategy: str = "balanced") -> dict[str, Any]:
        body = {"store_id": self.store_id, "config": {"strategy": strategy}}
        return self.system.api("POST", "/api/sync/plan", json=body)

    def push(self, strategy: str = "balanced") -> PushRun:
        predicted = self.plan(strategy)
        before = self.emulator.counters(SHOP)
        began = datetime.now(UTC)
        started = time.perf_counter()
        body = {"store_id": self.store_id, "config": {"strategy": strategy}}
        job_id = self.system.api("POST", "/api/sync/start", json=body)["job_id"]
        job, phases = self.follow(job_id)
        elapsed = self.timed("push", started)
        after = self.emulator.counters(SHOP)
        bulk_runs, bulk_seconds = self.emulator.bulk_run_seconds(SHOP, began)
        result = job["result"]
        return PushRun(
            changes=result["total"],
            points=after["points_spent"] - before["points_spent"],
            requests=after["requests"] - before["requests"],
            seconds=elapsed,
            job_seconds=_job_seconds(job),
            applied=result["applied"],
            failed=result["failed"] + result["conflicts"],
            predicted_cost=predicted["predicted_cost"],
            predicted_seconds=predicted["predicted_seconds"],
            predicted_requests=predicted["requests"],
            bulk_operations=predicted["bulk_operations"],
            by_kind=predicted["by_kind"],
            phases=phases,
            result=result,
            bulk_runs=bulk_runs,
            bulk_seconds=bulk_seconds,
        )

    def follow(self, job_id: int) -> tuple[dict[str, Any], dict[str, float]]:
        """The finished job, and how long it spent in each phase it reported (a push: queued,
        checking what Shopify has, pushing), as seen by polling it."""
        phases: dict[str, float] = {}
        last, since = "queued", time.perf_counter()
        while True:
            job = self.system.api("GET", f"/api/jobs/{job_id}")
            now = time.perf_counter()
            phase = job["phase"] or job["state"]
            if phase != last or job["state"] in FINISHED:
                phases[last] = phases.get(last, 0.0) + now - since
                last, since = phase, now
            if job["state"] in FINISHED:
                if job["state"] in ("failed", "cancelled"):
                    raise RuntimeError(f"job {job_id} {job['state']}: {job['error']}")
                return job, phases
            time.sleep(0.05)

    def approved_changes(self) -> list[ProductChange]:
        """What the next push job will plan: the store's approved changes as the job reads them
        (its own function, on the system's database)."""
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        from cowans.sync.push import approved_changes

        engine = create_engine(self.system.env["DATABASE_URL"])
        try:
            with Session(engine) as session:
                return [change for _, change in approved_changes(session, self.store_id)]
        finally:
            engine.dispose()


def _job_seconds(job: dict[str, Any]) -> float:
    from datetime import datetime

    started, finished = job.get("started_at"), job.get("finished_at")
    if not started or not finished:
        return 0.0
    return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()


def load_catalog(pipeline: Pipeline, etilize: Path, xorosoft: Path) -> dict[str, Any]:
    """Imports, staging and approval of everything: what an initial load does before its push."""
    pipeline.import_feeds(etilize, xorosoft)
    staged = pipeline.stage()
    staged["approved"] = pipeline.approve_pending()
    return staged


# The naive baseline -----------------------------------------------------------------------------


@dataclass
class NaiveRun:
    changes: int
    points: float
    requests: int
    seconds: float
    failed: int

    def per_change(self, value: float) -> float:
        return value / max(1, self.changes)


def sample(changes: Sequence[ProductChange], count: int, seed: int = 7) -> list[ProductChange]:
    """The same sample for the same changes and seed, in the changes' order."""
    chosen = set(random.Random(seed).sample(range(len(changes)), min(count, len(changes))))
    return [change for n, change in enumerate(changes) if n in chosen]


class NaiveShop:
    """The baseline's shop: a client on the emulator's second shop, with its locations and the
    collections the changes need, as the push job prepares them."""

    def __init__(self, emulator: EmulatorProcess) -> None:
        self.emulator = emulator
        endpoint = StoreEndpoint(emulator.admin_url(NAIVE_SHOP), emulator.token)
        self.client = ShopifyClient(endpoint, retry=RetryPolicy(max_attempts=8))

    async def __aenter__(self) -> "NaiveShop":
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.__aexit__(*exc)

    async def run(
        self, changes: list[ProductChange], strategy: Strategy, pause: float
    ) -> tuple[NaiveRun, RunReport]:
        """Plan and run the changes; points and requests as the emulator counted them."""
        locations = await list_locations(self.client)
        joined, left = collection_titles(changes)
        collections = {
            **await find_collections(self.client, left),
            **await ensure_collections(self.client, joined),
        }
        conditions = StoreConditions(locations, latency_seconds=0.1, collection_ids=collections)
        plan = plan_changes(changes, strategy, conditions)
        before = self.emulator.counters(NAIVE_SHOP)
        runner = PlanRunner(self.client, min_workers=1, max_workers=10, pause_seconds=pause)
        report = await runner.run(plan)
        after = self.emulator.counters(NAIVE_SHOP)
        run = NaiveRun(
            changes=len(changes),
            points=after["points_spent"] - before["points_spent"],
            requests=after["requests"] - before["requests"],
            seconds=report.seconds,
            failed=len(report.failed_changes()) + len(plan.unplannable),
        )
        return run, report


def naive_creates(emulator: EmulatorProcess, changes: list[ProductChange]) -> NaiveRun:
    async def go() -> NaiveRun:
        async with NaiveShop(emulator) as shop:
            run, _ = await shop.run(changes, Strategy.NAIVE, NAIVE_PAUSE)
            return run

    return asyncio.run(go())


def with_remote_ids(changes: list[ProductChange], report: RunReport) -> list[ProductChange]:
    """The changes pointed at the products a run created (ids from its productSet answers)."""
    from cowans.sync.changes import RemoteIds
    from cowans.sync.planner import WorkKind

    ids = {
        outcome.work.handle: RemoteIds.from_product(outcome.payload["product"])
        for outcome in report.outcomes
        if outcome.ok and outcome.work.kind is WorkKind.PRODUCT_SET and outcome.payload
    }
    return [replace(change, remote=ids.get(change.handle)) for change in changes]


# The scenario -----------------------------------------------------------------------------------


@dataclass
class Measured:
    products: int
    etilize_rows: int
    staged: dict[str, Any]
    stages: dict[str, float]
    push: PushRun
    naive: NaiveRun


def measure(products: int, naive_count: int, folder: Path) -> Measured:
    etilize, xorosoft = write_feeds(folder, products)
    with etilize.open("rb") as feed:
        rows = sum(1 for _ in feed) - 1
    write(f"  feeds: {products:,} products, {rows:,} Etilize rows")
    emulator = start_emulator()
    try:
        with start_system() as system:
            pipeline = Pipeline.connect(system, emulator)
            staged = load_catalog(pipeline, etilize, xorosoft)
            write(f"  staged {staged['staged']:,}, approved {staged['approved']:,}")
            naive = naive_creates(emulator, sample(pipeline.approved_changes(), naive_count))
            write(f"  naive sample: {naive}")
            push = pipeline.push()
            write(f"  push: {push.points:,.0f} points, {push.requests} requests, "
                  f"{push.seconds:.1f} s; stages {pipeline.stages}")  # fmt: skip
            return Measured(products, rows, staged, dict(pipeline.stages), push, naive)
    finally:
        emulator.stop()


@dataclass(frozen=True)
class Comparison:
    """Our push against the naive one, per product and projected to the catalog."""

    ours: PushRun
    naive: NaiveRun

    @property
    def ours_per_product(self) -> float:
        return self.ours.points / max(1, self.ours.changes)

    @property
    def naive_per_product(self) -> float:
        return self.naive.per_change(self.naive.points)

    @property
    def fewer_points(self) -> float:
        return self.naive_per_product / max(self.ours_per_product, 1e-9)

    def naive_projected(self, value: float) -> float:
        return self.naive.per_change(value) * self.ours.changes


def report(section: Section, runs: list[Measured], folder: Path, quick: bool) -> None:
    run = sorted(runs, key=lambda r: r.push.seconds)[len(runs) // 2]  # the median push's run
    push, naive = run.push, run.naive
    compared = Comparison(push, naive)
    size = f"{run.products:,}"
    section.text(
        f"{size} generated products ({run.etilize_rows:,} Etilize rows, feed seed {FEED_SEED}) "
        "through the whole system: `cowans serve` on SQLite with its in-process job workers, "
        "uploads of the Xorosoft and Etilize feeds, staging, approval of every change in one "
        "request, and a push with the default (balanced) strategy into an empty store: a "
        "Standard-plan emulator (2,000-point bucket, 100 points/s, 50-150 ms latency, bulk "
        f"operations at {BULK_ROWS_PER_SECOND} rows/s)."
    )
    section.code(f"python bench/initial_load_bench.py{' --quick' if quick else ''}")
    how_many = f"medians of {len(runs)} runs" if len(runs) > 1 else "one run"
    section.text(
        f"Figures: {how_many}. Points and requests are the emulator's counters (actual cost); "
        "the cost bound is points / restore rate. The naive baseline sends a random sample of "
        f"the same approved changes ({naive.changes:,} products), read with the push job's own "
        "`approved_changes`, through the same planner, runner and client to a second shop of "
        f"the same emulator, one call at a time {NAIVE_PAUSE} s apart "
        f"(RATELIMIT_CALLS_PER_SECOND=4): at {size} products it would take hours, so it is "
        "compared per product and projected to the catalog."
    )
    section.table(
        ["stage", "wall time"],
        [[name, seconds(statistics.median(r.stages[name] for r in runs))] for name in run.stages],
    )
    section.table(
        ["push", "products", "points", "points/product", "requests", "wall time", "cost bound"],
        [
            ["ours (balanced, bulk)", f"{push.changes:,}", f"{push.points:,.0f}",
             f"{compared.ours_per_product:.4f}", f"{push.requests:,}", seconds(push.seconds),
             seconds(push.cost_bound)],
            [f"naive, sample of {naive.changes:,}", f"{naive.changes:,}", f"{naive.points:,.0f}",
             f"{compared.naive_per_product:.2f}", f"{naive.requests:,}", seconds(naive.seconds),
             seconds(naive.points / RESTORE_RATE)],
            [f"naive, projected to {push.changes:,}", f"{push.changes:,}",
             f"{compared.naive_projected(naive.points):,.0f}", f"{compared.naive_per_product:.2f}",
             f"{compared.naive_projected(naive.requests):,.0f}",
             seconds(compared.naive_projected(naive.seconds)),
             seconds(compared.naive_projected(naive.points) / RESTORE_RATE)],
        ],
    )  # fmt: skip
    reads = push.points - push.plan_points
    section.text(
        f"Our push: {compared.fewer_points:,.0f}x fewer points per product than naive, and "
        f"{compared.naive_projected(naive.seconds) / push.seconds:,.0f}x less time than its "
        f"projection. Of its {push.points:,.0f} points, the plan's own requests (one bulk "
        f"mutation of {push.changes:,} productSet lines) cost {push.plan_points:,.0f}; the other "
        f"{reads:,.0f} went on what the job does before planning: reading the store's locations "
        "and finding or creating the collections the products join (one per product type). The "
        f"planner predicted {push.predicted_cost:,} points, {push.predicted_requests:,} requests "
        f"({push.bulk_operations} bulk operation) and {push.predicted_seconds:.0f} s "
        f"(`POST /api/sync/plan`); {push.applied:,} changes were applied and {push.failed:,} "
        f"failed. Sending took {push.sending_seconds:.1f} s of the push's {push.seconds:.1f} s: "
        "a bulk mutation's time is Shopify running it, not the bucket, so the cost bound says "
        "little here."
    )
    path = plot_path(folder, "initial-load")
    _plot(path, runs, run, compared)
    section.image(path, "Initial load: time per stage, and points of our push vs naive")
    section.target(
        "Initial load",
        "under 100 bucket points in all (bulk mutation)",
        f"{push.points:,.0f} points for {push.changes:,} products "
        f"({push.plan_points:,.0f} for the bulk mutation, {reads:,.0f} for locations and "
        "collections)",
        push.points < 100,
    )
    section.target(
        "Initial load",
        "at least 50x fewer points than naive",
        f"{compared.fewer_points:,.0f}x fewer ({compared.ours_per_product:.4f} vs "
        f"{compared.naive_per_product:.2f} points per product)",
        compared.fewer_points >= 50,
    )


def _plot(path: Path, runs: list[Measured], run: Measured, compared: Comparison) -> None:
    from matplotlib.figure import Figure

    names = list(run.stages)
    values = [statistics.median(r.stages[name] for r in runs) for name in names]
    figure = Figure(figsize=(11, 4))
    left, right = figure.subplots(1, 2)
    left.barh(names[::-1], values[::-1], color="#4C72B0")
    left.set_xlabel("seconds")
    left.set_title(f"Initial load of {run.push.changes:,} products: time per stage")
    labels = ["ours (bulk)", "naive (projected)"]
    points = [run.push.points, compared.naive_projected(compared.naive.points)]
    right.bar(labels, points, color=["#55A868", "#C44E52"])
    right.set_yscale("log")
    right.set_ylabel("bucket points (log scale)")
    right.set_title("Points the push spends")
    for x, value in enumerate(points):
        right.annotate(f"{value:,.0f}", (x, value), ha="center", va="bottom")
    save_figure(figure, path, dpi=100)


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--products", type=int, default=None)
    parser.add_argument("--naive-share", type=float, default=None, help="of the products")
    args = parser.parse_args()
    products = args.products or (1_000 if args.quick else 25_000)
    share = args.naive_share or (0.02 if args.quick else 0.01)
    section = Section("initial-load", "Initial load", quick=args.quick)
    runs = []
    # A full run takes minutes (the 25,000-product imports and push), so one unless asked.
    for number in range(runs_of(args, full=1)):
        write(f"run {number + 1}")
        with tempfile.TemporaryDirectory(prefix="initial-load-") as folder:
            runs.append(measure(products, max(1, round(products * share)), Path(folder)))
    report(section, runs, args.out, args.quick)
    write(f"saved {section.save(args.out)}")


if __name__ == "__main__":
    main()
