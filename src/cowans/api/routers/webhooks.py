"""`POST /api/shopify/webhooks`: where Shopify delivers the store's product and stock changes.

A deliberately public route: Shopify sends no bearer token, so the HMAC signature of the raw body
is the authentication (checked in `cowans.sync.webhooks` before anything else is looked at).
Shopify gives up on a delivery after 5 seconds and retries it, so the work here is small: record
the event, make sure a pull job will look at it, answer. The pull does the reading.
"""

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from cowans.api.deps import JobsDep, SessionDep, audit
from cowans.db.base import utcnow
from cowans.db.models import JobState, Store, SyncJob
from cowans.jobs.pull import KIND as PULL_KIND
from cowans.jobs.pull import create_pull_job
from cowans.jobs.runtime import JobRuntime
from cowans.sync import webhooks
from cowans.sync.webhooks import MAX_BODY_BYTES, WebhookBodyTooLarge, WebhookErrorCode

router = APIRouter(prefix="/api/shopify", tags=["webhooks"])

PULL_REASON = "webhook"
PULL_CONFIG = {"webhooks": True, "reason": PULL_REASON}
# A pull queued longer than this may never run (its enqueue failed, the workers are down):
# events are not left waiting on it alone.
COALESCE_WINDOW = timedelta(minutes=5)


class WebhookReceived(BaseModel):
    """`duplicate`: this event was received before (Shopify delivers at least once)."""

    status: Literal["accepted", "duplicate"]


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent (the signature is over these bytes), read with a cap: anyone
    can call this route, and nothing is known about the caller before the body is checked."""
    too_large = WebhookBodyTooLarge(
        WebhookErrorCode.BODY_TOO_LARGE,
        f"Webhook bodies may be at most {MAX_BODY_BYTES} bytes.",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


RawBody = Annotated[bytes, Depends(raw_body)]
OptionalHeader = Annotated[str | None, Header()]


@router.post("/webhooks", response_model=WebhookReceived)
def receive_webhook(
    request: Request,
    body: RawBody,
    session: SessionDep,
    jobs: JobsDep,
    x_shopify_hmac_sha256: OptionalHeader = None,
    x_shopify_shop_domain: OptionalHeader = None,
    x_shopify_topic: OptionalHeader = None,
    x_shopify_event_id: OptionalHeader = None,
    x_shopify_webhook_id: OptionalHeader = None,
) -> WebhookReceived:
    """Shopify's webhook receiver (no bearer token: the HMAC is checked instead). 401 when the
    signature is missing or wrong or the shop is not a store with a webhook secret; 400 when
    X-Shopify-Topic or X-Shopify-Event-Id is missing. A product or stock event queues a pull of
    the store (one queued pull collects every event that arrives before it starts)."""
    delivery = webhooks.Delivery(
        shop_domain=x_shopify_shop_domain,
        topic=x_shopify_topic,
        event_id=x_shopify_event_id,
        webhook_id=x_shopify_webhook_id,
        signature=x_shopify_hmac_sha256,
        body=body,
    )
    store = webhooks.verified_store(session, delivery)
    receipt = webhooks.record_delivery(session, store, delivery)
    pull_job_id = None
    if receipt.needs_pull and store.is_active:
        pull_job_id = _make_sure_a_pull_runs(session, jobs, store)
    audit(
        request,
        store_id=store.id,
        topic=delivery.topic,
        event_id=delivery.event_id,
        status=receipt.status.value,
        pull_job_id=pull_job_id,
    )
    return WebhookReceived(status=receipt.status.value)


def _make_sure_a_pull_runs(session: Session, jobs: JobRuntime, store: Store) -> int | None:
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
    job = create_pull_job(session, store, dict(PULL_CONFIG), created_by=None)
    jobs.submit(session, job)
    return job.id


def _queued_webhook_pull(session: Session, store_id: int) -> bool:
    queued = session.scalars(
        select(SyncJob).where(
            SyncJob.kind == PULL_KIND,
            SyncJob.store_id == store_id,
            SyncJob.state == JobState.QUEUED,
            SyncJob.cancel_requested.is_(False),
            SyncJob.created_at >= utcnow() - COALESCE_WINDOW,
        )
    )
    return any((job.config or {}).get("reason") == PULL_REASON for job in queued)
