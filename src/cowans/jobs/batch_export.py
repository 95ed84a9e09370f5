"""The export batch: the selected products written to a CSV or XLSX file, chunk by chunk.

The file is written under a temporary name and renamed into place only when it is complete,
so `/api/batch/result/{id}` never serves half a file. A file cannot be resumed the way item
work can (the part written before a crash is gone with its temporary file), so an export that
starts again (after a crash, a shutdown or a retry) starts its file over: every item is pending
again and the whole selection is written anew.
"""

import os
import tempfile
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowans.catalog.errors import CatalogErrorCode
from cowans.catalog.rows import ChildRows, products_with_children
from cowans.config import Settings
from cowans.db.models import (
    JobItem,
    JobItemState,
    Product,
    ProductImage,
    ProductMetafield,
    ProductVariant,
)
from cowans.db.session import session_scope
from cowans.errors import DomainError, NotFound
from cowans.jobs import items
from cowans.jobs.context import JobContext
from cowans.sources.product_csv import (
    SPECIFICATION_NAMESPACE,
    Format,
    TableWriter,
    header,
    open_table,
    product_rows,
)

EXPORTS = "exports"


def export_path(settings: Settings, job_id: int, file_format: Format) -> Path:
    return settings.data_dir / EXPORTS / f"batch-{job_id}.{file_format.value}"


def run_export(context: JobContext) -> dict[str, Any]:
    file_format = Format(context.params["format"])
    target = export_path(context.settings, context.job_id, file_format)
    target.parent.mkdir(parents=True, exist_ok=True)
    with session_scope(context.engine) as session:
        _start_over(session, context.job_id)
        keys = specification_keys(session, context.job_id)
        counts = items.tally(session, context.job_id)
    context.progress(**_figures(counts), phase="exporting")
    descriptor, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part"
    )
    os.close(descriptor)
    part = Path(name)
    counts["rows"] = 0
    try:
        with open_table(part, file_format, header(keys)) as table:
            after: int | None = -1
            while after is not None:
                after = _export_chunk(context, after, table, keys, counts)
                context.progress(**_figures(counts))
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    return {
        **_figures(counts),
        "format": file_format.value,
        "file": target.name,
        "rows": counts["rows"],
    }


def _start_over(session: Session, job_id: int) -> None:
    if items.count_items(session, job_id, JobItemState.PENDING) < items.count_items(
        session, job_id
    ):
        items.reset_all(session, job_id)


def specification_keys(session: Session, job_id: int) -> list[str]:
    """The specification columns the selection needs, known before the first row is written
    (a header cannot grow afterwards), in an order that keeps every product's own order of
    specifications wherever the products agree (those of one feed always do): re-imported,
    each product's specifications come back in the order they had. One streamed pass over the
    selection's specifications; what it keeps grows with the distinct keys only."""
    rows = session.execute(
        select(ProductMetafield.product_id, ProductMetafield.key)
        .join(JobItem, JobItem.product_id == ProductMetafield.product_id)
        .join(Product, Product.id == ProductMetafield.product_id)
        .where(
            JobItem.job_id == job_id,
            ProductMetafield.namespace == SPECIFICATION_NAMESPACE,
            Product.deleted_at.is_(None),
        )
        .order_by(ProductMetafield.product_id, ProductMetafield.id)
        .execution_options(yield_per=10_000)
    )
    first_seen: dict[str, int] = {}
    predecessors: dict[str, set[str]] = {}
    previous: tuple[int, str] | None = None
    for product_id, key in rows:
        first_seen.setdefault(key, len(first_seen))
        follows = predecessors.setdefault(key, set())
        if previous is not None and previous[0] == product_id:
            follows.add(previous[1])
        previous = (product_id, key)
    return _in_order(predecessors, first_seen)


def _in_order(predecessors: dict[str, set[str]], first_seen: dict[str, int]) -> list[str]:
    """Keys after the keys they follow, earliest seen first among equals; products that
    disagree (a cycle) get the order of first appearance."""
    sorter = TopologicalSorter(predecessors)
    try:
        sorter.prepare()
    except CycleError:
        return sorted(first_seen, key=first_seen.__getitem__)
    ordered: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=first_seen.__getitem__)
        ordered += ready
        sorter.done(*ready)
    return ordered


