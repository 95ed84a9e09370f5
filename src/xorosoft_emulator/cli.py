"""`cowans-xorosoft-emulator` (or `python -m xorosoft_emulator`): serve the emulator with uvicorn.

    cowans-xorosoft-emulator --csv export.csv
    cowans-xorosoft-emulator --items 20000 --seed 7 --fault-5xx 0.05 --latency-ms 20-200

It serves the items of a CSV export, or a generated catalog (the default: 200 items), at
`/api/xerp/` with the `--key` and `--secret` given, or the fixed development ones printed at
start.
"""

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import uvicorn

from xorosoft_emulator import API_ROOT
from xorosoft_emulator.app import EmulatorOptions, create_app
from xorosoft_emulator.catalog import Catalog
from xorosoft_emulator.export import ExportError, read_export
from xorosoft_emulator.faults import DEFAULT_REQUESTS_PER_SECOND, Faults
from xorosoft_emulator.generate import generate_rows
from xorosoft_emulator.state import DEV_KEY, DEV_SECRET, Credentials

DEFAULT_ITEMS = 200
MAX_ITEMS = 1_000_000


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


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not from {low} to {high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cowans-xorosoft-emulator",
        description="Serve an emulator of Xorosoft's ERP REST API (product endpoints).",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    add("--port", type=int, default=5002, help="port to listen on (default: 5002)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--csv", type=Path, metavar="PATH", help="serve this CSV export")
    source.add_argument(
        "--items",
        type=_bounded_int(0, MAX_ITEMS),
        metavar="N",
        help=f"serve N generated items (default: {DEFAULT_ITEMS})",
    )
    add("--seed", type=int, default=0, metavar="S", help="random seed of the generated items")
    add("--key", default=DEV_KEY, help="API key clients must send (default: a fixed dev key)")
    add("--secret", default=DEV_SECRET, help="API secret clients must send (default: a dev one)")
    add(
        "--rate-limit",
        type=_bounded_int(1, 10_000),
        default=DEFAULT_REQUESTS_PER_SECOND,
        metavar="R",
        help=f"requests per second before 429 (default: {DEFAULT_REQUESTS_PER_SECOND})",
    )
    add("--fault-5xx", type=_probability, default=0.0, metavar="P", help="P(a 5xx answer)")
    add("--latency-ms", type=_latency, default=(0, 0), metavar="MIN-MAX", help="added latency")
    add("--fault-seed", type=int, default=0, metavar="N", help="seed of the fault dice")
    add("--no-side-door", action="store_true", help="do not serve the /_emulator/ endpoints")
    return parser


def load_catalog(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Catalog:
    if args.csv is None:
        items = DEFAULT_ITEMS if args.items is None else args.items
        return Catalog(generate_rows(items, args.seed))
    try:
        return Catalog(read_export(args.csv))
    except (OSError, UnicodeDecodeError, ExportError) as exc:
        parser.error(f"cannot serve --csv {args.csv}: {exc}")


def banner(args: argparse.Namespace, catalog: Catalog) -> str:
    root = f"http://{args.host}:{args.port}"
    source = f"from {args.csv}" if args.csv else f"generated with seed {args.seed}"
    lines = [
        f"Xorosoft emulator on {root}",
        f"  {catalog.item_count()} items, {len(catalog.rows)} stock rows, {source}",
        f"  API root  {root}{API_ROOT}",
        f"  key       {args.key}",
        f"  secret    {args.secret}",
    ]
    if not args.no_side_door:
        lines.append(f"  side door {root}/_emulator/items")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    catalog = load_catalog(args, parser)
    options = EmulatorOptions(
        credentials=Credentials(args.key, args.secret),
        faults=Faults(http_5xx=args.fault_5xx, latency_ms=args.latency_ms, seed=args.fault_seed),
        requests_per_second=args.rate_limit,
        side_door=not args.no_side_door,
    )
    sys.stdout.write(banner(args, catalog))
    sys.stdout.flush()
    uvicorn.run(create_app(catalog, options), host=args.host, port=args.port, log_level="info")
    return 0
