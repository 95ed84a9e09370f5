"""Webhook delivery, the way Shopify delivers to an HTTPS subscription.

What this reproduces (shopify.dev: "Webhooks delivery structure", "Verify webhook deliveries",
"Ignore duplicate webhooks", changelog "Updates to webhook retry mechanism", 2024-09):
- one POST per event and matching subscription, the JSON body being the REST-shaped resource
  (narrowed by the subscription's `includeFields`, skipped when its `filter` does not match);
- headers X-Shopify-Topic, X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the raw body, keyed with
  the app's secret: here the shop's `webhook_secret`), X-Shopify-Shop-Domain,
  X-Shopify-API-Version, X-Shopify-Webhook-Id (one per delivery: a retry repeats it),
  X-Shopify-Event-Id (shared by every delivery the same change produced: consumers dedupe on it)
  and X-Shopify-Triggered-At;
- a delivery fails on a non-2xx answer, a connection error or a timeout (Shopify allows 1 s to
  connect and 5 s in all), and is retried with the original body, headers and address. Shopify
  retries 8 times over 4 hours; the emulator waits `EmulatorOptions.webhook_retry_delays` instead,
  then gives up and counts it.

Deliveries run on the server's event loop with one shared httpx.AsyncClient, each in its own task
so a slow receiver never holds up another. Events are matched against subscriptions when they
are emitted: a shop with no matching subscription costs one dictionary scan and nothing else.
Deliveries still pending when the server stops are dropped, as a restart of Shopify's queue
would not do: the emulator keeps no delivery log.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from shopify_emulator import API_VERSION
from shopify_emulator.search import parse
from shopify_emulator.shops import Shop, ShopRegistry

log = logging.getLogger(__name__)

# WebhookSubscriptionTopic values the emulator emits, and the topic names deliveries carry.
TOPICS = {
    "PRODUCTS_CREATE": "products/create",
    "PRODUCTS_UPDATE": "products/update",
    "PRODUCTS_DELETE": "products/delete",
    "INVENTORY_LEVELS_UPDATE": "inventory_levels/update",
    "BULK_OPERATIONS_FINISH": "bulk_operations/finish",
    "COLLECTIONS_CREATE": "collections/create",
    "COLLECTIONS_UPDATE": "collections/update",
}
USER_AGENT = "Shopify-Captain-Hook"
CONNECT_TIMEOUT_SECONDS = 1.0
TOTAL_TIMEOUT_SECONDS = 5.0
# At most this many POSTs in flight at once: a bulk mutation may emit thousands of events.
MAX_CONCURRENT_POSTS = 16
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


@dataclass(frozen=True)
class Delivery:
    """One event for one subscription, frozen when emitted: retries resend exactly this."""

    shop: Shop
    subscription_number: int
    uri: str
    body: bytes
    headers: dict[str, str]


def sign(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 of the HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def select_fields(payload: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """`includeFields`: keep only the given fields; `variants.price` reaches into a list."""
    if not paths:
        return payload
    nested: dict[str, list[str]] = {}
    whole: set[str] = set()
    for path in paths:
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, []).append(rest)
        else:
            whole.add(head)
    selected: dict[str, Any] = {}
    for key, value in payload.items():
        if key in whole:
            selected[key] = value
        elif key in nested:
            selected[key] = _select_within(value, nested[key])
    return selected


def _select_within(value: Any, paths: list[str]) -> Any:
    if isinstance(value, dict):
        return select_fields(value, paths)
    if isinstance(value, list):
        return [select_fields(item, paths) if isinstance(item, dict) else item for item in value]
    return value


def _flatten(value: Any, prefix: str, into: dict[str, list[Any]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else key, into)
    elif isinstance(value, list):
        for item in value:
            _flatten(item, prefix, into)
    else:
        if isinstance(value, str) and _NUMBER.fullmatch(value):
            value = float(value)  # "19.99" compares as a price, not as text
        into.setdefault(prefix.lower(), []).append(value)


def passes_filter(payload: dict[str, Any], expression: str | None) -> bool:
    """A subscription's `filter`: Shopify's search syntax over the payload's (dotted) fields."""
    if not expression or not expression.strip():
        return True
    values: dict[str, list[Any]] = {}
    _flatten(payload, "", values)
    fields = {name: (lambda _item, found=found: found) for name, found in values.items()}
    return parse(expression, fields, "title").predicate(payload)


