"""Running an import: read the source, match, write the catalog, and report.

An import is all or nothing: the catalog changes in one transaction, committed only when every
product was written; a file that is not a feed fails the import and changes nothing. Progress
counters are committed separately as the import goes, so a watcher sees it move.
"""

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session, selectinload

from cowans.catalog.feed import FeedProduct
from cowans.catalog.upsert import (
    NewProductRows,
    apply_feed_product,
    insert_new_products,
    new_product_rows,
)
from cowans.db.models import Import, ImportRowError, Product, ProductVariant
from cowans.db.models import XorosoftItem as XorosoftItemRow
from cowans.db.session import read_scope, session_factory
from cowans.sources.csv_batches import position_to_return_to
from cowans.sources.etilize import read_etilize
from cowans.sources.gc_pause import gc_paused
from cowans.sources.matching import (
    ItemRef,
    Match,
    MatchTally,
    XorosoftIndex,
    candidates,
    match_one,
    normalize,
)
from cowans.sources.records import (
    EtilizeProduct,
    RowError,
    SourceError,
    SourceErrorCode,
    XorosoftItem,
)

logger = logging.getLogger(__name__)

BATCH = 500
# Candidate keys per lookup of Xorosoft items: well under any database's limit on parameters.
KEYS_PER_QUERY = 500


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


def _complete(session: Session, import_id: int, errors: int, **counters: Any) -> None:
    """The final counters, in the same transaction as the catalog changes and the rejected
    rows, so the report is never out of step with what was written."""
    record = session.get(Import, import_id)
    assert record is not None
    record.state, record.finished_at, record.errors = "completed", _now(), errors
    for name, value in counters.items():
        setattr(record, name, value)


# Etilize ---------------------------------------------------------------------------------------
#
# The feed is read twice, so that no more than a batch of its products is ever in memory (a
# feed of 250,000 products held whole took gigabytes). The first pass matches every product and
# keeps only who holds each item (`MatchTally`), the unmatched products' report lines and the
# number of row errors; the second reads the feed again and writes the holders, and the row
# errors, a batch at a time. Products are written in feed order.

# Opens the feed afresh: the import reads it twice.
FeedOpener = Callable[[], AbstractContextManager[BinaryIO]]


class FeedChanged(SourceError):
    """The second reading did not find what the first did: nothing is written."""

    def __init__(self) -> None:
        super().__init__(
            SourceErrorCode.NOT_A_FEED,
            "The feed or the Xorosoft items changed while the feed was imported; nothing of it "
            "is imported. Run the import again.",
        )


def feed_opener(feed: BinaryIO | FeedOpener) -> FeedOpener:
    """An opener for a feed given as a stream that can go back to where it starts."""
    if callable(feed):
        return feed
    start = position_to_return_to(feed)
    if start is None:
        raise ValueError("an Etilize import reads its feed twice: give a seekable stream")

    @contextmanager
    def rewound() -> Iterator[BinaryIO]:
        feed.seek(start)
        yield feed

    return rewound


def batch_index(session: Session, products: Iterable[EtilizeProduct]) -> XorosoftIndex:
    """The Xorosoft index as far as these products can hit it: every item whose normalized
    ItemNumber or BasePartNumber is one of their candidates (the `*_key` columns), so each
    lookup finds what the index of all items would."""
    keys = {normalize(value) for product in products for _, value in candidates(product)}
    keys.discard("")
    found: set[ItemRef] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), KEYS_PER_QUERY):
        chunk = ordered[start : start + KEYS_PER_QUERY]
        for column in (XorosoftItemRow.item_key, XorosoftItemRow.base_key):
            rows = session.execute(
                select(XorosoftItemRow.item_number, XorosoftItemRow.base_part_number).where(
                    column.in_(chunk)
                )
            )
            found.update(ItemRef(number, base) for number, base in rows)
    return XorosoftIndex(found)


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


@dataclass
class _FeedBatch:
    """A stretch of the feed: up to BATCH records, its products and its row errors."""

    first: int  # the order in the feed (among products) of its first product
    products: list[EtilizeProduct] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _feed_batches(records: Iterable[EtilizeProduct | RowError]) -> Iterator[_FeedBatch]:
    batch = _FeedBatch(0)
    for record in records:
        if isinstance(record, RowError):
            batch.errors.append(record)
        else:
            batch.products.append(record)
        if len(batch.products) + len(batch.errors) == BATCH:
            yield batch
            batch = _FeedBatch(batch.first + len(batch.products))
    if batch.products or batch.errors:
        yield batch


