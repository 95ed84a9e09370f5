"""Daily delta: the next day's feeds on a loaded store, imported, staged, approved by the store's
rules and pushed.

    .venv/bin/python bench/daily_delta_bench.py [--quick] [--products 25000] [--days 3]

Setup (not timed against the target): the initial-load scenario's pipeline loads the catalog
(`initial_load_bench`: generated feeds, the whole system on SQLite, a Standard-plan emulator with
50-150 ms latency) and pushes it. Then, day after day, the feeds change as a supplier's do
overnight (deterministically, seeded by the day): 10% of Xorosoft items get a new price (+1% to
+8%), 40% a new stock figure at one of their locations, and 2% of Etilize products a new
description. Each day both feeds are imported again, staged, approved by the store's rules
(stock only; price within 10%: creates, deletes and content edits always wait for a person, who
approves the content edits here in one request) and pushed with the default strategy.

The naive baseline takes a sample of that day's approved changes (read with the push job's own
`approved_changes`), puts their products as they were into a second shop of the same emulator,
and sends the changes there one call at a time, as `initial_load_bench` explains; it is compared
per change.
"""

import asyncio
import csv
import io
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from common import EmulatorProcess, write
from initial_load_bench import (
    BULK_ROWS_PER_SECOND,
    NAIVE_PAUSE,
    RESTORE_RATE,
    NaiveRun,
    NaiveShop,
    Pipeline,
    PushRun,
    load_catalog,
    sample,
    start_emulator,
    start_system,
    with_remote_ids,
    write_feeds,
)
from section import Section, arguments, plot_path, runs_of, save_figure, seconds

from cowans.sync.changes import Operation, ProductChange
from cowans.sync.planner import Strategy

PRICE_SHARE, STOCK_SHARE, CONTENT_SHARE = 0.10, 0.40, 0.02
RULES = [{"kind": "stock_only"}, {"kind": "price_within_percent", "percent": 10}]


# The next day's feeds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedChanges:
    prices: int  # Xorosoft items
    stock: int  # Xorosoft items
    content: int  # Etilize products


def next_day(etilize: Path, xorosoft: Path, day: int) -> FeedChanges:
    """Rewrite both feeds in place as the next day's: the same seed, the same changes."""
    rng = random.Random(1_000 + day)
    prices, stock = _change_xorosoft(xorosoft, rng)
    content = _change_etilize(etilize, rng)
    return FeedChanges(prices, stock, content)


def _change_xorosoft(path: Path, rng: random.Random) -> tuple[int, int]:
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    item, price, quantity = (
        header.index(name) for name in ("ItemNumber", "UnitPrice", "QuantityOnHand")
    )
    rows_of: dict[str, list[list[str]]] = {}
    for row in body:
        rows_of.setdefault(row[item], []).append(row)
    items = list(rows_of)
    for number in rng.sample(items, round(PRICE_SHARE * len(items))):
        new = f"{float(rows_of[number][0][price]) * (1 + rng.uniform(0.01, 0.08)):.2f}"
        for row in rows_of[number]:
            row[price] = new
    for number in rng.sample(items, round(STOCK_SHARE * len(items))):
        row = rng.choice(rows_of[number])
        row[quantity] = str(int(row[quantity]) + rng.randint(1, 40))
    _write_csv(path, [header, *body], "utf-8-sig")
    return round(PRICE_SHARE * len(items)), round(STOCK_SHARE * len(items))


def _change_etilize(path: Path, rng: random.Random) -> int:
    with path.open(encoding="cp1252", newline="") as feed:
        rows = list(csv.reader(feed))
    header = rows[0]
    title, description = header.index("Title"), header.index("Description")
    main_rows = [row for row in rows[1:] if row[title]]
    chosen = rng.sample(main_rows, round(CONTENT_SHARE * len(main_rows)))
    for row in chosen:
        row[description] += f" <p>Revised {rng.randrange(10**6)}.</p>"
    _write_csv(path, rows, "cp1252")
    return len(chosen)


