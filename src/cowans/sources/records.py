"""What the source readers yield: plain, immutable records, validated, in source terms.

The readers stream: each yields one record (or one row error) at a time, so a feed of any size
is read in constant memory. Matching and the catalog work on these records only.

The records readers make by the hundred thousand (products, images, items) are slotted and not
frozen: a frozen dataclass sets each field through `object.__setattr__`, which makes building an
`EtilizeProduct` ten times slower than building a plain slotted one (2.7 against 0.27 µs), and
the column reader builds little else. Treat them as immutable all the same: nothing changes a
record once its reader has yielded it.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class SourceErrorCode(StrEnum):
    NOT_A_FEED = "not_a_feed"  # wrong columns, binary, empty: the whole file is refused
    UNSAFE_ARCHIVE = "unsafe_archive"  # zip bomb, path traversal, several or no CSVs
    TRANSFER_FAILED = "transfer_failed"  # FTP or API unreachable after retries
    AUTH_FAILED = "auth_failed"


class SourceError(Exception):
    """A source that cannot be read at all. Nothing of it is imported."""

    def __init__(self, code: SourceErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class RowError:
    """One rejected row: the import goes on without it and lists it in errors.csv."""

    row_number: int  # as a spreadsheet shows it: the header is row 1
    column: str
    reason: str


@dataclass(slots=True)
class EtilizeImage:
    src: str
    position: int
    alt: str = ""


@dataclass(slots=True)
class EtilizeProduct:
    """One Etilize product: its main row plus the image rows that share its Handle."""

    row_number: int
    handle: str
    title: str
    sku: str
    vendor: str
    product_type: str
    body_html: str = ""
    tags: tuple[str, ...] = ()
    published: bool = True
    status: str = "active"
    barcode: str = ""
    option1_name: str = "Title"
    option1_value: str = "Default Title"
    taxable: bool = True
    continue_selling: bool = False  # "Continue selling when out of stock"
    weight_grams: Decimal | None = None
    weight_unit: str = "g"
    requires_shipping: bool = True
    seo_title: str = ""
    seo_description: str = ""
    images: tuple[EtilizeImage, ...] = ()
    # Specification name (the `custom.<Name>` of its column) -> its values, in column order.
    specifications: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The alternate part numbers used for matching: custom.CWS_A, CWS_Catalog, SPRC.
    cws_a: tuple[str, ...] = ()
    cws_catalog: tuple[str, ...] = ()
    sprc: tuple[str, ...] = ()


@dataclass(slots=True)
class XorosoftItem:
    """One Xorosoft item at one location (the export has a row per item per location)."""

    item_number: str  # as Xorosoft writes it; becomes the Shopify SKU
    base_part_number: str
    description: str
    unit_price: Decimal
    quantity_on_hand: int
    location: str
    upc: str = ""
    vendor_product_number: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False)
