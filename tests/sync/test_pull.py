"""Pulls end to end: products pushed to the Shopify emulator over HTTP, edited there as a
merchant would, pulled back by a job, compared three ways and reviewed.

Each test pushes three staplers first, so the store's base is what Shopify has; then it changes
one side or both and checks what the pull stages and what each decision does.
"""

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cowans.db.models import (
    JobState,
    Product,
    StagedChangeStatus,
    Store,
    StoreProduct,
    SyncJob,
    SyncStaging,
    User,
    WebhookEvent,
)
from cowans.db.session import session_scope
from cowans.jobs.handlers import HANDLERS
from cowans.jobs.pull import KIND as PULL_KIND
from cowans.jobs.pull import create_pull_job
from cowans.jobs.runtime import JobRuntime
from cowans.sync.review import decide
from cowans.sync.staging import stage_push
from tests.emulator.conftest import RunningEmulator
from tests.jobs.conftest import RecordedEvents, consuming, job_finished, wait_for
from tests.sync.test_push_job import connect_store, push, remote, stage_and_approve
from tests.sync.test_staging import add_product

MakeRuntime = Callable[..., tuple[JobRuntime, RecordedEvents]]


class Shop:
    """The store of one test: its id, a running job worker and the emulator behind it."""

    def __init__(
        self,
        engine: Engine,
        emulator: RunningEmulator,
        runtime: JobRuntime,
        events: RecordedEvents,
    ) -> None:
        self.engine, self.emulator, self.runtime, self.events = engine, emulator, runtime, events
        self.store_id = connect_store(engine, emulator)

    def pull(self, **params: Any) -> Any:
        with session_scope(self.engine) as session:
            store = session.get(Store, self.store_id)
            assert store is not None
            job = create_pull_job(session, store, {"full": True, **params}, None)
            self.runtime.submit(session, job)
            job_id = job.id
        job = wait_for(lambda: job_finished(self.engine, job_id), "the pull")
        assert job.state is JobState.COMPLETED, (job.error, job.result)
        return job.result

    def push(self) -> Any:
        return push(self.runtime, self.engine, self.store_id)

    def merchant_edit(self, handle: str, **fields: Any) -> None:
        response = self.emulator.http.post(
            f"{self.emulator.base_url}/_emulator/demo/merchant-edit",
            json={"handle": handle, "fields": fields},
        )
        assert response.status_code == 200, response.text

    def rows(self, direction: str | None = None) -> list[SyncStaging]:
        with session_scope(self.engine) as session:
            statement = select(SyncStaging).where(
                SyncStaging.status.in_(
                    [
                        StagedChangeStatus.PENDING,
                        StagedChangeStatus.APPROVED,
                        StagedChangeStatus.CONFLICT,
                    ]
                )
            )
            if direction:
                statement = statement.where(SyncStaging.direction == direction)
            rows = list(session.scalars(statement.order_by(SyncStaging.id)))
            session.expunge_all()
            return rows

    def decide(self, decision: str, ids: list[int], **kwargs: Any) -> Any:
        with session_scope(self.engine) as session:
            user = session.scalars(select(User)).first()
            assert user is not None
            return decide(session, decision=decision, user_id=user.id, ids=ids, **kwargs)

    def product(self, handle: str) -> Product:
        with session_scope(self.engine) as session:
            product = session.scalar(select(Product).where(Product.handle == handle))
            assert product is not None
            product.variants  # noqa: B018 - loaded before the session closes
            session.expunge_all()
            return product

    def base(self, handle: str) -> dict[str, Any]:
        with session_scope(self.engine) as session:
            known = session.scalar(
                select(StoreProduct).where(
                    StoreProduct.store_id == self.store_id, StoreProduct.handle == handle
                )
            )
            assert known is not None
            assert known.base is not None
            return known.base

    def restage(self) -> int:
        with session_scope(self.engine) as session:
            store = session.get(Store, self.store_id)
            assert store is not None
            return stage_push(session, store).staged


@pytest.fixture
def shop(make_runtime: MakeRuntime, engine: Engine, emulator: RunningEmulator) -> Iterator[Shop]:
    runtime, events = make_runtime(HANDLERS)
    with consuming(runtime):
        shop = Shop(engine, emulator, runtime, events)
        with session_scope(engine) as session:
            for number in range(3):
                add_product(session, number)
        assert stage_and_approve(engine, shop.store_id) == 3
        assert shop.push().state is JobState.COMPLETED
        yield shop


def set_local_price(engine: Engine, handle: str, price: str) -> None:
    with session_scope(engine) as session:
        product = session.scalar(select(Product).where(Product.handle == handle))
        assert product is not None
        product.variants[0].price = Decimal(price)


