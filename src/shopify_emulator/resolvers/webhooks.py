"""Webhook subscriptions: `webhookSubscriptionCreate`/`Delete` and the two queries.

Shopify answers a bad address with `Address is invalid` and a second subscription of the same
address to the same topic with `Address for this topic has already been taken`, both on the
address field. The emulator delivers over HTTP(S) only (no Pub/Sub or EventBridge), in JSON
only, and for the topics it emits (webhooks.TOPICS); anything else is refused with a user error
rather than accepted and never delivered.
"""

from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLResolveInfo

from shopify_emulator.ids import number_of
from shopify_emulator.resolvers.products import page
from shopify_emulator.schema import resolver, shop_of
from shopify_emulator.search import parse
from shopify_emulator.shops import Shop
from shopify_emulator.state import WebhookSubscription, iso
from shopify_emulator.webhooks import TOPICS

SUBSCRIPTION_FIELDS = {
    "id": lambda s: s.number,
    "topic": lambda s: [s.topic, TOPICS.get(s.topic, "")],
    "created_at": lambda s: s.created_at,
    "updated_at": lambda s: s.updated_at,
}
SORTS = {"CREATED_AT": lambda s: iso(s.created_at), "ID": None}


def _error(field: list[str], message: str) -> dict[str, Any]:
    return {"field": field, "message": message}


def address_is_valid(address: str | None) -> bool:
    """An absolute http(s) URL with a host; Shopify itself insists on https."""
    if not address or any(character.isspace() for character in address):
        return False
    try:
        parts = urlsplit(address)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check(shop: Shop, topic: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    field_name = "uri" if values.get("uri") is not None else "callbackUrl"
    address = values.get(field_name)
    where = ["webhookSubscription", field_name]
    errors = []
    if topic not in TOPICS:
        errors.append(_error(["topic"], f"Topic {topic} is not supported by the emulator"))
    if values.get("format") not in (None, "JSON"):
        errors.append(_error(["webhookSubscription", "format"], "The emulator delivers JSON only"))
    if not address_is_valid(address):
        errors.append(_error(where, "Address is invalid"))
    elif any(
        s.topic == topic and s.uri == address for s in shop.data.webhook_subscriptions.values()
    ):
        errors.append(_error(where, "Address for this topic has already been taken"))
    return errors


@resolver("Mutation", "webhookSubscriptionCreate")
def resolve_create(
    _root: Any, info: GraphQLResolveInfo, topic: str, webhookSubscription: dict[str, Any]
) -> dict[str, Any]:
    shop = shop_of(info)
    values = webhookSubscription
    errors = _check(shop, topic, values)
    if errors:
        return {"webhookSubscription": None, "userErrors": errors}
    subscription = WebhookSubscription(
        number=shop.data.next_number(),
        topic=topic,
        uri=values.get("uri") or values["callbackUrl"],
        format=values.get("format") or "JSON",
        include_fields=list(values.get("includeFields") or []),
        metafield_namespaces=list(values.get("metafieldNamespaces") or []),
        filter=values.get("filter") or None,
    )
    shop.data.webhook_subscriptions[subscription.number] = subscription
    return {"webhookSubscription": subscription, "userErrors": []}


@resolver("Mutation", "webhookSubscriptionDelete")
def resolve_delete(_root: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    subscriptions = shop_of(info).data.webhook_subscriptions
    number = number_of(id, "WebhookSubscription")
    if number is None or number not in subscriptions:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [_error(["id"], "Webhook subscription does not exist")],
        }
    del subscriptions[number]
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


@resolver("QueryRoot", "webhookSubscription")
def resolve_subscription(_root: Any, info: GraphQLResolveInfo, id: str) -> Any:
    number = number_of(id, "WebhookSubscription")
    return shop_of(info).data.webhook_subscriptions.get(number) if number is not None else None


@resolver("QueryRoot", "webhookSubscriptions")
def resolve_subscriptions(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    found = list(shop_of(info).data.webhook_subscriptions.values())
    if args.get("topics"):
        found = [s for s in found if s.topic in args["topics"]]
    address = args.get("uri") or args.get("callbackUrl")
    if address:
        found = [s for s in found if s.uri == address]
    if args.get("format"):
        found = [s for s in found if s.format == args["format"]]
    found = parse(args.get("query"), SUBSCRIPTION_FIELDS, "topic").filter(found)
    return page(found, args, SORTS.get(args.get("sortKey") or "CREATED_AT"))
