"""Dashboard benchmark: the home page and the staged-changes review in Chromium, signed in,
with 10,000 real staged changes behind them.

    .venv/bin/python bench/dashboard_bench.py            # 10,000 staged changes, 7 runs
    .venv/bin/python bench/dashboard_bench.py --quick    # 1,000 staged changes, 2 runs

The whole system runs as a user runs it (`bench/system.py`: `cowans serve` on SQLite with the
built dashboard, `COWANS_WEB_DIST` or web/dist). A generated Etilize + Xorosoft feed is imported
through the API and the catalog staged against an empty store on the Shopify emulator, so every
staged row is a real `create` with all its fields. Debian's Chromium, driven by Playwright, then
loads each page, cold (a new browser context: empty cache, the session put in sessionStorage
before the first script runs, as the login form leaves it) and warm (a reload of that tab).

Two figures per load, both on the page's own clock (`performance.now()`, zero at navigation):
first contentful paint (the Performance API's `paint` entry) and the moment the page's main
content is in the DOM with a size (checked once a frame): the overview's title on the home page,
rendered once the sync status has arrived, and the first row of the changes table on the review
page. The baseline, in the same run, is the login page: the same HTML and scripts with no data.
"""

import contextlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import EmulatorProcess, write
from section import Section, arguments, plot_path, save_figure, seconds
from system import ADMIN_EMAIL, ROOT, System

from cowans.sources.feedgen import generate_feeds

TARGET_SECONDS = 1.5
FIRST_ROWS = 30  # web/src/components/review/ChangesTable.tsx
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}
SESSION_KEY = "cowans.session"  # web/src/auth/session.ts
# About 88% of generated Etilize products match a Xorosoft item and so enter the catalog.
FEED_PRODUCTS_PER_STAGED = 1.25
LOCATIONS = "Main Warehouse,Store Front"
TOKEN = "shpat_bench"

# Looks for the page's main content once a frame: the frame it is found in is the one that
# paints it. Init scripts run again on a reload, so the warm load is timed the same way.
PROBE = """
(() => {
  const selector = %s;
  window.__contentAt = undefined;
  const check = () => {
    const element = document.querySelector(selector);
    if (element && element.getBoundingClientRect().height > 0) {
      window.__contentAt = performance.now();
      return;
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""
SESSION = "sessionStorage.setItem(%s, %s);"
LOADED = """
() => window.__contentAt !== undefined
  && performance.getEntriesByName("first-contentful-paint").length > 0
"""
FIGURES = """
() => ({
  fcp: performance.getEntriesByName("first-contentful-paint")[0].startTime,
  content: window.__contentAt,
  resources: performance.getEntriesByType("resource").map((entry) => ({
    name: entry.name,
    duration: entry.duration,
    transfer: entry.transferSize,
    body: entry.encodedBodySize,
  })),
})
"""


@dataclass(frozen=True)
class PageUnderTest:
    label: str
    path: str
    content: str  # CSS selector of the main content
    signed_in: bool


LOGIN = PageUnderTest("login page (baseline)", "/login", "form button[type=submit]", False)
HOME = PageUnderTest("home page", "/", "h2:not(:empty)", True)
REVIEW = PageUnderTest(
    "staged-changes review", "/review", 'table[aria-label="Staged changes"] tbody tr', True
)
PAGES = (LOGIN, HOME, REVIEW)


@dataclass
class Load:
    """One page load: seconds from navigation, and what came over the network."""

    fcp: float
    content: float
    js_bytes: int  # script bodies fetched from the server, not from the cache
    api: dict[str, tuple[float, int]]  # API path -> (seconds, body bytes)

    @property
    def contentful(self) -> float:
        """The later of the two: a page is loaded when both its first paint and its content
        are on screen (the content can be found in the frame just before the paint entry)."""
        return max(self.fcp, self.content)


@dataclass
class PageFigures:
    page: PageUnderTest
    cold: list[Load] = field(default_factory=list)
    warm: list[Load] = field(default_factory=list)

    def median(self, kind: str, figure: str) -> float:
        return statistics.median(getattr(load, figure) for load in getattr(self, kind))

    def api_requests(self) -> list[tuple[str, float, int]]:
        """Each API request of the cold loads: path, median seconds, median body bytes."""
        paths = sorted({path for load in self.cold for path in load.api})
        return [
            (
                path,
                statistics.median(load.api[path][0] for load in self.cold if path in load.api),
                int(statistics.median(load.api[path][1] for load in self.cold if path in load.api)),
            )
            for path in paths
        ]


# -- the data behind the pages -------------------------------------------------------------------


@dataclass
class Setup:
    staged: int
    products: int
    seconds: float


def stage_changes(system: System, emulator: EmulatorProcess, wanted: int) -> Setup:
    """Import a generated feed through the API and stage `wanted` of its products against the
    emulator's empty store."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as folder:
        etilize, xorosoft = Path(folder) / "etilize.csv", Path(folder) / "xorosoft.csv"
        with etilize.open("wb") as etilize_out, xorosoft.open("wb") as xorosoft_out:
            generate_feeds(int(wanted * FEED_PRODUCTS_PER_STAGED), 1, etilize_out, xorosoft_out)
        for kind, path in (("xorosoft", xorosoft), ("etilize", etilize)):
            with path.open("rb") as stream:
                answer = system.api(
                    "POST", f"/api/imports/{kind}", files={"file": (path.name, stream, "text/csv")}
                )
            system.wait_job(answer["job_id"])
    products = system.api("GET", "/api/products", params={"page_size": 1})["total"]
    if products < wanted:
        raise RuntimeError(f"the feed made {products:,} products, fewer than {wanted:,}")
    store = system.connect_store(emulator)
    # A fresh database numbers its products from 1: stage the first `wanted`.
    staged = system.api(
        "POST",
        "/api/sync/staged",
        json={"store_id": store["id"], "product_ids": list(range(1, wanted + 1))},
    )["staged"]
    if staged != wanted:
        raise RuntimeError(f"staged {staged:,} changes, not {wanted:,}")
    return Setup(staged, products, time.monotonic() - started)


