"""A benchmark's results as one section of BENCHMARKS.md.

Every scenario script builds a `Section` and saves it as JSON under `bench/results/` (or the
folder `--out` names); `bench/run.py` splices the sections into BENCHMARKS.md between markers and
builds the table of targets from what each section declared. Keeping the figures in the script
that measured them means a rerun rewrites its own words and nothing else.
"""

import argparse
import json
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Target:
    """One target of the issue, as measured: `met` drives the summary's verdict."""

    scenario: str
    target: str
    measured: str
    met: bool


@dataclass
class Section:
    name: str  # the marker in BENCHMARKS.md: lowercase, dashes
    title: str
    lines: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    quick: bool = False
    measured: str = ""  # when and how busy the machine was: the runner stamps it

    def text(self, *paragraphs: str) -> None:
        for paragraph in paragraphs:
            self.lines.extend([paragraph, ""])

    def bullets(self, items: Iterable[str]) -> None:
        self.lines.extend(f"- {item}" for item in items)
        self.lines.append("")

    def code(self, command: str, language: str = "sh") -> None:
        self.lines.extend([f"```{language}", command, "```", ""])

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Numbers align right, everything else left; cells are used as given."""
        rows = [[str(cell) for cell in row] for row in rows]
        align = [
            "---:" if rows and all(_numeric(row[i]) for row in rows if row[i]) else "---"
            for i in range(len(headers))
        ]
        self.lines.append("| " + " | ".join(headers) + " |")
        self.lines.append("| " + " | ".join(align) + " |")
        self.lines.extend("| " + " | ".join(row) + " |" for row in rows)
        self.lines.append("")

    def image(self, path: Path, alt: str) -> None:
        """`path` is a file under bench/results; BENCHMARKS.md sits two levels up from it."""
        self.lines.extend([f"![{alt}](bench/results/{path.name})", ""])

    def target(self, scenario: str, target: str, measured: str, met: bool) -> None:
        self.targets.append(Target(scenario, target, measured, met))

    def markdown(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.json"
        path.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> "Section":
        data = json.loads(path.read_text(encoding="utf-8"))
        targets = [Target(**target) for target in data.pop("targets")]
        return cls(**data, targets=targets)


def _numeric(cell: str) -> bool:
    head = cell.replace("*", "").replace("~", "").strip()
    return bool(head) and (head[0].isdigit() or head[0] in "-+.")


def arguments(description: str | None) -> argparse.ArgumentParser:
    """The options every scenario takes; scripts add their own scale knobs."""
    parser = argparse.ArgumentParser(description=(description or "").strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run: for CI")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (median)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    return parser


def runs_of(args: argparse.Namespace, full: int = 3) -> int:
    return args.runs or (1 if args.quick else full)


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def seconds(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f} s"
    if value >= 1:
        return f"{value:.2f} s"
    return f"{value * 1000:.1f} ms"


def megabytes(value_bytes: float) -> str:
    return f"{value_bytes / 2**20:,.0f} MB"


def plot_path(folder: Path, name: str) -> Path:
    """Where the plot `name` goes: beside the section's JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


def save_figure(figure: "Figure", path: Path, dpi: int = 110) -> None:
    """Plots are `matplotlib.figure.Figure`s, never pyplot's: no display, no backend to choose
    and no global figure to close; saving a PNG draws with Agg by itself."""
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