def _batch_matches(session: Session, batch: _FeedBatch) -> dict[int, Match]:
    """The batch's matches by order in the feed (an unmatched product has none)."""
    index = batch_index(session, batch.products)
    found = (
        match_one(product, index, order)
        for order, product in enumerate(batch.products, start=batch.first)
    )
    return {match.order: match for match in found if match is not None}


@dataclass
class FeedSurvey:
    """What the first reading found: who holds each item, the unmatched products' report lines
    and the counts. What grows with the feed is small: a number per matched item, and a line
    per unmatched product (the report lists each)."""

    tally: MatchTally = field(default_factory=MatchTally)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    products: int = 0
    errors: int = 0
    rows: int = 0


def _survey(engine: Engine, opener: FeedOpener, run: ImportRun) -> FeedSurvey:
    """The first reading: match every product and keep who holds what. It takes no write lock,
    so its progress is committed as it goes."""
    survey = FeedSurvey()
    with opener() as stream, read_scope(engine) as session:
        records = read_etilize(stream)
        for batch in _feed_batches(records):
            matches = _batch_matches(session, batch)
            for order, product in enumerate(batch.products, start=batch.first):
                match = matches.get(order)
                if match is None:
                    survey.unmatched.append(_unmatched_line(product))
                else:
                    survey.tally.add(match)
            survey.products += len(batch.products)
            survey.errors += len(batch.errors)
            run.update(products=survey.products, errors=survey.errors)
        survey.rows = records.rows
    return survey


def _unmatched_line(product: EtilizeProduct) -> dict[str, Any]:
    return {
        "row": product.row_number,
        "handle": product.handle,
        "sku": product.sku,
        "title": product.title,
    }


@dataclass
class _Writing:
    """The second reading's state: what it wrote and counted, to check against the survey."""

    import_id: int
    moment: datetime
    counts: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0}
    )
    locked: list[dict[str, Any]] = field(default_factory=list)
    # (handle, row number) of the products a duplicate names, by order
    named: dict[int, tuple[str, int]] = field(default_factory=dict)
    products: int = 0
    unmatched: int = 0
    errors: int = 0

    @property
    def written(self) -> int:
        return sum(self.counts.values())


def _write_feed(
    session: Session, opener: FeedOpener, survey: FeedSurvey, writing: _Writing, run: ImportRun
) -> None:
    """The second reading: the holders into the catalog and the row errors into the report, a
    batch at a time, each batch let go once written. Raises FeedChanged if it did not read
    what the first reading did."""
    named_orders = survey.tally.named_orders()
    with opener() as stream:
        records = read_etilize(stream)
        for batch in _feed_batches(records):
            run.checkpoint()
            with gc_paused():  # some fifteen rows a product, all alive until written
                _write_batch(session, batch, survey, writing, named_orders)
            # Written (not committed): let the batch go, so memory does not grow with the feed.
            session.flush()
            session.expunge_all()
            run.announce(phase="writing", written=writing.written, to_write=len(survey.tally))
        rows = records.rows
    read = (rows, writing.products, writing.unmatched, writing.errors, writing.written)
    if read != (
        survey.rows,
        survey.products,
        len(survey.unmatched),
        survey.errors,
        len(survey.tally),
    ):
        raise FeedChanged()


def _write_batch(
    session: Session,
    batch: _FeedBatch,
    survey: FeedSurvey,
    writing: _Writing,
    named_orders: set[int],
) -> None:
    matches = _batch_matches(session, batch)
    for order, product in enumerate(batch.products, start=batch.first):
        if order in named_orders:
            writing.named[order] = (product.handle, product.row_number)
    holders = [match for match in matches.values() if survey.tally.holds(match)]
    writing.products += len(batch.products)
    writing.unmatched += len(batch.products) - len(matches)
    writing.errors += len(batch.errors)
    _add_row_errors(session, writing.import_id, batch.errors)
    _apply_batch(session, holders, writing)


