"""Realistic Etilize and Xorosoft feeds, made up for demos and benchmarks.

The same products and seed always write the same bytes, so a benchmark or a demo can be run
again on identical input. Rows are written as they are made, so a feed of 100,000+ rows needs no
more memory than one product.

The feeds carry the quirks of the real ones (see DATA.md and the samples): several image rows
per product, main rows without a Title, products matched only through CWS_A, through
CWS_Catalog against a BasePartNumber or through SPRC, products Cowan's does not sell, alternate
listings of a product already matched, drafts, Latin-1 titles, SKUs written with dashes or in
lower case, items stocked at several locations, and Xorosoft items Etilize does not know. What
matching should make of them is returned, counted, so a test or a benchmark can check it.
"""

import contextlib
import csv
import io
import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from cowans.sources.etilize import (
    ALTERNATE_NUMBER_SPECIFICATIONS,
    BARCODE,
    CHARGE_TAX,
    CONTINUE_SELLING,
    CWS_A,
    CWS_CATALOG,
    DESCRIPTION,
    HANDLE,
    IMAGE_ALT,
    IMAGE_POSITION,
    IMAGE_URL,
    OPTION1_NAME,
    OPTION1_VALUE,
    PUBLISHED,
    REQUIRES_SHIPPING,
    SEO_DESCRIPTION,
    SEO_TITLE,
    SKU,
    SPRC,
    STATUS,
    TAGS,
    TITLE,
    TYPE,
    VENDOR,
    WEIGHT,
    WEIGHT_UNIT,
    specification_column,
)
from cowans.sources.xorosoft import KNOWN_COLUMNS as XOROSOFT_COLUMNS

# What matching should make of each Etilize product (DATA.md, "Matching").
MATCHED_BY_SKU = "sku"
MATCHED_BY_CWS_A = "cws_a"
MATCHED_BY_CWS_CATALOG = "cws_catalog"
MATCHED_BY_SPRC = "sprc"
UNMATCHED = "unmatched"
DUPLICATE = "duplicate"
ROW_ERROR = "row_error"
# Shares of the products, roughly those of the real feed.
OUTCOME_WEIGHTS = {
    MATCHED_BY_SKU: 70,
    MATCHED_BY_CWS_A: 8,
    MATCHED_BY_CWS_CATALOG: 6,
    MATCHED_BY_SPRC: 4,
    UNMATCHED: 6,
    DUPLICATE: 4,
    ROW_ERROR: 2,
}
DRAFT_SHARE = 0.05
LATIN1_TITLE_SHARE = 0.1
OBSOLETE_ITEM_EVERY = 40  # a Xorosoft item Etilize does not know, after every so many products
MAX_IMAGE_ROWS = 4  # besides the main row's own image

LOCATIONS = ("MAIN", "WEST", "EAST")

