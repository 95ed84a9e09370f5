"""Distributed (scenario 7): two worker processes push two stores at once on PostgreSQL + Redis.

    .venv/bin/python bench/distributed_bench.py [--quick] [--runs N] [--out DIR]
        [--products N] [--changed N]

The whole system: `cowans serve` without job workers, and two `cowans worker` processes of one
thread each, all on one PostgreSQL database and one Redis queue. Two stores, each a shop of
its own on one emulator (Standard plan: 2,000-point bucket, 100 points/s; 50-150 ms latency).
The catalog comes in through the system (generated Etilize + Xorosoft feeds, imported, staged,
approved and pushed to both stores). Each measured push changes the same products through the
Batch API (a tag, the vendor and the price: three direct works per product, under the size at
which the `speed` strategy turns a kind into a bulk mutation), stages and approves them for
both stores, and starts the push with strategy `speed`: the first store alone, then both at
once.

Every push starts with its store's bucket spent (as after an earlier push), so the bucket binds
from the first request to the last, and the cost bound is (points - what the bucket held) /
restore rate. The emulator's points counter is sampled every 0.2 s per store for the plot.
"""

import contextlib
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from common import EmulatorProcess, write
from parallel_bench import spend_bucket
from section import Section, arguments, plot_path, runs_of, save_figure, seconds
from system import System

from cowans.sources.feedgen import generate_feeds

SHOPS = ("east", "west")
TOKEN = "shpat_distributed"
LOCATIONS = {"MAIN": "Main Warehouse", "WEST": "West Branch", "EAST": "East Branch"}
BUCKET, RESTORE_RATE = 2000.0, 100.0  # Standard plan
SAMPLE_SECONDS = 0.2
FEED_SEED = 3
AT_BOUND = 0.9  # a store runs at its bound when it spends this share of the restore rate
TOGETHER_AS_ALONE = 1.1  # ...and two at once each take at most this times the time alone
# The checks before sending cost a few points (locations, a bulk export); more means sending.
FIRST_SEND_POINTS = 50


@dataclass
class Push:
    """One push job of one store, as the emulator and the job saw it."""

    shop: str
    mode: str  # "alone" or "together"
    points: float
    requests: int
    throttled: int
    seconds: float  # from POST /api/sync/start until the job was seen finished
    start_points: float  # what the store's bucket held at the POST
    queued: float  # seconds from the job's creation to a worker taking it
    worker: str
    samples: list[tuple[float, float]] = field(default_factory=list)  # (s since start, points)

    @property
    def bound_seconds(self) -> float:
        """The least time any client could take: the points beyond what the bucket held at the
        start come at the restore rate."""
        return max(0.0, self.points - self.start_points) / RESTORE_RATE

    @property
    def points_per_second(self) -> float:
        return self.points / self.seconds

    @property
    def first_send(self) -> float:
        """Seconds until the plan's first request was charged (queue, claim and checks came
        before it)."""
        return next((t for t, points in self.samples if points >= FIRST_SEND_POINTS), 0.0)


# The system -------------------------------------------------------------------------------------


def create_database(server_url: str, name: str) -> str:
    from sqlalchemy import text

    from cowans.db.session import create_db_engine

    admin = create_db_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


T0 = time.perf_counter()


def log(text: str) -> None:
    write(f"[{time.perf_counter() - T0:6.1f} s] {text}")


def start_emulator() -> EmulatorProcess:
    shops = [option for shop in SHOPS for option in ("--shop", shop, "--access-token", TOKEN)]
    return EmulatorProcess(
        *shops,
        *("--plan", "standard", "--latency-ms", "50-150"),
        *("--locations", ",".join(LOCATIONS.values())),
        *("--bulk-rows-per-second", "2000"),
        token=TOKEN,
    )


