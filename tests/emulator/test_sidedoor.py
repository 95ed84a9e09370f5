"""The /_emulator/ side door: reset, seed, state, counters, config and merchant edits."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from shopify_emulator.app import EmulatorOptions
from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, simple_product
from tests.emulator.webhook_receiver import Receiver, wait_until

PRODUCT = """
query Product($handle: String!) {
  productByIdentifier(identifier: {handle: $handle}) {
    id title tags status updatedAt
    variants(first: 5) { nodes { price inventoryQuantity } }
  }
}
"""


def door(emulator: RunningEmulator, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return emulator.http.request(method, f"{emulator.base_url}/_emulator/{path}", **kwargs)


def make_product(emulator: RunningEmulator, handle: str = "bic-pens") -> dict[str, Any]:
    values = simple_product(handle, "BIC-1", price="3.99", tags=["pens"])
    body = emulator.gql(PRODUCT_SET, {"input": values})
    return body["data"]["productSet"]["product"]


def read_product(emulator: RunningEmulator, handle: str) -> dict[str, Any]:
    return emulator.gql(PRODUCT, {"handle": handle})["data"]["productByIdentifier"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.close()


def test_unknown_shop_and_bad_bodies_are_clear_4xx(emulator: RunningEmulator) -> None:
    missing = door(emulator, "GET", "nowhere/state")
    assert missing.status_code == 404
    assert missing.json() == {"error": "unknown shop 'nowhere'", "details": ["demo"]}
    not_json = door(emulator, "POST", "demo/seed", content=b"{products: 3")
    assert not_json.status_code == 400
    assert "not JSON" in not_json.json()["error"]
    not_object = door(emulator, "POST", "demo/seed", json=[1, 2])
    assert not_object.status_code == 400
    bad_count = door(emulator, "POST", "demo/seed", json={"products": "many"})
    assert bad_count.status_code == 422
    unknown = door(emulator, "POST", "demo/seed", json={"products": 1, "colour": "red"})
    assert unknown.status_code == 422
    assert "colour" in unknown.json()["error"]
    assert emulator.shop().data.products == {}


def test_seed_then_state_shows_products_inventory_metafields_collections(
    emulator: RunningEmulator,
) -> None:
    seeded = door(emulator, "POST", "demo/seed", json={"products": 30, "seed": 7})
    assert seeded.status_code == 200
    assert seeded.json()["created"] == 30
    assert seeded.json()["products"] == 30

    state = door(emulator, "GET", "demo/state").json()
    assert state["productCount"] == 30
    assert [loc["name"] for loc in state["locations"]] == ["Main Warehouse", "Store Front"]
    product = state["products"][0]
    variant = product["variants"][0]
    assert set(variant["inventory"]) == {"Main Warehouse", "Store Front"}
    assert {"available", "on_hand"} <= set(variant["inventory"]["Main Warehouse"])
    assert any(m["namespace"] == "custom" for m in product["metafields"])
    assert product["collections"]
    members = {h for c in state["collections"] for h in c["products"]}
    assert product["handle"] in members
    limited = door(emulator, "GET", "demo/state", params={"limit": 2}).json()
    assert len(limited["products"]) == 2
    one = door(emulator, "GET", "demo/state", params={"handle": product["handle"]}).json()
    assert [p["handle"] for p in one["products"]] == [product["handle"]]


def test_reset_empties_the_shop_but_keeps_its_locations(emulator: RunningEmulator) -> None:
    locations = emulator.location_ids()
    make_product(emulator)
    emulator.gql(
        "mutation { webhookSubscriptionCreate(topic: PRODUCTS_UPDATE, webhookSubscription: "
        '{uri: "https://hooks.test/x"}) { userErrors { message } } }'
    )
    reset = door(emulator, "POST", "demo/reset")
    assert reset.status_code == 200
    data = emulator.shop().data
    assert data.products == {}
    assert data.webhook_subscriptions == {}
    assert emulator.location_ids() == locations
    body = emulator.gql("{ products(first: 5) { nodes { id } } }")
    assert body["data"]["products"]["nodes"] == []


def test_counters_count_requests_points_and_each_mutation(emulator: RunningEmulator) -> None:
    make_product(emulator, "one")
    make_product(emulator, "two")
    emulator.gql("{ shop { name } }")

    counters = door(emulator, "GET", "demo/counters").json()
    assert counters["requests"] == 3
    assert counters["points_spent"] > 0
    assert counters["mutations"] == {"productSet": 2}
    assert counters["faults"] == {"http_5xx": 0, "hang": 0, "ise_after_apply": 0, "throttle": 0}
    cleared = door(emulator, "DELETE", "demo/counters").json()
    assert cleared["requests"] == 0
    assert cleared["mutations"] == {}


def test_config_changes_the_plan_and_injects_faults(emulator: RunningEmulator) -> None:
    changed = door(emulator, "PATCH", "demo/config", json={"plan": "plus"})
    assert changed.json()["plan"] == "plus"
    plan = emulator.gql("{ shop { plan { displayName shopifyPlus } } }")["data"]["shop"]["plan"]
    assert plan == {"displayName": "Shopify Plus", "shopifyPlus": True}

    faults = {"http_5xx": 1, "latency_ms": [0, 5], "seed": 3}
    configured = door(emulator, "PATCH", "demo/config", json={"faults": faults}).json()
    assert configured["faults"]["http_5xx"] == 1.0
    assert configured["faults"]["latency_ms"] == [0, 5]
    failed = emulator.post("{ shop { name } }")
    assert failed.status_code in (500, 502, 503)
    assert failed.headers["content-type"].startswith("text/html")
    assert door(emulator, "GET", "demo/counters").json()["faults"]["http_5xx"] == 1
    door(emulator, "PATCH", "demo/config", json={"faults": {"http_5xx": 0}})
    assert emulator.post("{ shop { name } }").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"plan": "gold"},
        {"faults": {"http_5xx": 1.5}},
        {"faults": {"hang": True}},
        {"faults": {"latency_ms": [10, 5]}},
        {"faults": {"latency_ms": 10}},
        {"faults": {"hang_seconds": 0}},
        {"faults": "none"},
        {"speed": 3},
    ],
)
def test_bad_config_is_refused_and_changes_nothing(
    emulator: RunningEmulator, body: dict[str, Any]
) -> None:
    before = door(emulator, "GET", "demo/config").json()
    response = door(emulator, "PATCH", "demo/config", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]
    assert door(emulator, "GET", "demo/config").json() == before


def test_merchant_edit_changes_the_product_and_emits_webhooks(
    make_emulator: Callable[..., RunningEmulator], receiver: Receiver
) -> None:
    emulator = make_emulator(options=EmulatorOptions(webhook_retry_delays=(0.05,)))
    product = make_product(emulator)
    for topic in ("PRODUCTS_UPDATE", "INVENTORY_LEVELS_UPDATE"):
        emulator.gql(
            f"mutation {{ webhookSubscriptionCreate(topic: {topic}, webhookSubscription: "
            f'{{uri: "{receiver.url}"}}) {{ userErrors {{ message }} }} }}'
        )
    stored = emulator.shop().data.products[int(product["id"].rsplit("/", 1)[1])]
    updated_before = stored.updated_at
    fields = {
        "title": "BIC Pens, Blue",
        "price": "4.49",
        "tags": "pens, blue",
        "status": "draft",
        "inventory": {"Main Warehouse": 40, "Store Front": 2},
    }
    edited = door(
        emulator, "POST", "demo/merchant-edit", json={"handle": "bic-pens", "fields": fields}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["emitted"].count("inventory_levels/update") == 2

    seen = read_product(emulator, "bic-pens")
    assert seen["title"] == "BIC Pens, Blue"
    assert seen["tags"] == ["blue", "pens"]
    assert seen["status"] == "DRAFT"
    assert seen["variants"]["nodes"][0] == {"price": "4.49", "inventoryQuantity": 42}
    assert stored.updated_at > updated_before
    deliveries = receiver.wait_for(3)
    topics = sorted(d.header("X-Shopify-Topic") for d in deliveries)
    assert topics == ["inventory_levels/update", "inventory_levels/update", "products/update"]
    levels = [json.loads(d.body) for d in deliveries if d.header("X-Shopify-Topic") != topics[-1]]
    assert sorted(level["available"] for level in levels) == [2, 40]
    wait_until(lambda: emulator.shop().counters["webhooks_delivered"] == 3, message="delivered")


def test_merchant_edit_by_id_with_one_field(emulator: RunningEmulator) -> None:
    product = make_product(emulator)
    number = int(product["id"].rsplit("/", 1)[1])
    for identifier in (product["id"], number):
        response = door(
            emulator, "POST", "demo/merchant-edit", json={"id": identifier, "fields": {"price": 5}}
        )
        assert response.status_code == 200, response.text
    assert read_product(emulator, "bic-pens")["variants"]["nodes"][0]["price"] == "5.00"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"handle": "nope", "fields": {"title": "x"}}, 404),
        ({"fields": {"title": "x"}}, 422),
        ({"handle": "bic-pens", "fields": {}}, 422),
        ({"handle": "bic-pens", "fields": {"colour": "red"}}, 422),
        ({"handle": "bic-pens", "fields": {"title": "ok", "price": "-1"}}, 422),
        ({"handle": "bic-pens", "fields": {"title": "ok", "status": "gone"}}, 422),
        ({"handle": "bic-pens", "fields": {"title": "ok", "inventory": {"Attic": 3}}}, 422),
        ({"handle": "bic-pens", "fields": {"title": "ok", "inventory": {"Store Front": "3"}}}, 422),
        ({"handle": "bic-pens", "fields": {"title": " "}}, 422),
    ],
)
def test_bad_merchant_edits_change_nothing(
    emulator: RunningEmulator, body: dict[str, Any], status: int
) -> None:
    make_product(emulator)
    before = read_product(emulator, "bic-pens")
    events = len(emulator.shop().events)
    response = door(emulator, "POST", "demo/merchant-edit", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]
    assert read_product(emulator, "bic-pens") == before
    assert len(emulator.shop().events) == events


def test_shops_are_listed(make_emulator: Callable[..., RunningEmulator]) -> None:
    from shopify_emulator.shops import Shop

    emulator = make_emulator([Shop("alpha", "a"), Shop("beta", "b", plan="advanced")])
    shops = door(emulator, "GET", "shops").json()["shops"]
    assert [(s["name"], s["plan"]) for s in shops] == [("alpha", "standard"), ("beta", "advanced")]


def test_the_side_door_can_be_left_shut(make_emulator: Callable[..., RunningEmulator]) -> None:
    emulator = make_emulator(options=EmulatorOptions(side_door=False))
    assert door(emulator, "GET", "demo/state").status_code == 404
    assert door(emulator, "POST", "demo/reset").status_code == 404
    assert emulator.post("{ shop { name } }").status_code == 200
