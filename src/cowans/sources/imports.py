"""Running an import: read the source, match, write the catalog, and report.

An import is all or nothing: the catalog changes in one transaction, committed only when every
product was written; a file that is not a feed fails the import and changes nothing. Progress
counters are committed separately as the import goes, so a watcher sees it move.
"""

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from cowans.catalog.feed import FeedProduct
from cowans.catalog.upsert import NewProduct, apply_feed_product, insert_new_products
from cowans.db.models import Import, ImportRowError, Product, ProductVariant
from cowans.db.models import XorosoftItem as XorosoftItemRow
from cowans.db.session import session_factory
from cowans.sources.etilize import read_etilize
from cowans.sources.matching import (
    ItemRef,
    Match,
    MatchReport,
    XorosoftIndex,
    match_products,
    normalize,
)
from cowans.sources.records import EtilizeProduct, RowError, SourceError, XorosoftItem

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 500
BATCH = 500


@dataclass(frozen=True)
class ImportHooks:
    """How a caller follows and stops an import. `progress` gets the import's figures as they
    change (a dict shaped like `import_view`); `checkpoint` is called between batches and may
    raise to stop the import, which then changes nothing."""

    progress: Callable[[dict[str, Any]], None] | None = None
    checkpoint: Callable[[], None] | None = None


def import_view(record: Import) -> dict[str, Any]:
    """An import's state and report, JSON-ready: what the API and the live events show."""
    return {
        "import_id": record.id,
        "kind": record.kind,
        "state": record.state,
        "source": record.source,
        "filename": record.filename,
        **{name: getattr(record, name) for name in COUNTERS},
        "report": record.report or {},
        "report_url": f"/api/imports/{record.id}/errors.csv",
        "error": record.error,
        "created_at": record.created_at.isoformat() if record.created_at else None,
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
    }


COUNTERS = (
    "rows",
    "products",
    "matched",
    "unmatched",
    "duplicates",
    "errors",
    "created",
    "updated",
    "unchanged",
    "locked_conflicts",
)


def _now() -> datetime:
    return datetime.now(UTC)


def specification_key(name: str) -> str:
    """`Sheets Per Pad` -> `sheets_per_pad`: metafield keys allow letters, digits, _ and -."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "specification"


class ImportRun:
    """One import's bookkeeping: its row, progress commits and the final report."""

    def __init__(self, engine: Engine, import_id: int, hooks: ImportHooks | None = None) -> None:
        self.sessions = session_factory(engine)
        self.import_id = import_id
        self.hooks = hooks or ImportHooks()
        self._last_view: dict[str, Any] = {}

    def checkpoint(self) -> None:
        if self.hooks.checkpoint is not None:
            self.hooks.checkpoint()

    def update(self, **fields: Any) -> Import:
        """Commit fields of the import row. A progress update (one that does not change the
        state) is also where a caller may stop the import."""
        if "state" not in fields:
            self.checkpoint()
        with self.sessions() as session:
            record = session.get(Import, self.import_id)
            assert record is not None
            for name, value in fields.items():
                setattr(record, name, value)
            session.commit()
            session.refresh(record)
            session.expunge(record)
        self._last_view = import_view(record)
        self.announce()
        return record

    def announce(self, **writing: Any) -> None:
        """Tell the caller where the import is. While the catalog is being written the figures
        only travel to the caller: the import's transaction holds SQLite's single writer lock,
        so the row cannot be updated until the end."""
        if self.hooks.progress is not None:
            self.hooks.progress({**self._last_view, **writing})

    def fail(self, message: str) -> None:
        logger.warning("import %s failed: %s", self.import_id, message)
        self.update(state="failed", error=message, finished_at=_now())


def _complete(
    session: Session, import_id: int, row_errors: list[RowError], **counters: Any
) -> None:
    """Store the rejected rows and the final counters in the same transaction as the catalog
    changes, so the report is never out of step with what was written."""
    session.add_all(
        ImportRowError(
            import_id=import_id, row_number=e.row_number, column=e.column, reason=e.reason
        )
        for e in row_errors
    )
    record = session.get(Import, import_id)
    assert record is not None
    record.state, record.finished_at, record.errors = "completed", _now(), len(row_errors)
    for name, value in counters.items():
        setattr(record, name, value)


# Etilize -----------------------------------------------------------------------------------------


def xorosoft_index(session: Session) -> XorosoftIndex:
    rows = session.execute(select(XorosoftItemRow.item_number, XorosoftItemRow.base_part_number))
    return XorosoftIndex(ItemRef(number, base) for number, base in rows)


