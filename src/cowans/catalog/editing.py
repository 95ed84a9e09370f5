"""A person's edits: applied, versioned, and locked against the feeds until released."""

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cowans.catalog.errors import CatalogErrorCode
from cowans.catalog.feed import PRODUCT_FIELDS, comparable
from cowans.catalog.upsert import current_values, record_version, set_field
from cowans.db.models import Product, ProductVariant, ProductVersion
from cowans.errors import Conflict, InvalidInput, NotFound

STATUSES = ("active", "draft", "archived")
CENT = Decimal("0.01")
POLICIES = ("deny", "continue")
TEXT_FIELDS = (
    "title",
    "body_html",
    "vendor",
    "product_type",
    "seo_title",
    "seo_description",
    "barcode",
)


# PostgreSQL text holds neither; SQLite would take them and hand back something else.
_UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE = "must not contain NUL or unpaired surrogate characters"


def storable_text(value: str) -> bool:
    """Whether every backend stores `value` and returns it exactly: no NUL (PostgreSQL text
    refuses it) and no lone surrogate (not encodable as UTF-8 at all)."""
    return _UNSTORABLE_CHARACTERS.search(value) is None


def load_product(session: Session, product_id: int) -> Product:
    product = session.scalar(
        select(Product)
        .where(Product.id == product_id, Product.deleted_at.is_(None))
        .options(
            selectinload(Product.variants),
            selectinload(Product.images),
            selectinload(Product.metafields),
        )
    )
    if product is None:
        raise NotFound(CatalogErrorCode.PRODUCT_NOT_FOUND, f"No product with id {product_id}.")
    return product


def _checked(name: str, value: Any) -> Any:
    """The value to store, or InvalidInput saying why not."""

    def invalid(reason: str) -> InvalidInput:
        return InvalidInput(CatalogErrorCode.INVALID_VALUE, f"{name}: {reason}", {"field": name})

    if name in TEXT_FIELDS:
        if not isinstance(value, str) or (name == "title" and not value.strip()):
            raise invalid("must be a non-empty string" if name == "title" else "must be a string")
        if not storable_text(value):
            raise invalid(UNSTORABLE)
        return value
    if name == "tags":
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise invalid("must be a list of strings")
        if not all(storable_text(tag) for tag in value):
            raise invalid(UNSTORABLE)
        return sorted({t.strip() for t in value if t.strip()})
    if name == "status":
        if value not in STATUSES:
            raise invalid(f"must be one of {', '.join(STATUSES)}")
        return value
    if name == "inventory_policy":
        if value not in POLICIES:
            raise invalid(f"must be one of {', '.join(POLICIES)}")
        return value
    if name == "published":
        if not isinstance(value, bool):
            raise invalid("must be true or false")
        return value
    if name == "price":
        try:
            amount = Decimal(str(value))
        except InvalidOperation as exc:
            raise invalid("must be a decimal amount") from exc
        if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
            raise invalid("must be a non-negative amount")
        return amount.quantize(CENT)
    raise InvalidInput(
        CatalogErrorCode.FIELD_NOT_EDITABLE, f"{name} cannot be edited here.", {"field": name}
    )


EDITABLE = (*TEXT_FIELDS, "tags", "status", "inventory_policy", "published", "price")


def edit_product(session: Session, product_id: int, edits: dict[str, Any], user_id: int) -> Product:
    """Apply a person's edits. Each edited field is locked: imports keep the person's value."""
    return apply_edits(session, load_product(session, product_id), edits, user_id)


def apply_edits(
    session: Session, product: Product, edits: dict[str, Any], user_id: int | None
) -> Product:
    """`edit_product` on a product the caller already loaded (a batch computes its edits from
    the current values, so it loads the product first)."""
    checked = {name: _checked(name, value) for name, value in edits.items()}
    current = _current(product, checked)
    moment = datetime.now(UTC)
    changes: dict[str, list[Any]] = {}
    locks = dict(product.locks or {})
    provenance = dict(product.provenance or {})
    for name, value in checked.items():
        locks[name] = {"by": user_id, "at": moment.isoformat()}
        if comparable(current.get(name)) == comparable(value):
            continue
        set_field(product, name, value)
        changes[name] = [comparable(current.get(name)), comparable(value)]
        provenance[name] = {"source": "user", "user_id": user_id, "at": moment.isoformat()}
    product.locks, product.provenance = locks, provenance
    if changes:
        record_version(session, product, changes, moment, source="user", user_id=user_id)
    # Not flushed here: a batch flushes a chunk of products at once (one UPDATE for all), and
    # a single edit is flushed by the query that follows it or by the commit.
    return product