def browser_session(system: System) -> str:
    """The sessionStorage entry the login form writes (web/src/auth/session.ts)."""
    answer = system.api(
        "POST", "/api/auth/login", json={"email": ADMIN_EMAIL, "password": system.password}
    )
    expires_at = int((time.time() + answer["expires_in"]) * 1000)
    return json.dumps(
        {"token": answer["access_token"], "expiresAt": expires_at, "user": answer["user"]}
    )


# -- the browser ---------------------------------------------------------------------------------


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            browser.close()


def measure_page(
    browser: Any, root: str, session: str, page: PageUnderTest, runs: int
) -> PageFigures:
    """`runs` pairs of loads: cold in a new context, then warm by reloading it."""
    figures = PageFigures(page)
    init = PROBE % json.dumps(page.content)
    if page.signed_in:
        init = SESSION % (json.dumps(SESSION_KEY), json.dumps(session)) + init
    for _ in range(runs):
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(60_000)
        context.add_init_script(init)
        tab = context.new_page()
        try:
            tab.goto(root + page.path, wait_until="commit")
            figures.cold.append(read_load(tab, root))
            tab.reload(wait_until="commit")
            figures.warm.append(read_load(tab, root))
        finally:
            context.close()
    return figures


def read_load(tab: Any, root: str) -> Load:
    tab.wait_for_function(LOADED, polling=50)
    # Let the requests the page makes right after its content finish, so their sizes count;
    # the live-events socket never goes idle, hence the bound.
    with contextlib.suppress(Exception):
        tab.wait_for_load_state("networkidle", timeout=5_000)
    raw = tab.evaluate(FIGURES)
    js_bytes = sum(
        entry["body"]
        for entry in raw["resources"]
        if entry["name"].split("?")[0].endswith(".js") and entry["transfer"] > 0
    )
    api: dict[str, tuple[float, int]] = {}
    for entry in raw["resources"]:
        path = entry["name"].removeprefix(root).split("?")[0]
        if path.startswith("/api/") and path not in api:  # the first request of each
            api[path] = (entry["duration"] / 1000, entry["body"])
    return Load(raw["fcp"] / 1000, raw["content"] / 1000, js_bytes, api)


# -- the section ---------------------------------------------------------------------------------


def kilobytes(value: float) -> str:
    return f"{value / 1024:,.1f} kB" if value < 10 * 1024 else f"{value / 1024:,.0f} kB"


def plot(results: list[PageFigures], folder: Path) -> Path:
    path = plot_path(folder, "dashboard")
    from matplotlib.figure import Figure

    series = (
        ("cold: first contentful paint", "cold", "fcp"),
        ("cold: main content", "cold", "content"),
        ("warm: first contentful paint", "warm", "fcp"),
        ("warm: main content", "warm", "content"),
    )
    figure = Figure(figsize=(8, 4.2))
    axes = figure.subplots()
    width = 0.2
    for number, (label, kind, name) in enumerate(series):
        values = [figures.median(kind, name) for figures in results]
        places = [index + (number - 1.5) * width for index in range(len(results))]
        axes.bar(places, values, width, label=label)
    axes.axhline(TARGET_SECONDS, color="red", linestyle="--", label="target (1.5 s)")
    axes.set_xticks(range(len(results)), [figures.page.label for figures in results])
    axes.set_ylabel("seconds from navigation (median)")
    axes.set_title("Dashboard page loads in Chromium")
    axes.legend(fontsize="small")
    save_figure(figure, path, dpi=110)
    return path


