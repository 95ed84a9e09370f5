"""Shopify webhooks: verified, kept once per event, and handed to the pull as products to check.

A delivery is believed only when its `X-Shopify-Hmac-Sha256` is the HMAC-SHA256 of the raw body
under the store's webhook secret (compared in constant time). The store is the one whose shop
domain the delivery names; an unknown shop, a store without a secret and a wrong signature are
refused alike, so a caller cannot probe which shops are registered. The secret and the signature
are never logged nor echoed.

Shopify delivers at least once, and every delivery of one change carries the same
`X-Shopify-Event-Id` (a retry also repeats `X-Shopify-Webhook-Id`; a second subscription to the
same topic does not). One `WebhookEvent` row is kept per store and event id: the unique
constraint, not a prior lookup, decides, so two copies arriving at once are also told apart.

A webhook only says *which* product changed; the pull reads the product itself and stages what
differs, the same way as a scheduled pull. So an event row keeps just the subject:
- products/create, products/update, products/delete: the product's gid;
- inventory_levels/update: the payload names an inventory item, not a product. Mapping it needs
  every `StoreProduct.inventory_item_ids` of the store (a JSON column, not indexed), too slow for
  a request Shopify allows 5 seconds; so the row keeps the InventoryItem gid in
  `shopify_product_id` (the gid's type tells them apart) and `pending_webhook_products` maps
  them, all at once, when the pull runs.
Events of any other topic are recorded as already processed: nothing to pull for them.
"""

import base64
import binascii
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NoReturn

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cowans.db.base import utcnow
from cowans.db.models import Store, StoreProduct, WebhookEvent
from cowans.errors import DomainError, Unauthenticated

logger = logging.getLogger(__name__)

PRODUCT_GID = "gid://shopify/Product/"
INVENTORY_ITEM_GID = "gid://shopify/InventoryItem/"
PRODUCT_TOPICS = frozenset({"products/create", "products/update", "products/delete"})
INVENTORY_TOPIC = "inventory_levels/update"
DELETE_TOPIC = "products/delete"
# Product payloads with many variants and metafields run to a few hundred KB at most.
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_HEADER_LENGTH = 100  # the event id column's length; Shopify's ids are UUIDs
# Rows per UPDATE ... WHERE id IN (...): well under every backend's bound-parameter limit.
ID_CHUNK = 1000


class WebhookErrorCode(StrEnum):
    SIGNATURE_MISSING = "webhook_signature_missing"
    SIGNATURE_INVALID = "webhook_signature_invalid"
    HEADERS_MISSING = "webhook_headers_missing"
    HEADERS_INVALID = "webhook_headers_invalid"
    BODY_TOO_LARGE = "webhook_body_too_large"


class WebhookBodyTooLarge(DomainError):
    status_code = 413


class ReceiptStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Delivery:
    """One POST from Shopify: its headers of interest and the raw body, as received."""

    shop_domain: str | None
    topic: str | None
    event_id: str | None
    webhook_id: str | None
    signature: str | None = field(repr=False)
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class Receipt:
    status: ReceiptStatus
    # The new row's id (None for a duplicate), and whether a pull has work from it.
    event_row_id: int | None = None
    needs_pull: bool = False


@dataclass(frozen=True)
class WebhookBatch:
    """What the pull has to look at for a store's pending webhook events.

    `product_ids` is every product gid the events are about (sorted, distinct), including those
    reported deleted, which are also in `deleted_product_ids`: the pull flags them, and may skip
    reading them. `unresolved_inventory_item_ids` are stock events about inventory items no
    StoreProduct knows (a product this system never pushed or pulled); the pull may look them up
    in Shopify or leave them to a full pull. `event_ids` are the rows to `mark_processed` once
    the pull has dealt with them all, unresolved ones included.
    """

    event_ids: tuple[int, ...] = ()
    product_ids: tuple[str, ...] = ()
    deleted_product_ids: frozenset[str] = frozenset()
    unresolved_inventory_item_ids: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.event_ids


# -- receiving --------------------------------------------------------------------------------


def signature_of(body: bytes, secret: str) -> str:
    """What Shopify sends in X-Shopify-Hmac-Sha256: base64 of the HMAC-SHA256 of the body."""
    return base64.b64encode(_digest(body, secret)).decode()


def verified_store(session: Session, delivery: Delivery) -> Store:
    """The store the delivery is for, if and only if its signature is right; else 401."""
    if not delivery.signature:
        raise Unauthenticated(
            WebhookErrorCode.SIGNATURE_MISSING,
            "Webhook deliveries must carry an X-Shopify-Hmac-Sha256 signature.",
        )
    domain = (delivery.shop_domain or "").strip().lower()
    store = session.scalar(select(Store).where(Store.shop_domain == domain)) if domain else None
    if store is None or not store.webhook_secret:
        reason = "unknown shop" if store is None else f"store {store.id} has no webhook secret"
        _refuse(domain, reason)
    if not _signature_matches(delivery.body, store.webhook_secret, delivery.signature):
        _refuse(domain, "signature mismatch")
    return store


