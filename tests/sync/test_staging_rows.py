"""Staging reads the catalog as plain rows, a chunk of ids at a time: what it stages must be what
the ORM's products give (`desired_snapshot` of a `Product`, compared with the store's base),
children in the order of the relationships, whatever chunks the catalog is cut into."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cowans.catalog.queries import ProductFilter
from cowans.db.models import (
    Product,
    ProductImage,
    ProductMetafield,
    ProductVariant,
    StagedChangeStatus,
    Store,
    SyncStaging,
)
from cowans.sync import snapshots, staging
from cowans.sync.staging import stage_push
from tests.sync.test_staging import add_product, add_store, as_pushed


def varied_product(session: Session, number: int) -> Product:
    """Two variants, images and specifications written out of their display order, and a
    metafield outside the specifications' namespace."""
    product = Product(
        handle=f"binder-{number}",
        title=f"Binder {number}",
        vendor="Avery" if number % 2 else "Acme",
        product_type="Binders",
        tags=["school", "office"],
        variants=[
            ProductVariant(sku=f"AV-{number}-B", position=2, price=Decimal("4.50")),
            ProductVariant(
                sku=f"AV-{number}-A",
                position=1,
                price=Decimal("3.999"),
                weight_grams=Decimal("120.500"),
                inventory={"MAIN": 3, "EAST": 1},
                option1_name="Size",
                option1_value="1 inch",
            ),
        ],
        images=[
            ProductImage(src=f"https://img.example/{number}-2.jpg", position=2, alt_text="back"),
            ProductImage(src=f"https://img.example/{number}-1.jpg", position=1),
        ],
        metafields=[
            ProductMetafield(namespace="custom", key="rings", value=["3"]),
            ProductMetafield(
                namespace="seo", key="hidden", type="single_line_text_field", value="1"
            ),
            ProductMetafield(namespace="custom", key="color", value=["Blue", "Red"]),
        ],
    )
    session.add(product)
    session.flush()
    return product


def expected_rows(session: Session, store: Store) -> dict[str, tuple[str, dict, dict | None]]:
    """handle -> (operation, changes, desired) of every staged row, from the ORM's products."""
    products = session.scalars(
        select(Product).options(
            selectinload(Product.variants),
            selectinload(Product.images),
            selectinload(Product.metafields),
        )
    )
    expected = {}
    for product in products:
        desired = snapshots.desired_snapshot(product, store.location_map)
        changes = snapshots.diff({}, snapshots.fields_of(desired))
        expected[product.handle] = ("create", changes, snapshots.to_json(desired))
    return expected


def staged_rows(session: Session) -> dict[str, tuple[str, dict, dict | None]]:
    rows = session.scalars(select(SyncStaging).order_by(SyncStaging.id))
    return {row.handle: (row.operation_type, row.changes, row.desired) for row in rows}


@pytest.mark.parametrize("chunk", [1, 2, 500])
def test_rows_staged_from_plain_rows_are_those_of_the_orm(
    session: Session, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(staging, "CHUNK", chunk)
    store = add_store(session)
    for number in range(5):
        varied_product(session, number)
    session.expunge_all()  # products as the database gives them back, children in order
    store = session.merge(store)
    expected = expected_rows(session, store)
    result = stage_push(session, store)
    assert result.staged == 5
    assert staged_rows(session) == expected
    ids = session.scalars(select(SyncStaging.id).order_by(SyncStaging.product_id)).all()
    assert ids == sorted(ids)  # rows are written in product order


def test_a_filter_and_a_list_of_ids_are_paged_through_in_chunks(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "CHUNK", 2)
    store = add_store(session)
    products = [varied_product(session, number) for number in range(7)]
    avery = ProductFilter(vendor="Avery")
    assert stage_push(session, store, filters=avery).staged == 3
    assert sorted(staged_rows(session)) == ["binder-1", "binder-3", "binder-5"]
    given = [products[6].id, products[0].id, products[6].id, 10**6]  # repeated, unknown
    assert stage_push(session, store, product_ids=given).staged == 2
    assert sorted(staged_rows(session)) == [f"binder-{n}" for n in (0, 1, 3, 5, 6)]


def test_updates_deletes_and_kept_changes_across_chunks(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "CHUNK", 2)
    store = add_store(session)
    products = [add_product(session, number) for number in range(5)]
    for product in products:
        as_pushed(session, store, product)
    products[0].variants[0].price = Decimal("11.00")  # an update
    products[1].deleted_at = datetime.now(UTC)  # a delete
    products[4].title = "Renamed"  # an update, staged and decided before
    session.flush()
    first = stage_push(session, store)
    assert (first.staged, first.unchanged) == (3, 2)
    decided = session.scalar(select(SyncStaging).where(SyncStaging.handle == "stapler-4"))
    assert decided is not None
    decided.status = StagedChangeStatus.APPROVED
    session.flush()
    again = stage_push(session, store)
    assert (again.staged, again.kept, again.unchanged) == (0, 3, 2)
    rows = staged_rows(session)
    assert rows["stapler-0"][1] == {"variants.ACM-0.price": {"old": "10", "new": "11"}}
    assert rows["stapler-1"][:2] == ("delete", {"deleted": {"old": False, "new": True}})
    assert rows["stapler-4"][1] == {"title": {"old": "Stapler 4", "new": "Renamed"}}
    assert (
        session.scalar(select(SyncStaging.status).where(SyncStaging.handle == "stapler-4"))
        is StagedChangeStatus.APPROVED
    )
