"""Push jobs against a store that misbehaves (issue #7's fault tests, invariants 2 and 3).

Real parts only: the catalog in a real database, push jobs run by the job runtime, the Shopify
emulator over HTTP with its own fault injection (5xx pages, hung requests that outlast the
client's timeout and are applied later anyway, INTERNAL_SERVER_ERROR after the mutation was
applied), and a real `cowans worker` process SIGKILLed in the middle of a push. What must hold
each time: the store ends exactly as the catalog says, every product exists once, and nothing
finished is done again.
"""

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cowans.config import Settings
from cowans.db.models import (
    JobState,
    Product,
    ProductVariant,
    StagedChangeStatus,
    Store,
    StoreProduct,
    SyncStaging,
)
from cowans.db.session import session_scope
from cowans.jobs.handlers import HANDLERS
from cowans.jobs.push import create_push_job
from cowans.jobs.runtime import JobRuntime
from tests.emulator.conftest import RunningEmulator
from tests.jobs import test_distributed as distributed
from tests.jobs.conftest import RecordedEvents, consuming, job_finished, job_row, wait_for
from tests.sync.test_push_job import MakeRuntime, connect_store, push, stage_and_approve

LOCATIONS = {"MAIN": "Main Warehouse", "WEST": "Store Front"}
# Hung requests sleep this long in the emulator and are then applied; the client gives up on
# them well before, so each one is retried while the original is still on its way.
HANG_SECONDS = 1.5
CLIENT_TIMEOUT_SECONDS = 0.5
# Issue #7's rates. Seeded, though which request meets which roll still depends on timing.
FAULTS = {
    "http_5xx": 0.05,
    "hang": 0.02,
    "ise_after_apply": 0.02,
    "hang_seconds": HANG_SECONDS,
    "seed": 7,
}
# Three to five times as many, so each round meets some; the client then gets ten tries.
HEAVY = {**FAULTS, "http_5xx": 0.15, "hang": 0.05, "ise_after_apply": 0.1, "seed": 3}
NO_FAULTS = {"http_5xx": 0.0, "hang": 0.0, "ise_after_apply": 0.0, "latency_ms": [0, 0]}

Expected = dict[str, dict[str, dict[str, Any]]]

# The distributed tests' PostgreSQL database, Redis queue and `cowans worker` processes (which
# beat every 0.3 s and take a job back after 3 s without a beat), for the SIGKILL test.
cluster_settings = distributed.cluster_settings
cluster_engine = distributed.cluster_engine
start_worker = distributed.start_worker


# The catalog and what the store should hold ----------------------------------------------------


def add_catalog(engine: Engine, count: int, prefix: str = "binder") -> list[str]:
    """`count` products, every fifth one with two sizes; returns their handles."""
    with session_scope(engine) as session:
        for n in range(count):
            sizes = ("Small", "Large") if n % 5 == 0 else ("Default Title",)
            session.add(
                Product(
                    handle=f"{prefix}-{n}",
                    title=f"{prefix.title()} {n}",
                    vendor="Acme",
                    product_type="Binders",
                    tags=["office"],
                    variants=[
                        ProductVariant(
                            sku=f"{prefix[:3].upper()}-{n}-{size[0]}",
                            price=Decimal(f"{3 + n}.{size_number}9"),
                            option1_name="Size" if len(sizes) > 1 else "Title",
                            option1_value=size,
                            position=size_number + 1,
                            inventory={"MAIN": (n * 7 + size_number) % 13, "WEST": n % 4},
                        )
                        for size_number, size in enumerate(sizes)
                    ],
                )
            )
    return [f"{prefix}-{n}" for n in range(count)]


def expected_store(engine: Engine) -> Expected:
    """The catalog in the store's terms: handle -> SKU -> price and stock per location name."""
    with session_scope(engine) as session:
        return {
            product.handle: {
                variant.sku: {
                    "price": f"{variant.price:.2f}",
                    "stock": {LOCATIONS[code]: count for code, count in variant.inventory.items()},
                }
                for variant in product.variants
            }
            for product in session.scalars(select(Product))
        }


def store_state(emulator: RunningEmulator) -> tuple[Counter[str], Expected]:
    """What the emulator holds, read through its side door: how many products carry each
    handle, and each product's variants as `expected_store` describes them."""
    response = emulator.http.get(f"{emulator.base_url}/_emulator/demo/state")
    assert response.status_code == 200, response.text
    products = response.json()["products"]
    state = {
        product["handle"]: {
            variant["sku"]: {
                "price": variant["price"],
                "stock": {
                    location: levels["available"]
                    for location, levels in variant["inventory"].items()
                },
            }
            for variant in product["variants"]
        }
        for product in products
    }
    return Counter(product["handle"] for product in products), state


