"""`POST /api/shopify/webhooks`: where Shopify delivers the store's product and stock changes.

A deliberately public route: Shopify sends no bearer token, so the HMAC signature of the raw body
is the authentication (checked in `cowans.sync.webhooks` before anything else is looked at).
Shopify gives up on a delivery after 5 seconds and retries it, so the work here is small: record
the event, make sure a pull job will look at it, answer. The pull does the reading.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel

from cowans.api.deps import JobsDep, SessionDep, audit
from cowans.api.errors import error_responses
from cowans.jobs.pull import queue_webhook_pull
from cowans.sync import webhooks
from cowans.sync.webhooks import MAX_BODY_BYTES, WebhookBodyTooLarge, WebhookErrorCode

router = APIRouter(prefix="/api/shopify", tags=["webhooks"])


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


@router.post("/webhooks", response_model=WebhookReceived, responses=error_responses(400, 401, 413))
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
        pull_job_id = queue_webhook_pull(session, jobs, store)
    audit(
        request,
        store_id=store.id,
        topic=delivery.topic,
        event_id=delivery.event_id,
        status=receipt.status.value,
        pull_job_id=pull_job_id,
    )
    return WebhookReceived(status=receipt.status.value)
