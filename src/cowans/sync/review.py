"""Reviewing staged changes: listing them page by page, approving and rejecting them.

A decision only moves a change that has not reached Shopify: pending changes can be approved or
rejected, approved ones rejected again (until a push applies them), failed ones approved again
(the next push retries them) or rejected, conflicts approved only with a resolution for each
conflicting field. A decision on a pull change, or a resolution, is
carried out at once (see `settle`). Who decided and when is kept on the row; the request's
audit entry lists the ids.

A review of thousands of changes is done by filter, not by id: the list, its facets and a
decision over "everything matching" share one `StagedFilter`, so what a person approves is
exactly what the list showed them (up to `max_id`, the newest change the list had then).
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, inspect, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.dml import ReturningUpdate

from cowans.catalog.queries import SearchIndex, literal_pattern, search_index, text_match
from cowans.db.models import (
    Product,
    StagedChangeStatus,
    SyncHistory,
    SyncStaging,
)
from cowans.errors import InvalidInput
from cowans.sync.errors import SyncErrorCode
from cowans.sync.settle import resolve_conflict, settle_pull

MAX_PAGE = 500
# Facet lists longer than this are cut: a filter menu of thousands of vendors helps nobody.
MAX_FACETS = 200
PULL = "pull"
DECIDABLE = {
    # A failed push change approved again is the way to retry it once its cause is fixed:
    # restaging keeps it as it is while the catalog shows the same thing.
    "approve": (StagedChangeStatus.PENDING, StagedChangeStatus.CONFLICT, StagedChangeStatus.FAILED),
    "reject": (
        StagedChangeStatus.PENDING,
        StagedChangeStatus.CONFLICT,
        StagedChangeStatus.APPROVED,
        StagedChangeStatus.FAILED,
    ),
}


@dataclass(frozen=True)
class StagedFilter:
    """Which staged changes a list, its facets or a decision covers. The product's vendor,
    type and the text search match the catalog product; a pull create (no catalog product yet)
    matches the search by its handle only."""

    status: StagedChangeStatus | None = None
    direction: str | None = None
    operation_type: str | None = None
    store_id: int | None = None
    conflicts_only: bool = False
    vendor: str | None = None
    product_type: str | None = None
    # Part of the handle, the title or a SKU, case-insensitive.
    query: str = ""
    # Nothing newer than this id: a decision over a filter covers what the list showed.
    max_id: int | None = None

    def apply(self, statement: Select[Any], index: SearchIndex = SearchIndex.NONE) -> Select[Any]:
        """The filter on a statement over staged changes; `index` is the database's text
        index (`search_index`), for the text search."""
        for column, value in (
            (SyncStaging.status, self.status),
            (SyncStaging.direction, self.direction),
            (SyncStaging.operation_type, self.operation_type),
            (SyncStaging.store_id, self.store_id),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if self.conflicts_only:
            statement = statement.where(SyncStaging.status == StagedChangeStatus.CONFLICT)
        if self.max_id is not None:
            statement = statement.where(SyncStaging.id <= self.max_id)
        product_terms = [
            column == value
            for column, value in (
                (Product.vendor, self.vendor),
                (Product.product_type, self.product_type),
            )
            if value is not None
        ]
        if product_terms:
            statement = statement.where(
                SyncStaging.product_id.in_(select(Product.id).where(*product_terms))
            )
        if self.query.strip():
            statement = statement.where(_matching_text(self.query.strip(), index))
        return statement

    def without(self, *names: str) -> "StagedFilter":
        """The same filter with some fields cleared (a facet ignores its own field)."""
        return replace(self, **dict.fromkeys(names))


def _matching_text(words: str, index: SearchIndex) -> ColumnElement[bool]:
    """The change's handle, or its product's title or a SKU, contains the words."""
    term = f"%{literal_pattern(words)}%"
    products = text_match(words, index, fields=("title", "skus"))
    return or_(SyncStaging.handle.ilike(term, escape="\\"), SyncStaging.product_id.in_(products))


def list_staged(
    session: Session, filters: StagedFilter, limit: int, cursor: int | None
) -> tuple[list["ListedChange"], int, int | None]:
    """A page in id order after `cursor`, the total matching, and the next cursor."""
    rows, total, next_cursor, _ = review_page(session, filters, limit, cursor)
    return rows, total, next_cursor


@dataclass(frozen=True)
class ListedChange:
    """A staged change as the review list shows it: its own columns but the push snapshot
    (`desired`, kilobytes of JSON), and the facts a reviewer recognises it by."""

    id: int
    sync_job_id: int | None
    product_id: int | None
    store_id: int
    handle: str
    direction: str
    operation_type: str
    changes: dict[str, Any]
    status: StagedChangeStatus
    conflict_fields: list[str]
    error: str | None
    created_at: datetime
    approved_at: datetime | None
    approved_by: int | None
    approval_rule: str | None
    applied_at: datetime | None
    title: str
    vendor: str
    product_type: str


_LISTED_COLUMNS = tuple(
    getattr(SyncStaging, name)
    for name in ListedChange.__dataclass_fields__
    if name not in ("title", "vendor", "product_type")
)


def review_page(
    session: Session, filters: StagedFilter, limit: int, cursor: int | None
) -> tuple[list[ListedChange], int, int | None, int | None]:
    """`list_staged`, plus the newest id matching: a decision over the filter sends it back
    so that changes staged after the person looked are not decided unseen. The page's ids
    come first, from the indexes, then their rows with their products' facts in one query:
    a text search reads the rows it shows, not every row it looks at. Plain rows, not ORM
    objects, which cost more than the queries did."""
    index = search_index(session)
    total, newest = session.execute(
        filters.apply(select(func.count(), func.max(SyncStaging.id)), index)
    ).one()
    page = filters.apply(select(SyncStaging.id), index)
    if cursor is not None:
        page = page.where(SyncStaging.id > cursor)
    ids = list(session.scalars(page.order_by(SyncStaging.id).limit(limit + 1)))
    more = len(ids) > limit
    ids = ids[:limit]
    rows = session.execute(
        select(
            *_LISTED_COLUMNS,
            Product.id.label("catalog_id"),
            Product.title,
            Product.vendor,
            Product.product_type,
        )
        .outerjoin(Product, Product.id == SyncStaging.product_id)
        .where(SyncStaging.id.in_(ids))
        .order_by(SyncStaging.id)
    )
    listed = [_listed(row) for row in rows]
    return listed, total or 0, ids[-1] if more and ids else None, newest


def _listed(row: Any) -> ListedChange:
    values = row._asdict()
    if values.pop("catalog_id") is None:
        values.update(vars(_carried_facts(values["changes"])))
    return ListedChange(**values)


@dataclass(frozen=True)
class Facet:
    value: str
    count: int


def facets(session: Session, filters: StagedFilter) -> dict[str, list[Facet]]:
    """The vendors and product types of the changes the filter matches, with counts, most
    frequent first. Each facet ignores its own field, so the menu offers the alternatives."""
    found: dict[str, list[Facet]] = {}
    index = search_index(session)
    for name, column in (("vendors", Product.vendor), ("product_types", Product.product_type)):
        own = "vendor" if name == "vendors" else "product_type"
        count = func.count(SyncStaging.id)
        statement = (
            filters.without(own)
            .apply(select(column, count), index)
            .join(Product, Product.id == SyncStaging.product_id)
            .where(column != "")
            .group_by(column)
            .order_by(count.desc(), column)
            .limit(MAX_FACETS)
        )
        found[name] = [Facet(value, n) for value, n in session.execute(statement)]
    return found


@dataclass(frozen=True)
class ProductFacts:
    title: str
    vendor: str
    product_type: str


def product_facts(row: SyncStaging) -> ProductFacts:
    """What a reviewer recognises a change by: its catalog product's title, vendor and type;
    for a product the catalog does not have (yet), the values the change itself carries."""
    product = row.product
    if product is not None:
        return ProductFacts(product.title, product.vendor, product.product_type)
    return _carried_facts(row.changes)


def _carried_facts(changes: dict[str, Any] | None) -> ProductFacts:
    def carried(name: str) -> str:
        change = (changes or {}).get(name) or {}
        value = change.get("new")
        if value is None:
            value = change.get("old")
        return value if isinstance(value, str) else ""

    return ProductFacts(carried("title"), carried("vendor"), carried("product_type"))


@dataclass
class Decisions:
    approved: int = 0
    rejected: int = 0
    unresolved_conflicts: int = 0
    skipped: int = 0
    ids: list[int] = field(default_factory=list)
    store_ids: set[int] = field(default_factory=set)


Resolution = str | Mapping[str, Any]

# A decision walks its selection this many changes at a time, in id order: a selection loaded
# whole (250,000 changes, kilobytes of JSON each) took 6 GB.
DECISION_PAGE = 1000


@dataclass(frozen=True, slots=True)
class _Selected:
    """What deciding a change needs to know before (or instead of) loading its content."""

    id: int
    status: StagedChangeStatus
    direction: str
    store_id: int


_SELECTED_COLUMNS = (
    SyncStaging.id,
    SyncStaging.status,
    SyncStaging.direction,
    SyncStaging.store_id,
)


@dataclass(frozen=True)
class _Bulk:
    """A decision on push changes that needs none of their content, made by one UPDATE per
    page. The UPDATE names the statuses it moves: a change that moved since it was selected
    is skipped, not overwritten."""

    moves: tuple[StagedChangeStatus, ...]
    to: StagedChangeStatus
    rejects: bool = False
    clears_error: bool = False


_APPROVE = _Bulk((StagedChangeStatus.PENDING,), StagedChangeStatus.APPROVED)
# Approving a failed push again is the retry; its reason stays in the push's history.
_RETRY = _Bulk((StagedChangeStatus.FAILED,), StagedChangeStatus.APPROVED, clears_error=True)
_REJECT = _Bulk(DECIDABLE["reject"], StagedChangeStatus.REJECTED, rejects=True)


class _Step(Enum):
    SKIP = "skip"
    # Carried out on the change's content (a pull reaches the catalog, a conflict is
    # resolved): the change is loaded whole.
    LOAD = "load"


def decide(
    session: Session,
    *,
    decision: str,
    user_id: int,
    ids: Sequence[int] | None = None,
    all_pending: bool = False,
    filters: StagedFilter | None = None,
    matching: StagedFilter | None = None,
    resolutions: Mapping[str, Mapping[str, Resolution]] | None = None,
) -> Decisions:
    """Decide the changes named by `ids`, or every decidable one `matching` a filter, or all
    pending ones (narrowed by `filters`' direction, operation and store). Every page is part
    of the caller's transaction: nothing is half-decided when one of them raises."""
    session.flush()
    pages = _selected(session, decision, ids, all_pending, filters or StagedFilter(), matching)
    outcome = Decisions()
    now = datetime.now(UTC)
    for page in pages:
        _decide_page(session, page, decision, user_id, now, resolutions or {}, outcome)
    return outcome


def _step(decision: str, change: _Selected) -> _Bulk | _Step:
    if change.status not in DECIDABLE[decision]:
        return _Step.SKIP
    if change.direction == PULL:
        if decision == "approve" and change.status is StagedChangeStatus.FAILED:
            return _Step.SKIP  # a pull is carried out when approved: it cannot fail
        return _Step.LOAD
    if decision == "reject":
        return _REJECT
    if change.status is StagedChangeStatus.CONFLICT:
        return _Step.LOAD
    if change.status is StagedChangeStatus.FAILED:
        return _RETRY
    return _APPROVE


def _decide_page(
    session: Session,
    page: list[_Selected],
    decision: str,
    user_id: int,
    now: datetime,
    resolutions: Mapping[str, Mapping[str, Resolution]],
    outcome: Decisions,
) -> None:
    """Decide a page in id order. The updates waiting run before each loaded change is
    decided, as carrying out a pull restages its product's push changes."""
    steps = [(change, _step(decision, change)) for change in page]
    loaded, brought = _load(session, [change.id for change, step in steps if step is _Step.LOAD])
    waiting: list[tuple[_Selected, _Bulk]] = []
    for change, step in steps:
        if isinstance(step, _Bulk):
            waiting.append((change, step))
        elif step is _Step.SKIP:
            outcome.skipped += 1
        else:
            _run_bulk(session, waiting, user_id, now, outcome)
            waiting = []
            _decide_loaded(
                session, loaded.get(change.id), decision, user_id, now, resolutions, outcome
            )
    _run_bulk(session, waiting, user_id, now, outcome)
    session.flush()
    for row in brought:
        if row in session:
            session.expunge(row)


def _load(session: Session, ids: list[int]) -> tuple[dict[int, SyncStaging], list[SyncStaging]]:
    """The changes with their content, and those of them this decision brought into the
    session (let go of after the page; those the caller held stay the caller's)."""
    if not ids:
        return {}, []
    held = {i for i in ids if identity_key(SyncStaging, i) in session.identity_map}
    rows = {
        row.id: row for row in session.scalars(select(SyncStaging).where(SyncStaging.id.in_(ids)))
    }
    return rows, [row for row_id, row in rows.items() if row_id not in held]


def _run_bulk(
    session: Session,
    waiting: list[tuple[_Selected, _Bulk]],
    user_id: int,
    moment: datetime,
    outcome: Decisions,
) -> None:
    """The waiting push decisions, one UPDATE per kind; counted in id order as they were."""
    done: set[int] = set()
    for bulk in dict.fromkeys(bulk for _, bulk in waiting):
        ids = [change.id for change, kind in waiting if kind is bulk]
        done |= set(session.scalars(_update_statement(bulk, ids, user_id, moment)))
    for change, bulk in waiting:
        if change.id not in done:
            outcome.skipped += 1
            continue
        if bulk.rejects:
            outcome.rejected += 1
        else:
            outcome.approved += 1
        outcome.ids.append(change.id)
        outcome.store_ids.add(change.store_id)


def _update_statement(
    bulk: _Bulk, ids: list[int], user_id: int, moment: datetime
) -> ReturningUpdate[tuple[int]]:
    values: dict[str, Any] = {"status": bulk.to, "approved_by": user_id, "approved_at": moment}
    if not bulk.rejects:
        values["approval_rule"] = None
    if bulk.clears_error:
        values["error"] = None
    return (
        update(SyncStaging)
        .where(
            SyncStaging.id.in_(ids),
            SyncStaging.status.in_(bulk.moves),
            SyncStaging.direction != PULL,
        )
        .values(**values)
        .returning(SyncStaging.id)
        # "fetch": a change the session holds learns its new status by the ids returned,
        # rather than by testing every held row against the criteria.
        .execution_options(synchronize_session="fetch")
    )


def _decide_loaded(
    session: Session,
    row: SyncStaging | None,
    decision: str,
    user_id: int,
    now: datetime,
    resolutions: Mapping[str, Mapping[str, Resolution]],
    outcome: Decisions,
) -> None:
    """A decision carried out on the change's content."""
    if row is None or inspect(row).deleted or inspect(row).detached:
        outcome.skipped += 1  # withdrawn meanwhile, by the restaging of a pull decided before
        return
    if row.status not in DECIDABLE[decision]:
        outcome.skipped += 1
        return
    if decision == "reject":
        if row.direction == PULL:
            settle_pull(session, row, approved=False, user_id=user_id)
        row.status, row.approved_by, row.approved_at = StagedChangeStatus.REJECTED, user_id, now
        outcome.rejected += 1
    elif row.status is StagedChangeStatus.CONFLICT:
        if not resolve_conflict(session, row, resolutions.get(str(row.id)), user_id):
            outcome.unresolved_conflicts += 1
            return
        nothing_to_send = row.status is StagedChangeStatus.APPLIED
        _approve(row, user_id, now)
        if nothing_to_send:
            row.status = StagedChangeStatus.APPLIED
        outcome.approved += 1
    elif row.status is StagedChangeStatus.FAILED:
        if row.direction == PULL:  # a pull is carried out when approved: it cannot fail
            outcome.skipped += 1
            return
        _approve(row, user_id, now)
        row.error = None  # the reason stays in the push's history; this is a new try
        outcome.approved += 1
    elif row.direction == PULL:
        settle_pull(session, row, approved=True, user_id=user_id)
        _approve(row, user_id, now)
        row.status, row.applied_at = StagedChangeStatus.APPLIED, now
        outcome.approved += 1
    else:
        _approve(row, user_id, now)
        outcome.approved += 1
    outcome.ids.append(row.id)
    outcome.store_ids.add(row.store_id)


def _approve(row: SyncStaging, user_id: int, moment: datetime) -> None:
    row.status, row.approved_by, row.approved_at = StagedChangeStatus.APPROVED, user_id, moment
    row.approval_rule = None


def _selected(
    session: Session,
    decision: str,
    ids: Sequence[int] | None,
    all_pending: bool,
    filters: StagedFilter,
    matching: StagedFilter | None,
) -> Iterator[list[_Selected]]:
    """The selection's pages. Checked before any is decided: a bad selection decides nothing."""
    if matching is not None and (ids or all_pending):
        raise InvalidInput(
            SyncErrorCode.AMBIGUOUS_SELECTION,
            "Choose the changes one way: by ids, by a filter, or all pending, not several.",
        )
    if matching is not None:
        # Only what this decision can move: a filter over thousands of applied changes
        # selects nothing, rather than reading them all to skip them.
        statement = matching.apply(select(*_SELECTED_COLUMNS), search_index(session))
        return _pages_of(session, statement.where(SyncStaging.status.in_(DECIDABLE[decision])))
    if ids:
        wanted = sorted(set(ids))
        _check_known(session, wanted)
        return _pages_named(session, wanted)
    if all_pending:
        pending = StagedFilter(
            status=StagedChangeStatus.PENDING,
            direction=filters.direction,
            operation_type=filters.operation_type,
            store_id=filters.store_id,
        )
        return _pages_of(session, pending.apply(select(*_SELECTED_COLUMNS)))
    raise InvalidInput(
        SyncErrorCode.NOTHING_SELECTED,
        "Name the changes (ids), give a filter, or choose all_pending.",
    )


def _check_known(session: Session, wanted: list[int]) -> None:
    missing: list[int] = []
    for start in range(0, len(wanted), DECISION_PAGE):
        chunk = wanted[start : start + DECISION_PAGE]
        found = set(session.scalars(select(SyncStaging.id).where(SyncStaging.id.in_(chunk))))
        missing += [row_id for row_id in chunk if row_id not in found]
    if missing:
        raise InvalidInput(
            SyncErrorCode.STAGED_CHANGE_NOT_FOUND,
            f"No staged change with id {', '.join(map(str, missing[:20]))}.",
            {"missing": missing[:100]},
        )


def _pages_named(session: Session, wanted: list[int]) -> Iterator[list[_Selected]]:
    for start in range(0, len(wanted), DECISION_PAGE):
        chunk = wanted[start : start + DECISION_PAGE]
        statement = select(*_SELECTED_COLUMNS).where(SyncStaging.id.in_(chunk))
        yield [_Selected(*row) for row in session.execute(statement.order_by(SyncStaging.id))]


def _pages_of(session: Session, statement: Select[Any]) -> Iterator[list[_Selected]]:
    """Pages by id (never OFFSET), up to the newest change when the decision began: the
    push changes a pull's decision restages are new, for a person to review, not part of
    the selection (nor are changes another process stages meanwhile)."""
    newest = session.scalar(select(func.max(SyncStaging.id)))
    if newest is None:
        return
    statement = statement.where(SyncStaging.id <= newest).order_by(SyncStaging.id)
    last: int | None = None
    while True:
        following = statement if last is None else statement.where(SyncStaging.id > last)
        page = [_Selected(*row) for row in session.execute(following.limit(DECISION_PAGE))]
        if not page:
            return
        yield page
        last = page[-1].id


def list_history(
    session: Session,
    store_id: int | None,
    direction: str | None,
    limit: int,
    cursor: int | None,
) -> tuple[list[SyncHistory], int, int | None]:
    """A page of sync history, newest first (ids below `cursor`), the total, the next cursor."""
    statement = select(SyncHistory)
    if store_id is not None:
        statement = statement.where(SyncHistory.store_id == store_id)
    if direction is not None:
        statement = statement.where(SyncHistory.direction == direction)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    if cursor is not None:
        statement = statement.where(SyncHistory.id < cursor)
    rows = list(session.scalars(statement.order_by(SyncHistory.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, total, rows[-1].id if more and rows else None
