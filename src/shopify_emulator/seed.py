"""Seeding a shop with a realistic office-supplies catalog, like Cowan's sells.

Products are pens, paper, toner and ink, binders, staplers, sticky notes and the rest, from the
vendors a distributor carries, with product types, tags, SKUs, UPC barcodes, prices and costs,
stock at every location, a few `custom.*` metafields and one collection per product type. Some
have several variants (ink colours, ring sizes, note sizes...).

The same seed on the same (empty) shop gives the same catalog, ids included: everything random
comes from `random.Random(seed)`, and timestamps are spread over a fixed window.

State objects are built directly rather than through productSet: validation and webhooks are
for clients, and 25,000 products must load in a few seconds. No event is emitted; seeding is
how the shop was before anyone subscribed.
"""

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shopify_emulator.catalog import normalize_tags, slugify, unique_handle
from shopify_emulator.gc_pause import gc_paused
from shopify_emulator.ids import gid
from shopify_emulator.shops import Shop
from shopify_emulator.state import (
    Collection,
    InventoryItem,
    InventoryLevel,
    Metafield,
    OptionValue,
    Product,
    ProductOption,
    ShopData,
    Variant,
)

# Products are created over two years before this moment; a fixed anchor keeps seeds repeatable.
ANCHOR = datetime(2024, 1, 1, tzinfo=UTC)
CREATION_WINDOW_SECONDS = 2 * 365 * 24 * 3600
STATUSES = (("ACTIVE", 90), ("DRAFT", 7), ("ARCHIVED", 3))
EXTRA_TAGS = ("bestseller", "new-arrival", "clearance", "contract-pricing", "eco-friendly", "")
ORIGINS = ("USA", "Mexico", "Canada", "China", "Japan", "Germany", "Vietnam")
Option = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Family:
    """One kind of product: what its titles, options, prices and stock look like."""

    product_type: str
    lines: tuple[tuple[str, str], ...]  # (vendor, product line)
    details: tuple[str, ...]
    packs: tuple[str, ...]
    price: tuple[float, float]
    tags: tuple[str, ...]
    options: tuple[Option, ...] = ()
    weight_grams: tuple[int, int] = (50, 500)


INK_COLORS = ("Black", "Blue", "Red", "Green", "Assorted")
CARTRIDGE_COLORS = ("Black", "Cyan", "Magenta", "Yellow")
NOTE_COLORS = ("Canary Yellow", "Energy Boost Collection", "Poptimistic Collection", "Pastel")