VENDORS = (
    ("3M", "MMM"),
    ("Avery", "AVE"),
    ("BIC", "BIC"),
    ("HP", "HEW"),
    ("Paper Mate", "PAP"),
    ("Swingline", "SWI"),
    ("Pilot", "PIL"),
    ("Sharpie", "SAN"),
    ("Fellowes", "FEL"),
    ("Smead", "SMD"),
    ("Universal", "UNV"),
    ("Canon", "CNM"),
)
PRODUCT_TYPES = {
    "Sticky Notes": ("Notes", "Super Sticky Notes", "Flags"),
    "Ink & Toner": ("Ink Cartridge", "Toner Cartridge", "High Yield Toner"),
    "Pens": ("Ballpoint Pen", "Gel Pen", "Rollerball Pen"),
    "Markers": ("Permanent Marker", "Felt Tip Pen", "Highlighter"),
    "Staplers": ("Desktop Stapler", "Heavy Duty Stapler", "Staples"),
    "Binders": ("Ring Binder", "View Binder", "Sheet Protectors"),
    "Copy Paper": ("Copy Paper", "Cardstock", "Legal Pads"),
    "Labels": ("Address Labels", "Shipping Labels", "File Folder Labels"),
    "Folders": ("File Folders", "Hanging Folders", "Expanding Wallet"),
}
COLORS = ("Black", "Blue", "Red", "Green", "Canary Yellow", "Assorted", "White", "Chrome")
SIZES = ('3" x 3"', '8 1/2" x 11"', "Letter", "Legal", "Medium 1 mm", "Fine 0.7 mm", "½ in")
PACKS = ("12/Pack", "60/Box", "Each", "500 Sheets/Ream", "24/Pack", "4/Pack")
# cp1252 letters the real feed has in its titles; a reader that decodes wrongly garbles them.
LATIN1_EDITIONS = ("Café Edition", "Crème", "Protégé®", "Papier Mâché", "Señor Series", "Noël")
SPECIFICATION_VALUES = {
    "Color": COLORS,
    "Sheets Per Pad": ("50", "90", "100"),
    "Paper Size": SIZES,
    "Ink Color": COLORS,
    "Page Yield": ("600", "1,500", "3,000", "12,000"),
    "Material": ("Plastic", "Steel", "Recycled Paper", "Polypropylene", "Kraft"),
    "Recycled Content": ("0%", "30%", "100%"),
    "Country of Origin": ("United States", "Mexico", "China", "Côte d'Ivoire", "Germany"),
    "Pack Quantity": ("1", "4", "12", "24", "60"),
    "Point Size": ("Fine", "Medium", "Bold", "Extra Fine"),
    "Brightness": ("92", "96", "98"),
    "Temperature Range": ("-20 °C to 60 °C", "0 °C to 40 °C"),
    "Warranty": ("1 Year", "Lifetime"),
}
# Hundreds of mostly empty columns, as in the real feed: every part with every attribute.
PARTS = (
    "Binding",
    "Cover",
    "Sheet",
    "Tab",
    "Pocket",
    "Clip",
    "Ring",
    "Label",
    "Barrel",
    "Tip",
    "Handle",
    "Base",
    "Drawer",
    "Lid",
    "Strap",
    "Spine",
    "Divider",
    "Sleeve",
    "Cartridge",
    "Refill",
)
ATTRIBUTES = {
    "Color": COLORS,
    "Material": ("Plastic", "Steel", "Vinyl", "Cardboard"),
    "Size": SIZES,
    "Count": ("1", "2", "5", "8", "10"),
    "Style": ("Round", "D-Ring", "Slant", "Classic"),
    "Finish": ("Matte", "Glossy", "Satin"),
    "Capacity": ("1 in", "2 in", "20 Sheets", "200 Sheets"),
}
ALL_SPECIFICATION_VALUES: Mapping[str, tuple[str, ...]] = {
    **SPECIFICATION_VALUES,
    **{f"{part} {attribute}": values for part in PARTS for attribute, values in ATTRIBUTES.items()},
}
SPECIFICATION_NAMES = tuple(ALL_SPECIFICATION_VALUES)

ETILIZE_COLUMNS = (
    HANDLE,
    TITLE,
    "URL handle",
    DESCRIPTION,
    VENDOR,
    TYPE,
    TAGS,
    PUBLISHED,
    STATUS,
    SKU,
    BARCODE,
    OPTION1_NAME,
    OPTION1_VALUE,
    CHARGE_TAX,
    CONTINUE_SELLING,
    WEIGHT,
    WEIGHT_UNIT,
    REQUIRES_SHIPPING,
    "Fulfillment service",
    IMAGE_URL,
    IMAGE_POSITION,
    IMAGE_ALT,
    "Gift Card",
    SEO_TITLE,
    SEO_DESCRIPTION,
    "Google Shopping / Google Product Category",
    "Google Shopping / MPN",
    "Google Shopping / Condition",
    *(specification_column(name) for name in ALTERNATE_NUMBER_SPECIFICATIONS),
    *(specification_column(name) for name in SPECIFICATION_NAMES),
)
COLUMN_POSITION = {column: position for position, column in enumerate(ETILIZE_COLUMNS)}
IMAGE_HOST = "https://content.etilize.com/images/900"


@dataclass(frozen=True)
class GeneratedFeeds:
    """What was written, and what matching the two feeds should find in it."""

    products: int  # Etilize products, counting those whose main row is an error
    etilize_rows: int  # data rows, without the header
    xorosoft_rows: int
    expected: Mapping[str, int]  # outcome (MATCHED_BY_SKU, UNMATCHED, ...) -> products


def generate_feeds(
    products: int, seed: int, etilize_out: BinaryIO, xorosoft_out: BinaryIO
) -> GeneratedFeeds:
    """Write `products` Etilize products to `etilize_out` (cp1252, CRLF) and the Xorosoft
    export that goes with them to `xorosoft_out` (UTF-8 with BOM, a row per item and location).
    """
    with _text(etilize_out, "cp1252") as etilize, _text(xorosoft_out, "utf-8-sig") as xorosoft:
        rng = random.Random(seed)  # noqa: S311 - seeded on purpose: the same seed, the same feeds
        writer = _FeedWriter(rng, csv.writer(etilize), csv.writer(xorosoft))
        writer.write_headers()
        for number in range(products):
            writer.write_product(number)
    return writer.summary(products)