def test_an_unchanged_store_stages_nothing(shop: Shop) -> None:
    result = shop.pull()
    assert (result["compared"], result["pulled"], result["conflicts"]) == (3, 0, 0)
    assert shop.rows() == []


def test_a_finished_pull_counts_what_it_compared_as_its_total(shop: Shop) -> None:
    """A pull learns its total only at the end; the finished job must not read "3 / 0"."""
    shop.pull()
    with session_scope(shop.engine) as session:
        job = session.scalars(
            select(SyncJob).where(SyncJob.kind == PULL_KIND).order_by(SyncJob.id.desc())
        ).first()
        assert job is not None
        assert (job.processed, job.total, job.succeeded) == (3, 3, 3)


def test_a_remote_only_edit_is_staged_as_a_pull_and_reaches_the_catalog_when_approved(
    shop: Shop,
) -> None:
    shop.merchant_edit("stapler-0", title="Stapler Zero (merchant)")
    result = shop.pull()
    assert (result["pulled"], result["conflicts"]) == (1, 0)
    [row] = shop.rows()
    assert (row.direction, row.operation_type, row.handle) == ("pull", "update", "stapler-0")
    assert row.changes == {"title": {"old": "Stapler 0", "new": "Stapler Zero (merchant)"}}
    told = shop.events.of_type("staged.changed")[-1]
    assert (told["reason"], told["store_id"], told["counts"]["pending"]) == (
        "pulled",
        shop.store_id,
        1,
    )
    assert shop.product("stapler-0").title == "Stapler 0"  # nothing applied before review

    assert shop.pull()["pulled"] == 1  # pulling again keeps the same row
    assert [r.id for r in shop.rows()] == [row.id]

    outcome = shop.decide("approve", [row.id])
    assert outcome.approved == 1
    product = shop.product("stapler-0")
    assert product.title == "Stapler Zero (merchant)"
    assert "title" in product.locks  # the next Etilize import keeps the approved title
    assert shop.base("stapler-0")["title"] == "Stapler Zero (merchant)"
    assert shop.restage() == 0  # nothing to push back
    assert shop.pull()["pulled"] == 0


def test_a_rejected_pull_stages_the_push_that_restores_the_catalog_value(shop: Shop) -> None:
    shop.merchant_edit("stapler-0", title="Wrong title")
    shop.pull()
    [row] = shop.rows()
    shop.decide("reject", [row.id])
    assert shop.product("stapler-0").title == "Stapler 0"
    [restore] = shop.rows("push")
    assert restore.changes == {"title": {"old": "Wrong title", "new": "Stapler 0"}}
    shop.decide("approve", [restore.id])
    assert shop.push().state is JobState.COMPLETED
    assert shop.pull()["pulled"] == 0


def test_stock_sold_in_shopify_becomes_the_base_without_a_review(shop: Shop) -> None:
    shop.merchant_edit("stapler-1", inventory={"Main Warehouse": 3})
    result = shop.pull()
    assert (result["pulled"], result["conflicts"]) == (0, 0)
    base = shop.base("stapler-1")
    assert base["variants"][0]["inventory"] == {"Main Warehouse": 3, "Store Front": 2}
    # The catalog (Xorosoft) still says 5: staging proposes to set it back, for review.
    [restock] = shop.rows("push")
    assert restock.changes == {"variants.ACM-1.inventory.Main Warehouse": {"old": 3, "new": 5}}


def test_an_edit_on_both_sides_is_a_conflict_and_nothing_is_overwritten(shop: Shop) -> None:
    shop.merchant_edit("stapler-1", price="12.00")
    set_local_price(shop.engine, "stapler-1", "11.00")
    result = shop.pull()
    assert result["conflicts"] == 1
    [row] = shop.rows()
    assert (row.direction, row.status) == ("push", StagedChangeStatus.CONFLICT)
    assert row.conflict_fields == ["variants.ACM-1.price"]
    assert row.changes["variants.ACM-1.price"] == {"old": "10", "new": "11", "remote": "12"}
    assert shop.push().state is JobState.COMPLETED  # a conflict is not pushed
    assert remote(shop.emulator)["stapler-1"]["price"] == Decimal("12.00")


@pytest.mark.parametrize(
    ("choice", "catalog", "shopify"),
    [
        ("local", "11.00", "11.00"),
        ("remote", "12.00", "12.00"),
        ({"value": "13.50"}, "13.50", "13.50"),
    ],
)
def test_each_resolution_is_applied(shop: Shop, choice: Any, catalog: str, shopify: str) -> None:
    shop.merchant_edit("stapler-1", price="12.00")
    set_local_price(shop.engine, "stapler-1", "11.00")
    shop.pull()
    [row] = shop.rows()
    outcome = shop.decide(
        "approve", [row.id], resolutions={str(row.id): {"variants.ACM-1.price": choice}}
    )
    assert (outcome.approved, outcome.unresolved_conflicts) == (1, 0)
    assert shop.product("stapler-1").variants[0].price == Decimal(catalog)
    assert shop.push().state is JobState.COMPLETED
    assert remote(shop.emulator)["stapler-1"]["price"] == Decimal(shopify)
    assert shop.restage() == 0
    assert shop.pull()["conflicts"] == 0
    assert shop.rows() == []