FAMILIES = (
    Family(
        "Pens",
        (
            ("BIC", "Round Stic Xtra Life Ballpoint Pens"),
            ("BIC", "Gel-ocity Quick Dry Gel Pens"),
            ("Paper Mate", "InkJoy 100 Stick Ballpoint Pens"),
            ("Paper Mate", "Flair Felt Tip Pens"),
            ("Pilot", "G2 Premium Retractable Gel Pens"),
            ("Pilot", "Precise V5 Rolling Ball Pens"),
            ("Pentel", "EnerGel RTX Retractable Liquid Gel Pens"),
            ("uni-ball", "207 Retractable Gel Pens"),
        ),
        ("Fine Point, 0.5 mm", "Medium Point, 0.7 mm", "Bold Point, 1.0 mm"),
        ("12/Pack", "24/Pack", "36/Box", "60/Box"),
        (2.49, 34.99),
        ("pens", "writing-instruments"),
        (("Ink Color", INK_COLORS),),
        (60, 600),
    ),
    Family(
        "Pencils & Markers",
        (
            ("Dixon", "Ticonderoga Wood-Cased Pencils, #2 HB"),
            ("Paper Mate", "Mirado Black Warrior Pencils"),
            ("Sharpie", "Permanent Markers"),
            ("Expo", "Low-Odor Dry Erase Markers"),
            ("Avery", "Hi-Liter Desk-Style Highlighters"),
            ("Sharpie", "Tank Highlighters"),
        ),
        ("Fine Tip", "Chisel Tip", "Ultra Fine Tip", "Pre-Sharpened"),
        ("4/Pack", "12/Pack", "24/Pack", "36/Pack"),
        (3.29, 29.99),
        ("writing-instruments", "markers"),
        (("Color", ("Black", "Blue", "Red", "Yellow", "Assorted")),),
    ),
    Family(
        "Copy Paper",
        (
            ("Hammermill", "Copy Plus Multipurpose Paper"),
            ("Hammermill", "Fore Multipurpose Paper"),
            ("HP", "Printer Paper Office20"),
            ("Boise", "X-9 Multi-Use Copy Paper"),
            ("Navigator", "Premium Multipurpose Paper"),
        ),
        ("20 lb, 92 Bright", "20 lb, 96 Bright", "24 lb, 97 Bright", "28 lb, 100 Bright"),
        ("500 Sheets/Ream", "5 Reams/Carton", "10 Reams/Carton"),
        (8.99, 79.99),
        ("paper", "copy-paper"),
        (("Size", ("Letter (8.5 x 11 in)", "Legal (8.5 x 14 in)", "Ledger (11 x 17 in)")),),
        (2200, 23000),
    ),
    Family(
        "Toner",
        (
            ("HP", "LaserJet Toner Cartridge"),
            ("HP", "High Yield LaserJet Toner Cartridge"),
            ("Brother", "High-Yield Toner Cartridge"),
            ("Canon", "Toner Cartridge"),
            ("Lexmark", "Return Program Toner Cartridge"),
        ),
        ("Black", "Cyan", "Magenta", "Yellow"),
        ("Each",),
        (54.99, 289.99),
        ("ink-toner", "toner", "printer-supplies"),
        (),
        (600, 1800),
    ),
    Family(
        "Ink",
        (
            ("HP", "Original Ink Cartridge"),
            ("Canon", "PIXMA Ink Tank"),
            ("Epson", "EcoTank Ink Bottle"),
            ("Brother", "INKvestment Tank Ink Cartridge"),
        ),
        ("Standard Yield", "High Yield", "Super High Yield"),
        ("Each", "2/Pack"),
        (14.99, 89.99),
        ("ink-toner", "ink", "printer-supplies"),
        (("Color", CARTRIDGE_COLORS),),
        (40, 200),
    ),
    Family(
        "Binders",
        (
            ("Avery", "Heavy-Duty View Binder with One Touch EZD Rings"),
            ("Avery", "Durable View Binder with Slant Rings"),
            ("Cardinal", "Performer ClearVue Slant-D Ring Binder"),
            ("Wilson Jones", "Basic Round Ring Binder"),
        ),
        ("Letter Size", "Holds 8.5 x 11 in Sheets"),
        ("Each", "4/Pack", "12/Carton"),
        (3.99, 64.99),
        ("binders", "filing"),
        (("Ring Size", ("1 in", "1.5 in", "2 in", "3 in")), ("Color", ("White", "Black", "Blue"))),
        (300, 4000),
    ),
    Family(
        "Staplers & Punches",
        (
            ("Swingline", "Optima Desk Stapler"),
            ("Swingline", "Light Duty Desktop Hole Punch"),
            ("Bostitch", "Antimicrobial Desktop Stapler"),
            ("Bostitch", "Premium Standard Staples, 1/4 in"),
            ("Swingline", "S.F. 4 Premium Staples"),
        ),
        ("25 Sheet Capacity", "20 Sheet Capacity", "Full Strip", "5000/Box"),
        ("Each", "5/Pack"),
        (2.79, 49.99),
        ("staplers", "desk-accessories"),
        (("Color", ("Black", "Silver", "Gray")),),
        (100, 1400),
    ),
    Family(
        "Sticky Notes",
        (
            ("Post-it", "Notes"),
            ("Post-it", "Super Sticky Notes"),
            ("Post-it", "Pop-up Notes"),
            ("3M", "Post-it Flags"),
        ),
        ("Lined", "Unlined", "Recycled"),
        ("12 Pads/Pack", "24 Pads/Pack", "5 Pads/Pack", "100 Sheets/Pad"),
        (4.49, 39.99),
        ("sticky-notes", "post-it"),
        (("Color", NOTE_COLORS), ("Size", ("3 x 3 in", "3 x 5 in", "4 x 6 in"))),
        (80, 900),
    ),
    Family(
        "Tape & Adhesives",
        (
            ("Scotch", "Magic Tape"),
            ("Scotch", "Heavy Duty Shipping Packaging Tape"),
            ("Elmer's", "Disappearing Purple Glue Sticks"),
            ("3M", "Command Poster Strips"),
        ),
        ("3/4 in x 1000 in", "1.88 in x 54.6 yd", "0.21 oz", "Removable"),
        ("Each", "6/Pack", "12/Pack", "30/Pack"),
        (2.99, 44.99),
        ("tape", "adhesives", "shipping-supplies"),
        (),
        (40, 1200),
    ),
    Family(
        "Labels",
        (
            ("Avery", "Easy Peel Address Labels"),
            ("Avery", "Shipping Labels with TrueBlock Technology"),
            ("Avery", "Removable Print or Write Labels"),
            ("Brother", "P-touch TZe Laminated Label Tape"),
            ("Dymo", "LabelWriter Address Labels"),
        ),
        ("1 x 2-5/8 in", "2 x 4 in", "8.5 x 11 in", "1/2 in x 26.2 ft", "1-1/8 x 3-1/2 in"),
        ("30/Sheet", "3000/Box", "250/Pack", "Each", "2 Rolls/Pack"),
        (6.99, 69.99),
        ("labels", "shipping-supplies"),
        (("Color", ("White", "Clear", "Kraft Brown")),),
        (50, 1500),
    ),
    Family(
        "Envelopes & Mailers",
        (
            ("Quality Park", "Security Tint Business Envelopes"),
            ("Quality Park", "Clasp Envelopes"),
            ("Mead", "Peel & Stick Envelopes"),
            ("Scotch", "Bubble Mailers"),
        ),
        ("#10, 4-1/8 x 9-1/2 in", "9 x 12 in", "10 x 13 in", "#6-3/4"),
        ("100/Box", "250/Box", "500/Box", "25/Pack"),
        (5.49, 74.99),
        ("envelopes", "mailing"),
        (),
        (200, 4500),
    ),
    Family(
        "Notebooks & Pads",
        (
            ("Mead", "Five Star Spiral Notebook"),
            ("Mead", "Composition Book"),
            ("Ampad", "Evidence Perforated Writing Pads"),
            ("TOPS", "Docket Gold Legal Pads"),
            ("Rocketbook", "Core Reusable Smart Notebook"),
        ),
        ("1 Subject, 100 Sheets", "3 Subject, 150 Sheets", "50 Sheets/Pad", "8.5 x 11.75 in"),
        ("Each", "6/Pack", "12/Pack"),
        (1.99, 42.99),
        ("notebooks", "paper"),
        (("Ruling", ("College Ruled", "Wide Ruled", "Narrow Ruled")),),
        (150, 3200),
    ),
    Family(
        "Files & Folders",
        (
            ("Smead", "File Folders, 1/3-Cut Tab"),
            ("Pendaflex", "Hanging File Folders"),
            ("Smead", "Expanding Wallet"),
            ("Pendaflex", "Reinforced Top Tab File Folders"),
        ),
        ("Manila", "Assorted Colors", "Recycled", "Reinforced"),
        ("100/Box", "25/Box", "50/Box", "Each"),
        (4.99, 59.99),
        ("filing", "folders"),
        (("Size", ("Letter", "Legal")),),
        (150, 5000),
    ),
    Family(
        "Desk Accessories",
        (
            ("Westcott", "Titanium Bonded Scissors"),
            ("Fellowes", "Mesh Desk Organizer"),
            ("Swingline", "Paper Clips, Jumbo"),
            ("ACCO", "Binder Clips"),
            ("Fellowes", "Powershred Cross-Cut Shredder"),
        ),
        ("8 in", "Black", "Smooth Finish", "Medium, 1-1/4 in", "12 Sheet Capacity"),
        ("Each", "3/Pack", "12/Box", "100/Box"),
        (1.99, 34.99),
        ("desk-accessories",),
        (),
        (30, 9000),
    ),
    Family(
        "Calculators",
        (
            ("Texas Instruments", "TI-84 Plus CE Graphing Calculator"),
            ("Texas Instruments", "TI-30XIIS Scientific Calculator"),
            ("Casio", "HR-100TM Mini Desktop Printing Calculator"),
            ("Canon", "LS-82Z Handheld Calculator"),
        ),
        ("Solar and Battery", "Battery", "Rechargeable", "12-Digit Display"),
        ("Each",),
        (8.99, 159.99),
        ("calculators", "electronics"),
        (("Color", ("Black", "Blue", "White")),),
        (80, 700),
    ),
)
# Lines whose prices differ from the rest of their family: a shredder is no paper clip.
LINE_PRICES = {
    "TI-84 Plus CE Graphing Calculator": (119.99, 159.99),
    "TI-30XIIS Scientific Calculator": (12.99, 19.99),
    "HR-100TM Mini Desktop Printing Calculator": (29.99, 49.99),
    "LS-82Z Handheld Calculator": (6.99, 12.99),
    "Powershred Cross-Cut Shredder": (79.99, 349.99),
    "Premium Standard Staples, 1/4 in": (2.79, 14.99),
    "S.F. 4 Premium Staples": (3.99, 19.99),
    "Core Reusable Smart Notebook": (24.99, 36.99),
    "Post-it Flags": (3.99, 14.99),
}
VENDOR_CODES = {
    vendor: re.sub(r"[^A-Z0-9]", "", vendor.upper())[:4]
    for family in FAMILIES
    for vendor, _line in family.lines
}


