"""Scale: the whole pipeline at 25,000, 100,000 and 250,000 products, time and memory per stage.

    .venv/bin/python bench/scale_bench.py            # 25,000, 100,000 and 250,000 products
    .venv/bin/python bench/scale_bench.py --quick    # 1,500 and 4,000 products
    .venv/bin/python bench/scale_bench.py --sizes 10000,50000
    .venv/bin/python bench/scale_bench.py --sizes 20000 --memray /tmp/profiles

`--memray DIR` runs the server under memray (`DIR/scale-<size>.bin`; read the stage with the
highest peak with `memray flamegraph` or `memray stats`): a profile of where the memory goes,
whose times are not figures (memray slows the server down), so do not commit its section.

For each catalog size a fresh `cowans serve` (SQLite, two in-process job workers) and a fresh,
empty Shopify emulator run the pipeline as a user would, over HTTP: the Xorosoft export and the
Etilize feed (`cowans.sources.feedgen`, seed 1) are uploaded and imported, the catalog is staged
against the empty store, every staged change is approved, and the approved changes are pushed
with the default strategy. Each stage is timed from its request to its end (a job's end for the
imports and the push) and reports the server's peak RSS during it (VmHWM, reset before each
stage). Every size runs once: at these sizes one run takes minutes, and the figures are read as
a trend across sizes (does time per product stay flat, does memory stay bounded).

The server may use at most a share of the memory available when the run starts (its address
space is capped): a stage that holds the whole catalog in memory then fails with its own
MemoryError instead of waking the kernel's OOM killer on a shared machine; and a job may take
at most --stage-timeout seconds (1800). A failed stage is reported as failed, and the size's later
stages are skipped.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import EmulatorProcess, write
from section import Section, arguments, megabytes, plot_path, save_figure, seconds
from system import System

from cowans.sources.feedgen import generate_feeds

FULL_SIZES = (25_000, 100_000, 250_000)
QUICK_SIZES = (1_500, 4_000)
SEED = 1
SHOP, TOKEN = "scale", "shpat_scale"
# Every stock location of the generated Xorosoft export exists in the store under its own name.
LOCATIONS = "MAIN,WEST,EAST"
STAGES = ("xorosoft import", "etilize import", "staging", "approval", "push")
RSS_TARGET_BYTES = 400 * 2**20
# Linear time: the time per product of the largest catalog at most this multiple of the smallest.
LINEAR_TOLERANCE = 1.25
# The server's address space, as a share of the memory available when the run starts.
MEMORY_SHARE = 0.6
# How long an import or push job may take before its stage is given up (--stage-timeout).
STAGE_TIMEOUT = 1800


@dataclass
class SizeRun:
    """One catalog size through the pipeline: per stage its seconds and the server's peak RSS."""

    products: int
    etilize_rows: int = 0
    feed_bytes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    peak_rss: dict[str, int] = field(default_factory=dict)
    rss_after: dict[str, int] = field(default_factory=dict)  # what the stage left resident
    failed: dict[str, str] = field(default_factory=dict)
    startup_peak: int = 0
    idle_rss: int = 0
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def per_product_ms(self, stage: str | None = None) -> float:
        spent = self.total_seconds if stage is None else self.seconds[stage]
        return spent / self.products * 1000


# Running ----------------------------------------------------------------------------------------