def _current(product: Product, names: Iterable[str]) -> dict[str, Any]:
    """The current values of the editable fields named (product or first-variant fields):
    `current_values` also builds the images and specifications, which no edit touches and a
    batch would otherwise load for every product."""
    variant = product.variants[0] if product.variants else None
    return {
        name: getattr(product, name)
        if name in PRODUCT_FIELDS
        else (getattr(variant, name) if variant is not None else None)
        for name in names
    }


def adjusted_price(price: Decimal, percent: Decimal) -> Decimal:
    """`price` moved by `percent`, rounded half-up to cents: how a shop rounds, where Python's
    default (half-even) would turn 1.265 into 1.26."""
    return (price * (100 + percent) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def delete_product(session: Session, product_id: int, user_id: int | None) -> Product:
    """Soft delete: the product leaves every listing and selection but keeps its history (and
    its handle, so a feed that still carries it updates the deleted row instead of bringing
    the product back as a new one)."""
    product = session.scalar(
        select(Product).where(Product.id == product_id, Product.deleted_at.is_(None))
    )
    if product is None:
        raise NotFound(CatalogErrorCode.PRODUCT_NOT_FOUND, f"No product with id {product_id}.")
    moment = datetime.now(UTC)
    product.deleted_at = moment
    record_version(
        session, product, {"deleted": [False, True]}, moment, source="user", user_id=user_id
    )
    session.flush()
    return product


def release_lock(session: Session, product_id: int, field: str) -> Product:
    """The feeds own the field again; the next import brings their value back."""
    product = load_product(session, product_id)
    if field not in (product.locks or {}):
        raise NotFound(
            CatalogErrorCode.NOT_LOCKED, f"{field} is not locked on product {product_id}."
        )
    product.locks = {name: lock for name, lock in product.locks.items() if name != field}
    product.content_hash = ""  # so the next import compares again instead of skipping
    session.flush()
    return product


def history(session: Session, product_id: int) -> list[ProductVersion]:
    load_product(session, product_id)
    return list(
        session.scalars(
            select(ProductVersion)
            .where(ProductVersion.product_id == product_id)
            .order_by(ProductVersion.version.desc())
        )
    )


def apply_reviewed_values(
    session: Session, product: Product, values: dict[str, Any], user_id: int | None, source: str
) -> Product:
    """Values a person approved from elsewhere (Shopify), under the catalog's field names.
    They are locked like a person's own edits: the approval was a person's choice, and the
    next feed must not quietly undo it."""
    current = current_values(product)
    moment = datetime.now(UTC)
    changes: dict[str, list[Any]] = {}
    locks = dict(product.locks or {})
    provenance = dict(product.provenance or {})
    for name, value in values.items():
        locks[name] = {"by": user_id, "at": moment.isoformat(), "source": source}
        if comparable(current.get(name)) == comparable(value):
            continue
        set_field(product, name, value)
        changes[name] = [comparable(current.get(name)), comparable(value)]
        provenance[name] = {"source": source, "user_id": user_id, "at": moment.isoformat()}
    product.locks, product.provenance = locks, provenance
    if changes:
        record_version(session, product, changes, moment, source=source, user_id=user_id)
    session.flush()
    return product


def create_reviewed_product(
    session: Session, handle: str, values: dict[str, Any], user_id: int | None, source: str
) -> Product:
    """A product that began elsewhere (made by hand in Shopify), approved into the catalog.
    A SKU the catalog already gives another product is refused: SKUs are unique here."""
    sku = values.get("sku")
    if sku and session.scalar(select(ProductVariant.id).where(ProductVariant.sku == sku)):
        raise Conflict(
            CatalogErrorCode.SKU_TAKEN,
            f"SKU {sku} already belongs to another catalog product.",
            {"sku": sku},
        )
    if session.scalar(select(Product.id).where(Product.handle == handle)):
        raise Conflict(
            CatalogErrorCode.HANDLE_TAKEN,
            f"The catalog already has a product with handle {handle} (perhaps deleted).",
            {"handle": handle},
        )
    product = Product(handle=handle, title="", provenance={}, locks={}, version=0)
    session.add(product)
    moment = datetime.now(UTC)
    for name, value in values.items():
        set_field(product, name, value)
    product.provenance = {
        name: {"source": source, "user_id": user_id, "at": moment.isoformat()} for name in values
    }
    record_version(
        session,
        product,
        {name: [None, comparable(value)] for name, value in values.items()},
        moment,
        source=source,
        user_id=user_id,
    )
    session.flush()
    return product