def store_collections(emulator: RunningEmulator) -> dict[str, list[str]]:
    """Collection title -> the handles of its products, as the emulator holds them."""
    response = emulator.http.get(f"{emulator.base_url}/_emulator/demo/state")
    assert response.status_code == 200, response.text
    return {
        collection["title"]: sorted(collection["products"])
        for collection in response.json()["collections"]
    }


def set_faults(emulator: RunningEmulator, faults: dict[str, Any]) -> None:
    response = emulator.http.patch(
        f"{emulator.base_url}/_emulator/demo/config", json={"faults": faults}
    )
    assert response.status_code == 200, response.text


def counters(emulator: RunningEmulator, *, clear: bool = False) -> dict[str, Any]:
    """The emulator's counters (requests, faults, mutations by name...), zeroed after if
    `clear`, so the next round counts on its own."""
    url = f"{emulator.base_url}/_emulator/demo/counters"
    response = emulator.http.get(url)
    assert response.status_code == 200, response.text
    if clear:
        assert emulator.http.delete(url).status_code == 200
    return response.json()


def product_events(emulator: RunningEmulator, since: int = 0) -> list[tuple[str, str]]:
    """(topic, handle) of every products/create and products/update the emulator emitted: one
    per product write it applied (a retry's, or a late hung request's, too). The first
    productSet of a handle is its create; any later one an update."""
    return [
        (topic, payload["handle"])
        for topic, payload in emulator.shop().events[since:]
        if topic in ("products/create", "products/update")
    ]


def staged_statuses(engine: Engine) -> Counter[StagedChangeStatus]:
    with session_scope(engine) as session:
        return Counter(session.scalars(select(SyncStaging.status)))


def settle() -> None:
    """Let requests the client gave up on reach the emulator's state (they are applied when
    their hang ends): the store is only final once they have."""
    time.sleep(HANG_SECONDS + 0.5)


# 1. Fault injection --------------------------------------------------------------------------


def _number(handle: str) -> int:
    return int(handle.rsplit("-", 1)[1])


def _reprice_and_restock(engine: Engine) -> list[str]:
    """A new price on every third product, new stock at MAIN on every other one; returns the
    handles changed."""
    with session_scope(engine) as session:
        for product in session.scalars(select(Product)):
            n = _number(product.handle)
            for variant in product.variants:
                if n % 3 == 0:
                    variant.price = Decimal(variant.price or 0) + Decimal("1.50")
                if n % 2 == 0:
                    variant.inventory = {**variant.inventory, "MAIN": 40 + n}
    return [f"binder-{n}" for n in range(40) if n % 2 == 0 or n % 3 == 0]


def _assert_store_is_the_catalog(engine: Engine, emulator: RunningEmulator) -> None:
    found, state = store_state(emulator)
    assert [handle for handle, count in found.items() if count > 1] == [], "duplicates"
    assert state == expected_store(engine)