def proc_status(pid: int, key: str) -> int:
    """A /proc status figure in bytes (VmRSS, VmHWM, ...)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/{pid}/status")


def memory_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def cap_memory(system: System, limit: int) -> None:
    resource.prlimit(system.server.pid, resource.RLIMIT_AS, (limit, limit))


def write_feeds(products: int, folder: Path) -> tuple[Path, Path, int]:
    etilize, xorosoft = folder / "etilize.csv", folder / "xorosoft.csv"
    with etilize.open("wb") as etilize_out, xorosoft.open("wb") as xorosoft_out:
        generated = generate_feeds(products, SEED, etilize_out, xorosoft_out)
    return etilize, xorosoft, generated.etilize_rows


class Stage:
    """Times one stage and reads the server's peak RSS over it; a failure is recorded and
    stops the size's pipeline (the exception is swallowed by `run_pipeline`)."""

    def __init__(self, system: System, run: SizeRun, name: str) -> None:
        self.system, self.run, self.name = system, run, name

    def __enter__(self) -> "Stage":
        self.system.reset_peak_rss()
        self.started = time.perf_counter()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: object
    ) -> None:
        elapsed = time.perf_counter() - self.started
        if self.system.server.poll() is None:
            self.run.peak_rss[self.name] = self.system.peak_rss()
            self.run.rss_after[self.name] = proc_status(self.system.server.pid, "VmRSS")
        if error is not None:
            self.run.failed[self.name] = f"{kind.__name__ if kind else 'error'}: {error}"[:300]
            write(f"  {self.name}: FAILED after {seconds(elapsed)}: {self.run.failed[self.name]}")
            return
        self.run.seconds[self.name] = elapsed
        write(
            f"  {self.name}: {seconds(elapsed)}, peak RSS {megabytes(self.run.peak_rss[self.name])}"
        )


def upload_import(system: System, kind: str, path: Path, timeout: float) -> dict[str, Any]:
    with path.open("rb") as stream:
        started = system.api(
            "POST", f"/api/imports/{kind}", files={"file": (path.name, stream, "text/csv")}
        )
    system.wait_job(started["job_id"], timeout=timeout)
    record = system.api("GET", f"/api/imports/{started['import_id']}")
    if record["state"] != "completed":
        raise RuntimeError(f"{kind} import {record['state']}: {record['error']}")
    return record


def run_size(
    products: int, folder: Path, memory_limit: int, timeout: float, memray: Path | None = None
) -> SizeRun:
    run = SizeRun(products)
    started = time.perf_counter()
    etilize, xorosoft, run.etilize_rows = write_feeds(products, folder)
    run.feed_bytes = etilize.stat().st_size
    write(f"{products:,} products: feeds written in {time.perf_counter() - started:.1f} s")
    emulator = EmulatorProcess(
        "--shop", SHOP, "--access-token", TOKEN, "--plan", "plus", "--locations", LOCATIONS,
        token=TOKEN,
    )  # fmt: skip
    try:
        # Staging after imports off: staging is timed as a stage of its own.
        launcher: tuple[str, ...] = ()
        if memray is not None:
            profile = memray / f"scale-{products}.bin"
            profile.unlink(missing_ok=True)
            memray_command = str(Path(sys.executable).parent / "memray")
            launcher = (memray_command, "run", "-q", "-o", str(profile))
            write(f"  memory profile: {profile}")
        with System(env={"STAGE_AFTER_IMPORT": "false"}, launcher=launcher) as system:
            pid = system.server.pid
            run.startup_peak, run.idle_rss = proc_status(pid, "VmHWM"), proc_status(pid, "VmRSS")
            cap_memory(system, memory_limit)
            store = system.connect_store(emulator, SHOP)
            run_pipeline(system, run, (etilize, xorosoft), store["id"], timeout)
    finally:
        emulator.stop()
    return run


def run_pipeline(
    system: System, run: SizeRun, feeds: tuple[Path, Path], store: int, timeout: float
) -> None:
    etilize, xorosoft = feeds
    try:
        with Stage(system, run, "xorosoft import"):
            run.counts["xorosoft"] = upload_import(system, "xorosoft", xorosoft, timeout)
        with Stage(system, run, "etilize import"):
            run.counts["etilize"] = upload_import(system, "etilize", etilize, timeout)
        with Stage(system, run, "staging"):
            body = {"store_id": store}
            run.counts["staged"] = system.api("POST", "/api/sync/staged", json=body)
        with Stage(system, run, "approval"):
            body = {"decision": "approve", "all_pending": True, "store_id": store}
            run.counts["approved"] = system.api(
                "POST", "/api/enhanced-sync/approve-changes", json=body
            )
        with Stage(system, run, "push"):
            job = system.api("POST", "/api/sync/start", json={"store_id": store})
            run.counts["push"] = system.wait_job(job["job_id"], timeout=timeout)
    except Exception:  # recorded by Stage; the other sizes still run
        return


