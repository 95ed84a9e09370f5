"""Pull jobs: read what a store shows now and stage what changed there since the base.

What is read depends on the request: a full pull exports the whole store with one bulk query
(and only a full pull can tell which products were deleted in Shopify); `modified_since` reads
the products Shopify changed since then, page by page; webhooks name the products themselves.
Without any of these, a store pulled before is read since its last pull (less a margin for
clocks), and one never pulled is read whole. Remote products are compared a chunk at a time,
each chunk in its own transaction, so a cancelled or crashed pull keeps what it staged.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowans.db.base import utcnow
from cowans.db.models import JobState, Store, SyncHistory, SyncJob
from cowans.db.session import session_scope
from cowans.errors import InvalidInput, NotFound
from cowans.jobs import store as jobs_store
from cowans.jobs.context import JobContext
from cowans.jobs.staged_events import staged_changed
from cowans.jobs.store_turns import run_on_store
from cowans.shopify.bulk import iterate_bulk_products
from cowans.shopify.client import ShopifyClient
from cowans.shopify.connection import client_for_store
from cowans.shopify.products import (
    RemoteProduct,
    iterate_products,
    list_locations,
    search_batches,
)
from cowans.sync import webhooks
from cowans.sync.pull import (
    PullResult,
    handles_of_remote_ids,
    missing_handles,
    stage_missing,
    stage_pull,
)

if TYPE_CHECKING:
    from cowans.jobs.runtime import JobRuntime

KIND = "sync.pull"
WEBHOOK_REASON = "webhook"
WEBHOOK_PULL = {"webhooks": True, "reason": WEBHOOK_REASON}
# A pull queued longer than this may never run (its enqueue failed, the workers are down):
# events are not left waiting on it alone.
COALESCE_WINDOW = timedelta(minutes=5)
CHUNK = 100
# Shopify's `updated_at` and ours come from different clocks: read a little further back.
CLOCK_MARGIN = timedelta(minutes=5)
IDS_PER_QUERY = 50
# Past this many named products one bulk export of the store is cheaper than reading them page
# by page: it costs a few points where pages cost about a thousand each, plus follow-ups.
BULK_READ_FROM = 50


@dataclass(frozen=True)
class PullScope:
    full: bool = False
    modified_since: datetime | None = None
    product_ids: tuple[str, ...] | None = None  # exactly these (webhooks); may be none at all

    def describe(self) -> str:
        if self.product_ids is not None:
            return f"{len(self.product_ids)} products"
        if self.modified_since is not None:
            return f"changed since {self.modified_since.isoformat()}"
        return "whole store"


def create_pull_job(
    session: Session, store: Store, params: dict[str, Any], created_by: int | None
) -> SyncJob:
    """A queued pull of `store`. `params`: `full`, `modified_since` (ISO 8601), `webhooks`
    (read the products the store's pending webhook events name), `reason`, `priority`."""
    since = params.get("modified_since")
    if since is not None:
        _parse_since(since)
    return jobs_store.create_job(
        session,
        KIND,
        params={**params, "store_id": store.id},
        created_by=created_by,
        priority=params.get("priority", "normal"),
        store_id=store.id,
    )


def _parse_since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            "invalid_modified_since", "modified_since must be an ISO 8601 date and time."
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_pull(context: JobContext) -> dict[str, Any]:
    return run_on_store(context, _pull_store)


def _pull_store(context: JobContext, store: Store) -> dict[str, Any]:
    started = datetime.now(UTC)
    with session_scope(context.engine) as session:
        batch = (
            webhooks.pending_webhook_products(session, store.id)
            if context.params.get("webhooks")
            else None
        )
    scope = _scope(context.params, store, batch)
    context.progress(phase="reading", processed=0)
    result, seen = asyncio.run(_pull(context, store, scope))
    with session_scope(context.engine) as session:
        result.deletes += _flag_deleted(session, store, scope, seen, context.job_id)
        if batch is not None:
            webhooks.mark_processed(session, batch.event_ids)
        stored = session.get(Store, store.id)
        if stored is not None:
            stored.last_pull_at = started
        summary = {"scope": scope.describe(), **result.summary()}
        session.add(_history(context, store.id, started, summary))
        session.flush()
        event = staged_changed(session, store.id, "pulled", job_id=context.job_id)
    context.publish(event)
    # The total is only known at the end (a pull reads until Shopify has no more): say it, so
    # the finished job reads "3 / 3" and not "3 / 0".
    context.progress(
        phase="done",
        processed=result.compared,
        total=result.compared,
        succeeded=result.compared,
    )
    return summary


def _scope(params: dict[str, Any], store: Store, batch: webhooks.WebhookBatch | None) -> PullScope:
    if batch is not None:
        return PullScope(product_ids=batch.product_ids)
    if params.get("full"):
        return PullScope(full=True)
    if params.get("modified_since"):
        return PullScope(modified_since=_parse_since(params["modified_since"]))
    if store.last_pull_at is not None:
        return PullScope(modified_since=store.last_pull_at - CLOCK_MARGIN)
    return PullScope(full=True)


async def _pull(context: JobContext, store: Store, scope: PullScope) -> tuple[PullResult, set[str]]:
    result = PullResult()
    seen: set[str] = set()
    if scope.product_ids == ():
        return result, seen  # the events named no product this store has
    chunk: list[RemoteProduct] = []
    async with client_for_store(store, context.settings) as client:
        locations = set(await list_locations(client))
        async for remote in _read(client, scope):
            seen.add(remote.id)
            chunk.append(remote)
            if len(chunk) >= CHUNK:
                _stage(context, store, chunk, result, locations)
                chunk = []
        if chunk:
            _stage(context, store, chunk, result, locations)
    return result, seen


def _stage(
    context: JobContext,
    store: Store,
    chunk: list[RemoteProduct],
    result: PullResult,
    locations: set[str],
) -> None:
    context.checkpoint()
    with session_scope(context.engine) as session:
        attached = session.get(Store, store.id)
        if attached is None:
            raise NotFound("store_not_found", f"Store {store.id} was removed during the pull.")
        stage_pull(
            session, attached, chunk, job_id=context.job_id, result=result, locations=locations
        )
    context.progress(processed=result.compared, phase="comparing", persist=False)


def _read(client: ShopifyClient, scope: PullScope) -> AsyncIterator[RemoteProduct]:
    if scope.product_ids is not None:
        return _read_ids(client, scope.product_ids)
    if scope.modified_since is not None:
        since = scope.modified_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return iterate_products(client, query=f"updated_at:>'{since}'")
    return iterate_bulk_products(client)


async def _read_ids(
    client: ShopifyClient, product_ids: tuple[str, ...]
) -> AsyncIterator[RemoteProduct]:
    if len(product_ids) > BULK_READ_FROM:
        wanted = set(product_ids)
        async for remote in iterate_bulk_products(client):
            if remote.id in wanted:
                yield remote
        return
    numbers = [gid.rsplit("/", 1)[-1] for gid in product_ids]
    for batch in search_batches("id", numbers, max_terms=IDS_PER_QUERY):
        async for remote in iterate_products(client, query=batch.query):
            yield remote


def _flag_deleted(
    session: Session, store: Store, scope: PullScope, seen: set[str], job_id: int
) -> int:
    """Products Shopify no longer has: every unseen one after a full read; the named ones
    that were not found after a read by id."""
    if scope.full:
        handles = missing_handles(session, store.id, seen)
    elif scope.product_ids is not None:
        handles = handles_of_remote_ids(session, store.id, set(scope.product_ids) - seen)
    else:
        return 0
    return stage_missing(session, store, handles, job_id=job_id) if handles else 0


def _history(
    context: JobContext, store_id: int, started: datetime, summary: dict[str, Any]
) -> SyncHistory:
    return SyncHistory(
        sync_job_id=context.job_id,
        store_id=store_id,
        sync_type="pull",
        direction="pull",
        status="completed",
        started_at=started,
        completed_at=datetime.now(UTC),
        total_items=summary["compared"],
        processed_items=summary["compared"],
        succeeded_items=summary["compared"],
        failed_items=0,
        performance_metrics={"scope": summary["scope"]},
    )


# Webhooks -------------------------------------------------------------------------------------


def queue_webhook_pull(session: Session, jobs: "JobRuntime", store: Store) -> int | None:
    """Queue a webhook pull of the store unless one is queued already; returns the new job's id.

    The event is committed first: a pull reads the pending events after it starts, so once the
    event is visible, a pull still queued is certain to see it, and a running one may not (it
    may have read them already), hence a new job then. Deliveries come in bursts, several at
    once: the store's row is locked for the look and the queueing, so on PostgreSQL the others
    wait and then see the job (SQLite's write lock already serialises them).
    """
    session.commit()
    session.execute(select(Store.id).where(Store.id == store.id).with_for_update())
    if _queued_webhook_pull(session, store.id):
        return None
    job = create_pull_job(session, store, dict(WEBHOOK_PULL), created_by=None)
    jobs.submit(session, job)
    return job.id


def _queued_webhook_pull(session: Session, store_id: int) -> bool:
    queued = session.scalars(
        select(SyncJob).where(
            SyncJob.kind == KIND,
            SyncJob.store_id == store_id,
            SyncJob.state == JobState.QUEUED,
            SyncJob.cancel_requested.is_(False),
            SyncJob.created_at >= utcnow() - COALESCE_WINDOW,
        )
    )
    return any((job.config or {}).get("reason") == WEBHOOK_REASON for job in queued)
