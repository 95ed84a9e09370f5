"""A generated office-supplies catalog in Xorosoft's terms, for demos and large tests.

Item numbers follow the distributor's habit: a vendor prefix (MMM is 3M, HEW is HP...), a model
number, a colour or size suffix; items of one model share a base part number. Every item is
stocked at MAIN, some also at WEST and EAST, so there are more stock rows than items. The same
seed gives the same catalog: everything random comes from `random.Random(seed)`.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from xorosoft_emulator.catalog import StockRow

MAIN_LOCATION = "MAIN"
# Further locations and the share of items stocked at each.
OTHER_LOCATIONS = (("WEST", 0.35), ("EAST", 0.15))
OUT_OF_STOCK_SHARE = 0.1
WITHOUT_UPC_SHARE = 0.2
MAX_QUANTITY = 500


@dataclass(frozen=True)
class ProductLine:
    """One kind of product: how its items are numbered, described and priced."""

    prefix: str
    name: str
    product_code: str
    variants: tuple[tuple[str, str], ...]  # (item number suffix, description word)
    packs: tuple[str, ...]
    price: tuple[float, float]


COLOURS = (("BK", "BLACK"), ("BE", "BLUE"), ("RD", "RED"), ("AST", "ASSORTED"))
LINES = (
    ProductLine(
        "MMM",
        "POST-IT NOTES 3X3",
        "NOTES",
        (("YW", "CANARY"), ("AST", "ASSORTED"), ("PK", "PINK")),
        ("12PK", "24PK"),
        (6.99, 29.99),
    ),
    ProductLine(
        "HEW",
        "HP 64XL INK",
        "INK",
        (("AN", "BLACK"), ("CL", "TRI-COLOR")),
        ("EA",),
        (24.99, 59.99),
    ),
    ProductLine("BIC", "BIC ROUND STIC", "PENS", COLOURS, ("12BX", "60BX"), (2.49, 14.99)),
    ProductLine("PAP", "PAPERMATE FLAIR", "PENS", COLOURS, ("12PK", "36PK"), (9.99, 29.99)),
    ProductLine("PIL", "PILOT G2 GEL 0.7MM", "PENS", COLOURS, ("12PK",), (11.49, 24.99)),
    ProductLine("SAN", "SHARPIE FINE MARKER", "MARKERS", COLOURS, ("12PK", "24PK"), (8.99, 21.99)),
    ProductLine(
        "AVE",
        "AVERY HEAVY-DUTY VIEW BINDER",
        "BINDERS",
        (("1", "1IN"), ("2", "2IN"), ("3", "3IN")),
        ("EA", "4PK"),
        (7.49, 39.99),
    ),
    ProductLine(
        "SWI",
        "SWINGLINE 747 STAPLER",
        "STAPLERS",
        (("BK", "BLACK"), ("BG", "BURGUNDY")),
        ("EA",),
        (19.99, 34.99),
    ),
    ProductLine(
        "HAM",
        "HAMMERMILL COPY PAPER 8.5X11 20LB",
        "PAPER",
        (("RM", "REAM"), ("CT", "CARTON")),
        ("",),
        (8.99, 64.99),
    ),
    ProductLine(
        "UNV",
        "UNIVERSAL FILE FOLDERS LETTER",
        "FILING",
        (("MA", "MANILA"), ("AST", "ASSORTED")),
        ("100BX",),
        (9.49, 27.99),
    ),
    ProductLine(
        "FEL",
        "FELLOWES BANKERS BOX",
        "STORAGE",
        (("WE", "WHITE"), ("KF", "KRAFT")),
        ("10CT", "12CT"),
        (24.99, 79.99),
    ),
)


def _upc(rng: random.Random) -> str:
    """A UPC-A with a correct check digit, or none: not every item carries one."""
    if rng.random() < WITHOUT_UPC_SHARE:
        return ""
    digits = [rng.randrange(10) for _ in range(11)]
    total = 3 * sum(digits[0::2]) + sum(digits[1::2])
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def _quantity(rng: random.Random) -> int:
    return 0 if rng.random() < OUT_OF_STOCK_SHARE else rng.randint(1, MAX_QUANTITY)


def _locations(rng: random.Random) -> list[str]:
    return [MAIN_LOCATION] + [name for name, share in OTHER_LOCATIONS if rng.random() < share]


def _model_number(rng: random.Random, taken: set[str], prefix: str) -> str:
    while True:
        base = f"{prefix}{rng.randint(100, 999_999)}"
        if base not in taken:
            taken.add(base)
            return base


def _product_rows(rng: random.Random, line: ProductLine, base: str) -> Iterator[list[StockRow]]:
    """Each item of one model, as its stock rows: one per location."""
    pack = rng.choice(line.packs)
    variants = rng.sample(line.variants, rng.randint(1, len(line.variants)))
    for suffix, word in variants:
        price = Decimal(f"{rng.uniform(*line.price):.2f}")
        upc = _upc(rng)
        description = " ".join(part for part in (line.name, word, pack) if part)
        yield [
            StockRow(
                item_number=f"{base}{suffix}",
                base_part_number=base,
                description=description,
                unit_price=price,
                quantity_on_hand=_quantity(rng),
                location=location,
                upc=upc,
                vendor_product_number=f"{base.removeprefix(line.prefix)}-{suffix}",
                product_code=line.product_code,
            )
            for location in _locations(rng)
        ]


def generate_rows(items: int, seed: int) -> list[StockRow]:
    """`items` distinct items, each with its stock rows, grouped by model."""
    rng = random.Random(seed)  # noqa: S311 - seeded so catalogs repeat
    taken: set[str] = set()
    rows: list[StockRow] = []
    made = 0
    while made < items:
        line = rng.choice(LINES)
        base = _model_number(rng, taken, line.prefix)
        for item_rows in _product_rows(rng, line, base):
            if made == items:
                break
            rows.extend(item_rows)
            made += 1
    return rows