def _with_metafields(shop: Shop, payload: dict[str, Any], namespaces: list[str]) -> dict[str, Any]:
    """`metafieldNamespaces`: product payloads carry the product's metafields of those
    namespaces, as Shopify adds them."""
    product = shop.data.products.get(payload.get("id", -1))
    if not namespaces or product is None:
        return payload
    metafields = [
        {
            "id": metafield.number,
            "namespace": metafield.namespace,
            "key": metafield.key,
            "value": metafield.value,
            "type": metafield.type,
            "admin_graphql_api_id": metafield.id,
        }
        for metafield in product.metafields.values()
        if metafield.namespace in namespaces
    ]
    return {**payload, "metafields": metafields}


def deliveries_for(shop: Shop, topic: str, payload: dict[str, Any]) -> list[Delivery]:
    """The deliveries one event makes: one per subscription of the shop to its topic."""
    subscriptions = [
        subscription
        for subscription in shop.data.webhook_subscriptions.values()
        if TOPICS.get(subscription.topic) == topic
    ]
    if not subscriptions:
        return []
    event_id, triggered_at = str(uuid.uuid4()), _timestamp()
    deliveries = []
    for subscription in subscriptions:
        body_of = payload
        if topic.startswith("products/"):
            body_of = _with_metafields(shop, payload, subscription.metafield_namespaces)
        if not passes_filter(body_of, subscription.filter):
            continue
        body = json.dumps(
            select_fields(body_of, subscription.include_fields), separators=(",", ":")
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(body, shop.webhook_secret),
            "X-Shopify-Shop-Domain": shop.domain,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Triggered-At": triggered_at,
        }
        deliveries.append(Delivery(shop, subscription.number, subscription.uri, body, headers))
    return deliveries


class WebhookDispatcher:
    """Delivers the events of every shop in the registry while the server runs."""

    def __init__(
        self,
        registry: ShopRegistry,
        retry_delays: tuple[float, ...],
        timeout: float = TOTAL_TIMEOUT_SECONDS,
    ) -> None:
        self.registry = registry
        self.retry_delays = retry_delays
        self.timeout = httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT_SECONDS, timeout))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Delivery] | None = None
        self._task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None

    def start(self) -> None:
        """Start on the running loop (the server's, from the app's lifespan)."""
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_POSTS)
        self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        self._task = self._loop.create_task(self._run(), name="webhook-dispatcher")
        self.registry.set_listener(self.on_event)

    async def stop(self) -> None:
        """Stop listening, drop pending deliveries, close the HTTP client."""
        if self.registry.listener == self.on_event:
            self.registry.set_listener(None)
        tasks = [task for task in (self._task, *self._deliveries) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._deliveries.clear()
        if self._client is not None:
            await self._client.aclose()
        self._task, self._client, self._queue = None, None, None

    def on_event(self, shop: Shop, topic: str, payload: dict[str, Any]) -> None:
        """Called by Shop.emit, from the loop or from another thread."""
        queue, loop = self._queue, self._loop
        if queue is None or loop is None or loop.is_closed():
            return
        deliveries = deliveries_for(shop, topic, payload)
        if not deliveries:
            return
        shop.counters["webhook_events"] += 1
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        for delivery in deliveries:
            if on_loop:
                queue.put_nowait(delivery)
            else:
                loop.call_soon_threadsafe(queue.put_nowait, delivery)

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            delivery = await self._queue.get()
            task = asyncio.create_task(self._deliver(delivery))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, delivery: Delivery) -> None:
        """First attempt now, then one retry after each delay; give up after the last."""
        counters = delivery.shop.counters
        for delay in (0.0, *self.retry_delays):
            if delay:
                await asyncio.sleep(delay)
            if delivery.subscription_number not in delivery.shop.data.webhook_subscriptions:
                counters["webhooks_dropped"] += 1  # unsubscribed meanwhile
                return
            if await self._attempt(delivery):
                counters["webhooks_delivered"] += 1
                return
            counters["webhook_attempts_failed"] += 1
        counters["webhooks_given_up"] += 1
        log.warning(
            "webhook %s to %s given up after %d attempts",
            delivery.headers["X-Shopify-Topic"],
            delivery.uri,
            1 + len(self.retry_delays),
        )

    async def _attempt(self, delivery: Delivery) -> bool:
        assert self._client is not None
        assert self._slots is not None
        async with self._slots:
            delivery.shop.counters["webhook_attempts"] += 1
            try:
                response = await self._client.post(
                    delivery.uri, content=delivery.body, headers=delivery.headers
                )
            except httpx.HTTPError as exc:
                log.info("webhook to %s failed: %r", delivery.uri, exc)
                return False
        return 200 <= response.status_code < 300
