"""Benchmark of the Shopify emulator: seeding a big catalog, and serving product pages over HTTP.

    .venv/bin/python bench/emulator_bench.py [--products 25000] [--runs 9] [--seed-runs 3]
    .venv/bin/python bench/emulator_bench.py --quick     # 5,000 products, 5 runs

Seeding is timed in this process. Serving is timed against the real command-line server, run as
a child process serving three shops: `big` (seeded through the side door), `small` (2/25 of its
size, to show how a request grows with the catalog) and `empty`; the client keeps one HTTP
connection open, as a sync client would. Every figure is the median of several runs, and page
times are also given as a multiple of the round trip of `{ shop { name } }` on the empty shop,
measured in the same run, which cancels out much of the machine's speed.

Shopify refuses `products(first: 250)` with `variants(first: 5)` in one query (requested cost
2002 > 1000), so the 250 products with variants and inventory are fetched as a client must:
three pages of at most 100. The figures are printed as markdown and saved as the `emulator`
section of BENCHMARKS.md (`--out`, default bench/results).
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common import EmulatorProcess, machine, write
from section import Section, arguments, seconds

from shopify_emulator.seed import seed_products
from shopify_emulator.shops import Shop, ShopRegistry

TOKEN = "shpat_bench"
LOCATIONS = "Main Warehouse,Store Front"
SHOPS = ("big", "small", "empty")
PRODUCTS_ONLY = """
query Page($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    nodes { id handle title vendor productType tags status updatedAt totalInventory }
    pageInfo { hasNextPage endCursor }
  }
}
"""
WITH_VARIANTS = """
query Page($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    nodes {
      id handle title updatedAt
      variants(first: 5) { nodes { id sku price inventoryQuantity } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def median_seconds(action: Callable[[], Any], runs: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        action()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def time_seeding(products: int, runs: int) -> tuple[float, dict[str, int]]:
    """The median seconds to seed `products`, and the size of the shop they make."""
    seeded: list[Shop] = []

    def seed_once() -> None:
        registry = ShopRegistry()
        shop = registry.add(Shop("bench", TOKEN), tuple(LOCATIONS.split(",")))
        seed_products(shop, products, seed=1)
        seeded[:] = [shop]

    median = median_seconds(seed_once, runs, warmup=0)
    data = seeded[0].data
    size = {
        "products": len(data.products),
        "variants": len(data.variants),
        "inventory_levels": len(data.inventory_levels),
        "locations": len(data.locations),
    }
    return median, size


class Server(EmulatorProcess):
    """The emulator's command line, as a child process: a big shop, a small one, an empty one."""

    def __init__(self) -> None:
        shops = [option for name in SHOPS for option in ("--shop", name, "--access-token", TOKEN)]
        super().__init__(*shops, "--plan", "enterprise", "--locations", LOCATIONS, token=TOKEN)

    def query(self, shop: str, document: str, variables: dict[str, Any] | None = None) -> Any:
        response = self.http.post(
            f"{self.root}/{shop}/admin/api/2026-10/graphql.json",
            json={"query": document, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": TOKEN},
        )
        body = response.json()
        if response.status_code != 200 or "errors" in body:
            raise RuntimeError(f"{shop}: {response.status_code} {body.get('errors')}")
        return body

    def seed(self, shop: str, products: int) -> float:
        response = self.http.post(
            f"{self.root}/_emulator/{shop}/seed", json={"products": products, "seed": 1}
        )
        response.raise_for_status()
        return response.json()["seconds"]

    def requested_cost(self, document: str, variables: dict[str, Any]) -> Any:
        response = self.http.post(
            f"{self.root}/big/admin/api/2026-10/graphql.json",
            json={"query": document, "variables": variables},
            headers={"X-Shopify-Access-Token": TOKEN},
        )
        return response.json()["errors"][0]["extensions"]


def pages_with_variants(server: Server, shop: str, total: int, page: int) -> int:
    """Fetch `total` products with variants in pages of `page`; returns the variants seen."""
    after, fetched, variants = None, 0, 0
    while fetched < total:
        size = min(page, total - fetched)
        body = server.query(shop, WITH_VARIANTS, {"first": size, "after": after})
        products = body["data"]["products"]
        fetched += len(products["nodes"])
        variants += sum(len(node["variants"]["nodes"]) for node in products["nodes"])
        after = products["pageInfo"]["endCursor"]
        if not products["pageInfo"]["hasNextPage"]:
            break
    return variants


def last_page_cursor(server: Server, products: int) -> str | None:
    after = None
    for _ in range(max(0, products // 250 - 1)):
        body = server.query("big", PRODUCTS_ONLY, {"first": 250, "after": after})
        after = body["data"]["products"]["pageInfo"]["endCursor"]
    return after


@dataclass
class Figures:
    """One run of the benchmark: medians in seconds, and what the pages held."""

    products: int
    small_products: int
    seeding: float
    seeding_door: float
    empty: float
    big: float
    first: float
    last: float
    paged: float
    variants: int
    small_first: float
    small_paged: float
    refused: dict[str, Any]
    shop: dict[str, int] = field(default_factory=dict)


def measure(products: int, small_products: int, runs: int, seed_runs: int) -> Figures:
    seeding, shop = time_seeding(products, seed_runs)
    server = Server()
    try:
        seeding_door = server.seed("big", products)
        server.seed("small", small_products)
        empty = median_seconds(lambda: server.query("empty", "{ shop { name } }"), runs * 3)
        big = median_seconds(lambda: server.query("big", "{ shop { name } }"), runs * 3)
        first = median_seconds(lambda: server.query("big", PRODUCTS_ONLY, {"first": 250}), runs)
        cursor = last_page_cursor(server, products)
        last = median_seconds(
            lambda: server.query("big", PRODUCTS_ONLY, {"first": 250, "after": cursor}), runs
        )
        variants = pages_with_variants(server, "big", 250, 100)
        paged = median_seconds(lambda: pages_with_variants(server, "big", 250, 100), runs)
        small_first = median_seconds(
            lambda: server.query("small", PRODUCTS_ONLY, {"first": 250}), runs
        )
        small_paged = median_seconds(lambda: pages_with_variants(server, "small", 250, 100), runs)
        refused = server.requested_cost(WITH_VARIANTS, {"first": 250})
    finally:
        server.stop()
    return Figures(
        products, small_products, seeding, seeding_door, empty, big, first, last, paged,
        variants, small_first, small_paged, refused, shop,
    )  # fmt: skip


def build_section(figures: Figures, runs: int, seed_runs: int, quick: bool) -> Section:
    section = Section("emulator", "Shopify emulator: seeding and serving a catalog", quick=quick)
    section.text(
        "How fast the Shopify emulator (`src/shopify_emulator`) loads a catalog of Cowan's size "
        "and serves product pages. Run it again after changing the emulator:"
    )
    section.code(
        ".venv/bin/python bench/emulator_bench.py            # 25,000 products, 9 runs per "
        "HTTP figure\n"
        ".venv/bin/python bench/emulator_bench.py --quick    # 5,000 products, 5 runs"
    )
    section.text(
        f"Seeding is timed in the benchmark's own process (median of {seed_runs} runs). Serving "
        "is timed over real HTTP against the command-line server (`python -m shopify_emulator`, "
        "Enterprise plan so that the benchmark is never throttled) running as a child process "
        f"with three shops: `big`, seeded with {figures.products:,} products, `small`, with "
        f"{figures.small_products:,}, and one empty; the client keeps one connection open. "
        f"Every figure is a median ({runs} runs of each page, {runs * 3} of each `shop` round "
        "trip). Page times are also given as a multiple of the baseline, a `{ shop { name } }` "
        "round trip on the empty shop measured in the same run, so that a slower or faster "
        "machine changes the milliseconds more than the ratios.",
        "Shopify refuses `products(first: 250)` with `variants(first: 5)` in a single query "
        f"(requested cost {figures.refused.get('cost')}, above the "
        f"{figures.refused.get('maxCost')} maximum: the emulator answered "
        f"`{figures.refused.get('code')}` here too); the benchmark therefore fetches 250 "
        "products with their variants and inventory as a client has to, in three pages of at "
        "most 100.",
    )
    shop = figures.shop
    if shop:
        section.text(
            f"The big shop (seed 1): {shop['products']:,} products, {shop['variants']:,} "
            f"variants, {shop['inventory_levels']:,} inventory levels at "
            f"{shop['locations']} locations."
        )
    empty = figures.empty
    rows = [
        (f"Seed {figures.products:,} products (in process)", figures.seeding, None),
        (f"Seed {figures.products:,} products (side door, over HTTP)", figures.seeding_door, None),
        ("Baseline: `shop { name }`, empty shop", empty, empty),
        (f"`shop {{ name }}`, {figures.products:,}-product shop", figures.big, empty),
        (
            "`products(first: 250)`, product fields + `totalInventory`, first page",
            figures.first,
            empty,
        ),
        ("the same, last page (cursor near the end)", figures.last, empty),
        (
            f"250 products + `variants(first: 5)` with `inventoryQuantity` ({figures.variants} "
            "variants), 3 pages of at most 100",
            figures.paged,
            empty,
        ),
        (
            f"first page of 250, {figures.small_products:,}-product shop",
            figures.small_first,
            empty,
        ),
        (
            f"3 pages with variants, {figures.small_products:,}-product shop",
            figures.small_paged,
            empty,
        ),
    ]
    section.table(
        ["What", "Median", "Ratio to baseline"],
        [
            [label, seconds(value), f"{value / baseline:,.1f}x" if baseline else ""]
            for label, value, baseline in rows
        ],
    )
    section.text("Reading them:")
    section.bullets(reading(figures))
    return section


def reading(figures: Figures) -> list[str]:
    """What the figures say, worded from the figures themselves."""
    size_ratio = figures.products / figures.small_products
    grows = figures.paged > 1.3 * figures.small_paged or figures.first > 1.3 * figures.small_first
    return [
        f"Seeding {figures.products:,} products takes {seconds(figures.seeding)} in process and "
        f"{seconds(figures.seeding_door)} through the side door; the state file is not "
        "involved.",
        "The size of the shop "
        + (
            "does not slow a request that does not read products "
            if figures.big < 1.5 * figures.empty
            else "slows even a request that does not read products "
        )
        + f"({seconds(figures.big)} against {seconds(figures.empty)} on the empty shop).",
        f"A page at the end of the catalog costs {figures.last / figures.first:.2f}x the first "
        f"page. On the {size_ratio:.1f}x smaller shop the first page took "
        f"{seconds(figures.small_first)} (big shop: {seconds(figures.first)}) and the three "
        f"pages with variants {seconds(figures.small_paged)} (big shop: "
        f"{seconds(figures.paged)}): "
        + (
            "every product request grows with the shop's size. The `products` resolver walks "
            "the whole catalog on each request, so three requests of 100 cost more than one of "
            "250 would."
            if grows
            else "at these sizes the shop's size hardly shows in a request."
        ),
    ]


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--products", type=int, default=None, help="25,000 (quick: 5,000)")
    parser.add_argument("--seed-runs", type=int, default=None, help="runs of in-process seeding")
    args = parser.parse_args()
    products = args.products or (5_000 if args.quick else 25_000)
    runs = args.runs or (5 if args.quick else 9)
    seed_runs = args.seed_runs or (2 if args.quick else 3)

    for line in machine():
        write(line)
    write()
    figures = measure(products, max(1, products * 2 // 25), runs, seed_runs)
    section = build_section(figures, runs, seed_runs, args.quick)
    write(section.markdown())
    write(f"saved {section.save(args.out)}")


if __name__ == "__main__":
    main()