@pytest.mark.parametrize(
    ("faults", "attempts"), [(FAULTS, 6), (HEAVY, 10)], ids=["issue-rates", "heavy"]
)
def test_a_push_under_faults_lands_every_change_exactly_once(
    make_runtime: MakeRuntime,
    engine: Engine,
    emulator: RunningEmulator,
    faults: dict[str, Any],
    attempts: int,
) -> None:
    """40 creates, then price and stock updates of 27 of them, each pushed while the store
    answers 5xx pages, hangs past the client's timeout and fails after applying mutations.

    The job must end `completed`, never `completed_with_errors`: the client tries a request
    `attempts` times (SHOPIFY_MAX_ATTEMPTS), and a mutation fails an attempt with a chance of
    9% at the issue's rates (27% heavy), so all attempts of one request fail with a chance of
    5e-7 (2e-6 heavy). A failed or conflicting change here is a retry that was not safe, not
    bad luck. GRAPHQL_BATCH_SIZE=1 sends one product per request, so each product's writes meet
    the dice on their own: about 65 requests in all."""
    store_id = connect_store(engine, emulator)
    handles = add_catalog(engine, 40)
    runtime, _ = make_runtime(
        HANDLERS,
        shopify_timeout_seconds=CLIENT_TIMEOUT_SECONDS,
        shopify_backoff_base_seconds=0.05,
        shopify_backoff_max_seconds=0.5,
        shopify_max_attempts=attempts,
        graphql_batch_size=1,
    )
    set_faults(emulator, faults)
    with consuming(runtime):
        assert stage_and_approve(engine, store_id) == 40
        job = push(runtime, engine, store_id)
        settle()
        assert job.state is JobState.COMPLETED, (job.error, job.result)
        assert (job.result["applied"], job.result["failed"], job.result["conflicts"]) == (40, 0, 0)
        _assert_store_is_the_catalog(engine, emulator)
        found, _ = store_state(emulator)
        assert found == Counter(handles), "every product exactly once, under its own handle"
        creates = Counter(h for topic, h in product_events(emulator) if topic.endswith("create"))
        assert creates == Counter(handles), "a retried productSet updates, never creates again"
        collections = store_collections(emulator)
        assert collections == {"Binders": sorted(handles)}, "one collection, made once"
        assert staged_statuses(engine) == {StagedChangeStatus.APPLIED: 40}
        with session_scope(engine) as session:
            known = session.scalars(select(StoreProduct)).all()
            assert sorted(k.handle for k in known) == sorted(handles)
            assert all(k.shopify_product_id and k.variant_ids for k in known)
        assert stage_and_approve(engine, store_id) == 0, "the new base is the catalog"
        first = counters(emulator, clear=True)

        changed = _reprice_and_restock(engine)
        events_before = len(emulator.shop().events)
        assert stage_and_approve(engine, store_id) == len(changed)
        job = push(runtime, engine, store_id)
        settle()
        assert job.state is JobState.COMPLETED, (job.error, job.result)
        assert (job.result["applied"], job.result["conflicts"]) == (len(changed), 0)
        _assert_store_is_the_catalog(engine, emulator)
        assert staged_statuses(engine) == {StagedChangeStatus.APPLIED: 40 + len(changed)}
        second = counters(emulator)

    # Stock: every level that moved moved once. A replay of an applied inventorySetQuantities
    # (after an INTERNAL_SERVER_ERROR, or a hung original landing after its retry) is answered
    # from its @idempotent key; without the key its changeFromQuantity would be stale and the
    # change a conflict. Each key is applied once, however often it was sent.
    moved = Counter(
        (payload["inventory_item_id"], payload["location_id"])
        for topic, payload in emulator.shop().events[events_before:]
        if topic == "inventory_levels/update"
    )
    restocked = [h for h in changed if _number(h) % 2 == 0]
    assert sorted(moved.values()) == [1] * sum(1 + (_number(h) % 5 == 0) for h in restocked)
    executed = second["mutations"]["inventorySetQuantities"]
    replays = second["other"].get("idempotent_replays", 0)
    assert executed - replays == 1, second  # 24 quantities: one call, one key
    if faults is HEAVY:  # at the rates a round may well go untouched
        assert sum(first["faults"].values()) > 0, first
        assert sum(second["faults"].values()) > 0, second


# 2. SIGKILL mid-push ---------------------------------------------------------------------------

KILLED_PUSH_PRODUCTS = 60
PUSH_WORKERS = 2  # the push's pool: at most this many requests are in flight at the kill
# One product per request makes a push many small steps, and the emulator's latency makes it
# take a few seconds: the kill lands with some changes recorded and most not.
PUSH_LATENCY = {**NO_FAULTS, "latency_ms": [150, 250], "seed": 1}
UPDATED_PRODUCTS = 24  # updates are checked against Shopify first: that costs time too


def applied_handles(engine: Engine, job_id: int) -> set[str]:
    """The products whose change the job has recorded applied."""
    with session_scope(engine) as session:
        return set(
            session.scalars(
                select(SyncStaging.handle).where(
                    SyncStaging.sync_job_id == job_id,
                    SyncStaging.status == StagedChangeStatus.APPLIED,
                )
            )
        )


def submit_push(settings: Settings, engine: Engine, store_id: int) -> int:
    """Queue a push on the cluster's Redis queue, as the API would; returns the job's id."""
    submitter = JobRuntime(settings, engine, RecordedEvents(), HANDLERS)
    with session_scope(engine) as session:
        store = session.get(Store, store_id)
        assert store is not None
        job = create_push_job(
            session, store, {"maxWorkers": PUSH_WORKERS, "strategy": "balanced"}, None
        )
        submitter.submit(session, job)
        return job.id