class Bench:
    """The system, its two stores and their shops, driven over the API."""

    def __init__(self, system: System, emulator: EmulatorProcess) -> None:
        self.system, self.emulator = system, emulator
        self.stores = {
            shop: system.connect_store(emulator, shop, location_map=LOCATIONS)["id"]
            for shop in SHOPS
        }
        self.round = 0

    def import_catalog(self, products: int) -> list[int]:
        """The feeds through the system, then every product pushed to both stores (bulk)."""
        with tempfile.TemporaryDirectory() as folder:
            etilize, xorosoft = Path(folder) / "etilize.csv", Path(folder) / "xorosoft.csv"
            with etilize.open("wb") as etilize_out, xorosoft.open("wb") as xorosoft_out:
                generate_feeds(products, FEED_SEED, etilize_out, xorosoft_out)
            for kind, path in (("xorosoft", xorosoft), ("etilize", etilize)):
                with path.open("rb") as feed:
                    begun = self.system.api("POST", f"/api/imports/{kind}", files={"file": feed})
                self.system.wait_job(begun["job_id"])
                log(f"imported {kind}")
        for shop in SHOPS:
            self.stage_and_approve(shop)
        log("staged and approved the catalog")
        jobs = [self.start_push(shop, "balanced") for shop in SHOPS]
        for job_id in jobs:
            self.system.wait_job(job_id)
        return self.product_ids()

    def product_ids(self) -> list[int]:
        ids: list[int] = []
        page = 1
        while True:
            found = self.system.api("GET", "/api/products", params={"page": page, "page_size": 200})
            ids += [item["id"] for item in found["items"]]
            if len(ids) >= found["total"] or not found["items"]:
                return sorted(ids)
            page += 1

    def change(self, product_ids: list[int]) -> None:
        """A tag, the vendor and the price of each product: three direct works per product."""
        self.round += 1
        updates = {
            "tags": [f"round-{self.round}"],
            "vendor": f"Vendor {self.round}",
            "price_adjust_percent": 1,
        }
        body = {"operation": "update", "product_ids": product_ids, "updates": updates}
        begun = self.system.api("POST", "/api/batch/process", json=body)
        self.system.wait_job(begun["job_id"])
        log(f"batch update of {len(product_ids)} products")

    def stage_and_approve(self, shop: str) -> None:
        store_id = self.stores[shop]
        self.system.api("POST", "/api/sync/staged", json={"store_id": store_id})
        body = {"all_pending": True, "decision": "approve", "store_id": store_id}
        self.system.api("POST", "/api/enhanced-sync/approve-changes", json=body)
        log(f"staged and approved for {shop}")

    def check_direct(self, shop: str) -> dict[str, Any]:
        """The push's plan must be direct requests only: a bulk mutation would not meet the
        bucket, and the scenario would measure nothing."""
        body = {"store_id": self.stores[shop], "config": {"strategy": "speed"}}
        plan = self.system.api("POST", "/api/sync/plan", json=body)
        if plan["bulk_operations"]:
            raise RuntimeError(f"the push of {shop} would use bulk mutations: {plan['by_kind']}")
        return plan

    def start_push(self, shop: str, strategy: str) -> int:
        body = {"store_id": self.stores[shop], "config": {"strategy": strategy}}
        return int(self.system.api("POST", "/api/sync/start", json=body)["job_id"])

    def push(self, shops: tuple[str, ...], mode: str) -> list[Push]:
        """Start the shops' pushes back to back and follow them until all are done."""
        spent = {shop: spend_bucket(self.emulator, shop) for shop in shops}
        before = {shop: self.emulator.counters(shop) for shop in shops}
        started: dict[str, tuple[int, float]] = {}
        start_points: dict[str, float] = {}
        for shop in shops:
            held, at = spent[shop]
            start_points[shop] = min(BUCKET, held + (time.monotonic() - at) * RESTORE_RATE)
            started[shop] = (self.start_push(shop, "speed"), time.perf_counter())
        sampler = Sampler(self.emulator, shops, {s: before[s]["points_spent"] for s in shops})
        sampler.start()
        try:
            finished = self.follow({shop: job_id for shop, (job_id, _) in started.items()})
        finally:
            sampler.stop()
        pushes = []
        for shop in shops:
            job, done_at = finished[shop]
            after, began = self.emulator.counters(shop), started[shop][1]
            pushes.append(
                Push(
                    shop,
                    mode,
                    after["points_spent"] - before[shop]["points_spent"],
                    after["requests"] - before[shop]["requests"],
                    after["throttled"] - before[shop]["throttled"],
                    done_at - began,
                    start_points[shop],
                    _seconds_between(job["created_at"], job["started_at"]),
                    job["worker"] or "?",
                    [(t - began, p) for t, p in sampler.samples[shop]],
                )
            )
        return pushes

    def follow(self, jobs: dict[str, int]) -> dict[str, tuple[dict[str, Any], float]]:
        """Each shop's finished job and when it was seen finished (time.perf_counter())."""
        finished: dict[str, tuple[dict[str, Any], float]] = {}
        while len(finished) < len(jobs):
            for shop, job_id in jobs.items():
                job = None if shop in finished else self.system.api("GET", f"/api/jobs/{job_id}")
                if job is None or not job["finished_at"]:
                    continue
                if job["state"] != "completed":  # a benchmark never times a failure
                    raise RuntimeError(f"push of {shop} ended {job['state']}: {job['error']}")
                finished[shop] = (job, time.perf_counter())
            time.sleep(0.1)
        return finished