def test_a_conflict_without_a_resolution_for_each_field_stays_a_conflict(shop: Shop) -> None:
    shop.merchant_edit("stapler-1", price="12.00")
    set_local_price(shop.engine, "stapler-1", "11.00")
    shop.pull()
    [row] = shop.rows()
    outcome = shop.decide("approve", [row.id])
    assert (outcome.approved, outcome.unresolved_conflicts) == (0, 1)
    assert shop.rows()[0].status is StagedChangeStatus.CONFLICT


CREATE_BY_HAND = """
mutation { productSet(synchronous: true, input: {
  title: "Hand-made Folder", handle: "hand-made-folder", vendor: "Cowan's", status: ACTIVE,
  productOptions: [{name: "Title", values: [{name: "Default Title"}]}],
  variants: [{optionValues: [{optionName: "Title", name: "Default Title"}], sku: "HAND-1",
              price: "4.25"}]
}) { product { id } userErrors { field message } } }
"""


def test_a_product_made_by_hand_in_shopify_is_a_pull_create(shop: Shop) -> None:
    answer = shop.emulator.gql(CREATE_BY_HAND)["data"]["productSet"]
    assert answer["userErrors"] == []
    result = shop.pull()
    assert result["creates"] == 1
    [row] = shop.rows()
    assert (row.direction, row.operation_type, row.handle) == ("pull", "create", "hand-made-folder")
    assert row.changes["title"] == {"old": None, "new": "Hand-made Folder"}
    shop.decide("approve", [row.id])
    product = shop.product("hand-made-folder")
    assert (product.title, product.vendor) == ("Hand-made Folder", "Cowan's")
    assert (product.variants[0].sku, product.variants[0].price) == ("HAND-1", Decimal("4.25"))
    assert shop.pull()["creates"] == 0  # known now


def test_a_rejected_pull_create_is_not_staged_again(shop: Shop) -> None:
    shop.emulator.gql(CREATE_BY_HAND)
    shop.pull()
    [row] = shop.rows()
    shop.decide("reject", [row.id])
    assert shop.pull()["creates"] == 0
    assert shop.rows() == []


def delete_remote(shop: Shop, handle: str) -> None:
    found = shop.emulator.gql(
        "query($q: String!) { products(first: 1, query: $q) { nodes { id } } }",
        {"q": f"handle:{handle}"},
    )
    [node] = found["data"]["products"]["nodes"]
    shop.emulator.gql(
        "mutation($id: ID!) { productDelete(input: {id: $id}) { userErrors { message } } }",
        {"id": node["id"]},
    )


def test_a_product_deleted_in_shopify_is_flagged_not_recreated(shop: Shop) -> None:
    delete_remote(shop, "stapler-2")
    result = shop.pull()
    assert result["deletes"] == 1
    [row] = shop.rows()
    assert (row.direction, row.operation_type, row.handle) == ("pull", "delete", "stapler-2")
    shop.decide("approve", [row.id])
    with session_scope(shop.engine) as session:
        product = session.scalar(select(Product).where(Product.handle == "stapler-2"))
        assert product is not None
        assert product.deleted_at is not None
    assert shop.rows() == []
    assert "stapler-2" not in remote(shop.emulator)


def test_rejecting_a_remote_delete_offers_to_create_the_product_again(shop: Shop) -> None:
    delete_remote(shop, "stapler-2")
    shop.pull()
    [row] = shop.rows()
    shop.decide("reject", [row.id])
    [create] = shop.rows("push")
    assert (create.operation_type, create.handle) == ("create", "stapler-2")


# The check before a push -----------------------------------------------------------------------


def test_a_push_never_overwrites_a_field_shopify_changed_after_the_review(shop: Shop) -> None:
    set_local_price(shop.engine, "stapler-1", "11.00")
    shop.restage()
    [row] = shop.rows()
    shop.decide("approve", [row.id])
    shop.merchant_edit("stapler-1", price="12.00")  # after the approval, before the push
    job = shop.push()
    assert job.state is JobState.COMPLETED_WITH_ERRORS
    assert (job.result["applied"], job.result["conflicts"]) == (0, 1)
    assert remote(shop.emulator)["stapler-1"]["price"] == Decimal("12.00")
    [conflict] = shop.rows()
    assert conflict.status is StagedChangeStatus.CONFLICT
    assert conflict.conflict_fields == ["variants.ACM-1.price"]
    assert conflict.changes["variants.ACM-1.price"]["remote"] == "12"


