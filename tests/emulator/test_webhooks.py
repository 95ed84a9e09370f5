"""Webhook subscriptions and their delivery to a real HTTP receiver: HMAC, headers, retries."""

import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from shopify_emulator.app import EmulatorOptions
from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, simple_product
from tests.emulator.webhook_receiver import Receiver, wait_until

FAST_RETRIES = EmulatorOptions(webhook_retry_delays=(0.05, 0.1), webhook_timeout_seconds=0.5)

SUBSCRIBE = """
mutation Subscribe($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri format includeFields metafieldNamespaces filter }
    userErrors { field message }
  }
}
"""
SUBSCRIPTIONS = """
query Subscriptions($first: Int, $after: String, $topics: [WebhookSubscriptionTopic!]) {
  webhookSubscriptions(first: $first, after: $after, topics: $topics) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}
"""
UNSUBSCRIBE = """
mutation Unsubscribe($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } }
}
"""


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(statuses: list[int] | None = None, delays: list[float] | None = None) -> Receiver:
        receiver = Receiver(statuses, delays)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture
def fast(make_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return make_emulator(options=FAST_RETRIES)


def subscribe(emulator: RunningEmulator, topic: str, uri: str, **extra: Any) -> dict[str, Any]:
    body = emulator.gql(SUBSCRIBE, {"topic": topic, "sub": {"uri": uri, **extra}})
    return body["data"]["webhookSubscriptionCreate"]


def put_product(emulator: RunningEmulator, handle: str, price: str, **extra: Any) -> dict:
    values = simple_product(handle, f"SKU-{handle}", price=price, **extra)
    body = emulator.gql(PRODUCT_SET, {"input": values, "identifier": {"handle": handle}})
    assert body["data"]["productSet"]["userErrors"] == []
    return body["data"]["productSet"]["product"]


def expected_hmac(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_products_update_arrives_signed_with_shopify_headers(
    fast: RunningEmulator, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers()
    created = subscribe(fast, "PRODUCTS_UPDATE", receiver.url)
    assert created["userErrors"] == []
    assert created["webhookSubscription"]["topic"] == "PRODUCTS_UPDATE"
    product = put_product(fast, "bic-round-stic", "3.99")  # products/create: not subscribed
    put_product(fast, "bic-round-stic", "4.25")

    [delivery] = receiver.wait_for(1)
    shop = fast.shop()
    assert hmac.compare_digest(
        delivery.header("X-Shopify-Hmac-Sha256"), expected_hmac(delivery.body, shop.webhook_secret)
    )
    assert delivery.header("X-Shopify-Topic") == "products/update"
    assert delivery.header("X-Shopify-Shop-Domain") == "demo.myshopify.com"
    assert delivery.header("X-Shopify-API-Version") == "2026-10"
    assert delivery.header("X-Shopify-Webhook-Id")
    assert delivery.header("X-Shopify-Event-Id")
    datetime.fromisoformat(delivery.header("X-Shopify-Triggered-At").replace("Z", "+00:00"))
    payload = json.loads(delivery.body)
    assert payload["admin_graphql_api_id"] == product["id"]
    assert payload["variants"][0]["price"] == "4.25"
    wait_until(lambda: shop.counters["webhooks_delivered"] == 1, message="delivery counted")
    assert shop.counters["webhook_events"] == 1  # the create matched no subscription


def test_a_failing_receiver_gets_the_same_event_until_it_succeeds(
    fast: RunningEmulator, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers(statuses=[500, 503])
    subscribe(fast, "PRODUCTS_UPDATE", receiver.url)
    put_product(fast, "post-it-notes", "9.99")
    put_product(fast, "post-it-notes", "8.99")

    deliveries = receiver.wait_for(3)
    assert len({d.header("X-Shopify-Event-Id") for d in deliveries}) == 1
    assert len({d.header("X-Shopify-Webhook-Id") for d in deliveries}) == 1
    assert len({d.body for d in deliveries}) == 1
    assert len({d.header("X-Shopify-Triggered-At") for d in deliveries}) == 1
    counters = fast.shop().counters
    wait_until(lambda: counters["webhooks_delivered"] == 1, message="delivered")
    assert counters["webhook_attempts_failed"] == 2
    assert counters["webhooks_given_up"] == 0


def test_a_receiver_that_always_fails_is_given_up_after_the_last_retry(
    fast: RunningEmulator, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers(statuses=[500] * 10)
    subscribe(fast, "PRODUCTS_UPDATE", receiver.url)
    put_product(fast, "hp-26a-toner", "129.99")
    put_product(fast, "hp-26a-toner", "119.99")

    counters = fast.shop().counters
    wait_until(lambda: counters["webhooks_given_up"] == 1, message="given up")
    assert len(receiver.requests) == 1 + len(FAST_RETRIES.webhook_retry_delays)
    assert counters["webhooks_delivered"] == 0


def test_refused_connections_and_timeouts_are_failures_too(
    fast: RunningEmulator, receivers: Callable[..., Receiver]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # nothing listens once the socket is closed
    slow = receivers(delays=[2.0])  # longer than the 0.5 s timeout, then answers at once
    subscribe(fast, "PRODUCTS_UPDATE", f"http://127.0.0.1:{closed_port}/hooks")
    subscribe(fast, "PRODUCTS_UPDATE", slow.url)
    put_product(fast, "scotch-tape", "2.99")
    put_product(fast, "scotch-tape", "3.49")

    counters = fast.shop().counters
    wait_until(lambda: counters["webhooks_given_up"] == 1, message="refused one given up")
    wait_until(lambda: counters["webhooks_delivered"] == 1, message="slow one delivered")
    deliveries = slow.wait_for(2)
    assert deliveries[0].header("X-Shopify-Event-Id") == deliveries[1].header("X-Shopify-Event-Id")


def test_every_subscription_gets_its_own_delivery_of_one_event(
    fast: RunningEmulator, receivers: Callable[..., Receiver]
) -> None:
    first, second = receivers(), receivers()
    subscribe(fast, "PRODUCTS_CREATE", first.url)
    subscribe(fast, "PRODUCTS_CREATE", second.url)
    put_product(fast, "avery-binder", "12.99")

    [one], [other] = first.wait_for(1), second.wait_for(1)
    assert one.header("X-Shopify-Topic") == "products/create"
    assert one.header("X-Shopify-Event-Id") == other.header("X-Shopify-Event-Id")
    assert one.header("X-Shopify-Webhook-Id") != other.header("X-Shopify-Webhook-Id")


def test_no_delivery_work_when_nothing_is_subscribed_to_the_topic(
    fast: RunningEmulator, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers()
    put_product(fast, "swingline-stapler", "19.99")  # no subscription at all
    subscribe(fast, "PRODUCTS_DELETE", receiver.url)
    put_product(fast, "swingline-stapler", "17.99")  # products/update: another topic

    counters = fast.shop().counters
    assert counters["webhook_events"] == 0
    assert counters["webhook_attempts"] == 0
    assert [topic for topic, _ in fast.shop().events] == ["products/create", "products/update"]
    assert receiver.requests == []


def test_include_fields_narrow_the_body_and_filters_skip_events(
    fast: RunningEmulator, receivers: Callable[..., Receiver]
) -> None:
    narrow, bic_only = receivers(), receivers()
    subscribe(fast, "PRODUCTS_CREATE", narrow.url, includeFields=["id", "title", "variants.price"])
    subscribe(fast, "PRODUCTS_CREATE", bic_only.url, filter="vendor:BIC AND variants.price:<5")
    put_product(fast, "acme-pens", "3.00", vendor="Acme")
    put_product(fast, "bic-pens-expensive", "9.00", vendor="BIC")
    put_product(fast, "bic-pens-cheap", "4.00", vendor="BIC")

    bodies = [json.loads(d.body) for d in narrow.wait_for(3)]
    assert {tuple(sorted(body)) for body in bodies} == {("id", "title", "variants")}
    # Deliveries run concurrently, in no promised order (nor are they on Shopify).
    prices = sorted(variant["price"] for body in bodies for variant in body["variants"])
    assert prices == ["3.00", "4.00", "9.00"]
    assert all(list(variant) == ["price"] for body in bodies for variant in body["variants"])
    [only] = bic_only.wait_for(1)
    assert json.loads(only.body)["handle"] == "bic-pens-cheap"
    counters = fast.shop().counters
    wait_until(lambda: counters["webhooks_delivered"] == 4, message="four deliveries")
    assert len(bic_only.requests) == 1


def test_metafield_namespaces_add_the_product_metafields(
    fast: RunningEmulator, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers()
    subscribe(fast, "PRODUCTS_CREATE", receiver.url, metafieldNamespaces=["custom"])
    metafields = [
        {"namespace": "custom", "key": "mpn", "type": "single_line_text_field", "value": "X1"},
        {"namespace": "other", "key": "note", "type": "single_line_text_field", "value": "n"},
    ]
    put_product(fast, "canon-055", "89.99", metafields=metafields)

    [delivery] = receiver.wait_for(1)
    sent = json.loads(delivery.body)["metafields"]
    assert [(m["namespace"], m["key"], m["value"]) for m in sent] == [("custom", "mpn", "X1")]


@pytest.mark.parametrize(
    ("topic", "values", "field", "message"),
    [
        ("PRODUCTS_UPDATE", {"uri": "not a url"}, ["webhookSubscription", "uri"], "invalid"),
        ("PRODUCTS_UPDATE", {"uri": "ftp://x.test/h"}, ["webhookSubscription", "uri"], "invalid"),
        (
            "PRODUCTS_UPDATE",
            {"callbackUrl": "https://"},
            ["webhookSubscription", "callbackUrl"],
            "invalid",
        ),
        ("ORDERS_CREATE", {"uri": "https://hooks.test/o"}, ["topic"], "not supported"),
        (
            "PRODUCTS_UPDATE",
            {"uri": "https://hooks.test/x", "format": "XML"},
            ["webhookSubscription", "format"],
            "JSON",
        ),
    ],
)
def test_bad_subscriptions_are_refused_with_user_errors(
    emulator: RunningEmulator, topic: str, values: dict, field: list[str], message: str
) -> None:
    body = emulator.gql(SUBSCRIBE, {"topic": topic, "sub": values})
    result = body["data"]["webhookSubscriptionCreate"]
    assert result["webhookSubscription"] is None
    [error] = result["userErrors"]
    assert error["field"] == field
    assert message in error["message"]
    assert emulator.shop().data.webhook_subscriptions == {}


def test_the_same_address_twice_for_a_topic_is_taken(emulator: RunningEmulator) -> None:
    uri = "https://hooks.test/products"
    assert subscribe(emulator, "PRODUCTS_UPDATE", uri)["userErrors"] == []
    again = subscribe(emulator, "PRODUCTS_UPDATE", uri)
    assert again["userErrors"] == [
        {
            "field": ["webhookSubscription", "uri"],
            "message": "Address for this topic has already been taken",
        }
    ]
    assert subscribe(emulator, "PRODUCTS_CREATE", uri)["userErrors"] == []


def test_callback_url_is_accepted_as_the_address(emulator: RunningEmulator) -> None:
    body = emulator.gql(
        SUBSCRIBE,
        {"topic": "BULK_OPERATIONS_FINISH", "sub": {"callbackUrl": "https://hooks.test/bulk"}},
    )
    created = body["data"]["webhookSubscriptionCreate"]["webhookSubscription"]
    assert created["uri"] == "https://hooks.test/bulk"
    assert created["format"] == "JSON"


def test_subscriptions_are_listed_paged_filtered_found_and_deleted(
    emulator: RunningEmulator,
) -> None:
    ids = [
        subscribe(emulator, topic, f"https://hooks.test/{n}")["webhookSubscription"]["id"]
        for n, topic in enumerate(["PRODUCTS_UPDATE", "PRODUCTS_DELETE", "INVENTORY_LEVELS_UPDATE"])
    ]
    first = emulator.gql(SUBSCRIPTIONS, {"first": 2})["data"]["webhookSubscriptions"]
    assert [node["id"] for node in first["nodes"]] == ids[:2]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = emulator.gql(SUBSCRIPTIONS, {"first": 2, "after": first["pageInfo"]["endCursor"]})
    assert [node["id"] for node in rest["data"]["webhookSubscriptions"]["nodes"]] == ids[2:]
    only = emulator.gql(SUBSCRIPTIONS, {"first": 5, "topics": ["PRODUCTS_DELETE"]})
    assert [n["uri"] for n in only["data"]["webhookSubscriptions"]["nodes"]] == [
        "https://hooks.test/1"
    ]
    found = emulator.gql(
        "query One($id: ID!) { webhookSubscription(id: $id) { topic uri } }", {"id": ids[2]}
    )
    assert found["data"]["webhookSubscription"]["topic"] == "INVENTORY_LEVELS_UPDATE"

    deleted = emulator.gql(UNSUBSCRIBE, {"id": ids[0]})["data"]["webhookSubscriptionDelete"]
    assert deleted == {"deletedWebhookSubscriptionId": ids[0], "userErrors": []}
    again = emulator.gql(UNSUBSCRIBE, {"id": ids[0]})["data"]["webhookSubscriptionDelete"]
    assert again["deletedWebhookSubscriptionId"] is None
    assert again["userErrors"][0]["field"] == ["id"]
    left = emulator.gql(SUBSCRIPTIONS, {"first": 5})["data"]["webhookSubscriptions"]["nodes"]
    assert [node["id"] for node in left] == ids[1:]


def test_a_deleted_subscription_receives_nothing(
    fast: RunningEmulator, receivers: Callable[..., Receiver]
) -> None:
    receiver, witness = receivers(), receivers()
    gone = subscribe(fast, "PRODUCTS_CREATE", receiver.url)["webhookSubscription"]["id"]
    subscribe(fast, "PRODUCTS_CREATE", witness.url)
    fast.gql(UNSUBSCRIBE, {"id": gone})
    put_product(fast, "mead-notebook", "4.99")

    witness.wait_for(1)
    wait_until(lambda: fast.shop().counters["webhooks_delivered"] == 1, message="witness")
    assert receiver.requests == []