def kill_under_way(
    engine: Engine,
    emulator: RunningEmulator,
    job_id: int,
    worker: subprocess.Popen[bytes],
) -> tuple[int, set[str]]:
    """SIGKILL `worker` once its push has recorded 5 changes applied.
    Returns the emulator's event count right after the kill (later events are requests that
    were in flight, or the next run's) and the changes recorded applied by then."""

    def some_applied() -> bool:
        row = job_row(engine, job_id)
        assert row.state in (JobState.QUEUED, JobState.RUNNING), (row.state, row.result)
        return len(applied_handles(engine, job_id)) >= 5

    wait_for(some_applied, "the push to be under way")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    mark = len(emulator.shop().events)
    done = applied_handles(engine, job_id)
    assert job_row(engine, job_id).state is JobState.RUNNING  # nobody has noticed yet
    return mark, done


def finished_by(engine: Engine, job_id: int, worker: subprocess.Popen[bytes]) -> Any:
    """Wait for the job; it must have completed in a second attempt, on `worker`."""
    job = wait_for(lambda: job_finished(engine, job_id), "the job to be finished", timeout=90)
    assert job.state is JobState.COMPLETED, (job.error, job.result)
    assert job.attempts == 2, "taken back from the killed worker once"
    assert (job.worker or "").endswith(f":{worker.pid}")
    return job