def _write_csv(path: Path, rows: list[list[str]], encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as out:
        csv.writer(out).writerows(rows)


# The naive baseline on updates ----------------------------------------------------------------


def naive_updates(emulator: EmulatorProcess, changes: list[ProductChange]) -> NaiveRun:
    """The products as they were (the changes' bases) are put in the naive shop first, untimed,
    as our store had them; then the changes are sent the naive way."""

    async def go() -> NaiveRun:
        async with NaiveShop(emulator) as shop:
            bases = [
                ProductChange(c.change_id, Operation.CREATE, c.handle, desired=c.base)
                for c in changes
            ]
            _, created = await shop.run(bases, Strategy.COST, 0.0)
            there = with_remote_ids(changes, created)
            run, _ = await shop.run(there, Strategy.NAIVE, NAIVE_PAUSE)
            return run

    return asyncio.run(go())


# A day ------------------------------------------------------------------------------------------


@dataclass
class Day:
    number: int
    feed: FeedChanges
    staged: dict[str, Any]
    approved_by_person: int
    kinds: dict[str, int]
    stages: dict[str, float]
    push: PushRun
    naive: NaiveRun | None
    end_to_end: float

    @property
    def plan_bound(self) -> float:
        """The planner's plan at the restore rate: its points, predicted before the push."""
        return self.push.predicted_cost / RESTORE_RATE


def kinds_of(changes: list[ProductChange]) -> dict[str, int]:
    """What the approved changes touch, as a reviewer would name them (one change may touch
    several)."""
    counted: Counter[str] = Counter()
    for change in changes:
        if change.operation is not Operation.UPDATE or change.base is None:
            counted[change.operation.value] += 1
            continue
        assert change.desired is not None
        pairs = list(zip(change.base.variants, change.desired.variants, strict=False))
        counted["stock"] += any(old.inventory != new.inventory for old, new in pairs)
        counted["price"] += any(old.price != new.price for old, new in pairs)
        counted["content"] += replace(change.base, variants=()) != replace(
            change.desired, variants=()
        )
    return dict(counted)


def run_day(pipeline: Pipeline, feeds: tuple[Path, Path], day: int, naive_count: int) -> Day:
    """One day end to end. The naive sample runs between approval and push, outside the timed
    stages, and its own time is taken out of the end-to-end figure."""
    etilize, xorosoft = feeds
    feed = next_day(etilize, xorosoft, day)
    pipeline.stages.clear()
    started = time.perf_counter()
    pipeline.import_feeds(etilize, xorosoft)
    staged = pipeline.stage()
    by_person = pipeline.approve_pending("approve the rest")
    changes = pipeline.approved_changes()
    paused = time.perf_counter()
    chosen = sample(changes, naive_count, seed=day)
    naive = naive_updates(pipeline.emulator, chosen) if chosen else None
    started += time.perf_counter() - paused
    push = pipeline.push()
    end_to_end = time.perf_counter() - started
    return Day(day, feed, staged, by_person, kinds_of(changes), dict(pipeline.stages), push,
               naive, end_to_end)  # fmt: skip


@dataclass
class Setup:
    products: int
    stages: dict[str, float]
    push: PushRun


def measure(products: int, days: int, naive_count: int, folder: Path) -> tuple[Setup, list[Day]]:
    feeds = write_feeds(folder, products)
    emulator = start_emulator()
    try:
        with start_system() as system:
            pipeline = Pipeline.connect(system, emulator)
            load_catalog(pipeline, *feeds)
            initial = pipeline.push()
            setup = Setup(products, dict(pipeline.stages), initial)
            write(f"  setup: {setup.stages}")
            rules = {"rules": RULES}
            system.api("PUT", f"/api/shopify/stores/{pipeline.store_id}/approval-rules", json=rules)
            results = []
            for day in range(1, days + 1):
                results.append(run_day(pipeline, feeds, day, naive_count if day == 1 else 0))
                last = results[-1]
                write(f"  day {day}: {last.stages}, push phases {last.push.phases}, "
                      f"{last.push.points:,.0f} points")  # fmt: skip
            return setup, results
    finally:
        emulator.stop()


# The section ------------------------------------------------------------------------------------


def _median(days: list[Day], value: Callable[[Day], float]) -> float:
    return statistics.median(value(day) for day in days)


def report(section: Section, setup: Setup, days: list[Day], folder: Path, quick: bool) -> None:
    day = sorted(days, key=lambda d: d.push.seconds)[len(days) // 2]  # the median push's day
    push = day.push
    naive = next(d.naive for d in days if d.naive is not None)
    section.text(
        f"The store holds Cowan's catalog of {setup.products:,} generated products, loaded as in "
        "the initial load (setup, not timed against the target: "
        f"{seconds(sum(setup.stages.values()))}). The next day's feeds change: "
        f"{day.feed.prices:,} Xorosoft items get a new price (+1% to +8%), {day.feed.stock:,} "
        f"new stock at one of their locations, {day.feed.content:,} Etilize products a new "
        "description. Both feeds are imported again, the catalog staged, and the store's approval "
        "rules (`PUT /api/shopify/stores/{id}/approval-rules`: `stock_only` and "
        "`price_within_percent` 10) approve the stock and price updates as they are staged (a "
        "product whose stock and price both moved by the two rules together); "
        "content edits always wait for a person, who approves them in one request. Then the "
        "push (default strategy). The whole system on SQLite, a Standard-plan emulator "
        f"(2,000-point bucket, 100 points/s, 50-150 ms latency, bulk at {BULK_ROWS_PER_SECOND} "
        "rows/s)."
    )
    section.code(f"python bench/daily_delta_bench.py{' --quick' if quick else ''}")
    how_many = f"medians of {len(days)} successive days" if len(days) > 1 else "one day (one run)"
    section.text(
        f"Figures: {how_many}. The naive baseline takes a random sample of the first day's "
        f"approved changes ({naive.changes:,}), puts those products as they were into a second "
        "shop of the same emulator (untimed), and sends the changes there one call at a time "
        f"{NAIVE_PAUSE} s apart, through the same planner, runner and client; it is compared "
        "per change."
    )
    kinds = day.kinds
    section.table(
        ["the day's delta", "products"],
        [
            ["staged updates", f"{day.staged['staged']:,}"],
            ["approved by the rules as staged", f"{day.staged['auto_approved']:,}"],
            ["approved by a person (content edits)", f"{day.approved_by_person:,}"],
            ["approved changes moving stock", f"{kinds.get('stock', 0):,}"],
            ["approved changes moving a price", f"{kinds.get('price', 0):,}"],
            ["approved changes editing content", f"{kinds.get('content', 0):,}"],
        ],
    )
    stage_names = list(day.stages)
    section.table(
        ["stage", "wall time"],
        [[name, seconds(_median(days, lambda d, n=name: d.stages[n]))] for name in stage_names]
        + [["end to end (imports to pushed)", seconds(_median(days, lambda d: d.end_to_end))]],
    )
    phases = push.phases
    per_change = push.seconds / max(1, push.changes)
    naive_per_change = naive.per_change(naive.seconds)
    faster = naive_per_change / per_change
    bound = push.time_bound
    section.table(
        ["push", "changes", "points", "requests", "bulk operations", "wall time", "s/change",
         "time bound", "wall / bound"],
        [
            ["ours", f"{push.changes:,}", f"{push.points:,.0f}", f"{push.requests:,}",
             f"{push.bulk_runs} ({seconds(push.bulk_seconds)})", seconds(push.seconds),
             f"{per_change:.4f}", seconds(bound), f"{push.seconds / bound:.2f}"],
            [f"naive, sample of {naive.changes:,}", f"{naive.changes:,}", f"{naive.points:,.0f}",
             f"{naive.requests:,}", "0", seconds(naive.seconds), f"{naive_per_change:.3f}",
             seconds(naive.points / RESTORE_RATE),
             f"{naive.seconds * RESTORE_RATE / max(naive.points, 1):.1f}"],
            [f"naive, projected to {push.changes:,}", f"{push.changes:,}",
             f"{naive.per_change(naive.points) * push.changes:,.0f}",
             f"{naive.per_change(naive.requests) * push.changes:,.0f}", "0",
             seconds(naive_per_change * push.changes), f"{naive_per_change:.3f}",
             seconds(naive.per_change(naive.points) * push.changes / RESTORE_RATE), ""],
        ],
    )  # fmt: skip
    checking, pushing = phases.get("checking", 0.0), phases.get("pushing", 0.0)
    overhead = push.seconds - bound
    plan = ", ".join(
        f"{kind['kind']} {kind['works']:,} in {kind['steps']} "
        f"{'bulk operation' if kind['bulk'] else 'requests'}"
        for kind in push.by_kind
    )
    section.text(
        "What is compared: the push's wall time (from `POST /api/sync/start` to the job's end, "
        "what a person waits for) against the least time its requests can take on this store: "
        f"the bucket's time for the points the emulator charged ({push.points:,.0f} points at "
        f"100 points/s: {seconds(push.cost_bound)}) plus Shopify's own time running the push's "
        f"{push.bulk_runs} bulk operations, created to completed ({seconds(push.bulk_seconds)}). "
        "A bulk operation costs about ten points whatever its size, so the points alone bound "
        "nothing: its time is Shopify writing or reading the file (here the emulator's "
        f"{BULK_ROWS_PER_SECOND} rows/s), which no client shortens. The push's bulk operations "
        "are the export read before sending (the price and content changes are checked for "
        "edits made in Shopify; stock-only updates are not, Shopify compares their stock "
        "itself) and the plan's bulk mutations, one after the other. The planner's plan for "
        f"the day ({plan}) was predicted at {push.predicted_cost:,} points "
        f"(`POST /api/sync/plan`) and {push.predicted_seconds:.1f} s with its bulk operations. "
        f"Of the push's {seconds(push.seconds)}, {seconds(checking)} went on the check and "
        f"{seconds(pushing)} on sending the plan; {seconds(max(0.0, overhead))} is ours "
        "(queueing, claiming the changes, polling, writing outcomes)."
    )
    path = plot_path(folder, "daily-delta")
    _plot(path, day, push.changes, naive_per_change)
    section.image(path, "Daily delta: time per stage, and seconds per change, ours vs naive")
    section.target(
        "Daily delta",
        "push wall time within 1.2x of the cost bound of the optimal plan",
        f"{seconds(push.seconds)} vs a bound of {seconds(bound)} ({push.points:,.0f} points "
        f"and {seconds(push.bulk_seconds)} of Shopify running {push.bulk_runs} bulk "
        f"operations): {push.seconds / bound:.2f}x",
        push.seconds <= 1.2 * bound,
    )
    section.target(
        "Daily delta",
        "at least 8x faster than naive (per change, same run)",
        f"{faster:,.0f}x ({per_change * 1000:.1f} ms vs {naive_per_change * 1000:.0f} ms per "
        "change)",
        faster >= 8,
    )


def _plot(path: Path, day: Day, changes: int, naive_per_change: float) -> None:
    from matplotlib.figure import Figure

    stages = {name: value for name, value in day.stages.items() if name != "push"}
    phases = day.push.phases
    stages["push: check"] = phases.get("checking", 0.0)
    stages["push: send"] = phases.get("pushing", 0.0)
    stages["push: other"] = max(
        0.0, day.push.seconds - stages["push: check"] - stages["push: send"]
    )
    figure = Figure(figsize=(11, 4))
    left, right = figure.subplots(1, 2)
    names = list(stages)
    left.barh(names[::-1], [stages[n] for n in names][::-1], color="#4C72B0")
    left.set_xlabel("seconds")
    left.set_title(f"A day's delta ({changes:,} changes): time per stage")
    values = [day.push.seconds / max(1, changes), naive_per_change]
    right.bar(["ours", "naive (sample)"], values, color=["#55A868", "#C44E52"])
    right.set_yscale("log")
    right.set_ylabel("push seconds per change (log scale)")
    right.set_title("Push time per change")
    for x, value in enumerate(values):
        right.annotate(f"{value * 1000:,.1f} ms", (x, value), ha="center", va="bottom")
    save_figure(figure, path, dpi=100)


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--products", type=int, default=None)
    parser.add_argument("--days", type=int, default=None, help="successive days (runs)")
    parser.add_argument("--naive-changes", type=int, default=None, help="the naive sample")
    args = parser.parse_args()
    products = args.products or (1_000 if args.quick else 25_000)
    # A full day takes minutes on top of a setup of minutes: one day unless asked.
    days = args.days or runs_of(args, full=1)
    naive_changes = args.naive_changes or (20 if args.quick else 100)
    section = Section("daily-delta", "Daily delta", quick=args.quick)
    with tempfile.TemporaryDirectory(prefix="daily-delta-") as folder:
        setup, results = measure(products, days, naive_changes, Path(folder))
    report(section, setup, results, args.out, args.quick)
    write(f"saved {section.save(args.out)}")


if __name__ == "__main__":
    main()