def _seconds_between(earlier: str | None, later: str | None) -> float:
    if not earlier or not later:
        return 0.0
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


class Sampler:
    """Each shop's points counter every SAMPLE_SECONDS, in a thread (the side door is free)."""

    def __init__(
        self, emulator: EmulatorProcess, shops: tuple[str, ...], base: dict[str, float]
    ) -> None:
        self.emulator, self.shops, self.base = emulator, shops, base
        self.samples: dict[str, list[tuple[float, float]]] = {shop: [] for shop in shops}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._http = httpx.Client(timeout=30)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        self._http.close()

    def _sample(self) -> None:
        while not self._stopped.wait(SAMPLE_SECONDS):
            for shop in self.shops:
                counters = self._http.get(f"{self.emulator.root}/_emulator/{shop}/counters")
                spent = counters.json()["points_spent"] - self.base[shop]
                self.samples[shop].append((time.perf_counter(), spent))


# The run ----------------------------------------------------------------------------------------


@dataclass
class Round:
    alone: Push  # the first store's push with nothing else running
    together: dict[str, Push]  # the same push of both stores, started at once


def measure(products: int, changed: int, runs: int) -> list[Round]:
    from tests.postgres_server import running_postgres
    from tests.redis_server import running_redis

    with contextlib.ExitStack() as stack:
        server = stack.enter_context(running_postgres())
        queue_url = stack.enter_context(running_redis())
        database_url = create_database(server, "cowans_distributed")
        log("PostgreSQL and Redis up")
        emulator = start_emulator()
        stack.callback(emulator.stop)
        system = System(
            database_url=database_url,
            queue_url=queue_url,
            serve_workers=False,
            env={"STAGE_AFTER_IMPORT": "false"},
        )
        stack.callback(system.stop)
        for _ in range(2):
            stack.enter_context(worker_process(system))
        log("system and workers started")
        bench = Bench(system, emulator)
        ids = bench.import_catalog(products)[:changed]
        log(f"catalog of {products} products in both stores; {len(ids)} change per push")
        return [run_round(bench, ids) for _ in range(runs)]


@contextlib.contextmanager
def worker_process(system: System) -> Iterator[None]:
    """One `cowans worker` of one thread: a second job at once must go to another process."""
    worker = system.worker(threads=1)
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()


