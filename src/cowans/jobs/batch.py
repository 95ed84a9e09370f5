"""Batch operations on a selection of products (update, delete, export), each run as a job.

A batch is a job of kind `batch.<operation>` whose id is the batch id and whose items are the
selected products, one per product, in the order given (duplicates dropped) or, for a filter,
copied inside the database. So a selection of 100,000 products is processed in chunks, in
constant memory, each product exactly once even across a crash, a cancel or a retry; and a
product that cannot be done fails its own item with a message instead of the batch.

An update is a person's edit applied to each product (`catalog.editing.apply_edits`): it is
validated, makes a version with its diff and locks the edited fields against the feeds. A
delete is a soft delete with a version. Every request is checked before anything is queued:
whatever the caller got wrong is a 422 with its own code, never a job that fails later.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cowans.catalog.editing import (
    STATUSES,
    adjusted_price,
    apply_edits,
    delete_product,
)
from cowans.catalog.errors import CatalogErrorCode
from cowans.catalog.queries import ProductFilter, check_filter, matching_ids
from cowans.db.models import JobItem, JobItemState, Product, SyncJob
from cowans.errors import Conflict, InvalidInput, NotFound
from cowans.jobs import items, store
from cowans.jobs.batch_push import push_batch
from cowans.jobs.context import JobContext
from cowans.sources.product_csv import Format


class BatchErrorCode(StrEnum):
    BATCH_NOT_FOUND = "batch_not_found"
    UNKNOWN_OPERATION = "unknown_operation"
    NO_SELECTION = "no_selection"
    AMBIGUOUS_SELECTION = "ambiguous_selection"
    EMPTY_SELECTION = "empty_selection"
    TOO_MANY_IDS = "too_many_ids"
    NO_UPDATES = "no_updates"
    UPDATES_NOT_ALLOWED = "updates_not_allowed"
    INVALID_UPDATE = "invalid_update"
    INVALID_FORMAT = "invalid_format"
    FORMAT_NOT_ALLOWED = "format_not_allowed"
    PUSH_NOT_ALLOWED = "push_not_allowed"
    PUSH_NEEDS_UPDATE = "push_needs_update"
    NO_PRICE = "no_price"
    BATCH_NOT_FINISHED = "batch_not_finished"
    NOTHING_TO_RETRY = "nothing_to_retry"
    RESULT_NOT_AVAILABLE = "result_not_available"


class Operation(StrEnum):
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"


KIND_PREFIX = "batch."
KINDS = {operation: f"{KIND_PREFIX}{operation}" for operation in Operation}
MAX_IDS = 100_000
# A price may fall to zero (-100 %) but not below; +1,000 % is beyond any real repricing and
# far more likely a typo for 10 than an intent.
MIN_PERCENT = Decimal(-100)
MAX_PERCENT = Decimal(1000)


@dataclass(frozen=True)
class Updates:
    status: str | None = None
    tags: tuple[str, ...] = ()
    tags_remove: tuple[str, ...] = ()
    vendor: str | None = None
    product_type: str | None = None
    price_adjust_percent: Decimal | None = None

    def is_empty(self) -> bool:
        return self == Updates()

    def params(self) -> dict[str, Any]:
        """JSON for the job row (the percent as text: a float would not round the same)."""
        values = asdict(self)
        percent = self.price_adjust_percent
        values["price_adjust_percent"] = None if percent is None else str(percent)
        values["tags"], values["tags_remove"] = list(self.tags), list(self.tags_remove)
        return values

    @classmethod
    def of_params(cls, values: dict[str, Any]) -> "Updates":
        percent = values.get("price_adjust_percent")
        return cls(
            status=values.get("status"),
            tags=tuple(values.get("tags") or ()),
            tags_remove=tuple(values.get("tags_remove") or ()),
            vendor=values.get("vendor"),
            product_type=values.get("product_type"),
            price_adjust_percent=None if percent is None else Decimal(percent),
        )


@dataclass(frozen=True)
class BatchRequest:
    operation: str
    product_ids: list[int] | None = None
    filter: ProductFilter | None = None
    updates: Updates | None = None
    format: str | None = None
    push: bool = False


# Starting ---------------------------------------------------------------------------------------


def start_batch(
    session: Session, request: BatchRequest, created_by: int | None, priority: str = "normal"
) -> SyncJob:
    """Check the request, then create its job and items (not yet committed nor queued)."""
    operation = _checked(request)
    if request.filter is not None:
        check_filter(session, request.filter)
    params = {
        "operation": operation.value,
        "selection": _selection_params(request),
        "updates": request.updates.params() if request.updates else None,
        "format": (request.format or Format.CSV.value) if operation is Operation.EXPORT else None,
        "push": request.push,
    }
    job = store.create_job(
        session, KINDS[operation], params=params, created_by=created_by, priority=priority
    )
    if request.product_ids is not None:
        job.total = items.add_items(session, job.id, dict.fromkeys(request.product_ids))
    else:
        assert request.filter is not None
        job.total = items.add_items_from_query(
            session, job.id, matching_ids(request.filter, session)
        )
        if not job.total:
            raise InvalidInput(
                BatchErrorCode.EMPTY_SELECTION,
                "The filter matches no products; there is nothing to do.",
                {"filter": asdict(request.filter)},
            )
    return job


def _selection_params(request: BatchRequest) -> dict[str, Any]:
    if request.filter is not None:
        return {"filter": asdict(request.filter)}
    return {"product_ids": len(request.product_ids or ())}


def _checked(request: BatchRequest) -> Operation:
    try:
        operation = Operation(request.operation)
    except ValueError:
        raise InvalidInput(
            BatchErrorCode.UNKNOWN_OPERATION,
            f"Unknown operation {request.operation!r}; use one of {', '.join(Operation)}.",
        ) from None
    _check_selection(request)
    if operation is Operation.UPDATE:
        _check_updates(request.updates)
    elif request.updates is not None:
        raise InvalidInput(
            BatchErrorCode.UPDATES_NOT_ALLOWED, f"A {operation} batch takes no `updates`."
        )
    _check_format(operation, request.format)
    if request.push and operation is Operation.EXPORT:
        raise InvalidInput(
            BatchErrorCode.PUSH_NEEDS_UPDATE,
            "An export changes nothing to push; `push` goes with update and delete batches.",
        )
    return operation


def _check_selection(request: BatchRequest) -> None:
    ids, filters = request.product_ids, request.filter
    if ids is not None and filters is not None:
        raise InvalidInput(
            BatchErrorCode.AMBIGUOUS_SELECTION, "Send `product_ids` or `filter`, not both."
        )
    if ids is None and filters is None:
        raise InvalidInput(
            BatchErrorCode.NO_SELECTION, "Say which products: send `product_ids` or `filter`."
        )
    if ids is not None and not ids:
        raise InvalidInput(BatchErrorCode.EMPTY_SELECTION, "`product_ids` is empty.")
    if ids is not None and len(ids) > MAX_IDS:
        raise InvalidInput(
            BatchErrorCode.TOO_MANY_IDS,
            f"{len(ids):,} ids is more than the {MAX_IDS:,} a batch takes; split the "
            "selection, or select with a filter.",
        )


def _invalid_update(field: str, reason: str) -> InvalidInput:
    return InvalidInput(
        BatchErrorCode.INVALID_UPDATE, f"updates.{field}: {reason}", {"field": field}
    )


def _check_updates(updates: Updates | None) -> None:
    if updates is None or updates.is_empty():
        raise InvalidInput(
            BatchErrorCode.NO_UPDATES,
            "An update batch needs `updates`: status, tags, tags_remove, vendor, "
            "product_type or price_adjust_percent.",
        )
    if updates.status is not None and updates.status not in STATUSES:
        raise _invalid_update("status", f"must be one of {', '.join(STATUSES)}")
    percent = updates.price_adjust_percent
    if percent is not None and not MIN_PERCENT <= percent <= MAX_PERCENT:
        reason = "would make prices negative" if percent < MIN_PERCENT else "is implausibly large"
        raise _invalid_update(
            "price_adjust_percent", f"{percent} {reason}; use {MIN_PERCENT} to {MAX_PERCENT}"
        )
    for field in ("tags", "tags_remove"):
        for tag in getattr(updates, field):
            if not tag.strip() or "," in tag:
                raise _invalid_update(field, f"{tag!r} is not a tag (empty, or has a comma)")
    both = _folded(updates.tags) & _folded(updates.tags_remove)
    if both:
        raise _invalid_update("tags", f"{', '.join(sorted(both))} both added and removed")


def _check_format(operation: Operation, file_format: str | None) -> None:
    if operation is not Operation.EXPORT:
        if file_format is not None:
            raise InvalidInput(
                BatchErrorCode.FORMAT_NOT_ALLOWED, "`format` is for export batches only."
            )
        return
    if file_format is not None and file_format not in {f.value for f in Format}:
        raise InvalidInput(
            BatchErrorCode.INVALID_FORMAT,
            f"Unknown export format {file_format!r}; use one of {', '.join(Format)}.",
        )


def _folded(tags: Iterable[str]) -> set[str]:
    return {tag.strip().casefold() for tag in tags}


# Following, cancelling, retrying ----------------------------------------------------------------


def get_batch(session: Session, batch_id: int) -> SyncJob:
    job = session.get(SyncJob, batch_id)
    if job is None or not job.kind.startswith(KIND_PREFIX):
        raise NotFound(BatchErrorCode.BATCH_NOT_FOUND, f"No batch with id {batch_id}.")
    return job


def operation_of(job: SyncJob) -> Operation:
    return Operation(job.kind.removeprefix(KIND_PREFIX))


def errors_of(session: Session, job: SyncJob) -> list[dict[str, Any]]:
    """The first failed items, in selection order."""
    return [
        {"product_id": item.product_id, "message": item.message}
        for item in items.failed_items(session, job.id)
    ]


def retry_batch(session: Session, job: SyncJob) -> int:
    """Queue the batch again for its failed items (and those a cancel or a crash left undone);
    returns how many. Succeeded updates and deletes are not redone; an export writes its whole
    file again, so that the file it serves is complete."""
    if job.state not in store.FINISHED:
        raise Conflict(
            BatchErrorCode.BATCH_NOT_FINISHED,
            f"Batch {job.id} is still {job.state.value}; retry it once it has finished.",
        )
    items.reset_failed(session, job.id)
    counts = items.tally(session, job.id)
    if not counts["pending"]:
        raise Conflict(
            BatchErrorCode.NOTHING_TO_RETRY, f"Batch {job.id} has no failed items to retry."
        )
    job = store.requeue_for_retry(session, job.id)
    job.processed, job.succeeded, job.failed = (
        counts["processed"],
        counts["succeeded"],
        counts["failed"],
    )
    return counts["pending"]


# Running ----------------------------------------------------------------------------------------


def run_update(context: JobContext) -> dict[str, Any]:
    updates = Updates.of_params(context.params["updates"])
    user_id = context.created_by
    products = _ChunkProducts(context.job_id)

    def update(session: Session, item: JobItem) -> None:
        product = products.get(session, item)
        apply_edits(session, product, planned_edits(product, updates), user_id)

    return _outcome(items.run_items(context, update, session_only=True)) | push_batch(context)


class _ChunkProducts:
    """The products of a chunk of items, loaded with one query per chunk instead of four per
    product, which halves the time of a large update. `run_items` gives each chunk a session
    of its own, so a new session means a new chunk: its products are those of the pending
    items from the one asked for on, in the order and number `run_items` takes them."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self._session: Session | None = None
        self._last_seq = -1
        self._products: dict[int, Product] = {}

    def get(self, session: Session, item: JobItem) -> Product:
        if session is not self._session or item.seq > self._last_seq:
            self._load(session, item.seq)
        product = self._products.get(_product_id(item))
        if product is None:
            raise NotFound(
                CatalogErrorCode.PRODUCT_NOT_FOUND, f"No product with id {item.product_id}."
            )
        return product

    def _load(self, session: Session, first_seq: int) -> None:
        chunk = session.execute(
            select(JobItem.seq, JobItem.product_id)
            .where(
                JobItem.job_id == self.job_id,
                JobItem.state == JobItemState.PENDING,
                JobItem.seq >= first_seq,
            )
            .order_by(JobItem.seq)
            .limit(items.CHUNK)
        ).all()
        self._session, self._last_seq = session, chunk[-1].seq if chunk else first_seq
        self._products = {
            product.id: product
            for product in session.scalars(
                select(Product)
                .where(
                    Product.id.in_([row.product_id for row in chunk]),
                    Product.deleted_at.is_(None),
                )
                # An edit reads and writes the product's own fields and its first variant's.
                .options(selectinload(Product.variants))
            )
        }