def _weighted_status(rng: random.Random) -> str:
    roll, total = rng.randrange(100), 0
    for status, weight in STATUSES:
        total += weight
        if roll < total:
            return status
    return "ACTIVE"


def _price(rng: random.Random, low: float, high: float) -> str:
    dollars = int(rng.uniform(low, high))
    return f"{dollars}.{rng.choice(('29', '49', '79', '99'))}"


def upc(rng: random.Random) -> str:
    """A 12-digit UPC-A with a valid check digit."""
    digits = [rng.randrange(10) for _ in range(11)]
    odd, even = sum(digits[0::2]), sum(digits[1::2])
    return "".join(map(str, digits)) + str((10 - (odd * 3 + even) % 10) % 10)


def _code(value: str) -> str:
    words = re.findall(r"[A-Za-z0-9.]+", value)
    return "".join(word[:3] for word in words).replace(".", "").upper()[:8]


class _Builder:
    """Builds one product after another into a shop's data, sharing the per-run state."""

    def __init__(self, shop: Shop, seed: int) -> None:
        self.data: ShopData = shop.data
        self.rng = random.Random(seed)
        self.locations = [loc.number for loc in self.data.locations.values() if loc.is_active]
        self.collections: dict[str, Collection] = {}

    def _collection(self, family: Family) -> Collection:
        """The collection of a product type, created the first time a product needs it."""
        if family.product_type in self.collections:
            return self.collections[family.product_type]
        handle = slugify(family.product_type)
        found = next((c for c in self.data.collections.values() if c.handle == handle), None)
        if found is not None:
            self.collections[family.product_type] = found
            return found
        collection = Collection(
            self.data.next_number(),
            family.product_type,
            handle,
            description_html=f"<p>All {family.product_type.lower()} we stock.</p>",
            updated_at=ANCHOR,
        )
        self.data.collections[collection.number] = collection
        self.collections[family.product_type] = collection
        return collection

    def product(self) -> Product:
        rng, data = self.rng, self.data
        family = rng.choice(FAMILIES)
        vendor, line = rng.choice(family.lines)
        detail, pack = rng.choice(family.details), rng.choice(family.packs)
        name = line if vendor in line else f"{vendor} {line}"
        title = f"{name}, {detail}, {pack}"
        created = ANCHOR + timedelta(seconds=rng.randrange(CREATION_WINDOW_SECONDS))
        updated = created + timedelta(seconds=rng.randrange(90 * 24 * 3600))
        status = _weighted_status(rng)
        handle = unique_handle(data, slugify(title))
        product = Product(
            number=data.next_number(),
            handle=handle,
            title=title,
            description_html=(
                f"<p>{vendor} {line.lower()}: {detail.lower()}, sold {pack.lower()}.</p>"
                f"<ul><li>Stocked by Cowan's for next-day delivery</li></ul>"
            ),
            vendor=vendor,
            product_type=family.product_type,
            tags=normalize_tags([*family.tags, rng.choice(EXTRA_TAGS), slugify(vendor)]),
            status=status,
            created_at=created,
            updated_at=updated,
            published_at=created if status == "ACTIVE" else None,
        )
        data.products[product.number] = product
        data.handles[handle] = product.number
        self._options_and_variants(product, family, LINE_PRICES.get(line, family.price))
        self._metafields(product, pack)
        collection = self._collection(family)
        collection.product_numbers.append(product.number)
        product.collection_numbers.append(collection.number)
        return product

    def _choose_options(self, family: Family) -> list[tuple[str, list[str]]]:
        """Most products have a single variant; the rest take 2-4 values of each option."""
        if not family.options or self.rng.random() < 0.55:
            return [("Title", ["Default Title"])]
        return [
            (name, self.rng.sample(values, self.rng.randint(2, min(4, len(values)))))
            for name, values in family.options
        ]

    def _options_and_variants(
        self, product: Product, family: Family, prices: tuple[float, float]
    ) -> None:
        data = self.data
        chosen = self._choose_options(family)
        product.options = [
            ProductOption(
                data.next_number(),
                product.number,
                name,
                position,
                [OptionValue(data.next_number(), value) for value in values],
            )
            for position, (name, values) in enumerate(chosen, start=1)
        ]
        combinations: list[list[str]] = [[]]
        for _name, values in chosen:
            combinations = [[*combo, value] for combo in combinations for value in values]
        base_price = _price(self.rng, *prices)
        for position, combination in enumerate(combinations, start=1):
            self._variant(product, family, combination, position, base_price)

    def _variant(
        self, product: Product, family: Family, values: list[str], position: int, price: str
    ) -> None:
        rng, data = self.rng, self.data
        number, item_number = data.next_number(), data.next_number()
        stamp = {"created_at": product.created_at, "updated_at": product.updated_at}
        suffix = "" if values == ["Default Title"] else "-" + "-".join(map(_code, values))
        compare_at = f"{float(price) * 1.25:.2f}" if rng.random() < 0.1 else None
        variant = Variant(
            number=number,
            product_number=product.number,
            inventory_item_number=item_number,
            option_values=values,
            sku=f"{VENDOR_CODES[product.vendor]}-{product.number}{suffix}",
            barcode=upc(rng),
            price=price,
            compare_at_price=compare_at,
            position=position,
            **stamp,
        )
        data.variants[number] = variant
        product.variant_numbers.append(number)
        data.inventory_items[item_number] = InventoryItem(
            item_number,
            number,
            weight_value=float(rng.randint(*family.weight_grams)),
            cost=f"{float(price) * rng.uniform(0.5, 0.7):.2f}",
            **stamp,
        )
        for location in self.locations:
            available = 0 if rng.random() < 0.08 else rng.randint(1, 400)
            data.inventory_levels[(item_number, location)] = InventoryLevel(
                item_number,
                location,
                {"available": available, "on_hand": available},
                **stamp,
            )

    def _metafields(self, product: Product, pack: str) -> None:
        rng = self.rng
        entries = [
            ("manufacturer_part_number", "single_line_text_field", f"{rng.randrange(10**7):07d}"),
            ("country_of_origin", "single_line_text_field", rng.choice(ORIGINS)),
        ]
        count = re.match(r"\d+", pack)
        if count:
            entries.append(("pack_quantity", "number_integer", count.group()))
        if rng.random() < 0.3:
            percent = str(rng.randint(10, 100))
            entries.append(("recycled_content_percent", "number_integer", percent))
        owner = gid("Product", product.number)
        for key, kind, value in entries:
            product.metafields[("custom", key)] = Metafield(
                self.data.next_number(),
                owner,
                "PRODUCT",
                "custom",
                key,
                kind,
                value,
                created_at=product.created_at,
                updated_at=product.updated_at,
            )


def seed_products(shop: Shop, count: int, seed: int = 0) -> list[Product]:
    """Add `count` products to the shop (after any it has); the same seed gives the same ones."""
    if count < 0:
        raise ValueError("count must not be negative")
    builder = _Builder(shop, seed)
    with gc_paused():
        products = [builder.product() for _ in range(count)]
    shop.revision += 1
    return products