# Where an idle server's memory goes, measured in a child that imports what `cowans serve` does,
# piece by piece, then hashes a password as a sign-in does.
IDLE_BREAKDOWN = """
import json, sys
from pathlib import Path
def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
steps, last = [], rss()
steps.append(["the interpreter", last])
for label, modules in json.loads(sys.argv[1]):
    for module in modules:
        __import__(module)
    now = rss()
    steps.append([label, now - last])
    last = now
from argon2 import PasswordHasher
PasswordHasher().hash("a password")
peak = [int(l.split()[1]) * 1024 for l in Path("/proc/self/status").read_text().splitlines()
        if l.startswith("VmHWM:")][0]
steps.append(["Argon2id: one password hashed or checked (transient)", peak - last])
print(json.dumps(steps))
"""
IMPORT_STEPS = (
    ("SQLAlchemy, FastAPI, pydantic", ("sqlalchemy", "sqlalchemy.orm", "fastapi", "pydantic")),
    ("the models (with cryptography)", ("cowans.db.models",)),
    ("pyarrow (the feed readers' column parsing)", ("pyarrow", "pyarrow.compute", "pyarrow.csv")),
    ("redis (the distributed queue and events)", ("redis", "redis.asyncio")),
    ("openpyxl (Excel exports)", ("openpyxl",)),
    ("huey, httpx, graphql", ("huey", "httpx", "graphql")),
    ("the rest of the application", ("cowans.api.app", "uvicorn")),
)


def idle_breakdown() -> list[tuple[str, int]]:
    done = subprocess.run(
        [sys.executable, "-c", IDLE_BREAKDOWN, json.dumps(IMPORT_STEPS)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [(label, size) for label, size in json.loads(done.stdout)]


# Reporting --------------------------------------------------------------------------------------


def plot(runs: list[SizeRun], folder: Path) -> Path:
    path = plot_path(folder, "scale")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(12, 4.5))
    times, memory = figure.subplots(1, 2)
    for stage in STAGES:
        timed = [run for run in runs if stage in run.seconds]
        times.plot(
            [r.products for r in timed], [r.seconds[stage] for r in timed], marker="o", label=stage
        )
        measured = [run for run in runs if stage in run.peak_rss]
        memory.plot(
            [r.products for r in measured],
            [r.peak_rss[stage] / 2**20 for r in measured],
            marker="o",
            label=stage,
        )
    complete = [run for run in runs if run.complete]
    times.plot(
        [r.products for r in complete],
        [r.total_seconds for r in complete],
        marker="s",
        color="black",
        label="all stages",
    )
    memory.axhline(RSS_TARGET_BYTES / 2**20, color="red", linestyle="--", label="target 400 MB")
    times.set(xlabel="products", ylabel="seconds", title="Time per stage")
    memory.set(xlabel="products", ylabel="MB", title="Server peak RSS per stage")
    highest = max((max(run.peak_rss.values(), default=0) for run in runs), default=0)
    if highest > 4 * RSS_TARGET_BYTES:  # a stage that holds the catalog: gigabytes
        memory.set_yscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:,.0f}")
        memory.yaxis.set_major_formatter(plain)
        memory.yaxis.set_minor_formatter(plain)
    for axes in (times, memory):
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    save_figure(figure, path, dpi=110)
    return path


def report(
    runs: list[SizeRun], idle: list[tuple[str, int]], args: argparse.Namespace, wall: float
) -> Section:
    section = Section("scale", "Scale: 100,000 and 250,000 products", quick=args.quick)
    section.code(
        ".venv/bin/python bench/scale_bench.py            # 25,000, 100,000 and 250,000 products\n"
        ".venv/bin/python bench/scale_bench.py --quick    # 1,500 and 4,000 products"
    )
    section.text(
        "Per catalog size, a fresh `cowans serve` (SQLite, two in-process job workers; staging "
        "after imports off, so that each stage is timed alone) and a fresh, empty Plus-plan "
        "Shopify emulator with the feed's three locations, no added latency. The Xorosoft export "
        "and the Etilize feed (`cowans.sources.feedgen`, seed 1, about three rows a product) are "
        "uploaded and imported, the catalog is staged (`POST /api/sync/staged`), every change "
        "approved (`POST /api/enhanced-sync/approve-changes`, all pending) and pushed with the "
        "default strategy (`POST /api/sync/start`). A stage is timed from its request to its end "
        "(the job's, for the imports and the push); its memory is the server's peak RSS during "
        "it (VmHWM, reset before each stage). **Each size ran once**: one run takes minutes, and "
        "the figures are read as a trend across sizes. The server's address space was capped at "
        f"{MEMORY_SHARE:.0%} of the memory available at the start, so that a stage holding the "
        "whole catalog fails by itself instead of the machine, and a job could take at most "
        f"{args.stage_timeout:.0f} s. Whole run: {wall:.0f} s.",
    )
    _time_table(section, runs)
    _memory_table(section, runs)
    _outcome_table(section, runs)
    section.image(plot(runs, args.out), "time and peak RSS per stage against catalog size")
    _idle_text(section, runs, idle)
    _targets(section, runs)
    return section