def run_round(bench: Bench, ids: list[int]) -> Round:
    """The first store pushes a change alone, then both stores push the next one at once (the
    same products and fields, so the same works and points)."""
    prepare(bench, ids)
    (alone,) = bench.push(SHOPS[:1], "alone")
    prepare(bench, ids)
    together = {push.shop: push for push in bench.push(SHOPS, "together")}
    for push in (alone, *together.values()):
        log(
            f"{push.mode:8} {push.shop}: {push.points:,.0f} points in {push.seconds:.1f} s "
            f"(bound {push.bound_seconds:.1f} s), {push.points_per_second:.0f} points/s, "
            f"queued {push.queued:.1f} s, first request after {push.first_send:.1f} s, "
            f"worker {push.worker}, "
            f"{push.throttled} throttled"
        )
    return Round(alone, together)


def prepare(bench: Bench, ids: list[int]) -> None:
    bench.change(ids)
    for shop in SHOPS:
        bench.stage_and_approve(shop)
        bench.check_direct(shop)


# The section ------------------------------------------------------------------------------------


def median_push(pushes: list[Push]) -> Push:
    return sorted(pushes, key=lambda push: push.seconds)[len(pushes) // 2]


def median_round(rounds: list[Round]) -> Round:
    """The round whose slower store took the median time: its two pushes ran side by side, so
    they are shown together."""
    ordered = sorted(rounds, key=lambda r: max(push.seconds for push in r.together.values()))
    return ordered[len(ordered) // 2]


def draw(shown: Round, folder: Path) -> Path:
    from matplotlib.figure import Figure

    path = plot_path(folder, "distributed")
    figure = Figure(figsize=(7, 4.2))
    axes = figure.subplots()
    colours = dict(zip(SHOPS, ("tab:blue", "tab:orange"), strict=True))
    for push in (shown.alone, *shown.together.values()):
        times = [t for t, _ in push.samples]
        points = [p for _, p in push.samples]
        style = "--" if push.mode == "alone" else "-"
        axes.plot(times, points, style, color=colours[push.shop], label=f"{push.shop} {push.mode}")
    longest = max(push.seconds for push in shown.together.values())
    start = max(push.start_points for push in shown.together.values())
    axes.plot(
        [0, longest],
        [start, start + RESTORE_RATE * longest],
        ":",
        color="grey",
        label=f"cost bound: bucket at start + {RESTORE_RATE:.0f} points/s",
    )
    axes.set_xlabel("seconds since POST /api/sync/start")
    axes.set_ylabel("points charged to the store")
    axes.set_title("Two stores, two worker processes: points spent over time")
    axes.legend(loc="lower right")
    axes.grid(alpha=0.3)
    save_figure(figure, path, dpi=120)
    return path


def build_section(
    rounds: list[Round], products: int, changed: int, quick: bool, folder: Path
) -> Section:
    section = Section("distributed", "Distributed: two workers, two stores", quick=quick)
    section.code("python bench/distributed_bench.py" + (" --quick" if quick else ""))
    section.bullets(
        [
            "PostgreSQL + Redis (the suite's launchers); `cowans serve --no-workers` and two "
            "`cowans worker --workers 1` processes, so two jobs at once need both processes.",
            f"Two stores on two shops of one emulator, Standard plan each (bucket "
            f"{BUCKET:,.0f} points, restore {RESTORE_RATE:.0f} points/s), 50-150 ms latency.",
            f"Catalog: {products} generated products imported through the system (Xorosoft + "
            "Etilize feeds), staged, approved and pushed to both stores (bulk, not measured).",
            f"Each measured push: {changed} products changed through the Batch API (a tag, the "
            "vendor, +1% price: tagsAdd, productUpdate and productVariantsBulkUpdate works), "
            "staged, approved, pushed with strategy `speed` and the default worker pool; the "
            "plan is checked to hold no bulk mutation, so every point goes through the bucket.",
            f"{SHOPS[0]} pushes alone, then both stores push the same change started at once. "
            "Each push starts with its store's bucket spent (as after an earlier push; "
            "mutations on a product that does not exist spend it), so the bucket binds "
            "throughout. Bound = (points - what the bucket held at the start) / restore rate; "
            "the time before the first request (queue, claim, checks) refills the bucket, so "
            "it is not lost to the bound.",
            f"{len(rounds)} round(s): the median push alone and the round of the median "
            "push together (by wall time) are shown.",
        ]
    )
    alone = median_push([r.alone for r in rounds])
    shown = median_round(rounds)
    together = shown.together
    rows = []
    for push in (alone, *together.values()):
        rows.append(
            [
                push.shop,
                push.mode,
                f"{push.points:,.0f}",
                push.requests,
                seconds(push.seconds),
                seconds(push.bound_seconds),
                f"{push.seconds / push.bound_seconds:.2f}" if push.bound_seconds else "",
                f"{push.points_per_second:.0f}",
                f"{push.points_per_second / RESTORE_RATE:.2f}",
                f"{push.seconds / alone.seconds:.2f}",
                seconds(push.first_send),
                push.throttled,
                push.worker,
            ]
        )
    section.table(
        [
            "store", "pushed", "points", "requests", "wall time", "bound", "wall / bound",
            "points/s", "vs restore rate", "vs alone", "first plan request", "throttled",
            "worker process",
        ],
        rows,
    )  # fmt: skip
    section.image(draw(shown, folder), "points spent over time per store, alone and together")
    lines, met = verdict(alone, together, rounds)
    pushes = [alone, *together.values()]
    first = statistics.median(push.first_send for push in pushes)
    queued = statistics.median(push.queued for push in pushes)
    lines.append(
        f"A push sent its first planned request {first:.1f} s after the POST (median), "
        f"{queued:.1f} s of it in the queue; the rest is the job's preparation: claiming its "
        "changes, reading the store's locations and (one bulk export) its products, to check "
        "for edits made in Shopify. The bucket refills meanwhile, so that time costs nothing "
        "against the bound here; it would after a quiet spell, with a full bucket."
    )
    section.text(*lines)
    workers = {push.worker for r in rounds for push in r.together.values()}
    section.target(
        "7. Distributed",
        "two workers, two stores at once: each at its own cost bound",
        "; ".join(
            f"{shop} {push.points_per_second:.0f} points/s of {RESTORE_RATE:.0f}, "
            f"{push.seconds / alone.seconds:.2f}x the time alone"
            for shop, push in together.items()
        )
        + f"; on {len(workers)} worker processes",
        met,
    )
    return section


def verdict(alone: Push, together: dict[str, Push], rounds: list[Round]) -> tuple[list[str], bool]:
    lines = []
    met = True
    for shop, push in together.items():
        share = push.points_per_second / RESTORE_RATE
        slowdown = push.seconds / alone.seconds
        met &= share >= AT_BOUND and slowdown <= TOGETHER_AS_ALONE
        lines.append(
            f"{shop}, pushed at the same time as the other store: {push.points_per_second:.0f} "
            f"points/s ({share:.0%} of its restore rate), {push.seconds / push.bound_seconds:.2f}"
            f"x its cost bound, {slowdown:.2f}x the time of {alone.shop} pushing alone."
        )
    distinct = all(len({push.worker for push in r.together.values()}) == 2 for r in rounds)
    met &= distinct
    lines.append(
        "The two pushes of every round ran on "
        + ("two different worker processes" if distinct else "the same worker process")
        + " (the job rows' `worker`: host:pid)."
    )
    return lines, met


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--products", type=int, default=None)
    parser.add_argument("--changed", type=int, default=None)
    args = parser.parse_args()
    # Past 50 products the push reads the store back by one bulk export, not ~1,000-point pages.
    products = args.products or (80 if args.quick else 150)
    changed = args.changed or (55 if args.quick else 100)
    started = time.perf_counter()
    rounds = measure(products, changed, runs_of(args))
    section = build_section(rounds, products, changed, args.quick, args.out)
    section.save(args.out)
    write(section.markdown())
    write(f"distributed: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
