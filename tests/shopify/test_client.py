"""The client against the emulator: it waits for the bucket, retries what is worth retrying,
and refuses at once what is not."""

import asyncio
import random
from collections.abc import Mapping
from typing import Any

import pytest

from cowans.shopify.client import BUCKET_WAIT, Backoff, RetryPolicy, ShopifyClient, StoreEndpoint
from cowans.shopify.cost import CostModel
from cowans.shopify.documents import Document, load
from cowans.shopify.errors import ShopifyError, ShopifyErrorCode, ShopifyUnavailable
from cowans.shopify.throttle import CostThrottle
from shopify_emulator.throttle import LeakyBucket
from tests.emulator.conftest import RunningEmulator

pytestmark = pytest.mark.anyio

PAGE = {"first": 10, "variants": 2, "levels": 2, "metafields": 2, "media": 1, "collections": 2}


def client_for(emulator: RunningEmulator, **options) -> ShopifyClient:
    endpoint = StoreEndpoint(
        f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json", emulator.shop().access_token
    )
    options.setdefault("throttle", CostThrottle())
    options.setdefault(
        "retry", RetryPolicy(base_seconds=0.01, max_seconds=0.05, rng=random.Random(1))
    )
    return ShopifyClient(endpoint, **options)


def product_set_variables(handle: str) -> dict:
    return {
        "variants": 1,
        "identifier": {"handle": handle},
        "input": {
            "title": handle.title(),
            "handle": handle,
            "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
            "variants": [
                {
                    "optionValues": [{"optionName": "Title", "name": "Default Title"}],
                    "sku": handle.upper(),
                    "price": "1.00",
                }
            ],
        },
    }


async def test_a_query_returns_data_and_its_costs(emulator: RunningEmulator) -> None:
    async with client_for(emulator) as client:
        result = await client.execute(load("shop_info"))
    assert result.data["shop"]["name"] == "demo"
    assert (result.requested_cost, result.actual_cost, result.attempts) == (2, 2, 1)


async def test_the_bucket_is_waited_for_never_tripped(emulator: RunningEmulator) -> None:
    # A tiny, slow bucket: 8 requests of 12 points need 96, it holds 30 and restores 30 a
    # second, so about 2 s of waiting is unavoidable however fast the machine is.
    emulator.shop().bucket = LeakyBucket(30, 30)
    async with client_for(emulator) as client:
        for _ in range(8):
            await client.execute(load("locations"), {"first": 10})  # 12 points each
    assert emulator.shop().counters["throttled"] == 0
    assert client.throttle.waited_seconds > 0


async def test_a_concurrent_burst_is_throttled_at_most_once_and_never_fails(
    emulator: RunningEmulator,
) -> None:
    emulator.shop().bucket = LeakyBucket(60, 300)
    async with client_for(emulator) as client:
        results = await asyncio.gather(
            *(client.execute(load("locations"), {"first": 10}) for _ in range(20))
        )
    assert all("locations" in result.data for result in results)
    # Before the first answer the client cannot know the bucket is tiny; after it, it does.
    assert emulator.shop().counters["throttled"] <= 20
    assert client.stats.throttled == emulator.shop().counters["throttled"]


class _Slowest(random.Random):
    """Backoffs at their longest, so one taken where none is due shows."""

    def uniform(self, a: float, b: float) -> float:
        return b


async def test_a_throttled_request_waits_for_the_bucket_it_was_told_of_not_a_backoff(
    emulator: RunningEmulator,
) -> None:
    # Another client of the store emptied the bucket: ours, which has not heard of the store
    # yet, sends at once and is throttled. The answer says how empty the bucket is, so the
    # request goes again once the restore covers it (12 points at 10/s: ~1.2 s), with no
    # backoff (here 5 s) between: that would only leave the bucket unused. Every wait the
    # client makes is heard, so the waits show it; the slow restore leaves a busy machine
    # 1.2 s to send the request before the bucket could take it.
    bucket = emulator.shop().bucket = LeakyBucket(100, 10)
    bucket.try_take(100)
    heard: list[Backoff] = []
    retry = RetryPolicy(base_seconds=5.0, max_seconds=5.0, rng=_Slowest())
    async with client_for(emulator, retry=retry) as client:
        client.backoff_listeners.append(heard.append)
        result = await client.execute(load("locations"), {"first": 10})
    assert "locations" in result.data
    assert client.stats.throttled == emulator.shop().counters["throttled"] == 1
    assert [(backoff.cause, backoff.retry) for backoff in heard] == [
        ("throttled", True),
        (BUCKET_WAIT, False),
    ]
    assert heard[0].seconds == 0.0
    assert 0.0 < heard[1].seconds <= 12 / 10


class _Underestimating(CostModel):
    """A document whose cost the client has not learnt yet and guesses far too low."""

    def predict(self, document: Document, variables: Mapping[str, Any]) -> int:
        return 1


