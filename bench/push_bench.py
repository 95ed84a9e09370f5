"""Push benchmark: a day of changes on Cowan's catalog, per strategy and for the naive baseline.

    .venv/bin/python bench/push_bench.py [--products 11000] [--scale 1.0] [--naive-scale 0.02]
        [--min-workers 1] [--max-workers 10]
    .venv/bin/python bench/push_bench.py --quick    # 1,100 products, scale 0.1, naive 1%

The daily delta at scale 1: 10,000 stock changes, 1,000 price changes, 200 content edits and
100 new products, on a Standard-plan emulator (2,000-point bucket, 100 points/s) answering with
50-150 ms of latency, as a real store does. Each strategy starts from a fresh emulator holding the
same catalog (loaded by the planner itself through bulk mutations, and timed: that is the initial
load). The naive baseline (three calls per product, one at a time, a fixed 0.25 s pause:
RATELIMIT_CALLS_PER_SECOND=4) would need hours at full scale, so it runs a sample of the same
delta (`--naive-scale`) and is compared per change.

Points are what the emulator charged (actual cost), requests what it received. The cost bound is
points / restore rate: the least time any client can take to spend those points on this plan.
The strategies run on the elastic worker pool (`--min-workers`..`--max-workers`, the production
defaults); its peak size and utilisation (busy time / time in the pool) are reported per run.
The figures are printed as markdown and saved as the `push-strategies` section of BENCHMARKS.md
(`--out`, default bench/results).
"""

import asyncio
import random
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from common import EmulatorProcess, machine, write
from section import Section, arguments, runs_of, seconds

from cowans.catalog.snapshot import MetafieldSnapshot, ProductSnapshot, VariantSnapshot
from cowans.shopify.bulk import PollPolicy
from cowans.shopify.client import RetryPolicy, ShopifyClient, StoreEndpoint
from cowans.shopify.products import list_locations
from cowans.shopify.throttle import CostThrottle
from cowans.sync.changes import Operation, ProductChange, RemoteIds
from cowans.sync.monitor import SyncPerformanceMonitor
from cowans.sync.planner import StoreConditions, Strategy, WorkKind, plan_changes
from cowans.sync.runner import PlanRunner, RunReport, polling_bulk_runner

LOCATIONS = ("Main Warehouse", "Store Front")
RESTORE_RATE = 100.0  # Standard plan
VENDORS = ("3M", "HP", "BIC", "Avery", "Paper Mate", "Brother", "Canon", "Swingline")
TYPES = ("Pens", "Paper", "Toner", "Binders", "Staplers", "Notes", "Labels")
DELTA = {"stock": 10_000, "price": 1_000, "content": 200, "new": 100}  # at scale 1
QUICK_POLL = PollPolicy(first_seconds=0.2, max_seconds=1.0, timeout_seconds=1800)


def make_product(index: int, rng: random.Random) -> ProductSnapshot:
    variant_count = 1 if rng.random() < 0.8 else rng.randint(2, 3)
    variants = tuple(
        VariantSnapshot(
            sku=f"CW-{index:06}-{v}",
            price=Decimal(rng.randint(199, 9999)) / 100,
            barcode=f"{rng.randrange(10**11, 10**12)}",
            option_values=(f"Pack of {6 * (v + 1)}",) if variant_count > 1 else ("Default Title",),
            inventory={name: rng.randint(0, 500) for name in LOCATIONS},
        )
        for v in range(variant_count)
    )
    return ProductSnapshot(
        handle=f"cowans-item-{index:06}",
        title=f"{rng.choice(VENDORS)} {rng.choice(TYPES)} {index}",
        body_html="<p>Office supplies.</p>",
        vendor=rng.choice(VENDORS),
        product_type=rng.choice(TYPES),
        tags=("office",),
        option_names=("Pack",) if variant_count > 1 else ("Title",),
        variants=variants,
        metafields=(MetafieldSnapshot("custom", "color", "single_line_text_field", "black"),),
    )


@dataclass
class Delta:
    desired: list[ProductSnapshot]
    counts: dict[str, int]


