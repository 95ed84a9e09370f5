"""Benchmark of the Shopify emulator: seeding a big catalog, and serving product pages over HTTP.

    .venv/bin/python bench/emulator_bench.py [--products 25000] [--runs 9]

Seeding is timed in this process. Serving is timed against the real command-line server, run as
a child process serving two shops: `big` (seeded through the side door) and `empty`; the client
keeps one HTTP connection open, as a sync client would. Every figure is the median of several
runs, and page times are also given as a multiple of the round trip of `{ shop { name } }` on
the empty shop, measured in the same run, which cancels out much of the machine's speed.

Shopify refuses `products(first: 250)` with `variants(first: 5)` in one query (requested cost
2002 > 1000), so the 250 products with variants and inventory are fetched as a client must:
three pages of at most 100.
"""

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from common import EmulatorProcess, machine, write

from shopify_emulator.seed import seed_products
from shopify_emulator.shops import Shop, ShopRegistry

TOKEN = "shpat_bench"
LOCATIONS = "Main Warehouse,Store Front"
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


def time_seeding(products: int, runs: int) -> float:
    def seed_once() -> None:
        registry = ShopRegistry()
        shop = registry.add(Shop("bench", TOKEN), tuple(LOCATIONS.split(",")))
        seed_products(shop, products, seed=1)

    return median_seconds(seed_once, runs, warmup=0)


class Server(EmulatorProcess):
    """The emulator's command line, as a child process: a big shop and an empty one."""

    def __init__(self) -> None:
        super().__init__(
            "--shop",
            "big",
            "--access-token",
            TOKEN,
            "--shop",
            "empty",
            "--access-token",
            TOKEN,
            "--plan",
            "enterprise",
            "--locations",
            LOCATIONS,
            token=TOKEN,
        )

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


def pages_with_variants(server: Server, total: int, page: int) -> int:
    """Fetch `total` products with variants in pages of `page`; returns the variants seen."""
    after, fetched, variants = None, 0, 0
    while fetched < total:
        size = min(page, total - fetched)
        body = server.query("big", WITH_VARIANTS, {"first": size, "after": after})
        products = body["data"]["products"]
        fetched += len(products["nodes"])
        variants += sum(len(node["variants"]["nodes"]) for node in products["nodes"])
        after = products["pageInfo"]["endCursor"]
    return variants


def last_page_cursor(server: Server, products: int) -> str | None:
    after = None
    for _ in range(max(0, products // 250 - 1)):
        body = server.query("big", PRODUCTS_ONLY, {"first": 250, "after": after})
        after = body["data"]["products"]["pageInfo"]["endCursor"]
    return after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=25_000)
    parser.add_argument("--runs", type=int, default=9, help="runs per HTTP figure")
    parser.add_argument("--seed-runs", type=int, default=3, help="runs of the in-process seeding")
    args = parser.parse_args()

    for line in machine():
        write(line)
    write()
    seeding = time_seeding(args.products, args.seed_runs)
    server = Server()
    try:
        seeding_door = server.seed("big", args.products)
        empty = median_seconds(lambda: server.query("empty", "{ shop { name } }"), args.runs * 3)
        big = median_seconds(lambda: server.query("big", "{ shop { name } }"), args.runs * 3)
        first = median_seconds(
            lambda: server.query("big", PRODUCTS_ONLY, {"first": 250}), args.runs
        )
        cursor = last_page_cursor(server, args.products)
        last = median_seconds(
            lambda: server.query("big", PRODUCTS_ONLY, {"first": 250, "after": cursor}), args.runs
        )
        variants = pages_with_variants(server, 250, 100)
        paged = median_seconds(lambda: pages_with_variants(server, 250, 100), args.runs)
        refused = server.requested_cost(WITH_VARIANTS, {"first": 250})
    finally:
        server.stop()

    rows = [
        (f"Seed {args.products:,} products (in process)", seeding, None),
        (f"Seed {args.products:,} products (side door, over HTTP)", seeding_door, None),
        ("Baseline: `shop { name }`, empty shop", empty, empty),
        (f"`shop {{ name }}`, {args.products:,}-product shop", big, empty),
        ("`products(first: 250)`, product fields + totalInventory, first page", first, empty),
        ("the same, last page (cursor near the end)", last, empty),
        (
            f"250 products + `variants(first: 5)` ({variants} variants), 3 pages of ≤100",
            paged,
            empty,
        ),
    ]
    write("| What | Median | Ratio to baseline |")
    write("| --- | ---: | ---: |")
    for label, seconds, baseline in rows:
        ratio = f"{seconds / baseline:,.1f}x" if baseline else ""
        figure = f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"
        write(f"| {label} | {figure} | {ratio} |")
    write()
    cost, maximum = refused.get("cost"), refused.get("maxCost")
    write(
        "One query for 250 products with variants(first: 5): refused as Shopify does, "
        f"{refused.get('code')} (requested cost {cost}, max {maximum})"
    )


if __name__ == "__main__":
    main()
