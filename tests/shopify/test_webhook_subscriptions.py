"""Webhook subscriptions made through our client in the emulator over real HTTP: idempotent,
limited to our own address, refusals reported, stale ones removed."""

import pytest

from cowans.shopify.client import ShopifyClient, StoreEndpoint
from cowans.shopify.webhooks import (
    WEBHOOK_TOPICS,
    SubscriptionRefused,
    callback_url,
    delete_subscriptions,
    ensure_subscriptions,
    list_subscriptions,
)
from shopify_emulator.state import WebhookSubscription
from tests.emulator.conftest import API_PATH, RunningEmulator

OURS = "http://127.0.0.1:5999/api/shopify/webhooks"
THEIRS = "https://elsewhere.example/hooks"


def client_for(emulator: RunningEmulator) -> ShopifyClient:
    admin_url = f"{emulator.base_url}/demo{API_PATH}"
    return ShopifyClient(StoreEndpoint(admin_url, emulator.shop().access_token))


def subscriptions_in(emulator: RunningEmulator) -> list[WebhookSubscription]:
    return list(emulator.shop().data.webhook_subscriptions.values())


def test_the_callback_is_under_the_public_url() -> None:
    assert callback_url("https://pim.cowans.com/") == "https://pim.cowans.com/api/shopify/webhooks"
    assert callback_url("http://127.0.0.1:5000") == "http://127.0.0.1:5000/api/shopify/webhooks"


@pytest.mark.anyio
async def test_subscribing_twice_makes_each_subscription_once(emulator: RunningEmulator) -> None:
    async with client_for(emulator) as client:
        first = await ensure_subscriptions(client, OURS)
        second = await ensure_subscriptions(client, OURS)
    assert [s.topic for s in first] == list(WEBHOOK_TOPICS)
    assert second == first
    made = subscriptions_in(emulator)
    assert sorted(s.topic for s in made) == sorted(WEBHOOK_TOPICS)
    assert {s.uri for s in made} == {OURS}
    assert {s.format for s in made} == {"JSON"}


@pytest.mark.anyio
async def test_only_the_missing_topics_are_created_and_others_addresses_are_left_alone(
    emulator: RunningEmulator,
) -> None:
    async with client_for(emulator) as client:
        (theirs,) = await ensure_subscriptions(client, THEIRS, ["PRODUCTS_UPDATE"])
        (existing,) = await ensure_subscriptions(client, OURS, ["PRODUCTS_DELETE"])
        made = await ensure_subscriptions(client, OURS)
        listed = await list_subscriptions(client, OURS)
    assert next(s for s in made if s.topic == "PRODUCTS_DELETE") == existing
    assert theirs.id not in {s.id for s in made}
    assert sorted(s.id for s in listed) == sorted(s.id for s in made)
    assert len(subscriptions_in(emulator)) == len(WEBHOOK_TOPICS) + 1


@pytest.mark.anyio
async def test_a_refused_subscription_is_an_error_with_shopifys_reason(
    emulator: RunningEmulator,
) -> None:
    async with client_for(emulator) as client:
        with pytest.raises(SubscriptionRefused) as refused:
            await ensure_subscriptions(client, OURS, ["PRODUCTS_UPDATE", "ORDERS_CREATE"])
    assert refused.value.topic == "ORDERS_CREATE"
    assert "not supported" in str(refused.value)
    # What was made before the refusal stays, and is reused next time.
    assert [s.topic for s in subscriptions_in(emulator)] == ["PRODUCTS_UPDATE"]


@pytest.mark.anyio
async def test_removing_subscriptions_counts_already_gone_ones(emulator: RunningEmulator) -> None:
    async with client_for(emulator) as client:
        made = await ensure_subscriptions(client, OURS, ["PRODUCTS_UPDATE", "PRODUCTS_CREATE"])
        ids = [s.id for s in made]
        assert await delete_subscriptions(client, ids[:1]) == ids[:1]
        assert await delete_subscriptions(client, ids) == ids
    assert subscriptions_in(emulator) == []
