"""Shopify webhooks: signed deliveries are kept once per event id and queue one pull; anything
unsigned, wrongly signed or from an unknown shop is refused with 401 and leaves no trace; the
pull gets the products the events are about. The end-to-end test has the Shopify emulator
deliver a merchant's edit over real HTTP to the app served by uvicorn."""

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from cowans.api.app import create_app
from cowans.config import Settings
from cowans.db.base import utcnow
from cowans.db.models import JobState, Role, Store, StoreProduct, SyncJob, WebhookEvent
from cowans.db.session import session_scope
from cowans.jobs.handlers import HANDLERS
from cowans.jobs.runtime import JobRuntime
from cowans.shopify.webhooks import WEBHOOK_TOPICS
from cowans.sync.webhooks import (
    Delivery,
    WebhookBatch,
    delete_processed_before,
    mark_processed,
    pending_webhook_products,
    record_delivery,
    signature_of,
)
from shopify_emulator.webhooks import sign
from tests.conftest import PASSWORD
from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, free_port, simple_product
from tests.jobs.conftest import consuming, job_finished, wait_for

WEBHOOKS = "/api/shopify/webhooks"
SECRET = "demo-webhook-secret"  # the emulator's for its shop "demo"
SHOP = "demo.myshopify.com"
PRODUCT = "gid://shopify/Product/"
ITEM = "gid://shopify/InventoryItem/"


@pytest.fixture
def app(settings: Settings) -> Iterator[TestClient]:
    """The app without job workers: a queued pull stays queued for the test to see."""
    with TestClient(create_app(settings.model_copy(update={"job_workers": 0}))) as client:
        yield client


@pytest.fixture
def store_id(engine: Engine) -> int:
    return add_store(engine)


def add_store(engine: Engine, domain: str = SHOP, secret: str | None = SECRET, **extra: Any) -> int:
    with session_scope(engine) as session:
        store = Store(
            name=domain, shop_domain=domain, access_token="shpat_x", webhook_secret=secret, **extra
        )
        session.add(store)
        session.flush()
        return store.id


def product_update(number: int) -> bytes:
    """A products/update body as Shopify shapes it (REST ids beside the gid)."""
    payload = {"id": number, "admin_graphql_api_id": f"{PRODUCT}{number}", "title": "Stapler"}
    return json.dumps(payload).encode()


def headers_for(
    body: bytes,
    *,
    topic: str = "products/update",
    event_id: str | None = None,
    secret: str = SECRET,
    shop: str = SHOP,
) -> dict[str, str]:
    """Shopify's headers, signed by the emulator's own signer (not the code under test)."""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-28T10:00:00.000000Z",
    }


def post(client: TestClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return client.post(WEBHOOKS, content=body, headers=headers)


def events(engine: Engine) -> list[WebhookEvent]:
    with session_scope(engine) as session:
        rows = list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))
        session.expunge_all()
        return rows


def pull_jobs(engine: Engine) -> list[SyncJob]:
    with session_scope(engine) as session:
        rows = list(session.scalars(select(SyncJob).where(SyncJob.kind == "sync.pull")))
        session.expunge_all()
        return rows


def delivery(topic: str, body: bytes, event_id: str | None = None) -> Delivery:
    return Delivery(SHOP, topic, event_id or str(uuid.uuid4()), None, "unused", body)


# -- receiving ---------------------------------------------------------------------------------