def etilize_feed_product(match: Match, item: XorosoftItemRow) -> FeedProduct:
    product = match.product
    values: dict[str, Any] = {
        "title": product.title,
        "body_html": product.body_html,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "tags": list(product.tags),
        "status": product.status,
        "published": product.published,
        "seo_title": product.seo_title,
        "seo_description": product.seo_description,
        "sku": item.item_number,
        "barcode": product.barcode or item.upc,
        "price": item.unit_price,
        "inventory": dict(item.stock or {}),
        "inventory_policy": "continue" if product.continue_selling else "deny",
        "taxable": product.taxable,
        "requires_shipping": product.requires_shipping,
        "weight_grams": product.weight_grams,
        "option1_name": product.option1_name,
        "option1_value": product.option1_value,
        "images": [
            [i.src, i.position, i.alt] for i in sorted(product.images, key=lambda i: i.position)
        ],
        "specifications": [
            [specification_key(name), list(vals)] for name, vals in product.specifications
        ],
    }
    sources = dict.fromkeys(values, "etilize")
    sources.update(sku="xorosoft", price="xorosoft", inventory="xorosoft")
    if not product.barcode:
        sources["barcode"] = "xorosoft"
    return FeedProduct(
        product.handle,
        values,
        sources,
        etilize_sku=product.sku,
        match_method=match.method,
        matched_field=match.matched_field,
    )


def _read_all(stream: BinaryIO, run: ImportRun) -> tuple[list[EtilizeProduct], list[RowError], int]:
    """The feed's products and row errors, and its number of data rows (as the reader counts
    them: blank rows included, which is what a spreadsheet shows)."""
    products: list[EtilizeProduct] = []
    errors: list[RowError] = []
    records = read_etilize(stream)
    for record in records:
        if isinstance(record, RowError):
            errors.append(record)
        else:
            products.append(record)
        if (len(products) + len(errors)) % PROGRESS_EVERY == 0:
            run.update(products=len(products), errors=len(errors))
    return products, errors, records.rows


def _report(matches: MatchReport, locked: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "methods": matches.method_counts(),
        "unmatched": [
            {"row": p.row_number, "handle": p.handle, "sku": p.sku, "title": p.title}
            for p in matches.unmatched
        ],
        "duplicates": [vars(d) for d in matches.duplicates],
        "locked": locked,
    }