def record_delivery(session: Session, store: Store, delivery: Delivery) -> Receipt:
    """Keep a verified delivery once per event id. A product or stock event is left pending for
    the pull; any other topic is kept as processed (nothing to pull), only to dedupe it."""
    topic = (delivery.topic or "").strip().lower()
    event_id = (delivery.event_id or delivery.webhook_id or "").strip()
    if not topic or not event_id:
        raise DomainError(
            WebhookErrorCode.HEADERS_MISSING,
            "Webhook deliveries must carry X-Shopify-Topic and X-Shopify-Event-Id.",
        )
    if len(topic) > MAX_HEADER_LENGTH or len(event_id) > MAX_HEADER_LENGTH:
        raise DomainError(
            WebhookErrorCode.HEADERS_INVALID,
            f"X-Shopify-Topic and X-Shopify-Event-Id are at most {MAX_HEADER_LENGTH} characters.",
        )
    subject = subject_of(topic, delivery.body)
    event = WebhookEvent(
        store_id=store.id,
        event_id=event_id,
        topic=topic,
        shopify_product_id=subject,
        processed_at=None if subject else utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        logger.info("webhook %s %s for store %d: duplicate", topic, event_id, store.id)
        return Receipt(ReceiptStatus.DUPLICATE)
    logger.info("webhook %s %s for store %d: %s", topic, event_id, store.id, subject or "-")
    return Receipt(ReceiptStatus.ACCEPTED, event.id, needs_pull=subject is not None)


def subject_of(topic: str, body: bytes) -> str | None:
    """The gid the event is about: a product's, or for stock an inventory item's; None for
    other topics and for payloads that name none (logged: a signed, unreadable payload is
    Shopify's bug, and refusing it would only make Shopify send it again for hours)."""
    if topic not in PRODUCT_TOPICS and topic != INVENTORY_TOPIC:
        return None
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the parser
        payload = None
    if not isinstance(payload, dict):
        logger.warning("webhook %s: the body is not a JSON object; ignored", topic)
        return None
    if topic == INVENTORY_TOPIC:
        subject = _gid(payload.get("inventory_item_id"), INVENTORY_ITEM_GID)
    else:
        subject = _gid(payload.get("admin_graphql_api_id"), PRODUCT_GID) or _gid(
            payload.get("id"), PRODUCT_GID
        )
    if subject is None:
        logger.warning("webhook %s: the payload names no id; ignored", topic)
    return subject


# -- handing over to the pull ------------------------------------------------------------------


def pending_webhook_products(
    session: Session, store_id: int, *, limit: int | None = None
) -> WebhookBatch:
    """The store's unprocessed webhook events (oldest first, at most `limit`), as products.

    Events recorded after this call are not in the batch and stay pending: a pull that marks
    exactly `event_ids` processed never drops one.
    """
    query = (
        select(WebhookEvent.id, WebhookEvent.topic, WebhookEvent.shopify_product_id)
        .where(WebhookEvent.store_id == store_id, WebhookEvent.processed_at.is_(None))
        .order_by(WebhookEvent.id)
        .limit(limit)
    )
    rows = session.execute(query).all()
    products: set[str] = set()
    deleted: set[str] = set()
    items: set[str] = set()
    for _, topic, subject in rows:
        if not subject:
            continue
        if subject.startswith(INVENTORY_ITEM_GID):
            items.add(subject)
            continue
        products.add(subject)
        if topic == DELETE_TOPIC:
            deleted.add(subject)
    resolved = products_of_inventory_items(session, store_id, items) if items else {}
    products.update(resolved.values())
    return WebhookBatch(
        event_ids=tuple(row_id for row_id, _, _ in rows),
        product_ids=tuple(sorted(products)),
        deleted_product_ids=frozenset(deleted),
        unresolved_inventory_item_ids=tuple(sorted(items - resolved.keys())),
    )


def products_of_inventory_items(
    session: Session, store_id: int, item_ids: Iterable[str]
) -> dict[str, str]:
    """{inventory item gid: product gid} for the items the store's products are known to have.

    One pass over the store's StoreProducts: `inventory_item_ids` is JSON ({sku: item gid}),
    which neither SQLite nor PostgreSQL can look into through an index in the same way.
    """
    wanted = set(item_ids)
    found: dict[str, str] = {}
    query = select(StoreProduct.shopify_product_id, StoreProduct.inventory_item_ids).where(
        StoreProduct.store_id == store_id, StoreProduct.shopify_product_id.is_not(None)
    )
    for product_id, item_map in session.execute(query.execution_options(yield_per=2000)):
        for item_id in (item_map or {}).values():
            if item_id in wanted:
                found[item_id] = product_id
    return found


def mark_processed(session: Session, event_ids: Iterable[int]) -> int:
    """Mark events dealt with; returns how many were still pending (a retried job may mark
    some twice)."""
    ids = sorted(set(event_ids))
    now = utcnow()
    marked = 0
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        statement = (
            update(WebhookEvent)
            .where(WebhookEvent.id.in_(chunk), WebhookEvent.processed_at.is_(None))
            .values(processed_at=now)
        )
        marked += session.execute(statement).rowcount or 0
    return marked


def delete_processed_before(session: Session, moment: datetime) -> int:
    """Forget processed events received before `moment`. Shopify stops retrying a delivery
    within hours, so rows older than a few days dedupe nothing any more."""
    statement = delete(WebhookEvent).where(
        WebhookEvent.processed_at.is_not(None), WebhookEvent.received_at < moment
    )
    return session.execute(statement).rowcount or 0


# -- internals --------------------------------------------------------------------------------


def _digest(body: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def _signature_matches(body: bytes, secret: str, signature: str) -> bool:
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(_digest(body, secret), given)


def _refuse(domain: str, reason: str) -> NoReturn:
    # The shop domain and the reason help whoever runs the system; neither is a secret.
    logger.warning("webhook refused for shop %r: %s", domain[:100], reason)
    raise Unauthenticated(
        WebhookErrorCode.SIGNATURE_INVALID,
        "The webhook's signature could not be verified for its shop.",
    )


def _gid(value: Any, prefix: str) -> str | None:
    """A gid of the prefix's type from a gid or a numeric REST id; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return f"{prefix}{value}"
    if isinstance(value, str):
        value = value.strip()
        if value.isdigit():
            return f"{prefix}{value}"
        if value.startswith(prefix) and value[len(prefix) :].isdigit():
            return value
    return None