def build_section(
    results: list[PageFigures], setup: Setup, runs: int, quick: bool, folder: Path
) -> Section:
    section = Section("dashboard", "Dashboard: page loads in Chromium", quick=quick)
    section.code(
        ".venv/bin/python bench/dashboard_bench.py            # 10,000 staged changes, 7 runs\n"
        ".venv/bin/python bench/dashboard_bench.py --quick    # 1,000 staged changes, 2 runs"
    )
    section.bullets(
        [
            f"`cowans serve` on SQLite with the built dashboard; {setup.products:,} products "
            f"imported through the API from a generated feed, {setup.staged:,} of them staged "
            "as creates against an empty Plus-plan store on the emulator (setup "
            f"{seconds(setup.seconds)}, not timed in the figures).",
            "Debian's Chromium through Playwright, 1280x800, signed in (the session put in "
            "sessionStorage before the first script, as the login form leaves it).",
            "**Cold**: a new browser context, empty cache. **Warm**: a reload of that tab "
            "(hashed assets from the cache, index.html revalidated).",
            "**First contentful paint**: the Performance API's `paint` entry. **Main content**: "
            "the overview's title on the home page (it needs the sync status), the first row "
            "of the changes table on the review page (it needs the first 100 changes); found "
            "once a frame. Both from navigation start, medians of "
            f"{runs} runs.",
            "Baseline: the login page, measured in the same run: the same HTML, scripts and "
            "styles, no data.",
        ]
    )
    baseline = results[0].median("cold", "contentful")
    rows = []
    for figures in results:
        cold = figures.median("cold", "contentful")
        rows.append(
            [
                figures.page.label,
                seconds(figures.median("cold", "fcp")),
                seconds(figures.median("cold", "content")),
                f"{cold / baseline:.2f}x",
                seconds(figures.median("warm", "fcp")),
                seconds(figures.median("warm", "content")),
                kilobytes(figures.median("cold", "js_bytes")),
                kilobytes(figures.median("warm", "js_bytes")),
            ]
        )
    section.table(
        [
            "page",
            "cold: first paint",
            "cold: main content",
            "cold load / baseline",
            "warm: first paint",
            "warm: main content",
            "JS transferred, cold",
            "JS transferred, warm",
        ],
        rows,
    )
    section.image(plot(results, folder), "Dashboard page loads, cold and warm")
    section.text(
        "JS transferred is what crossed the wire: the server gzips the dashboard's files for "
        "browsers that accept it (its API answers stay plain). The API requests behind the "
        "pages (cold loads, as the browser saw them, medians):"
    )
    section.table(
        ["page", "request", "time", "body"],
        [
            [figures.page.label, f"`GET {path}`", seconds(duration), kilobytes(size)]
            for figures in results[1:]
            for path, duration, size in figures.api_requests()
        ],
    )
    section.text(
        "How the review page loads: index.html, then the main script (the home and login pages "
        "are in it; every other page is a chunk of its own), then the review page's chunk. The "
        "first page of changes and the sync overview are asked for as that chunk is requested "
        "(`prefetchReview`), not once it has run, and the table renders its first "
        f"{FIRST_ROWS} rows at once and the rest of the 100 in a React transition after them "
        "(`ChangesTable`): the pane shows about ten."
    )
    for figures in results[1:]:
        loaded = figures.median("cold", "contentful")
        section.target(
            "8. Dashboard",
            f"{figures.page.label}: first contentful load under {TARGET_SECONDS} s "
            f"({setup.staged:,} staged changes)",
            f"{seconds(loaded)} cold (first paint {seconds(figures.median('cold', 'fcp'))}), "
            f"{seconds(figures.median('warm', 'contentful'))} warm",
            loaded < TARGET_SECONDS,
        )
    return section


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--staged", type=int, default=None, help="staged changes (10,000)")
    args = parser.parse_args()
    wanted = args.staged or (1_000 if args.quick else 10_000)
    runs = args.runs or (2 if args.quick else 7)
    dist = Path(os.environ.get("COWANS_WEB_DIST") or ROOT / "web" / "dist")
    if not (dist / "index.html").is_file():
        raise SystemExit(f"no dashboard build in {dist}: run `make web`")
    if not CHROMIUM.is_file():
        raise SystemExit("no Chromium: run `make system-deps`")

    emulator = EmulatorProcess(
        "--shop", "demo", "--access-token", TOKEN, "--plan", "plus", "--locations", LOCATIONS,
        token=TOKEN,
    )  # fmt: skip
    try:
        with System(env={"WEB_DIST_DIR": str(dist)}) as system:
            setup = stage_changes(system, emulator, wanted)
            write(f"staged {setup.staged:,} changes in {setup.seconds:.0f} s")
            session = browser_session(system)
            with chromium() as browser:
                results = []
                for page in PAGES:
                    figures = measure_page(browser, system.root, session, page, runs)
                    write(
                        f"{page.label}: cold {figures.median('cold', 'contentful'):.3f} s, "
                        f"warm {figures.median('warm', 'contentful'):.3f} s"
                    )
                    results.append(figures)
    finally:
        emulator.stop()
    section = build_section(results, setup, runs, args.quick, args.out)
    write(section.markdown())
    write(f"saved {section.save(args.out)}")


if __name__ == "__main__":
    main()