def _existing_products(session: Session, handles: list[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for start in range(0, len(handles), BATCH):
        chunk = handles[start : start + BATCH]
        query = (
            select(Product)
            .where(Product.handle.in_(chunk))
            .options(
                selectinload(Product.variants),
                selectinload(Product.images),
                selectinload(Product.metafields),
            )
        )
        found.update((p.handle, p) for p in session.scalars(query))
    return found


def _apply_batch(
    session: Session,
    batch: list[Match],
    import_id: int,
    moment: datetime,
    counts: dict[str, int],
    locked: list[dict[str, Any]],
) -> None:
    """One batch of matched products into the catalog, with its items and products loaded
    together (a query per batch, not per product); the batch's new products are written by one
    bulk INSERT per table."""
    numbers = [match.item_number for match in batch]
    items = {
        row.item_number: row
        for row in session.scalars(
            select(XorosoftItemRow).where(XorosoftItemRow.item_number.in_(numbers))
        )
    }
    existing = _existing_products(session, [match.product.handle for match in batch])
    new: list[NewProduct] = []
    for match in batch:
        feed = etilize_feed_product(match, items[match.item_number])
        product = existing.get(match.product.handle)
        if product is None:
            new.append(NewProduct.build(feed, source="etilize", import_id=import_id, moment=moment))
            continue
        result = apply_feed_product(
            session, product, feed, source="etilize", import_id=import_id, moment=moment
        )
        counts["updated" if result.changed else "unchanged"] += 1
        locked += [{"handle": match.product.handle, **d} for d in result.locked_disagreements]
    insert_new_products(session, new)
    counts["created"] += len(new)


def run_etilize_import(
    engine: Engine, import_id: int, stream: BinaryIO, hooks: ImportHooks | None = None
) -> None:
    run = ImportRun(engine, import_id, hooks)
    run.update(state="running", started_at=_now())
    try:
        products, row_errors, rows = _read_all(stream, run)
    except SourceError as exc:
        run.fail(exc.message)
        return
    moment = _now()
    with run.sessions() as session:
        matches = match_products(products, xorosoft_index(session))
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        locked: list[dict[str, Any]] = []
        chosen = list(matches.matches.values())
        for start in range(0, len(chosen), BATCH):
            run.checkpoint()
            batch = chosen[start : start + BATCH]
            _apply_batch(session, batch, import_id, moment, counts, locked)
            # Written (not committed): let the batch go, so memory does not grow with the feed.
            session.flush()
            session.expunge_all()
            run.announce(phase="writing", written=start + len(batch), to_write=len(chosen))
        _complete(
            session,
            import_id,
            row_errors,
            rows=rows,
            products=len(products),
            matched=len(matches.matches),
            unmatched=len(matches.unmatched),
            duplicates=len(matches.duplicates),
            locked_conflicts=len(locked),
            report=_report(matches, locked),
            **counts,
        )
        session.commit()
    run.update()


# Xorosoft ----------------------------------------------------------------------------------------


def _aggregate(
    records: Iterable[XorosoftItem | RowError],
) -> tuple[dict[str, XorosoftItem], dict[str, dict[str, int]], list[RowError], int]:
    """One entry per item, with its stock by location (the export has a row per location)."""
    items: dict[str, XorosoftItem] = {}
    stock: dict[str, dict[str, int]] = {}
    errors: list[RowError] = []
    rows = 0
    for record in records:
        rows += 1
        if isinstance(record, RowError):
            errors.append(record)
            continue
        items.setdefault(record.item_number, record)
        stock.setdefault(record.item_number, {})[record.location] = record.quantity_on_hand
    return items, stock, errors, rows


def _store_items(
    session: Session,
    items: dict[str, XorosoftItem],
    stock: dict[str, dict[str, int]],
    import_id: int,
) -> None:
    existing = {row.item_number: row for row in session.scalars(select(XorosoftItemRow))}
    for number, item in items.items():
        row = existing.get(number) or XorosoftItemRow(item_number=number)
        row.item_key, row.base_part_number = normalize(number), item.base_part_number
        row.base_key = normalize(item.base_part_number)
        row.description, row.unit_price, row.upc = item.description, item.unit_price, item.upc
        row.vendor_product_number, row.stock, row.import_id = (
            item.vendor_product_number,
            stock[number],
            import_id,
        )
        session.add(row)


def _refresh_catalog(
    session: Session,
    items: dict[str, XorosoftItem],
    stock: dict[str, dict[str, int]],
    import_id: int,
    moment: datetime,
    run: ImportRun,
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Price and stock of the catalog's variants from Xorosoft, respecting locks."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    locked: list[dict[str, Any]] = []
    skus = list(items)
    for start in range(0, len(skus), BATCH):
        run.checkpoint()
        run.announce(phase="writing", written=start, to_write=len(skus))
        variants = session.scalars(
            select(ProductVariant)
            .where(ProductVariant.sku.in_(skus[start : start + BATCH]))
            .options(
                selectinload(ProductVariant.product).selectinload(Product.variants),
                selectinload(ProductVariant.product).selectinload(Product.images),
                selectinload(ProductVariant.product).selectinload(Product.metafields),
            )
        )
        for variant in variants:
            item = items[variant.sku]
            feed = FeedProduct(
                variant.product.handle,
                {"price": item.unit_price, "inventory": stock[variant.sku]},
                {"price": "xorosoft", "inventory": "xorosoft"},
            )
            result = apply_feed_product(
                session,
                variant.product,
                feed,
                source="xorosoft",
                import_id=import_id,
                moment=moment,
                keep_hash=False,
            )
            counts["updated" if result.changed else "unchanged"] += 1
            locked += [{"handle": variant.product.handle, **d} for d in result.locked_disagreements]
    return counts, locked


def run_xorosoft_import(
    engine: Engine,
    import_id: int,
    records: Iterable[XorosoftItem | RowError],
    hooks: ImportHooks | None = None,
) -> None:
    run = ImportRun(engine, import_id, hooks)
    run.update(state="running", started_at=_now())
    try:
        items, stock, row_errors, rows = _aggregate(records)
    except SourceError as exc:
        run.fail(exc.message)
        return
    moment = _now()
    with run.sessions() as session:
        _store_items(session, items, stock, import_id)
        counts, locked = _refresh_catalog(session, items, stock, import_id, moment, run)
        _complete(
            session,
            import_id,
            row_errors,
            rows=rows,
            products=len(items),
            matched=counts["updated"] + counts["unchanged"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            locked_conflicts=len(locked),
            report={"locked": locked},
        )
        session.commit()
    run.update()