def daily_delta(catalog: list[ProductSnapshot], scale: float, rng: random.Random) -> Delta:
    counts = {name: int(full * scale) for name, full in DELTA.items()}
    changed = {p.handle: p for p in catalog}
    handles = [p.handle for p in catalog]
    for handle in rng.sample(handles, counts["stock"]):
        p = changed[handle]
        first = p.variants[0]
        stock = {
            **first.inventory,
            LOCATIONS[0]: first.inventory[LOCATIONS[0]] + rng.randint(1, 40),
        }
        changed[handle] = replace(p, variants=(replace(first, inventory=stock), *p.variants[1:]))
    for handle in rng.sample(handles, counts["price"]):
        p = changed[handle]
        first = p.variants[0]
        price = (first.price or Decimal(1)) * Decimal("1.05")
        changed[handle] = replace(
            p, variants=(replace(first, price=price.quantize(Decimal("0.01"))), *p.variants[1:])
        )
    for handle in rng.sample(handles, counts["content"]):
        changed[handle] = replace(changed[handle], title=changed[handle].title + " (new edition)")
    news = [make_product(len(catalog) + n, rng) for n in range(counts["new"])]
    return Delta([*changed.values(), *news], counts)


@dataclass
class Store:
    """What the sync knows after a push: the base and the remote ids, per handle."""

    base: dict[str, ProductSnapshot]
    remote: dict[str, RemoteIds]

    def changes(self, desired: list[ProductSnapshot]) -> list[ProductChange]:
        changes = []
        for n, snapshot in enumerate(desired):
            known = snapshot.handle in self.remote
            if known and self.base[snapshot.handle] == snapshot:
                continue
            changes.append(
                ProductChange(
                    f"c{n}",
                    Operation.UPDATE if known else Operation.CREATE,
                    snapshot.handle,
                    desired=snapshot,
                    base=self.base.get(snapshot.handle),
                    remote=self.remote.get(snapshot.handle),
                )
            )
        return changes

    def remember(self, changes: list[ProductChange], report: RunReport) -> None:
        for outcome in report.outcomes:
            if outcome.ok and outcome.work.kind is WorkKind.PRODUCT_SET and outcome.payload:
                self.remote[outcome.work.handle] = RemoteIds.from_product(
                    outcome.payload["product"]
                )
        succeeded = report.succeeded_changes()
        for change in changes:
            if change.change_id in succeeded and change.desired is not None:
                self.base[change.handle] = change.desired


@dataclass
class Run:
    label: str
    changes: int
    points: float
    requests: int
    seconds: float
    failed: int
    predicted_cost: int
    predicted_seconds: float
    peak_workers: int = 0
    utilization: float = 0.0

    @property
    def cost_bound(self) -> float:
        return self.points / RESTORE_RATE


async def push(
    emulator: EmulatorProcess,
    store: Store,
    desired: list[ProductSnapshot],
    strategy: Strategy,
    workers: tuple[int, int],
    **conditions: Any,
) -> tuple[Run, RunReport]:
    endpoint = StoreEndpoint(emulator.admin_url(), emulator.token)
    async with ShopifyClient(
        endpoint, throttle=CostThrottle(), retry=RetryPolicy(max_attempts=8)
    ) as client:
        locations = await list_locations(client)
        changes = store.changes(desired)
        plan = plan_changes(
            changes, strategy, StoreConditions(locations, latency_seconds=0.1, **conditions)
        )
        before = emulator.counters()
        monitor = SyncPerformanceMonitor(len(changes), *workers)
        runner = PlanRunner(
            client,
            min_workers=workers[0],
            max_workers=workers[1],  # a naive plan runs one step at a time whatever the pool
            pause_seconds=0.25 if strategy is Strategy.NAIVE else 0.0,
            bulk=polling_bulk_runner(QUICK_POLL),
            monitor=monitor,
        )
        started = time.perf_counter()
        report = await runner.run(plan)
        seconds = time.perf_counter() - started
        after = emulator.counters()
    store.remember(changes, report)
    run = Run(
        strategy.value,
        len(changes),
        after["points_spent"] - before["points_spent"],
        after["requests"] - before["requests"],
        seconds,
        len(report.failed_changes()),
        plan.predicted_cost,
        plan.predicted_seconds,
        report.peak_workers,
        monitor.snapshot()["utilization"],
    )
    return run, report


def fresh_store() -> EmulatorProcess:
    token = "shpat_bench"
    return EmulatorProcess(
        "--shop",
        "demo",
        "--access-token",
        token,
        "--plan",
        "standard",
        "--locations",
        ",".join(LOCATIONS),
        "--latency-ms",
        "50-150",
        "--bulk-rows-per-second",
        "2000",
        token=token,
    )