async def test_a_throttled_request_is_sent_again_when_the_bucket_holds_its_real_cost(
    emulator: RunningEmulator,
) -> None:
    # Guessed at 1 point, the request costs 12 and the bucket holds 5: Shopify throttles it and
    # says both figures. Sent again for the guess, it would be throttled again and again; for
    # the 12 points it waits ~1.4 s once (7 points at 5/s), and the client has learnt the cost.
    bucket = emulator.shop().bucket = LeakyBucket(100, 5)
    bucket.try_take(95)
    heard: list[Backoff] = []
    retry = RetryPolicy(base_seconds=5.0, max_seconds=5.0, rng=_Slowest())
    async with client_for(emulator, retry=retry, cost_model=_Underestimating()) as client:
        client.backoff_listeners.append(heard.append)
        await client.execute(load("locations"), {"first": 10})
    assert client.stats.throttled == emulator.shop().counters["throttled"] == 1
    assert [backoff.cause for backoff in heard] == ["throttled", BUCKET_WAIT]
    assert heard[0].seconds == 0.0
    assert 0.0 < heard[1].seconds <= 7 / 5


async def test_5xx_and_hangs_are_retried(emulator: RunningEmulator) -> None:
    faults = emulator.shop().faults
    faults.reseed(3)
    faults.http_5xx, faults.hang, faults.hang_seconds = 0.3, 0.1, 5.0
    async with client_for(emulator, timeout_seconds=0.5) as client:
        for _ in range(15):
            result = await client.execute(load("shop_info"))
            assert result.data["shop"]["name"] == "demo"
    counters = emulator.shop().counters
    assert counters["faults_5xx"] > 0
    assert (
        sum(v for k, v in client.stats.retries.items() if k.startswith("http_5"))
        == counters["faults_5xx"]
    )
    assert client.stats.retries["timeout"] == counters["faults_hang"]


async def test_internal_error_after_apply_never_duplicates(emulator: RunningEmulator) -> None:
    faults = emulator.shop().faults
    faults.reseed(5)
    faults.ise_after_apply = 0.5
    async with client_for(emulator) as client:
        for n in range(12):
            result = await client.execute(load("product_set"), product_set_variables(f"item-{n}"))
            assert result.data["productSet"]["userErrors"] == []
    assert emulator.shop().counters["faults_ise_after_apply"] > 0
    assert sorted(emulator.shop().data.handles) == sorted(f"item-{n}" for n in range(12))


async def test_a_store_that_keeps_failing_gives_up_with_a_count(emulator: RunningEmulator) -> None:
    emulator.shop().faults.http_5xx = 1.0
    async with client_for(emulator) as client:
        with pytest.raises(ShopifyUnavailable) as failure:
            await client.execute(load("shop_info"))
    assert failure.value.attempts == client.retry.max_attempts
    assert emulator.shop().counters["faults_5xx"] == client.retry.max_attempts


async def test_a_wrong_token_is_not_retried(emulator: RunningEmulator) -> None:
    endpoint = StoreEndpoint(f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json", "wrong")
    async with ShopifyClient(endpoint, throttle=CostThrottle()) as client:
        with pytest.raises(ShopifyError) as failure:
            await client.execute(load("shop_info"))
    assert failure.value.code == ShopifyErrorCode.UNAUTHORIZED
    assert client.stats.requests == 1
    assert "wrong" not in repr(endpoint)


async def test_max_cost_and_validation_errors_are_not_retried(emulator: RunningEmulator) -> None:
    big = {
        "first": 250,
        "variants": 250,
        "levels": 10,
        "metafields": 10,
        "media": 10,
        "collections": 5,
    }
    async with client_for(emulator) as client:
        with pytest.raises(ShopifyError) as too_expensive:
            await client.execute(load("products_page"), big)
        with pytest.raises(ShopifyError) as invalid:
            await client.execute(load("products_page"), {"first": "ten"})
    assert too_expensive.value.code == ShopifyErrorCode.MAX_COST_EXCEEDED
    assert invalid.value.code == ShopifyErrorCode.GRAPHQL_ERROR
    assert client.stats.requests == 2


async def test_the_cost_model_learns_what_shopify_reported(emulator: RunningEmulator) -> None:
    model = CostModel()
    async with client_for(emulator, cost_model=model) as client:
        result = await client.execute(load("products_page"), PAGE)
    assert model.predict(load("products_page"), PAGE) == result.requested_cost


async def test_throttle_waits_for_restore_and_counts_in_flight() -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = CostThrottle(clock=lambda: now[0], sleep=fake_sleep)
    throttle.settle(0, {"maximumAvailable": 1000, "currentlyAvailable": 100, "restoreRate": 50})
    await throttle.acquire(80)  # fits
    assert slept == []
    await throttle.acquire(80)  # 20 left of the 100, plus in-flight 80: wait 60 points = 1.2 s
    assert slept == [pytest.approx(1.2)]
    throttle.settle(80, {"maximumAvailable": 1000, "currentlyAvailable": 500, "restoreRate": 50})
    assert throttle.available() == pytest.approx(500 - 80)  # one request still in flight
    reserved = CostThrottle(reserve=300, clock=lambda: now[0], sleep=fake_sleep)
    reserved.settle(0, {"maximumAvailable": 1000, "currentlyAvailable": 350, "restoreRate": 50})
    await reserved.acquire(100)  # 350 - 100 < 300 reserve: wait for 50 points
    assert slept[-1] == pytest.approx(1.0)
