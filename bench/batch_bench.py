"""Batch operations through the Batch API: an update of tags and price over 10,000 products,
and an export of 100,000 products, downloaded.

    .venv/bin/python bench/batch_bench.py            # 100,000 products, 10,000 updated
    .venv/bin/python bench/batch_bench.py --quick    # 5,000 products, 1,000 updated

The catalog is seeded as `bench/api_load_bench.py` seeds it (the rows an import writes), then
`cowans serve` (`bench/system.py`, its two embedded job workers) runs the batches. The update is
`POST /api/batch/process` with `operation: update`, the selected ids, a tag added and prices
raised 5%; its time runs from the request to the status saying it completed (each product
validated, versioned and its edited fields locked, as a person's edit). The export is the
whole catalog by filter as CSV, timed from the request until the file is downloaded.
"""

import time
from dataclasses import dataclass
from typing import Any

import httpx
from api_load_bench import SECRET_KEY, database, seed_catalog
from common import write
from section import Section, arguments, plot_path, runs_of, save_figure, seconds
from system import System

from cowans.db import migrate
from cowans.db.session import create_db_engine

TARGET_PER_THOUSAND = 2.0  # seconds per 1,000 updated products
TARGET_EXPORT = 30.0  # seconds for the export of 100,000 products (the size)


@dataclass
class UpdateRun:
    seconds: float
    items: int
    succeeded: int

    @property
    def per_thousand(self) -> float:
        return self.seconds / self.items * 1000


@dataclass
class ExportRun:
    seconds: float  # request to downloaded file
    job_seconds: float  # request to completed
    megabytes: float
    rows: int


@dataclass
class DatabaseRun:
    database: str
    products: int
    seed_seconds: float
    updates: list[UpdateRun]
    exports: list[ExportRun]


def wait_batch(system: System, batch_id: int) -> dict[str, Any]:
    while True:
        status = system.api("GET", f"/api/batch/status/{batch_id}")
        if status["state"] in ("completed", "completed_with_errors", "failed", "cancelled"):
            return status
        time.sleep(0.05)


def run_update(system: System, product_ids: list[int], run: int) -> UpdateRun:
    body = {
        "operation": "update",
        "product_ids": product_ids,
        "updates": {"tags": [f"bench-{run}"], "price_adjust_percent": "5"},
    }
    started = time.perf_counter()
    batch = system.api("POST", "/api/batch/process", json=body)
    status = wait_batch(system, batch["batch_id"])
    elapsed = time.perf_counter() - started
    if status["state"] != "completed":
        raise RuntimeError(f"the update batch ended {status['state']}: {status['errors'][:3]}")
    return UpdateRun(elapsed, status["total"], status["succeeded"])


def run_export(system: System) -> ExportRun:
    started = time.perf_counter()
    batch = system.api("POST", "/api/batch/process", json={"operation": "export", "filter": {}})
    status = wait_batch(system, batch["batch_id"])
    job_seconds = time.perf_counter() - started
    if status["state"] != "completed" or not status["result_url"]:
        raise RuntimeError(f"the export ended {status['state']}: {status['error']}")
    size = 0
    lines = 0
    with system.http.stream("GET", status["result_url"]) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")
    return ExportRun(time.perf_counter() - started, job_seconds, size / 2**20, lines - 1)


def seed_products(url: str, products: int) -> float:
    started = time.perf_counter()
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        seed_catalog(engine, products)
    finally:
        engine.dispose()
    return time.perf_counter() - started


def measure_database(kind: str, args: Any) -> DatabaseRun:
    with database(kind) as url:
        write(f"{kind}: seeding {args.products:,} products")
        seed_seconds = seed_products(url, args.products)
        write(f"  seeded in {seed_seconds:.1f} s")
        with System(database_url=url, env={"SECRET_KEY": SECRET_KEY}) as system:
            system.http.timeout = httpx.Timeout(600)
            step = args.products // args.updates
            updates = []
            for run in range(runs_of(args)):
                # A different spread of products each run: none is updated twice.
                ids = list(range(1 + run, args.products + 1, step))[: args.updates]
                updates.append(run_update(system, ids, run))
                write(f"  update of {len(ids):,}: {updates[-1].seconds:.2f} s")
            exports = []
            for _ in range(runs_of(args, full=1)):
                exports.append(run_export(system))
                write(f"  export: {exports[-1].seconds:.2f} s, {exports[-1].megabytes:.0f} MB")
    return DatabaseRun(kind, args.products, seed_seconds, updates, exports)