def run_delete(context: JobContext) -> dict[str, Any]:
    user_id = context.created_by

    def delete(session: Session, item: JobItem) -> None:
        delete_product(session, _product_id(item), user_id)

    return _outcome(items.run_items(context, delete, session_only=True)) | push_batch(context)


def planned_edits(product: Product, updates: Updates) -> dict[str, Any]:
    """The edits `updates` make to this product, as a person would type them."""
    edits: dict[str, Any] = {
        name: value
        for name in ("status", "vendor", "product_type")
        if (value := getattr(updates, name)) is not None
    }
    if updates.tags or updates.tags_remove:
        edits["tags"] = _new_tags(list(product.tags or []), updates)
    if updates.price_adjust_percent is not None:
        variant = product.variants[0] if product.variants else None
        if variant is None or variant.price is None:
            raise InvalidInput(
                BatchErrorCode.NO_PRICE,
                f"Product {product.id} has no price, so there is none to adjust.",
            )
        edits["price"] = adjusted_price(variant.price, updates.price_adjust_percent)
    return edits


def _new_tags(current: list[str], updates: Updates) -> list[str]:
    """Current tags, plus the added, minus the removed. Shopify's tags ignore case, so "Sale"
    removes "sale", and adding "SALE" to a product tagged "sale" keeps the tag it has."""
    removed = _folded(updates.tags_remove)
    tags: dict[str, str] = {}
    for tag in (*current, *(tag.strip() for tag in updates.tags)):
        tags.setdefault(tag.casefold(), tag)
    return [tag for folded, tag in tags.items() if folded not in removed]


def _product_id(item: JobItem) -> int:
    assert item.product_id is not None  # batch items always name a product
    return item.product_id


def _outcome(counts: dict[str, int]) -> dict[str, Any]:
    return {name: counts[name] for name in ("total", "processed", "succeeded", "failed")}