@contextlib.contextmanager
def _text(out: BinaryIO, encoding: str) -> Iterator[io.TextIOWrapper]:
    """A text view of the caller's stream, detached at the end so the stream stays open."""
    text = io.TextIOWrapper(out, encoding=encoding, newline="")
    try:
        yield text
    finally:
        text.flush()
        text.detach()


@dataclass(frozen=True)
class _Identifiers:
    """How one product is numbered in both feeds, for the outcome it is meant to have."""

    sku: str
    alternates: Mapping[str, tuple[str, ...]]
    items: tuple[str, ...]  # Xorosoft ItemNumbers to write; all share base_part
    base_part: str


class _RowWriter(Protocol):
    """csv's writer, as far as the generator uses it."""

    def writerow(self, row: Iterable[object], /) -> object: ...


class _FeedWriter:
    """Writes both feeds a product at a time. It keeps counts and the last item an alternate
    listing may duplicate, nothing that grows with the feed."""

    def __init__(self, rng: random.Random, etilize: _RowWriter, xorosoft: _RowWriter) -> None:
        self.rng = rng
        self.etilize = etilize
        self.xorosoft = xorosoft
        self.outcomes: Counter[str] = Counter()
        self.etilize_rows = 0
        self.xorosoft_rows = 0
        self.last_sku_item = ""  # the item an alternate listing duplicates

    def write_headers(self) -> None:
        self.etilize.writerow(ETILIZE_COLUMNS)
        self.xorosoft.writerow(XOROSOFT_COLUMNS)

    def summary(self, products: int) -> GeneratedFeeds:
        return GeneratedFeeds(products, self.etilize_rows, self.xorosoft_rows, dict(self.outcomes))

    def write_product(self, number: int) -> None:
        outcome = self.rng.choices(tuple(OUTCOME_WEIGHTS), tuple(OUTCOME_WEIGHTS.values()))[0]
        if outcome == DUPLICATE and not self.last_sku_item:
            outcome = MATCHED_BY_SKU  # nothing to duplicate yet
        vendor, prefix = self.rng.choice(VENDORS)
        product_type = self.rng.choice(tuple(PRODUCT_TYPES))
        identifiers = self._identifiers(outcome, prefix, 10_000 + number)
        title = self._title(vendor, product_type)
        handle = f"{_slug(title)}-{number}"
        self._write_main_row(
            handle, "" if outcome == ROW_ERROR else title, vendor, product_type, identifiers
        )
        self._write_image_rows(handle, title)
        for item in identifiers.items:
            self._write_item(item, identifiers.base_part, title, item.removeprefix(prefix))
        if number % OBSOLETE_ITEM_EVERY == OBSOLETE_ITEM_EVERY - 1:
            self._write_item(f"OBS-{number}", f"OBS{number}", "Obsolete item", "")
        if outcome == MATCHED_BY_SKU:
            self.last_sku_item = identifiers.items[0]
        self.outcomes[outcome] += 1

    def _identifiers(self, outcome: str, prefix: str, number: int) -> _Identifiers:
        """Numbers that match only the way `outcome` says: every scheme has its own shape, so
        no product can match another's item by accident."""
        base = f"{prefix}{number}"
        if outcome == MATCHED_BY_CWS_A:
            item = f"{base}X"
            return _Identifiers(f"{number}X#140", {CWS_A: (f"{prefix}-{number}X",)}, (item,), base)
        if outcome == MATCHED_BY_CWS_CATALOG:
            items = (f"{prefix}-{number}-BE", f"{prefix}-{number}-BK")  # the first one wins
            catalog = {CWS_CATALOG: (f"{prefix}-{number}",)}
            return _Identifiers(f"{number}-BE", catalog, items[: self.rng.randint(1, 2)], base)
        if outcome == MATCHED_BY_SPRC:
            return _Identifiers(f"V{number}-99", {SPRC: (f"{base}S",)}, (f"{base}S",), base)
        if outcome == DUPLICATE:
            return _Identifiers(f"ALT{number}", {SPRC: (self.last_sku_item,)}, (), base)
        if outcome in (UNMATCHED, ROW_ERROR):
            return _Identifiers(f"ZZ-{number}", {}, (), base)
        return self._sku_identifiers(prefix, number)

    def _sku_identifiers(self, prefix: str, number: int) -> _Identifiers:
        item = f"{prefix}{number}YW"
        written = self.rng.choice(
            (item, f"{prefix}-{number}YW", item.lower(), f"{prefix} {number}YW")
        )
        # Like the sample's Post-it: a CWS_A that would match too, but the SKU comes first.
        alternates = {CWS_A: (f"{prefix}-{number}YW",)} if self.rng.random() < 0.3 else {}
        return _Identifiers(written, alternates, (item,), f"{prefix}{number}")

    def _title(self, vendor: str, product_type: str) -> str:
        noun = self.rng.choice(PRODUCT_TYPES[product_type])
        parts = [f"{vendor} {noun}", self.rng.choice(SIZES), self.rng.choice(COLORS)]
        parts.append(self.rng.choice(PACKS))
        title = ", ".join(parts)
        if self.rng.random() < LATIN1_TITLE_SHARE:
            title += f" - {self.rng.choice(LATIN1_EDITIONS)}"
        return title

    def _write_main_row(
        self, handle: str, title: str, vendor: str, product_type: str, identifiers: _Identifiers
    ) -> None:
        draft = self.rng.random() < DRAFT_SHARE
        cells = {
            HANDLE: handle,
            TITLE: title,
            "URL handle": handle,
            DESCRIPTION: f"<p>{title or vendor}. {self.rng.choice(COLORS)} finish.</p>",
            VENDOR: vendor,
            TYPE: product_type,
            TAGS: ", ".join((product_type.lower(), vendor)),
            PUBLISHED: "FALSE" if draft else "TRUE",
            STATUS: "draft" if draft else "active",
            SKU: identifiers.sku,
            BARCODE: self._barcode(),
            OPTION1_NAME: "Title",
            OPTION1_VALUE: "Default Title",
            CHARGE_TAX: "TRUE",
            CONTINUE_SELLING: self.rng.choice(("DENY", "DENY", "CONTINUE")),
            WEIGHT: str(self.rng.randint(5, 5_000)),
            WEIGHT_UNIT: self.rng.choice(("g", "", "kg", "lb")),
            REQUIRES_SHIPPING: "TRUE",
            IMAGE_URL: f"{IMAGE_HOST}/{handle}.jpg",
            IMAGE_POSITION: "1",
            IMAGE_ALT: title[:60],
            "Google Shopping / Condition": "new",
            **self._specifications(identifiers.alternates),
        }
        self._write_etilize_row(cells)

    def _specifications(self, alternates: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
        chosen = self.rng.sample(SPECIFICATION_NAMES, self.rng.randint(3, 12))
        values = {
            name: tuple(self.rng.sample(ALL_SPECIFICATION_VALUES[name], self.rng.choice((1, 1, 2))))
            for name in chosen
        }
        return {
            specification_column(name): json.dumps(list(cell), ensure_ascii=False)
            for name, cell in {**values, **alternates}.items()
        }

    def _barcode(self) -> str:
        return "" if self.rng.random() < 0.3 else f"{self.rng.randrange(10**11, 10**12)}"

    def _write_image_rows(self, handle: str, title: str) -> None:
        for position in range(2, 2 + self.rng.randint(0, MAX_IMAGE_ROWS)):
            alt = self.rng.choice(("", "Side view", "In use", f"{title[:30]} back"))
            self._write_etilize_row(
                {
                    HANDLE: handle,
                    IMAGE_URL: f"{IMAGE_HOST}/{handle}_{position}.jpg",
                    IMAGE_POSITION: str(position),
                    IMAGE_ALT: alt,
                }
            )

    def _write_etilize_row(self, cells: Mapping[str, str]) -> None:
        row = [""] * len(ETILIZE_COLUMNS)
        for column, value in cells.items():
            row[COLUMN_POSITION[column]] = value
        self.etilize.writerow(row)
        self.etilize_rows += 1

    def _write_item(self, item: str, base_part: str, title: str, vendor_number: str) -> None:
        description = title.upper()[:40].rstrip(", ")
        price = f"{self.rng.randint(99, 49_999) / 100:.2f}"
        upc = self._barcode()
        at = self.rng.sample(LOCATIONS, self.rng.randint(1, len(LOCATIONS)))
        for location in sorted(at, key=LOCATIONS.index):
            quantity = 0 if self.rng.random() < 0.1 else self.rng.randint(1, 500)
            self.xorosoft.writerow(
                (
                    item,
                    base_part,
                    description,
                    price,
                    quantity,
                    location,
                    upc,
                    vendor_number.lstrip("-"),
                )
            )
            self.xorosoft_rows += 1


def _slug(title: str) -> str:
    words = "".join(char.lower() if char.isascii() and char.isalnum() else " " for char in title)
    return "-".join(words.split()[:8])