def _headers(runs: list[SizeRun]) -> list[str]:
    return ["stage", *(f"{run.products:,} products" for run in runs)]


def _stage_time(run: SizeRun, stage: str) -> str:
    if stage in run.failed:
        return "**failed**"
    if stage not in run.seconds:
        return "not run"
    return f"{seconds(run.seconds[stage])} ({run.per_product_ms(stage):.2f} ms/product)"


def _total_time(run: SizeRun) -> str:
    if not run.complete:
        return "incomplete"
    return f"**{seconds(run.total_seconds)}** ({run.per_product_ms():.2f} ms/product)"


def _growth(runs: list[SizeRun], stage: str | None) -> str:
    """Time per product of the largest complete size over that of the smallest."""
    timed = [run for run in runs if (run.complete if stage is None else stage in run.seconds)]
    if len(timed) < 2:
        return "-"
    return f"{timed[-1].per_product_ms(stage) / timed[0].per_product_ms(stage):.2f}x"


def _time_table(section: Section, runs: list[SizeRun]) -> None:
    rows = [
        [stage, *(_stage_time(run, stage) for run in runs), _growth(runs, stage)]
        for stage in STAGES
    ]
    rows.append(["**all stages**", *(_total_time(run) for run in runs), _growth(runs, None)])
    section.text(
        "Time per stage (and per product of the feed); the last column is the time per product "
        "of the largest size over that of the smallest (1.00x: linear):"
    )
    section.table([*_headers(runs), "per product, largest / smallest"], rows)
    failures = [
        f"{run.products:,} products, {stage}: {error}"
        for run in runs
        for stage, error in run.failed.items()
    ]
    if failures:
        section.text("Failed stages:")
        section.bullets(failures)


def _stage_memory(run: SizeRun, stage: str) -> str:
    if stage not in run.peak_rss:
        return "not run"
    return f"{megabytes(run.peak_rss[stage])} ({megabytes(run.rss_after[stage])})"


def _memory_table(section: Section, runs: list[SizeRun]) -> None:
    rows = [[stage, *(_stage_memory(run, stage) for run in runs)] for stage in STAGES]
    rows.append(["start-up, sign-in included (peak)", *(megabytes(r.startup_peak) for r in runs)])
    rows.append(["idle after start-up", *(megabytes(run.idle_rss) for run in runs)])
    section.text(
        "Server peak RSS per stage, and in brackets its RSS when the stage ended. A stage's peak "
        "starts from what the stages before it left resident (memory Python and the allocators "
        "keep for reuse rather than give back), so a flat stage shows its predecessor's figure:"
    )
    section.table(_headers(runs), rows)


def _count(run: SizeRun, *path: str) -> str:
    value: Any = run.counts
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return "-"
        value = value[key]
    return f"{value:,}"


def _outcome_table(section: Section, runs: list[SizeRun]) -> None:
    rows = [
        ["Etilize data rows", *(f"{run.etilize_rows:,}" for run in runs)],
        ["Etilize feed", *(megabytes(run.feed_bytes) for run in runs)],
        ["Xorosoft items", *(_count(run, "xorosoft", "products") for run in runs)],
        *(
            [f"Etilize {name}", *(_count(run, "etilize", name) for run in runs)]
            for name in ("matched", "unmatched", "duplicates", "errors", "created")
        ),
        ["staged", *(_count(run, "staged", "staged") for run in runs)],
        ["approved", *(_count(run, "approved", "approved") for run in runs)],
        ["pushed (applied)", *(_count(run, "push", "succeeded") for run in runs)],
    ]
    section.text("What each run did:")
    section.table(["", *_headers(runs)[1:]], rows)