def _add_row_errors(session: Session, import_id: int, row_errors: list[RowError]) -> None:
    if row_errors:
        session.execute(
            insert(ImportRowError),
            [
                {
                    "import_id": import_id,
                    "row_number": e.row_number,
                    "column": e.column,
                    "reason": e.reason,
                }
                for e in row_errors
            ],
        )


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


def _apply_batch(session: Session, batch: list[Match], writing: _Writing) -> None:
    """One batch of matched products into the catalog, with its items and products loaded
    together (a query per batch, not per product); the batch's new products are written by one
    bulk INSERT per table."""
    if not batch:
        return
    numbers = [match.item_number for match in batch]
    items = {
        row.item_number: row
        for row in session.scalars(
            select(XorosoftItemRow).where(XorosoftItemRow.item_number.in_(numbers))
        )
    }
    existing = _existing_products(session, [match.product.handle for match in batch])
    new: list[NewProductRows] = []
    for match in batch:
        feed = etilize_feed_product(match, items[match.item_number])
        product = existing.get(match.product.handle)
        if product is None:
            new.append(
                new_product_rows(
                    feed, source="etilize", import_id=writing.import_id, moment=writing.moment
                )
            )
            continue
        result = apply_feed_product(
            session,
            product,
            feed,
            source="etilize",
            import_id=writing.import_id,
            moment=writing.moment,
        )
        writing.counts["updated" if result.changed else "unchanged"] += 1
        writing.locked += [
            {"handle": match.product.handle, **d} for d in result.locked_disagreements
        ]
    insert_new_products(session, new)
    writing.counts["created"] += len(new)


def _report(survey: FeedSurvey, writing: _Writing) -> dict[str, Any]:
    duplicates = survey.tally.duplicates(writing.named.__getitem__)
    return {
        "methods": survey.tally.method_counts(),
        "unmatched": survey.unmatched,
        "duplicates": [asdict(d) for d in duplicates],
        "locked": writing.locked,
    }


def run_etilize_import(
    engine: Engine,
    import_id: int,
    feed: BinaryIO | FeedOpener,
    hooks: ImportHooks | None = None,
) -> None:
    """Import the feed: `feed` opens it (it is read twice), or is a stream that can seek."""
    run = ImportRun(engine, import_id, hooks)
    run.update(state="running", started_at=_now())
    opener = feed_opener(feed)
    try:
        survey = _survey(engine, opener, run)
        writing = _Writing(import_id, _now())
        with run.sessions() as session:
            _write_feed(session, opener, survey, writing, run)
            _complete(
                session,
                import_id,
                survey.errors,
                rows=survey.rows,
                products=survey.products,
                matched=len(survey.tally),
                unmatched=len(survey.unmatched),
                duplicates=len(survey.tally.contests),
                locked_conflicts=len(writing.locked),
                report=_report(survey, writing),
                **writing.counts,
            )
            session.commit()
    except SourceError as exc:  # the write session, if any, was rolled back: nothing written
        run.fail(exc.message)
        return
    run.update()


# Xorosoft ----------------------------------------------------------------------------------------
#
# The export has a row per item and location, and an item's rows need not be together. The rows
# are stored a batch at a time: an item first seen in this import takes the values of its first
# row, and the stock of every later row of it is merged into the stored one, so the table itself
# aggregates and memory holds a batch (and the item numbers, in the order first seen, which is
# the order products are refreshed and locked fields reported in).


@dataclass
class _ItemsRead:
    """What storing the export found."""

    numbers: list[str] = field(default_factory=list)  # items in the order first seen
    rows: int = 0
    errors: int = 0


def _store_items(
    session: Session,
    records: Iterable[XorosoftItem | RowError],
    import_id: int,
    run: ImportRun,
) -> _ItemsRead:
    read = _ItemsRead()
    batch: list[XorosoftItem] = []
    row_errors: list[RowError] = []
    for record in records:
        read.rows += 1
        if isinstance(record, RowError):
            row_errors.append(record)
        else:
            batch.append(record)
        if len(batch) + len(row_errors) == BATCH:
            run.checkpoint()
            _store_batch(session, batch, import_id, read, row_errors)
            batch, row_errors = [], []
    _store_batch(session, batch, import_id, read, row_errors)
    return read