def test_a_killed_push_of_new_products_resumes_without_redoing_finished_ones(
    cluster_settings: Settings,
    cluster_engine: Engine,
    make_emulator: Callable[..., RunningEmulator],
    start_worker: Callable[[str], subprocess.Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker is SIGKILLed while its push of 60 new products is under way; a worker started
    afterwards takes the job back and finishes it.

    What is asserted about re-sending is what invariant 3 promises and no more: a change
    recorded `applied` before the kill is never sent again, while a request in flight at the
    kill (at most one per pool worker, since a worker records a step's outcome before it takes
    the next) may have been applied by the store without the worker hearing of it, and is then
    sent again by the new run (productSet by handle: an update, not a second product)."""
    monkeypatch.setenv("GRAPHQL_BATCH_SIZE", "1")  # the workers inherit the environment
    emulator = make_emulator()
    set_faults(emulator, PUSH_LATENCY)
    store_id = connect_store(cluster_engine, emulator)
    handles = add_catalog(cluster_engine, KILLED_PUSH_PRODUCTS, prefix="folder")
    assert stage_and_approve(cluster_engine, store_id) == KILLED_PUSH_PRODUCTS
    first = start_worker("first")
    job_id = submit_push(cluster_settings, cluster_engine, store_id)
    mark, done_before = kill_under_way(cluster_engine, emulator, job_id, first)
    assert len(done_before) < KILLED_PUSH_PRODUCTS

    job = finished_by(cluster_engine, job_id, start_worker("second"))
    # The result covers the whole push, both attempts (the events below show that the second
    # run took only what had no outcome yet).
    assert (job.result["total"], job.result["applied"], job.result["failed"]) == (
        KILLED_PUSH_PRODUCTS,
        KILLED_PUSH_PRODUCTS,
        0,
    )
    assert applied_handles(cluster_engine, job_id) == set(handles)
    found, state = store_state(emulator)
    assert found == Counter(handles), "every product exactly once"
    assert state == expected_store(cluster_engine)
    events = product_events(emulator)
    assert Counter(h for topic, h in events if topic.endswith("create")) == Counter(handles)
    after_kill = {handle for _, handle in product_events(emulator, since=mark)}
    assert not done_before & after_kill, "a change applied before the kill was sent again"
    resent = {handle for topic, handle in events if topic.endswith("update")}
    assert len(resent) <= PUSH_WORKERS, resent  # only requests in flight at the kill
    executed = counters(emulator)["mutations"]["productSet"]
    assert executed <= KILLED_PUSH_PRODUCTS + PUSH_WORKERS, executed


def test_a_killed_push_of_updates_resumes_and_finishes_half_applied_changes(
    cluster_settings: Settings,
    cluster_engine: Engine,
    make_emulator: Callable[..., RunningEmulator],
    start_worker: Callable[[str], subprocess.Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same with updates, whose changes can take more than one request: every product gets
    a new title (productUpdate), every fourth one new stock too (inventorySetQuantities, in a
    later phase). The kill comes while titles are being sent, so changes with stock have their
    title in Shopify but no outcome; a title-only change in flight at the kill may be wholly in
    Shopify without one. The new run checks each change against Shopify first: it sends what
    is missing, and records as applied what is all there already."""
    monkeypatch.setenv("GRAPHQL_BATCH_SIZE", "1")
    emulator = make_emulator()
    store_id = connect_store(cluster_engine, emulator)
    handles = add_catalog(cluster_engine, UPDATED_PRODUCTS, prefix="folder")
    assert stage_and_approve(cluster_engine, store_id) == UPDATED_PRODUCTS
    first = start_worker("first")
    created = submit_push(cluster_settings, cluster_engine, store_id)
    assert wait_for(lambda: job_finished(cluster_engine, created), "the creates").state is (
        JobState.COMPLETED
    )
    with session_scope(cluster_engine) as session:
        for product in session.scalars(select(Product)):
            product.title = f"{product.title} (2026)"
            if _number(product.handle) % 4 == 0:
                for variant in product.variants:
                    variant.inventory = {**variant.inventory, "MAIN": 50 + _number(product.handle)}
    restocked = [h for h in handles if _number(h) % 4 == 0]
    set_faults(emulator, PUSH_LATENCY)
    counters(emulator, clear=True)
    events_before = len(emulator.shop().events)
    assert stage_and_approve(cluster_engine, store_id) == UPDATED_PRODUCTS
    job_id = submit_push(cluster_settings, cluster_engine, store_id)
    mark, done_before = kill_under_way(cluster_engine, emulator, job_id, first)
    assert not done_before & set(restocked), "stock comes after every title"

    job = finished_by(cluster_engine, job_id, start_worker("second"))
    assert (job.result["applied"], job.result["failed"], job.result["conflicts"]) == (
        UPDATED_PRODUCTS,
        0,
        0,
    )
    assert staged_statuses(cluster_engine) == {StagedChangeStatus.APPLIED: 2 * UPDATED_PRODUCTS}
    found, state = store_state(emulator)
    assert found == Counter(handles), "every product exactly once"
    assert state == expected_store(cluster_engine)
    titles = Counter(h for _, h in product_events(emulator, since=events_before))
    assert set(titles) == set(handles)
    assert all(titles[handle] == 1 for handle in done_before), "sent again after the kill"
    twice = {handle for handle, count in titles.items() if count > 1}
    assert len(twice) <= PUSH_WORKERS, titles
    assert max(titles.values()) <= 2, titles
    moved = Counter(
        (payload["inventory_item_id"], payload["location_id"])
        for topic, payload in emulator.shop().events[mark:]
        if topic == "inventory_levels/update"
    )
    assert sorted(moved.values()) == [1] * sum(1 + (_number(h) % 5 == 0) for h in restocked)
    stock_calls = counters(emulator)["mutations"]["inventorySetQuantities"]
    assert stock_calls == 1, "the new run set the stock, once"


# 3. The same finding without a kill ------------------------------------------------------------


def test_a_change_shopify_already_shows_is_recorded_applied(
    make_runtime: MakeRuntime, engine: Engine, emulator: RunningEmulator
) -> None:
    """What the killed update push above needs from a resumed run, made deterministic: a change
    whose content Shopify already shows (here a merchant typed the same new title) plans no
    request at all, and is recorded applied. It once stayed approved and stopped the job."""
    store_id = connect_store(engine, emulator)
    add_catalog(engine, 3)
    runtime, _ = make_runtime(HANDLERS)
    with consuming(runtime):
        assert stage_and_approve(engine, store_id) == 3
        assert push(runtime, engine, store_id).state is JobState.COMPLETED
        with session_scope(engine) as session:
            for product in session.scalars(select(Product)):
                product.title = f"{product.title} (2026)"
        response = emulator.http.post(
            f"{emulator.base_url}/_emulator/demo/merchant-edit",
            json={"handle": "binder-1", "fields": {"title": "Binder 1 (2026)"}},
        )
        assert response.status_code == 200, response.text
        events_before = len(emulator.shop().events)
        assert stage_and_approve(engine, store_id) == 3
        job = push(runtime, engine, store_id)
        assert job.state is JobState.COMPLETED, (job.error, job.result)
        assert (job.result["applied"], job.result["not_run"]) == (3, 0)
    assert staged_statuses(engine) == {StagedChangeStatus.APPLIED: 6}
    _, state = store_state(emulator)
    assert state == expected_store(engine)
    sent = Counter(h for _, h in product_events(emulator, since=events_before))
    assert sent == {"binder-0": 1, "binder-2": 1}, "nothing sent for binder-1"
    with session_scope(engine) as session:
        base = session.scalars(select(StoreProduct).where(StoreProduct.handle == "binder-1")).one()
        assert base.base["title"] == "Binder 1 (2026)"