def test_a_valid_delivery_is_accepted_once_even_when_delivered_twice(
    app: TestClient, engine: Engine, store_id: int
) -> None:
    body, event_id = product_update(7), str(uuid.uuid4())
    first = post(app, body, headers_for(body, event_id=event_id))
    assert first.status_code == 200, first.text
    assert first.json() == {"status": "accepted"}
    # The same event again: once as a retry (same webhook id), once through another
    # subscription to the topic (a new webhook id, the same event id).
    retry = headers_for(body, event_id=event_id)
    for headers in (retry, retry, headers_for(body, event_id=event_id)):
        again = post(app, body, headers)
        assert again.status_code == 200, again.text
        assert again.json() == {"status": "duplicate"}
    [event] = events(engine)
    assert (event.store_id, event.event_id, event.topic) == (store_id, event_id, "products/update")
    assert event.shopify_product_id == f"{PRODUCT}7"
    assert event.processed_at is None
    [job] = pull_jobs(engine)
    assert (job.state, job.store_id, job.created_by) == (JobState.QUEUED, store_id, None)
    assert job.config["webhooks"] is True
    assert job.config["reason"] == "webhook"


def test_an_invalid_signature_is_refused_and_nothing_is_recorded(
    app: TestClient, engine: Engine, store_id: int
) -> None:
    body = product_update(7)
    wrong_secret = headers_for(body, secret="not-the-secret")
    tampered = headers_for(body)
    not_base64 = {**headers_for(body), "X-Shopify-Hmac-Sha256": "%%% not base64 %%%"}
    truncated = {**headers_for(body), "X-Shopify-Hmac-Sha256": sign(body, SECRET)[:20]}
    for headers, sent in (
        (wrong_secret, body),
        (tampered, product_update(8)),  # signed for another body
        (not_base64, body),
        (truncated, body),
    ):
        response = post(app, sent, headers)
        assert response.status_code == 401, response.text
        error = response.json()["error"]
        assert error["code"] == "webhook_signature_invalid"
        assert error["message"]
    assert events(engine) == []
    assert pull_jobs(engine) == []


def test_an_unknown_shop_or_a_store_without_secret_is_refused_alike(
    app: TestClient, engine: Engine, store_id: int
) -> None:
    add_store(engine, "nosecret.myshopify.com", secret=None)
    body = product_update(7)
    answers = [
        post(app, body, headers_for(body, shop="unknown.myshopify.com")),
        post(app, body, headers_for(body, shop="nosecret.myshopify.com")),
        post(app, body, {**headers_for(body), "X-Shopify-Shop-Domain": ""}),
    ]
    assert [a.status_code for a in answers] == [401, 401, 401]
    # One answer for all: a caller cannot tell which shops are registered.
    assert len({json.dumps(a.json()) for a in answers}) == 1
    assert events(engine) == []