# Products per chunk: the bigger, the fewer queries and commits; a chunk's rows stay a few MB.
EXPORT_CHUNK = 1_000


def _export_chunk(
    context: JobContext, after: int, table: TableWriter, keys: list[str], counts: dict[str, int]
) -> int | None:
    """Write the next chunk of pending items (their products loaded in one go) and mark each,
    in one transaction; returns the chunk's last seq, or None when nothing was left.

    Not `items.run_items`: that records an unexpected error as the item's failure and goes on,
    but an error writing the file (a full disk) leaves it unusable, so here it ends the job.
    Progress is reported by the caller, after the commit (SQLite has one writer at a time).
    """
    context.checkpoint()
    with session_scope(context.engine) as session:
        chunk = items.pending_refs(session, context.job_id, after, EXPORT_CHUNK)
        if not chunk:
            return None
        span = items.Span(context.job_id, chunk[0].seq, chunk[-1].seq)
        products = _load(session, span)
        failed: dict[int, str] = {}
        for item in chunk:
            written = _export_item(item, products.get(item.product_id or 0), table, keys)
            if isinstance(written, str):
                failed[item.id] = written
            else:
                counts["rows"] += written
        items.mark_done(session, span, failed)
        counts["processed"] += len(chunk)
        counts["failed"] += len(failed)
        counts["succeeded"] += len(chunk) - len(failed)
    return span.last


def _export_item(
    item: items.ItemRef, product: "ExportedProduct | None", table: TableWriter, keys: list[str]
) -> int | str:
    """The rows written, or why the product could not be."""
    try:
        if product is None:
            raise NotFound(
                CatalogErrorCode.PRODUCT_NOT_FOUND, f"No product with id {item.product_id}."
            )
        rows = product_rows(product, keys)  # type: ignore[arg-type] - reads what it has
        table.write(rows)
    except DomainError as exc:
        return exc.message
    return len(rows)


@dataclass
class ExportedProduct:
    """What `product_rows` reads of a product, as plain rows: building a chunk's products,
    variants, images and specifications as ORM objects was two thirds of an export's time."""

    id: int
    handle: str
    title: str
    body_html: str
    vendor: str
    product_type: str
    tags: list[str]
    published: bool
    status: str
    seo_title: str
    seo_description: str
    variants: list[Any] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)
    metafields: list[Any] = field(default_factory=list)


_PRODUCT_COLUMNS = (
    Product.id,
    Product.handle,
    Product.title,
    Product.body_html,
    Product.vendor,
    Product.product_type,
    Product.tags,
    Product.published,
    Product.status,
    Product.seo_title,
    Product.seo_description,
)
# Each list in the order the ORM relationships give it.
_CHILDREN = (
    ChildRows(
        "variants",
        (
            ProductVariant.product_id,
            ProductVariant.sku,
            ProductVariant.barcode,
            ProductVariant.option1_name,
            ProductVariant.option1_value,
            ProductVariant.price,
            ProductVariant.compare_at_price,
            ProductVariant.taxable,
            ProductVariant.inventory,
            ProductVariant.inventory_policy,
            ProductVariant.weight_grams,
            ProductVariant.weight_unit,
            ProductVariant.requires_shipping,
        ),
        (ProductVariant.position, ProductVariant.id),
    ),
    ChildRows(
        "images",
        (ProductImage.product_id, ProductImage.src, ProductImage.position, ProductImage.alt_text),
        (ProductImage.position, ProductImage.id),
    ),
    ChildRows(
        "metafields",
        (
            ProductMetafield.product_id,
            ProductMetafield.namespace,
            ProductMetafield.key,
            ProductMetafield.value,
        ),
        (ProductMetafield.id,),
    ),
)


def _load(session: Session, span: items.Span) -> dict[int, ExportedProduct]:
    """The products of the span's pending items and their lists, one query each. The items
    are selected by the span, not by an IN list of a thousand ids: the statements stay the
    same from chunk to chunk, so PostgreSQL's driver and planner reuse them."""
    return products_with_children(
        session,
        ExportedProduct,
        _PRODUCT_COLUMNS,
        span.pending_product_ids(),
        _CHILDREN,
        Product.deleted_at.is_(None),
    )


def _figures(counts: dict[str, int]) -> dict[str, int]:
    return {name: counts[name] for name in ("total", "processed", "succeeded", "failed")}