def build_section(runs: list[DatabaseRun], args: Any) -> Section:
    section = Section("batch", "Batch operations: an update of 10,000 products, an export")
    section.quick = args.quick
    section.code(".venv/bin/python bench/batch_bench.py [--quick]")
    section.bullets(
        [
            f"{args.products:,} products seeded as an import writes them, on "
            + " and ".join(f"{run.database} ({run.seed_seconds:.0f} s to seed)" for run in runs)
            + "; `cowans serve` with its two embedded job workers.",
            f"Update: `POST /api/batch/process` over {args.updates:,} product ids spread over the "
            "catalog, adding a tag and raising prices 5%, timed from the request until the "
            "batch's status says completed. Each product is a person's edit: checked, a new "
            "version with its diff, the edited fields locked against the feeds.",
            "Export: the whole catalog (`filter: {}`) as CSV, timed from the request until the "
            "file is downloaded.",
            f"Medians of {runs_of(args)} update runs (different products each run) and "
            f"{runs_of(args, full=1)} export run (one export is already the whole catalog).",
        ]
    )
    rows = []
    for run in runs:
        update = _median([u.seconds for u in run.updates])
        items = run.updates[0].items
        export = _median([e.seconds for e in run.exports])
        rows.append(
            [
                run.database,
                f"{items:,}",
                seconds(update),
                f"{update / items * 1000:.2f} s",
                f"{items / update:,.0f}",
                f"{run.products:,}",
                seconds(export),
                seconds(_median([e.job_seconds for e in run.exports])),
                f"{run.exports[0].megabytes:,.0f} MB",
                f"{run.products / export:,.0f}",
            ]
        )
    section.table(
        [
            "database",
            "updated",
            "update",
            "per 1,000",
            "products/s",
            "exported",
            "export + download",
            "of which the job",
            "file",
            "products/s",
        ],
        rows,
    )
    section.image(_plot(runs, args), "Seconds per 1,000 updated products and export time")
    for run in runs:
        per_thousand = _median([u.per_thousand for u in run.updates])
        export = _median([e.seconds for e in run.exports])
        section.target(
            "6. Batch operations",
            f"{run.database}: update under 2 s per 1,000 products",
            f"{per_thousand:.2f} s per 1,000 ({run.updates[0].items:,} products)",
            per_thousand < TARGET_PER_THOUSAND,
        )
        scaled = export * 100_000 / run.products
        section.target(
            "6. Batch operations",
            f"{run.database}: export of 100,000 products under 30 s",
            f"{seconds(export)} for {run.products:,}"
            + (
                ""
                if run.products == 100_000
                else f" (~{seconds(scaled)} scaled to 100,000, a job's start-up included)"
            ),
            scaled < TARGET_EXPORT,
        )
        section.text(
            f"{run.database}: {per_thousand:.2f} s per 1,000 updated products "
            f"({per_thousand / TARGET_PER_THOUSAND:.0%} of the 2 s budget); the export writes "
            f"{export / run.products * 1000:.2f} ms per product, {scaled / TARGET_EXPORT:.0%} "
            "of the 30 s budget at 100,000 products."
        )
    return section


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _plot(runs: list[DatabaseRun], args: Any) -> Any:
    path = plot_path(args.out, "batch")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4))
    left, right = figure.subplots(1, 2)
    names = [run.database for run in runs]
    left.bar(names, [_median([u.per_thousand for u in run.updates]) for run in runs])
    left.axhline(TARGET_PER_THOUSAND, color="red", linestyle="--", label="target 2 s")
    left.set_ylabel("seconds per 1,000 products")
    left.set_title(f"Update of {args.updates:,} products")
    left.legend()
    right.bar(names, [_median([e.seconds for e in run.exports]) for run in runs])
    right.axhline(
        TARGET_EXPORT * args.products / 100_000, color="red", linestyle="--", label="target"
    )
    right.set_ylabel("seconds, request to downloaded file")
    right.set_title(f"Export of {args.products:,} products (CSV)")
    right.legend()
    save_figure(figure, path, dpi=110)
    return path


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--products", type=int, default=None)
    parser.add_argument("--updates", type=int, default=None)
    parser.add_argument("--databases", default="SQLite,PostgreSQL")
    args = parser.parse_args()
    args.products = args.products or (5_000 if args.quick else 100_000)
    args.updates = args.updates or (1_000 if args.quick else 10_000)
    runs = [measure_database(kind, args) for kind in args.databases.split(",")]
    section = build_section(runs, args)
    section.save(args.out)
    for target in section.targets:
        write(f"{'met' if target.met else 'MISSED'}: {target.target}: {target.measured}")


if __name__ == "__main__":
    main()