def test_missing_headers(app: TestClient, engine: Engine, store_id: int) -> None:
    body = product_update(7)
    unsigned = headers_for(body)
    del unsigned["X-Shopify-Hmac-Sha256"]
    response = post(app, body, unsigned)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "webhook_signature_missing"

    no_topic = headers_for(body)
    del no_topic["X-Shopify-Topic"]
    no_ids = headers_for(body)
    del no_ids["X-Shopify-Event-Id"], no_ids["X-Shopify-Webhook-Id"]
    for headers in (no_topic, no_ids):
        response = post(app, body, headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "webhook_headers_missing"
    assert events(engine) == []

    # Without an event id (older API versions), the webhook id still dedupes retries.
    old_style = headers_for(body)
    del old_style["X-Shopify-Event-Id"]
    assert post(app, body, old_style).json() == {"status": "accepted"}
    assert post(app, body, old_style).json() == {"status": "duplicate"}
    assert [e.event_id for e in events(engine)] == [old_style["X-Shopify-Webhook-Id"]]


def test_an_oversized_body_is_refused_before_it_is_read_whole(
    app: TestClient, engine: Engine, store_id: int
) -> None:
    body = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    response = post(app, body, headers_for(body))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "webhook_body_too_large"
    assert events(engine) == []


def test_a_queued_pull_collects_later_events_and_a_running_one_does_not(
    app: TestClient, engine: Engine, store_id: int
) -> None:
    for number in (1, 2, 3):
        body = product_update(number)
        assert post(app, body, headers_for(body)).json() == {"status": "accepted"}
    assert len(events(engine)) == 3
    [job] = pull_jobs(engine)
    with session_scope(engine) as session:
        session.execute(update(SyncJob).values(state=JobState.RUNNING))
    # The running pull may have read the pending events already: a new event needs a new job.
    body = product_update(4)
    assert post(app, body, headers_for(body)).json() == {"status": "accepted"}
    jobs = pull_jobs(engine)
    assert len(jobs) == 2
    assert {j.state for j in jobs} == {JobState.RUNNING, JobState.QUEUED}
    # A queued pull made by a person for another reason is not the webhooks' pull.
    with session_scope(engine) as session:
        session.execute(
            update(SyncJob).where(SyncJob.id != job.id).values(config={"reason": "manual"})
        )
    body = product_update(5)
    post(app, body, headers_for(body))
    assert len(pull_jobs(engine)) == 3
    # A queued pull that has waited long may never run: a new event does not rely on it alone.
    with session_scope(engine) as session:
        long_ago = utcnow() - timedelta(hours=1)
        session.execute(update(SyncJob).values(created_at=long_ago))
    body = product_update(6)
    post(app, body, headers_for(body))
    assert len(pull_jobs(engine)) == 4


def test_other_topics_are_recorded_done_and_queue_nothing(
    app: TestClient, engine: Engine, store_id: int
) -> None:
    body = json.dumps({"id": 3, "title": "Staplers"}).encode()
    response = post(app, body, headers_for(body, topic="collections/update"))
    assert response.json() == {"status": "accepted"}
    [event] = events(engine)
    assert (event.topic, event.shopify_product_id) == ("collections/update", None)
    assert event.processed_at is not None
    assert pull_jobs(engine) == []


def test_an_unreadable_signed_payload_is_accepted_and_ignored(
    app: TestClient, engine: Engine, store_id: int
) -> None:
    """Refusing it would only make Shopify send it again for hours."""
    for body in (b"not json", b"[1, 2]", b'{"title": "no id"}'):
        assert post(app, body, headers_for(body)).json() == {"status": "accepted"}
    assert all(e.processed_at is not None and e.shopify_product_id is None for e in events(engine))
    assert pull_jobs(engine) == []


def test_an_inactive_store_keeps_its_events_for_later_but_queues_no_pull(
    app: TestClient, engine: Engine
) -> None:
    add_store(engine, is_active=False)
    body = product_update(9)
    assert post(app, body, headers_for(body)).json() == {"status": "accepted"}
    assert [e.processed_at for e in events(engine)] == [None]
    assert pull_jobs(engine) == []


def test_the_secret_and_the_signature_never_show(
    app: TestClient, engine: Engine, store_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    body = product_update(7)
    good = headers_for(body)
    bad = headers_for(body, secret="an-attackers-guess")
    with caplog.at_level(logging.DEBUG):
        answers = [post(app, body, good), post(app, body, bad)]
    assert [a.status_code for a in answers] == [200, 401]
    with engine.connect() as connection:
        audit = repr(connection.execute(text("SELECT * FROM audit_log")).all())
    assert "webhook" in audit  # the deliveries were audited, without what follows
    shown = caplog.text + "".join(a.text + str(a.headers) for a in answers) + audit
    for secret in (SECRET, good["X-Shopify-Hmac-Sha256"], bad["X-Shopify-Hmac-Sha256"]):
        assert secret not in shown


# -- handing over to the pull ------------------------------------------------------------------


def test_the_pull_gets_each_product_once_with_stock_events_mapped_to_products(
    session: Session, store_id: int
) -> None:
    store = session.get(Store, store_id)
    assert store is not None
    session.add(
        StoreProduct(
            store_id=store_id,
            handle="stapler",
            shopify_product_id=f"{PRODUCT}20",
            inventory_item_ids={"ACM-1": f"{ITEM}201", "ACM-2": f"{ITEM}202"},
        )
    )
    stock = [json.dumps({"inventory_item_id": n, "available": 3}).encode() for n in (201, 202, 999)]
    for body in (product_update(10), product_update(10), product_update(11)):
        record_delivery(session, store, delivery("products/update", body))
    for body in stock:
        record_delivery(session, store, delivery("inventory_levels/update", body))
    deleted = json.dumps({"id": 12}).encode()
    record_delivery(session, store, delivery("products/delete", deleted))
    record_delivery(session, store, delivery("collections/update", b"{}"))

    batch = pending_webhook_products(session, store_id)
    assert batch.product_ids == (f"{PRODUCT}10", f"{PRODUCT}11", f"{PRODUCT}12", f"{PRODUCT}20")
    assert batch.deleted_product_ids == {f"{PRODUCT}12"}
    assert batch.unresolved_inventory_item_ids == (f"{ITEM}999",)
    assert len(batch.event_ids) == 7  # not the collections event: it was done when received
    assert not batch.empty

    limited = pending_webhook_products(session, store_id, limit=2)
    assert limited.event_ids == batch.event_ids[:2]
    assert limited.product_ids == (f"{PRODUCT}10",)

    # An event that arrives while the pull works is not in its batch, and stays pending.
    record_delivery(session, store, delivery("products/update", product_update(13)))
    assert mark_processed(session, batch.event_ids) == 7
    assert mark_processed(session, batch.event_ids) == 0  # a retried job marks nothing twice
    after = pending_webhook_products(session, store_id)
    assert after.product_ids == (f"{PRODUCT}13",)
    assert mark_processed(session, after.event_ids) == 1
    assert pending_webhook_products(session, store_id) == WebhookBatch()
    assert pending_webhook_products(session, store_id).empty


def test_another_stores_events_are_not_in_the_batch(session: Session, store_id: int) -> None:
    other_id = add_store(session.get_bind(), "other.myshopify.com")  # type: ignore[arg-type]
    other = session.get(Store, other_id)
    assert other is not None
    record_delivery(session, other, delivery("products/update", product_update(1)))
    assert pending_webhook_products(session, store_id).empty
    assert pending_webhook_products(session, other_id).product_ids == (f"{PRODUCT}1",)


def test_old_processed_events_can_be_forgotten(session: Session, store_id: int) -> None:
    store = session.get(Store, store_id)
    assert store is not None
    done = record_delivery(session, store, delivery("products/update", product_update(1)))
    record_delivery(session, store, delivery("products/update", product_update(2)))
    assert done.event_row_id is not None
    mark_processed(session, [done.event_row_id])
    assert delete_processed_before(session, utcnow() - timedelta(days=1)) == 0
    assert delete_processed_before(session, utcnow() + timedelta(seconds=1)) == 1
    assert pending_webhook_products(session, store_id).product_ids == (f"{PRODUCT}2",)


def test_the_signature_is_shopifys() -> None:
    assert signature_of(b'{"id":1}', SECRET) == sign(b'{"id":1}', SECRET)


# -- end to end: the emulator delivers to the app over real HTTP -------------------------------


@contextlib.contextmanager
def served_app(settings: Settings) -> Iterator[httpx.Client]:
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=int(settings.public_url.rsplit(":", 1)[1]),
            log_level="warning",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=settings.public_url, timeout=30) as http:
            yield http
    finally:
        server.should_exit = True
        thread.join(30)


def test_a_burst_of_deliveries_queues_one_pull_and_keeps_each_event_once(
    settings: Settings, engine: Engine, store_id: int
) -> None:
    """Shopify sends many deliveries at once (a bulk edit); some are the same event twice."""
    tuned = settings.model_copy(
        update={"public_url": f"http://127.0.0.1:{free_port()}", "job_workers": 0}
    )
    bodies = [product_update(number) for number in range(12)]
    sends = [(body, headers_for(body, event_id=f"event-{n}")) for n, body in enumerate(bodies)]
    sends += sends[:4]  # duplicates, in the same burst
    with served_app(tuned) as http, ThreadPoolExecutor(max_workers=len(sends)) as pool:
        answers = list(
            pool.map(lambda sent: http.post(WEBHOOKS, content=sent[0], headers=sent[1]), sends)
        )
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    statuses = sorted(answer.json()["status"] for answer in answers)
    assert statuses == ["accepted"] * 12 + ["duplicate"] * 4
    assert len(events(engine)) == 12
    assert len(pull_jobs(engine)) == 1


def test_a_merchant_edit_in_the_emulator_reaches_the_app_as_one_event_and_one_pull(
    settings: Settings,
    engine: Engine,
    emulator: RunningEmulator,
    make_user: Callable[..., Any],
    make_runtime: Callable[..., tuple[JobRuntime, Any]],
) -> None:
    created = emulator.gql(
        PRODUCT_SET,
        {"input": simple_product("stapler", "ACM-1"), "identifier": {"handle": "stapler"}},
    )["data"]["productSet"]["product"]
    [variant] = created["variants"]["nodes"]
    tuned = settings.model_copy(
        update={"public_url": f"http://127.0.0.1:{free_port()}", "job_workers": 0}
    )
    with served_app(tuned) as http:
        admin = make_user(Role.ADMIN)
        login = http.post("/api/auth/login", json={"email": admin.email, "password": PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        response = http.post(
            "/api/shopify/stores",
            json={
                "name": "Demo",
                "shop_domain": SHOP,
                "access_token": emulator.shop().access_token,
                "admin_url": f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json",
                "webhook_secret": emulator.shop().webhook_secret,
            },
            headers=auth,
        )
        assert response.status_code == 201, response.text
        store = response.json()
        assert store["has_webhook_secret"] is True
        assert store["webhooks"]["subscribed"] == sorted(WEBHOOK_TOPICS)
        assert store["webhooks"]["callback_url"] == f"{tuned.public_url}{WEBHOOKS}"
        subscriptions = emulator.shop().data.webhook_subscriptions.values()
        assert {s.uri for s in subscriptions} == {store["webhooks"]["callback_url"]}
        assert len(subscriptions) == len(WEBHOOK_TOPICS)
        with session_scope(engine) as session:
            session.add(
                StoreProduct(
                    store_id=store["id"],
                    handle="stapler",
                    shopify_product_id=created["id"],
                    inventory_item_ids={"ACM-1": variant["inventoryItem"]["id"]},
                )
            )

        edit = emulator.http.post(
            f"{emulator.base_url}/_emulator/demo/merchant-edit",
            json={
                "handle": "stapler",
                "fields": {"title": "Red stapler", "inventory": {"Main Warehouse": 7}},
            },
        )
        assert edit.status_code == 200, edit.text
        assert edit.json()["emitted"] == ["inventory_levels/update", "products/update"]
        received = wait_for(lambda: len(rows := events(engine)) == 2 and rows, "two webhooks")
        counters = wait_for(
            lambda: (c := emulator.shop().counters)["webhooks_delivered"] == 2 and c,
            "the emulator to count both deliveries",
        )
        assert counters["webhook_attempts_failed"] == 0
    assert sorted(e.topic for e in received) == ["inventory_levels/update", "products/update"]
    [job] = pull_jobs(engine)  # both events, one pull
    assert (job.state, job.store_id, job.config["reason"]) == (
        JobState.QUEUED,
        store["id"],
        "webhook",
    )
    with session_scope(engine) as session:
        batch = pending_webhook_products(session, store["id"])
    assert batch.product_ids == (created["id"],)  # the stock event, mapped to its product
    assert batch.unresolved_inventory_item_ids == ()
    assert len(batch.event_ids) == 2

    runtime, _ = make_runtime(HANDLERS)
    with consuming(runtime):
        runtime.enqueue(job.id, job.priority)
        ran = wait_for(lambda: job_finished(engine, job.id), "the webhook pull")
    assert ran.state is JobState.COMPLETED, (ran.error, ran.result)
    assert ran.result["scope"] == "1 products"
    with session_scope(engine) as session:
        assert pending_webhook_products(session, store["id"]).empty
