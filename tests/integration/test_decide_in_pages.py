"""Deciding a large selection a page at a time: the counters and the changes' states are those
of deciding change by change, push changes are decided without loading their content, and
nothing of the decision stays if one of its pages fails."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from cowans.auth import service as auth
from cowans.db.models import Product, Role, StagedChangeStatus, Store, SyncStaging
from cowans.db.session import session_scope
from cowans.errors import InvalidInput
from cowans.sync import review, snapshots
from cowans.sync.review import Decisions, StagedFilter, decide
from cowans.sync.staging import stage_push
from tests.sync.test_staging import add_product, add_store, as_pushed

PAGE = 3
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
RULE = "rule:stock only"
REFUSED = "Shopify: Price must be a valid non-negative amount"
S = StagedChangeStatus

# The changes of `mixed`, in id order: pages of 3 mix every kind of decision.
KINDS = (
    "push",
    "pull",
    "resolved",
    "conflict",
    "failed",
    "applied",
    "failed_pull",
    "push_2",
    "approved",
    "push_3",
)
PUSHES = ("push", "push_2", "push_3")


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review, "DECISION_PAGE", PAGE)


@dataclass
class Mixed:
    user_id: int
    ids: dict[str, int]
    products: dict[str, int]

    def all(self) -> list[int]:
        return [self.ids[kind] for kind in KINDS]


def _change(
    store: Store,
    product: Product,
    status: StagedChangeStatus,
    direction: str = "push",
    **columns: Any,
) -> SyncStaging:
    """A staged title change with its snapshot, as staging or a pull writes one."""
    desired = snapshots.desired_snapshot(product, store.location_map)
    return SyncStaging(
        store_id=store.id,
        product_id=product.id,
        handle=product.handle,
        direction=direction,
        operation_type="update",
        changes={"title": {"old": product.title, "new": f"Shop {product.id}"}},
        desired=snapshots.to_json(desired) if direction == "push" else None,
        status=status,
        updated_at=LONG_AGO,
        **columns,
    )


def _conflict_to_resolve(session: Session, store: Store, product: Product) -> SyncStaging:
    """A real staged push of a catalog edit, then found edited in Shopify too."""
    product.title = "Stapler Two"
    stage_push(session, store, product_ids=[product.id])
    row = session.scalars(select(SyncStaging).where(SyncStaging.product_id == product.id)).one()
    row.status, row.conflict_fields = S.CONFLICT, ["title"]
    row.changes = {"title": {"old": "Stapler 2", "new": "Stapler Two", "remote": "Shop Two"}}
    return row


@pytest.fixture
def mixed(engine: Engine) -> Mixed:
    with session_scope(engine) as session:
        user = auth.create_user(session, "approver@example.com", "a long password", Role.APPROVER)
        store = add_store(session)
        products = [add_product(session, number) for number in range(10)]
        for product in products:
            as_pushed(session, store, product)
        conflict = _change(store, products[3], S.CONFLICT, conflict_fields=["title"])
        conflict.changes["title"]["remote"] = "Elsewhere"
        made = {
            "push": _change(store, products[0], S.PENDING),
            "pull": _change(store, products[1], S.PENDING, direction="pull"),
        }
        for row in made.values():
            session.add(row)
            session.flush()
        made["resolved"] = _conflict_to_resolve(session, store, products[2])
        later = {
            "conflict": conflict,
            "failed": _change(store, products[4], S.FAILED, error=REFUSED, approval_rule=RULE),
            "applied": _change(store, products[5], S.APPLIED),
            "failed_pull": _change(store, products[6], S.FAILED, direction="pull"),
            "push_2": _change(store, products[7], S.PENDING),
            "approved": _change(store, products[8], S.APPROVED, approval_rule=RULE),
            "push_3": _change(store, products[9], S.PENDING),
        }
        for row in later.values():
            session.add(row)
            session.flush()
        rows = {**made, **later}
        ids = {kind: row.id for kind, row in rows.items()}
        assert sorted(ids.values()) == [ids[kind] for kind in KINDS]
        return Mixed(user.id, ids, {kind: row.product_id for kind, row in rows.items()})


@contextmanager
def loads_recorded() -> Iterator[list[int]]:
    """The ids of the staged changes built as ORM objects (content and all) meanwhile."""
    loaded: list[int] = []

    def record(target: SyncStaging, _context: object) -> None:
        loaded.append(target.id)

    event.listen(SyncStaging, "load", record)
    try:
        yield loaded
    finally:
        event.remove(SyncStaging, "load", record)


def counters(outcome: Decisions) -> tuple[int, int, int, int]:
    return outcome.approved, outcome.rejected, outcome.unresolved_conflicts, outcome.skipped


def statuses(engine: Engine, mix: Mixed) -> dict[str, StagedChangeStatus]:
    with session_scope(engine) as session:
        rows = {row.id: row for row in session.scalars(select(SyncStaging))}
        return {kind: rows[row_id].status for kind, row_id in mix.ids.items()}


def newer_than(engine: Engine, mix: Mixed) -> list[tuple[int | None, StagedChangeStatus]]:
    """The changes staged after the mix (by a pull's decision), as (product, status)."""
    with session_scope(engine) as session:
        rows = session.scalars(
            select(SyncStaging)
            .where(SyncStaging.id > max(mix.ids.values()))
            .order_by(SyncStaging.id)
        )
        return [(row.product_id, row.status) for row in rows]


def test_approving_by_ids_across_pages_decides_each_kind_as_one_by_one(
    engine: Engine, mixed: Mixed
) -> None:
    ids = mixed.ids
    with session_scope(engine) as session, loads_recorded() as loaded:
        outcome = decide(
            session,
            decision="approve",
            user_id=mixed.user_id,
            ids=[*reversed(mixed.all()), ids["push"]],  # any order, repeats once
            resolutions={str(ids["resolved"]): {"title": "local"}},
        )
        assert not [obj for obj in session.identity_map.values() if isinstance(obj, SyncStaging)]
    assert counters(outcome) == (6, 0, 1, 3)
    decided = ("push", "pull", "resolved", "failed", "push_2", "push_3")
    assert outcome.ids == [ids[kind] for kind in decided]
    assert outcome.store_ids == {1}
    # Only what a decision reads the content of: a pull carried out, conflicts.
    assert sorted(loaded) == [ids["pull"], ids["resolved"], ids["conflict"]]
    assert statuses(engine, mixed) == {
        "push": S.APPROVED,
        "pull": S.APPLIED,
        "resolved": S.APPROVED,
        "conflict": S.CONFLICT,
        "failed": S.APPROVED,
        "applied": S.APPLIED,
        "failed_pull": S.FAILED,
        "push_2": S.APPROVED,
        "approved": S.APPROVED,
        "push_3": S.APPROVED,
    }
    with session_scope(engine) as session:
        row = {kind: session.get(SyncStaging, row_id) for kind, row_id in ids.items()}
        for kind in (*PUSHES, "failed"):
            change = row[kind]
            assert change is not None
            assert (change.approved_by, change.approval_rule) == (mixed.user_id, None)
            assert change.approved_at is not None
            assert change.updated_at > LONG_AGO
        assert row["failed"] is not None
        assert row["failed"].error is None
        # Skipped changes are left as they were.
        assert row["approved"] is not None
        assert (row["approved"].approved_by, row["approved"].approval_rule) == (None, RULE)
        assert row["applied"] is not None
        assert row["applied"].updated_at == LONG_AGO
        pulled = row["pull"]
        assert pulled is not None
        assert pulled.applied_at is not None
        product = session.get(Product, pulled.product_id)
        assert product is not None
        assert product.title == f"Shop {product.id}"
        resolved = row["resolved"]
        assert resolved is not None
        assert resolved.conflict_fields == []
    # Approving a pull makes the catalog and the base agree: nothing new to push.
    assert newer_than(engine, mixed) == []


def test_rejecting_by_ids_across_pages(engine: Engine, mixed: Mixed) -> None:
    with session_scope(engine) as session, loads_recorded() as loaded:
        outcome = decide(session, decision="reject", user_id=mixed.user_id, ids=mixed.all())
    assert counters(outcome) == (0, 9, 0, 1)
    assert outcome.ids == [row_id for row_id in mixed.all() if row_id != mixed.ids["applied"]]
    assert sorted(loaded) == [mixed.ids["pull"], mixed.ids["failed_pull"]]
    expected = dict.fromkeys(KINDS, S.REJECTED) | {"applied": S.APPLIED}
    assert statuses(engine, mixed) == expected
    # A rejected pull restages the push that restores the catalog's value, for review.
    restaged = [(mixed.products[kind], S.PENDING) for kind in ("pull", "failed_pull")]
    assert newer_than(engine, mixed) == restaged


def test_all_pending_leaves_what_its_own_pulls_restaged_for_review(
    engine: Engine, mixed: Mixed
) -> None:
    with session_scope(engine) as session, loads_recorded() as loaded:
        outcome = decide(session, decision="reject", user_id=mixed.user_id, all_pending=True)
    assert counters(outcome) == (0, 4, 0, 0)
    assert outcome.ids == [mixed.ids[kind] for kind in ("push", "pull", "push_2", "push_3")]
    assert loaded == [mixed.ids["pull"]]
    assert newer_than(engine, mixed) == [(mixed.products["pull"], S.PENDING)]

    with session_scope(engine) as session, loads_recorded() as loaded:
        again = decide(session, decision="approve", user_id=mixed.user_id, all_pending=True)
    assert counters(again) == (1, 0, 0, 0)  # the restaged push only
    assert loaded == []
    assert newer_than(engine, mixed) == [(mixed.products["pull"], S.APPROVED)]


def test_a_filter_decides_its_decidable_changes_in_pages(engine: Engine, mixed: Mixed) -> None:
    ids = mixed.ids
    with session_scope(engine) as session, loads_recorded() as loaded:
        outcome = decide(
            session,
            decision="approve",
            user_id=mixed.user_id,
            matching=StagedFilter(vendor="Acme"),
            resolutions={str(ids["resolved"]): {"title": "local"}},
        )
    # The applied and approved changes are not selected; the failed pull is skipped.
    assert counters(outcome) == (6, 0, 1, 1)
    assert sorted(loaded) == [ids["pull"], ids["resolved"], ids["conflict"]]
    assert statuses(engine, mixed)["failed_pull"] is S.FAILED


@pytest.mark.parametrize(
    "selection",
    [{"all_pending": True}, {"matching": StagedFilter(direction="push", status=S.PENDING)}],
)
def test_approving_push_changes_in_bulk_loads_none_of_them(
    engine: Engine, mixed: Mixed, selection: dict[str, Any]
) -> None:
    with session_scope(engine) as session:  # the pull is decided on its own
        decide(session, decision="approve", user_id=mixed.user_id, ids=[mixed.ids["pull"]])
    with session_scope(engine) as session, loads_recorded() as loaded:
        outcome = decide(session, decision="approve", user_id=mixed.user_id, **selection)
    assert counters(outcome) == (3, 0, 0, 0)
    assert outcome.ids == [mixed.ids[kind] for kind in PUSHES]
    assert loaded == []


def test_a_change_that_moved_after_it_was_selected_is_skipped(engine: Engine, mixed: Mixed) -> None:
    """Another process (a push applying it) changes its status between the selection and
    the update: the decision does not overwrite it."""
    moved = mixed.ids["push_2"]
    with session_scope(engine) as session:

        @event.listens_for(session, "do_orm_execute")
        def push_applies_it(state: ORMExecuteState) -> None:
            if state.is_update:
                state.session.connection().execute(
                    update(SyncStaging.__table__)
                    .where(SyncStaging.__table__.c.id == moved)
                    .values(status=S.APPLIED)
                )

        outcome = decide(
            session,
            decision="approve",
            user_id=mixed.user_id,
            ids=[mixed.ids[kind] for kind in PUSHES],
        )
    assert counters(outcome) == (2, 0, 0, 1)
    assert moved not in outcome.ids
    assert statuses(engine, mixed)["push_2"] is S.APPLIED


def test_a_page_that_fails_undoes_the_pages_before_it(engine: Engine, mixed: Mixed) -> None:
    conflict = mixed.ids["conflict"]  # on the second page, after a pull and pushes approved
    with pytest.raises(InvalidInput), session_scope(engine) as session:
        decide(
            session,
            decision="approve",
            user_id=mixed.user_id,
            ids=mixed.all(),
            resolutions={str(conflict): {"title": {"value": 5}}},
        )
    after = statuses(engine, mixed)
    assert (after["push"], after["pull"], after["conflict"]) == (S.PENDING, S.PENDING, S.CONFLICT)
    with session_scope(engine) as session:
        product = session.get(Product, mixed.products["pull"])
        assert product is not None
        assert product.title == "Stapler 1"


def test_unknown_ids_decide_nothing_across_pages(engine: Engine, mixed: Mixed) -> None:
    with pytest.raises(InvalidInput) as refused, session_scope(engine) as session:
        decide(session, decision="approve", user_id=mixed.user_id, ids=[*mixed.all(), 999, 998])
    assert refused.value.details == {"missing": [998, 999]}
    assert statuses(engine, mixed)["push"] is S.PENDING