def test_a_push_keeps_what_shopify_changed_in_other_fields(shop: Shop) -> None:
    set_local_price(shop.engine, "stapler-1", "11.00")
    shop.restage()
    [row] = shop.rows()
    shop.decide("approve", [row.id])
    shop.merchant_edit("stapler-1", title="Merchant's title", inventory={"Main Warehouse": 4})
    job = shop.push()
    assert job.state is JobState.COMPLETED, (job.error, job.result)
    pushed = remote(shop.emulator)["stapler-1"]
    assert pushed["price"] == Decimal("11.00")
    assert pushed["stock"]["Main Warehouse"] == 4  # sold in Shopify, not set back
    titles = shop.emulator.gql(
        '{ products(first: 5, query: "handle:stapler-1") { nodes { title } } }'
    )
    assert titles["data"]["products"]["nodes"] == [{"title": "Merchant's title"}]
    # The merchant's title is still Shopify's own: the next pull offers it to the catalog.
    assert shop.pull()["pulled"] == 1
    [pulled] = shop.rows("pull")
    assert pulled.changes == {"title": {"old": "Stapler 1", "new": "Merchant's title"}}


def test_an_update_of_a_product_deleted_in_shopify_is_not_recreated(shop: Shop) -> None:
    set_local_price(shop.engine, "stapler-2", "11.00")
    shop.restage()
    [row] = shop.rows()
    shop.decide("approve", [row.id])
    delete_remote(shop, "stapler-2")
    job = shop.push()
    assert job.state is JobState.COMPLETED_WITH_ERRORS
    assert "stapler-2" not in remote(shop.emulator)
    [flag] = shop.rows("pull")
    assert (flag.operation_type, flag.handle) == ("delete", "stapler-2")


def test_many_updates_are_checked_by_one_bulk_export(shop: Shop) -> None:
    with session_scope(shop.engine) as session:
        for number in range(3, 60):
            add_product(session, number)
    assert stage_and_approve(shop.engine, shop.store_id) == 57
    assert shop.push().state is JobState.COMPLETED
    with session_scope(shop.engine) as session:
        for product in session.scalars(select(Product)):
            product.variants[0].price = Decimal("12.00")
    shop.merchant_edit("stapler-7", title="Merchant's stapler")
    shop.emulator.http.delete(f"{shop.emulator.base_url}/_emulator/demo/counters")
    assert stage_and_approve(shop.engine, shop.store_id) == 60
    job = shop.push()
    assert job.state is JobState.COMPLETED, (job.error, job.result)
    counted = shop.emulator.http.get(f"{shop.emulator.base_url}/_emulator/demo/counters").json()
    assert counted["mutations"].get("bulkOperationRunQuery") == 1
    assert {p["price"] for p in remote_prices(shop.emulator)} == {Decimal("12.00")}
    titles = shop.emulator.gql(
        '{ products(first: 1, query: "handle:stapler-7") { nodes { title } } }'
    )
    assert titles["data"]["products"]["nodes"] == [{"title": "Merchant's stapler"}]


def remote_prices(emulator: RunningEmulator) -> list[dict[str, Decimal]]:
    found = emulator.gql("{ productVariants(first: 100) { nodes { price } } }")["data"][
        "productVariants"
    ]["nodes"]
    return [{"price": Decimal(node["price"])} for node in found]


def test_webhooks_naming_many_products_are_read_by_one_bulk_export(shop: Shop) -> None:
    with session_scope(shop.engine) as session:
        for number in range(3, 60):
            add_product(session, number)
    stage_and_approve(shop.engine, shop.store_id)
    assert shop.push().state is JobState.COMPLETED
    shop.merchant_edit("stapler-9", title="Merchant's stapler")
    with session_scope(shop.engine) as session:
        known = session.scalars(select(StoreProduct)).all()
        session.add_all(
            WebhookEvent(
                store_id=shop.store_id,
                event_id=f"event-{row.id}",
                topic="products/update",
                shopify_product_id=row.shopify_product_id,
            )
            for row in known
        )
    shop.emulator.http.delete(f"{shop.emulator.base_url}/_emulator/demo/counters")
    result = shop.pull(full=False, webhooks=True)
    assert (result["compared"], result["pulled"]) == (60, 1)
    counted = shop.emulator.http.get(f"{shop.emulator.base_url}/_emulator/demo/counters").json()
    assert counted["mutations"].get("bulkOperationRunQuery") == 1
    with session_scope(shop.engine) as session:
        pending = session.scalars(select(WebhookEvent).where(WebhookEvent.processed_at.is_(None)))
        assert pending.all() == []