def _store_batch(
    session: Session,
    batch: list[XorosoftItem],
    import_id: int,
    read: _ItemsRead,
    row_errors: list[RowError],
) -> None:
    read.errors += len(row_errors)
    _add_row_errors(session, import_id, row_errors)
    firsts: dict[str, XorosoftItem] = {}
    stock: dict[str, dict[str, int]] = {}
    for item in batch:
        firsts.setdefault(item.item_number, item)
        stock.setdefault(item.item_number, {})[item.location] = item.quantity_on_hand
    if not firsts:
        return
    stored = {
        number: (stored_import, stored_stock)
        for number, stored_import, stored_stock in session.execute(
            select(
                XorosoftItemRow.item_number, XorosoftItemRow.import_id, XorosoftItemRow.stock
            ).where(XorosoftItemRow.item_number.in_(list(firsts)))
        )
    }
    inserts, replaced, merged = [], [], []
    for number, item in firsts.items():
        previous = stored.get(number)
        if previous is not None and previous[0] == import_id:  # seen earlier in this import
            merged.append({"item_number": number, "stock": {**previous[1], **stock[number]}})
            continue
        read.numbers.append(number)
        row = _item_row(item, stock[number], import_id)
        (inserts if previous is None else replaced).append(row)
    if inserts:
        session.execute(insert(XorosoftItemRow), inserts)
    for rows in (replaced, merged):
        if rows:
            session.execute(update(XorosoftItemRow), rows)


def _item_row(item: XorosoftItem, stock: dict[str, int], import_id: int) -> dict[str, Any]:
    return {
        "item_number": item.item_number,
        "item_key": normalize(item.item_number),
        "base_part_number": item.base_part_number,
        "base_key": normalize(item.base_part_number),
        "description": item.description,
        "unit_price": item.unit_price,
        "upc": item.upc,
        "vendor_product_number": item.vendor_product_number,
        "stock": stock,
        "import_id": import_id,
        "updated_at": _now(),
    }


def _refresh_catalog(
    session: Session,
    numbers: list[str],
    import_id: int,
    moment: datetime,
    run: ImportRun,
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Price and stock of the catalog's variants from Xorosoft, respecting locks."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    locked: list[dict[str, Any]] = []
    for start in range(0, len(numbers), BATCH):
        run.checkpoint()
        run.announce(phase="writing", written=start, to_write=len(numbers))
        chunk = numbers[start : start + BATCH]
        items = {
            number: (price, stock)
            for number, price, stock in session.execute(
                select(
                    XorosoftItemRow.item_number, XorosoftItemRow.unit_price, XorosoftItemRow.stock
                ).where(XorosoftItemRow.item_number.in_(chunk))
            )
        }
        variants = session.scalars(
            select(ProductVariant)
            .where(ProductVariant.sku.in_(chunk))
            .options(
                selectinload(ProductVariant.product).selectinload(Product.variants),
                selectinload(ProductVariant.product).selectinload(Product.images),
                selectinload(ProductVariant.product).selectinload(Product.metafields),
            )
        )
        for variant in variants:
            price, stock = items[variant.sku]
            feed = FeedProduct(
                variant.product.handle,
                {"price": price, "inventory": stock},
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
        session.flush()
        session.expunge_all()
    return counts, locked


def run_xorosoft_import(
    engine: Engine,
    import_id: int,
    records: Iterable[XorosoftItem | RowError],
    hooks: ImportHooks | None = None,
) -> None:
    run = ImportRun(engine, import_id, hooks)
    run.update(state="running", started_at=_now())
    moment = _now()
    try:
        with run.sessions() as session:
            read = _store_items(session, records, import_id, run)
            counts, locked = _refresh_catalog(session, read.numbers, import_id, moment, run)
            _complete(
                session,
                import_id,
                read.errors,
                rows=read.rows,
                products=len(read.numbers),
                matched=counts["updated"] + counts["unchanged"],
                updated=counts["updated"],
                unchanged=counts["unchanged"],
                locked_conflicts=len(locked),
                report={"locked": locked},
            )
            session.commit()
    except SourceError as exc:  # the write session was rolled back: nothing written
        run.fail(exc.message)
        return
    run.update()