async def measure(
    strategy: Strategy, catalog: list[ProductSnapshot], scale: float, workers: tuple[int, int]
) -> tuple[Run, Run]:
    emulator = fresh_store()
    try:
        store = Store({}, {})
        initial, _ = await push(emulator, store, catalog, Strategy.COST, workers)
        initial.label = "initial load (cost strategy, bulk)"
        delta = daily_delta(catalog, scale, random.Random(7))
        run, _ = await push(emulator, store, delta.desired, strategy, workers)
        return initial, run
    finally:
        emulator.stop()


HEADERS = [
    "run", "changes", "points", "points/change", "fewer points than naive", "requests",
    "wall time", "cost bound", "wall / bound", "predicted (points / time)", "failed",
    "peak workers", "utilisation",
]  # fmt: skip


def row(run: Run, baseline_points_per_change: float | None) -> list[str]:
    per_change = run.points / max(1, run.changes)
    ratio = (
        f"{baseline_points_per_change / per_change:.0f}x"
        if baseline_points_per_change and per_change
        else "1x"
    )
    return [
        run.label,
        f"{run.changes:,}",
        f"{run.points:,.0f}",
        f"{per_change:.2f}",
        ratio,
        f"{run.requests:,}",
        f"{run.seconds:.1f} s",
        f"{run.cost_bound:.1f} s",
        f"{run.seconds / max(run.cost_bound, 0.001):.2f}",
        f"{run.predicted_cost:,} / {run.predicted_seconds:.0f} s",
        str(run.failed),
        str(run.peak_workers),
        f"{run.utilization:.2f}",
    ]


@dataclass
class Setting:
    """What the run was asked to do, for the section's words."""

    products: int
    variants: int
    scale: float
    naive_scale: float
    workers: tuple[int, int]
    repeats: int  # runs of each strategy
    quick: bool


def build_section(setting: Setting, initial: Run, naive: Run, runs: list[Run]) -> Section:
    section = Section(
        "push-strategies", "Push: a day of changes, per strategy", quick=setting.quick
    )
    section.code(
        ".venv/bin/python bench/push_bench.py            # 11,000 products, full daily delta, "
        "naive sample 2%\n"
        ".venv/bin/python bench/push_bench.py --quick    # 1,100 products, a tenth of the delta"
    )
    counts = {name: int(full * setting.scale) for name, full in DELTA.items()}
    section.text(
        "The daily delta of the Client issue on Cowan's catalog"
        + ("" if setting.scale == 1 else f", at scale {setting.scale:g}")
        + f": {counts['stock']:,} stock changes, {counts['price']:,} price changes, "
        f"{counts['content']:,} content edits and {counts['new']:,} new products, over "
        f"{setting.products:,} products ({setting.variants:,} variants, 2 locations). Each "
        "strategy starts from a fresh Standard-plan emulator (2,000-point bucket, 100 "
        "points/s) answering with 50-150 ms of latency, loaded with the same catalog by the "
        "planner itself (the initial load below). Points are what the emulator charged "
        "(actual cost), requests what it received; the cost bound is points / restore rate, "
        "the least time any client could take to spend those points. The naive baseline (three "
        "calls per product, one at a time, a fixed 0.25 s pause, i.e. "
        "RATELIMIT_CALLS_PER_SECOND=4) would need hours for the full delta, so it runs a "
        f"{setting.naive_scale / setting.scale:.0%} sample of the same delta and is compared "
        "per change.",
        "The strategies run on the elastic worker pool "
        f"({setting.workers[0]}..{setting.workers[1]} workers, the production defaults), which "
        "reports its peak size and utilisation (busy time / time in the pool). "
        + (
            "Every figure is a single run: each needs a fresh emulator loaded with the catalog, "
            "and the naive sample alone takes minutes."
            if setting.repeats == 1
            else f"Each strategy's row is the run of median wall time of {setting.repeats} "
            "(each on a fresh emulator); the naive sample is a single run, as it takes minutes."
        ),
        f"Initial load of {initial.changes:,} products (cost strategy: bulk productSet): "
        f"{initial.points:,.0f} points, {initial.requests} requests, "
        f"{seconds(initial.seconds)}, {initial.failed} failed.",
    )
    baseline = naive.points / max(1, naive.changes)
    section.table(HEADERS, [row(naive, None), *(row(run, baseline) for run in runs)])
    section.text("Reading them:")
    section.bullets(reading(naive, runs))
    return section


