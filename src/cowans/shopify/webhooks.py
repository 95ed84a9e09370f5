"""A store's webhook subscriptions in Shopify: the topics this system listens to, sent to its own
receiver (`POST /api/shopify/webhooks` under PUBLIC_URL).

Subscribing is idempotent. Shopify refuses a second subscription of one address to one topic
("Address for this topic has already been taken"), so the subscriptions already pointing at our
address are listed first and reused; only the missing topics are created. A creation that loses
a race with another one (two test-connections at once) is settled by listing again.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cowans.shopify.client import ShopifyClient
from cowans.shopify.documents import load

logger = logging.getLogger(__name__)

# What the catalog needs to notice an edit made in Shopify: product changes and stock changes.
WEBHOOK_TOPICS = (
    "PRODUCTS_CREATE",
    "PRODUCTS_UPDATE",
    "PRODUCTS_DELETE",
    "INVENTORY_LEVELS_UPDATE",
)
CALLBACK_PATH = "/api/shopify/webhooks"
# Our own subscriptions number a handful: one page of this size is the usual answer.
PAGE_SIZE = 50
MAX_PAGES = 20


class SubscriptionRefused(Exception):
    """Shopify answered a subscription with userErrors (an address it will not call, such as a
    plain http:// one, or a topic the app may not read). Retrying the same request cannot help."""

    def __init__(self, topic: str, messages: list[str]) -> None:
        self.topic = topic
        self.messages = messages
        super().__init__(f"Shopify refused the {topic} subscription: {'; '.join(messages)}")


@dataclass(frozen=True)
class Subscription:
    topic: str
    id: str
    uri: str

    def as_record(self) -> dict[str, str]:
        """The shape kept in `Store.webhook_subscriptions`."""
        return {"topic": self.topic, "id": self.id, "uri": self.uri}


def callback_url(public_url: str) -> str:
    """Where Shopify delivers: the receiver's path under the address the app is reached at."""
    return public_url.rstrip("/") + CALLBACK_PATH


async def list_subscriptions(
    client: ShopifyClient, uri: str, topics: Iterable[str] = WEBHOOK_TOPICS
) -> list[Subscription]:
    """The shop's subscriptions of `topics` delivering to `uri` (someone else's are not ours to
    reuse or remove)."""
    found: list[Subscription] = []
    after: str | None = None
    variables: dict[str, Any] = {"first": PAGE_SIZE, "uri": uri, "topics": list(topics)}
    for _ in range(MAX_PAGES):
        result = await client.execute(load("webhook_subscriptions"), {**variables, "after": after})
        connection = result.data["webhookSubscriptions"]
        found += [_subscription(node) for node in connection["nodes"] if node["uri"] == uri]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    return found


async def ensure_subscriptions(
    client: ShopifyClient, uri: str, topics: Iterable[str] = WEBHOOK_TOPICS
) -> list[Subscription]:
    """One subscription per topic delivering to `uri`, existing ones reused; in topic order.

    Raises SubscriptionRefused when Shopify will not create one (the others created before
    stay: they are found and reused next time), ShopifyError when a request fails.
    """
    wanted = list(dict.fromkeys(topics))
    existing = _by_topic(await list_subscriptions(client, uri, wanted))
    refused: dict[str, list[str]] = {}
    for topic in wanted:
        if topic in existing:
            continue
        created, messages = await _create(client, topic, uri)
        if created is not None:
            existing[topic] = created
        else:
            refused[topic] = messages
    if refused:
        # A concurrent subscriber may have won the race: what exists now is what counts.
        existing = _by_topic(await list_subscriptions(client, uri, wanted))
        for topic, messages in refused.items():
            if topic not in existing:
                raise SubscriptionRefused(topic, messages)
    return [existing[topic] for topic in wanted]


async def delete_subscriptions(client: ShopifyClient, ids: Iterable[str]) -> list[str]:
    """Remove subscriptions by id; returns those gone afterwards (already gone counts too,
    Shopify then says it does not exist)."""
    gone: list[str] = []
    for subscription_id in ids:
        result = await client.execute(load("webhook_subscription_delete"), {"id": subscription_id})
        payload = result.data["webhookSubscriptionDelete"] or {}
        errors = payload.get("userErrors") or []
        if payload.get("deletedWebhookSubscriptionId") or _does_not_exist(errors):
            gone.append(subscription_id)
        else:
            logger.warning(
                "could not remove webhook subscription %s: %s",
                subscription_id,
                "; ".join(str(error.get("message")) for error in errors),
            )
    return gone


async def _create(
    client: ShopifyClient, topic: str, uri: str
) -> tuple[Subscription | None, list[str]]:
    variables = {"topic": topic, "webhookSubscription": {"uri": uri, "format": "JSON"}}
    result = await client.execute(load("webhook_subscription_create"), variables)
    payload = result.data["webhookSubscriptionCreate"] or {}
    node = payload.get("webhookSubscription")
    if node:
        logger.info("subscribed to %s webhooks (%s)", topic, node["id"])
        return _subscription(node), []
    messages = [str(error.get("message")) for error in payload.get("userErrors") or []]
    return None, messages or ["no subscription and no reason given"]


def _subscription(node: dict[str, Any]) -> Subscription:
    return Subscription(topic=str(node["topic"]), id=str(node["id"]), uri=str(node["uri"]))


def _by_topic(subscriptions: list[Subscription]) -> dict[str, Subscription]:
    """The first subscription of each topic (a duplicate made by hand elsewhere is left be)."""
    found: dict[str, Subscription] = {}
    for subscription in subscriptions:
        found.setdefault(subscription.topic, subscription)
    return found


def _does_not_exist(errors: list[dict[str, Any]]) -> bool:
    return any("does not exist" in str(error.get("message", "")).lower() for error in errors)
