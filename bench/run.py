"""Run every benchmark and write their sections into BENCHMARKS.md.

    .venv/bin/python bench/run.py             # every scenario at full size (make bench)
    .venv/bin/python bench/run.py --quick     # small sizes, one run each, under 5 minutes
    .venv/bin/python bench/run.py --only api-load,batch

Each scenario runs in its own process (so one's memory cannot hide another's peak) and saves a
`Section` as JSON. A full run splices every section between its markers in BENCHMARKS.md and
rebuilds the table of targets; a quick run writes to bench/results/quick/ and leaves
BENCHMARKS.md alone unless `--write` says otherwise, since its small sizes prove no target.
A quick run is a smoke test of every scenario, so it runs three at a time (`--jobs`), each
into its own log under bench/results/quick/, shown when it fails; a full run measures, so its
scenarios run one after another, each alone on the machine.
A scenario that fails is reported and the others still run; the exit status says so.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from common import machine, write
from section import RESULTS, Section

ROOT = Path(__file__).resolve().parent.parent
QUICK_JOBS = 3  # quick scenarios at once: most of their time is waiting (latency, bulk pace)
DOCUMENT = ROOT / "BENCHMARKS.md"


@dataclass(frozen=True)
class Scenario:
    name: str  # the section it writes
    script: str


SCENARIOS = (
    Scenario("initial-load", "initial_load_bench.py"),
    Scenario("daily-delta", "daily_delta_bench.py"),
    Scenario("scale", "scale_bench.py"),
    Scenario("parallel", "parallel_bench.py"),
    Scenario("api-load", "api_load_bench.py"),
    Scenario("batch", "batch_bench.py"),
    Scenario("distributed", "distributed_bench.py"),
    Scenario("dashboard", "dashboard_bench.py"),
    # The parts on their own: the emulator, the planner's strategies, the import's stages.
    Scenario("emulator", "emulator_bench.py"),
    Scenario("push-strategies", "push_bench.py"),
    Scenario("import", "import_bench.py"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--write", action="store_true", help="write BENCHMARKS.md after --quick")
    parser.add_argument(
        "--jobs", type=int, default=None, help="scenarios at once (quick: 3, full: 1)"
    )
    args = parser.parse_args()
    chosen = _chosen(args.only)
    out = RESULTS / "quick" if args.quick else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    for line in machine():
        write(line)
    jobs = args.jobs or (QUICK_JOBS if args.quick else 1)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        done = list(pool.map(lambda scenario: _run(scenario, args.quick, out, jobs > 1), chosen))
    failed = [scenario.name for scenario, ok in zip(chosen, done, strict=True) if not ok]
    write(f"\n{len(chosen)} scenarios in {time.monotonic() - started:.0f} s, {jobs} at a time")
    if not args.quick or args.write:
        _update_document(out, quick=args.quick)
        write(f"\nwrote {DOCUMENT.relative_to(ROOT)}")
    if failed:
        write(f"\nFAILED: {', '.join(failed)}")
    return 1 if failed else 0


def _chosen(only: str) -> list[Scenario]:
    if not only:
        return list(SCENARIOS)
    names = {name.strip() for name in only.split(",") if name.strip()}
    unknown = names - {scenario.name for scenario in SCENARIOS}
    if unknown:
        sys.exit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return [scenario for scenario in SCENARIOS if scenario.name in names]


def _run(scenario: Scenario, quick: bool, out: Path, to_log: bool) -> bool:
    """One scenario in its own process; its output to the terminal, or to its log when
    several run at once (their lines would interleave)."""
    command = [sys.executable, str(Path(__file__).parent / scenario.script), "--out", str(out)]
    if quick:
        command.append("--quick")
    log = out / f"{scenario.name}.log"
    write(f"\n=== {scenario.name}: {' '.join(command[1:])}{f' > {log}' if to_log else ''}")
    load, when = os.getloadavg()[0], datetime.now(UTC)
    started = time.monotonic()
    if to_log:
        with log.open("wb") as output:
            finished = subprocess.run(
                command, cwd=ROOT, check=False, stdout=output, stderr=subprocess.STDOUT
            )
    else:
        finished = subprocess.run(command, cwd=ROOT, check=False)
    elapsed = time.monotonic() - started
    result = out / f"{scenario.name}.json"
    # A section left by an earlier run does not count: this run must have written it.
    saved = result.exists() and result.stat().st_mtime >= when.timestamp()
    ok = finished.returncode == 0 and saved
    if ok:
        _stamp(result, when, load, elapsed)
    write(f"=== {scenario.name}: {'done' if ok else 'FAILED'} in {elapsed:.0f} s")
    if to_log and not ok:
        write(_tail(log))
    return ok


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _stamp(path: Path, when: datetime, load: float, elapsed: float) -> None:
    """Sections are written by separate runs (--only), so each says when it was measured and
    how busy the machine was as it began."""
    section = Section.load(path)
    section.measured = (
        f"Measured {when:%Y-%m-%d %H:%M} UTC in {elapsed:,.0f} s; load average {load:.1f} "
        "as it began."
    )
    section.save(path.parent)


def _update_document(out: Path, quick: bool) -> None:
    sections = [
        Section.load(out / f"{scenario.name}.json")
        for scenario in SCENARIOS
        if (out / f"{scenario.name}.json").exists()
    ]
    text = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else "# Benchmarks\n"
    text = _splice(text, "machine", _machine())
    text = _splice(text, "summary", _summary(sections, quick))
    for section in sections:
        stamp = f"_{section.measured}_\n\n" if section.measured else ""
        text = _splice(text, section.name, f"## {section.title}\n\n{stamp}{section.markdown()}")
    DOCUMENT.write_text(text, encoding="utf-8")


def _machine() -> str:
    lines = ["## Machine", "", "Each section says when it was measured.", ""]
    return "\n".join([*lines, *(f"- {line}" for line in machine())]) + "\n"


def _summary(sections: list[Section], quick: bool) -> str:
    lines = ["## Targets of the Performance issue", ""]
    if quick:
        lines += ["**Quick run**: small sizes and one run each; these figures prove nothing.", ""]
    lines += ["| scenario | target | measured | met |", "| --- | --- | --- | --- |"]
    for section in sections:
        for target in section.targets:
            verdict = "yes" if target.met else "**no** (see its section)"
            lines.append(f"| {target.scenario} | {target.target} | {target.measured} | {verdict} |")
    return "\n".join(lines) + "\n"


def _splice(text: str, name: str, body: str) -> str:
    """Replace what lies between the section's markers, or add the section at the end."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    return text.rstrip() + "\n\n" + block + "\n"


if __name__ == "__main__":
    sys.exit(main())
