"""`cowans-shopify-emulator` (or `python -m shopify_emulator`): serve the emulator with uvicorn.

    cowans-shopify-emulator --shop demo --seed-products 25000 --locations "Main,Store Front"

Each `--shop` is served at `/<shop>/admin/api/2026-10/graphql.json` (and by `Host:
<shop>.myshopify.com`) with the `--access-token` given in the same position, or the fixed
development token printed at start. Seeded products are added only to shops that the
`--state-file` did not restore, so a restart keeps what clients changed.
"""

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn

from shopify_emulator import API_VERSION
from shopify_emulator.app import EmulatorOptions, create_app
from shopify_emulator.persistence import StateFile
from shopify_emulator.seed import seed_products
from shopify_emulator.shops import DEFAULT_LOCATIONS, Faults, Shop, ShopRegistry
from shopify_emulator.throttle import PLANS

DEV_ACCESS_TOKEN = "shpat_emulator_development_token"
DEFAULT_SHOP = "demo"


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a probability from 0 to 1")
    return value


def _latency(text: str) -> tuple[int, int]:
    """`MIN-MAX` milliseconds, or one number for a fixed latency."""
    low, _, high = text.partition("-")
    try:
        bounds = (int(low), int(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not MIN-MAX milliseconds") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 <= MIN <= MAX")
    return bounds


def _locations(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("give at least one location name")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError("location names must differ")
    return names


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not positive")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cowans-shopify-emulator",
        description=f"Serve an emulator of Shopify's Admin GraphQL API ({API_VERSION}).",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    add("--port", type=int, default=5001, help="port to listen on (default: 5001)")
    add(
        "--shop", action="append", metavar="NAME", help="a shop to serve (repeatable; default demo)"
    )
    add(
        "--access-token",
        action="append",
        metavar="TOKEN",
        help="the access token of the --shop in the same position (default: a fixed dev token)",
    )
    add("--plan", choices=sorted(PLANS), default="standard", help="rate-limit plan of every shop")
    add("--seed-products", type=_non_negative_int, default=0, metavar="N", help="seed N products")
    add("--seed-random", type=int, default=0, metavar="SEED", help="random seed of the catalog")
    add(
        "--locations",
        type=_locations,
        default=DEFAULT_LOCATIONS,
        metavar="NAME,NAME,...",
        help=f"locations of every shop (default: {','.join(DEFAULT_LOCATIONS)})",
    )
    add("--fault-5xx", type=_probability, default=0.0, metavar="P", help="P(edge 5xx answer)")
    add("--fault-hang", type=_probability, default=0.0, metavar="P", help="P(request hangs)")
    add(
        "--fault-ise-after-apply",
        type=_probability,
        default=0.0,
        metavar="P",
        help="P(a mutation is applied, then answered INTERNAL_SERVER_ERROR)",
    )
    add(
        "--fault-throttle",
        type=_probability,
        default=0.0,
        metavar="P",
        help="P(a request is answered THROTTLED whatever the bucket holds)",
    )
    add("--latency-ms", type=_latency, default=(0, 0), metavar="MIN-MAX", help="added latency")
    add("--fault-seed", type=int, default=0, metavar="N", help="seed of the fault dice")
    add(
        "--bulk-rows-per-second",
        type=_positive_float,
        default=EmulatorOptions.bulk_rows_per_second,
        metavar="R",
        help="speed of bulk operations",
    )
    add("--state-file", metavar="PATH", help="SQLite file to restore shops from and save them to")
    add("--no-side-door", action="store_true", help="do not serve the /_emulator/ endpoints")
    return parser


def _shops(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[Shop]:
    names = args.shop or [DEFAULT_SHOP]
    tokens = args.access_token or []
    if len(set(names)) != len(names):
        parser.error("each --shop must be named once")
    if len(tokens) > len(names):
        parser.error("more --access-token than --shop: each token pairs with the shop in order")
    tokens = tokens + [DEV_ACCESS_TOKEN] * (len(names) - len(tokens))
    return [
        Shop(
            name,
            token,
            plan=args.plan,
            faults=Faults(
                http_5xx=args.fault_5xx,
                hang=args.fault_hang,
                ise_after_apply=args.fault_ise_after_apply,
                throttle=args.fault_throttle,
                latency_ms=args.latency_ms,
                seed=args.fault_seed,
            ),
        )
        for name, token in zip(names, tokens, strict=True)
    ]


def build_registry(
    args: argparse.Namespace, parser: argparse.ArgumentParser, restorable: set[str]
) -> ShopRegistry:
    """The shops, seeded unless the state file will restore them (when the server starts)."""
    registry = ShopRegistry()
    for shop in _shops(args, parser):
        registry.add(shop, args.locations)
        if args.seed_products and shop.name not in restorable:
            seed_products(shop, args.seed_products, args.seed_random)
    return registry


def banner(args: argparse.Namespace, registry: ShopRegistry, restorable: set[str]) -> str:
    root = f"http://{args.host}:{args.port}"
    lines = [f"Shopify emulator (Admin GraphQL API {API_VERSION}) on {root}"]
    for shop in registry.shops.values():
        contents = (
            "restored from the state file"
            if shop.name in restorable
            else f"{len(shop.data.products)} products"
        )
        lines += [
            f"  shop {shop.name} ({shop.plan} plan, {contents})",
            f"    endpoint      {root}/{shop.name}/admin/api/{API_VERSION}/graphql.json",
            f"    access token  {shop.access_token}",
            f"    webhook HMAC  {shop.webhook_secret}",
        ]
    if not args.no_side_door:
        lines.append(f"  side door {root}/_emulator/shops")
    if args.state_file:
        lines.append(f"  state file {args.state_file}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    restorable = StateFile(args.state_file).shop_names() if args.state_file else set()
    registry = build_registry(args, parser, restorable)
    options = EmulatorOptions(
        side_door=not args.no_side_door,
        bulk_rows_per_second=args.bulk_rows_per_second,
        state_file=args.state_file,
    )
    sys.stdout.write(banner(args, registry, restorable))
    sys.stdout.flush()
    uvicorn.run(create_app(registry, options), host=args.host, port=args.port, log_level="info")
    return 0