def _idle_text(section: Section, runs: list[SizeRun], idle: list[tuple[str, int]]) -> None:
    section.text(
        "Where an idle server's memory goes, measured in a child process that imports what "
        "`cowans serve` imports, piece by piece (RSS growth of each step), then hashes one "
        "password:"
    )
    section.table(["what", "RSS"], [[label, megabytes(size)] for label, size in idle])
    argon2 = idle[-1][1]
    startup = max(run.startup_peak for run in runs)
    idle_rss = max(run.idle_rss for run in runs)
    above_idle = startup - idle_rss
    if abs(above_idle - argon2) <= argon2 / 4:
        why = (
            f"about one Argon2id hash ({megabytes(argon2)}, RFC 9106's memory cost, by design), "
            "which the sign-in the benchmark makes costs and gives back"
        )
    else:
        why = f"{megabytes(above_idle)}, more than one Argon2id hash ({megabytes(argon2)})"
    section.text(
        f"The server idles at {megabytes(idle_rss)} and peaked at {megabytes(startup)} while "
        f"starting: {why}. Most of the idle figure is code. pyarrow is loaded at start-up though "
        "only the feed readers use it, redis though only the distributed setup does, openpyxl "
        "though only Excel exports do: importing them on first use would leave an idle server "
        "that much smaller (an import loads pyarrow anyway, so no import stage's peak would "
        "change)."
    )


def _targets(section: Section, runs: list[SizeRun]) -> None:
    smallest, largest = runs[0], runs[-1]
    if smallest.complete and largest.complete:
        ratio = largest.per_product_ms() / smallest.per_product_ms()
        measured = (
            f"{largest.per_product_ms():.2f} vs {smallest.per_product_ms():.2f} ms/product "
            f"({ratio:.2f}x)"
        )
        met = ratio <= LINEAR_TOLERANCE
    else:
        measured, met = "a stage failed (see the section)", False
    section.target(
        "scale",
        f"linear time: all stages' time per product at {largest.products:,} within "
        f"{LINEAR_TOLERANCE}x of that at {smallest.products:,}",
        measured,
        met,
    )
    if not largest.peak_rss:
        section.target("scale", "peak RSS under 400 MB", "no stage ran", False)
        return
    peak_stage = max(largest.peak_rss, key=largest.peak_rss.__getitem__)
    peak = largest.peak_rss[peak_stage]
    failed = f"; failed: {', '.join(largest.failed)}" if largest.failed else ""
    section.target(
        "scale",
        f"peak RSS under 400 MB at {largest.products:,} products",
        f"{megabytes(peak)} ({peak_stage}){failed}",
        peak < RSS_TARGET_BYTES and largest.complete,
    )


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--sizes", default="", help="comma-separated catalog sizes")
    parser.add_argument(
        "--stage-timeout",
        type=float,
        default=STAGE_TIMEOUT,
        help="seconds an import or push job may take before its stage is given up",
    )
    parser.add_argument("--memray", type=Path, help="profile the server's memory into this folder")
    args = parser.parse_args()
    if args.memray:
        args.memray.mkdir(parents=True, exist_ok=True)
    sizes = [int(size) for size in args.sizes.split(",") if size] or list(
        QUICK_SIZES if args.quick else FULL_SIZES
    )
    started = time.perf_counter()
    memory_limit = int(memory_available() * MEMORY_SHARE)
    write(f"server address space capped at {megabytes(memory_limit)}")
    runs = []
    for products in sizes:
        with tempfile.TemporaryDirectory(prefix="cowans-scale-") as folder:
            runs.append(
                run_size(products, Path(folder), memory_limit, args.stage_timeout, args.memray)
            )
    idle = idle_breakdown()
    section = report(runs, idle, args, time.perf_counter() - started)
    write(f"saved {section.save(args.out)}")


if __name__ == "__main__":
    main()