def reading(naive: Run, runs: list[Run]) -> list[str]:
    """The Client issue's targets and what the runs show, worded from the figures."""
    baseline = naive.points / max(1, naive.changes)
    fewer = [baseline / max(run.points / max(1, run.changes), 1e-9) for run in runs]
    bound = [run.seconds / max(run.cost_bound, 0.001) for run in runs]
    per_change_seconds = naive.seconds / max(1, naive.changes)
    full = max(runs, key=lambda run: run.changes)
    requests = sorted({run.requests for run in runs})
    errors = [abs(run.predicted_cost - run.points) / max(run.points, 1) for run in runs]
    return [
        "Targets of the Client issue: points per change at least 8x lower than naive ("
        + ("met" if min(fewer) >= 8 else "**missed**")
        + f" by {min(fewer):.0f}x to {max(fewer):.0f}x); wall time within 1.2x of the cost "
        "bound ("
        + ("met" if max(bound) <= 1.2 else "**missed**")
        + f": {min(bound):.2f} to {max(bound):.2f}). A ratio below 1 means the run finished "
        "before it could have spent its points at the restore rate: the bucket's 2,000 points "
        "in hand paid for the burst.",
        f"Naive needs about {per_change_seconds:.2f} s and {baseline:.0f} points per changed "
        f"product: {full.changes:,} changes would take about "
        f"{per_change_seconds * full.changes / 3600:.1f} hours and "
        f"{baseline * full.changes:,.0f} points. The planner needs "
        f"{requests[0]}-{requests[-1]} requests for all of them: stock goes 250 quantities to "
        "a call, and price changes and content edits become bulk mutations under `balanced` "
        "and `cost` (and aliased calls under `speed`, which spends more points to skip the bulk "
        "operations' polling).",
        f"The planner's predicted points were within {max(errors):.0%} of the measured points.",
    ]


async def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--products", type=int, default=None, help="11,000 (quick: 1,100)")
    parser.add_argument("--scale", type=float, default=None, help="of the delta: 1 (quick: 0.1)")
    parser.add_argument("--naive-scale", type=float, default=None, help="0.02 (quick: 0.001)")
    parser.add_argument("--strategies", default="speed,balanced,cost")
    parser.add_argument("--min-workers", type=int, default=1)
    parser.add_argument("--max-workers", type=int, default=10)
    args = parser.parse_args()
    products = args.products or (1_100 if args.quick else 11_000)
    scale = args.scale or (0.1 if args.quick else 1.0)
    naive_scale = args.naive_scale or (0.001 if args.quick else 0.02)
    workers = (args.min_workers, args.max_workers)
    repeats = runs_of(args, full=1)
    catalog = [make_product(n, random.Random(n)) for n in range(products)]
    for line in machine():
        write(f"- {line}")
    variants = sum(len(p.variants) for p in catalog)
    write(f"- Catalog: {products:,} products, {variants:,} variants, 2 locations")
    write("- Emulator: Standard plan (2,000 points, 100 points/s), 50-150 ms latency")
    # The same proportions as the full run: 11,000 products carry the scale-1 delta.
    sample = catalog[: int(products * naive_scale / scale)]
    _, naive = await measure(Strategy.NAIVE, sample, naive_scale, workers)
    naive.label = f"naive (sample, {naive_scale / scale:.0%})"
    runs = []
    initial = None
    for name in args.strategies.split(","):
        # With --runs N, the row is the run of median wall time (each on a fresh emulator).
        trials = [await measure(Strategy(name), catalog, scale, workers) for _ in range(repeats)]
        initial, run = sorted(trials, key=lambda trial: trial[1].seconds)[len(trials) // 2]
        runs.append(run)
    assert initial is not None, "--strategies names at least one"
    setting = Setting(products, variants, scale, naive_scale, workers, repeats, args.quick)
    section = build_section(setting, initial, naive, runs)
    write()
    write(section.markdown())
    write(f"saved {section.save(args.out)}")


if __name__ == "__main__":
    asyncio.run(main())
