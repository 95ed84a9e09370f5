"""Approval rules that cover a change together: a supplier's day moves stock and prices at once."""

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from cowans.db.models import StagedChangeStatus
from cowans.sync.approval import APPROVER_LENGTH, approving_rule
from cowans.sync.staging import stage_push
from tests.sync.test_staging import add_product, add_store, as_pushed, open_changes

STOCK = {"kind": "stock_only"}
PRICE_10 = {"kind": "price_within_percent", "percent": 10}
STOCK_MOVED = {"variants.A-1.inventory.MAIN": {"old": 5, "new": 9}}
PRICE_UP_5 = {"variants.A-1.price": {"old": "10", "new": "10.5"}}
PRICE_UP_20 = {"variants.A-1.price": {"old": "10", "new": "12"}}
TITLE = {"title": {"old": "Stapler", "new": "Stapler (new)"}}


@pytest.mark.parametrize(
    ("changes", "rules", "expected"),
    [
        ({**STOCK_MOVED, **PRICE_UP_5}, [STOCK, PRICE_10], "rule:stock only + price within 10%"),
        ({**STOCK_MOVED, **PRICE_UP_5}, [PRICE_10, STOCK], "rule:price within 10% + stock only"),
        ({**STOCK_MOVED, **PRICE_UP_20}, [STOCK, PRICE_10], None),
        ({**STOCK_MOVED, **TITLE}, [STOCK, PRICE_10], None),
        ({**STOCK_MOVED, **PRICE_UP_5}, [STOCK], None),
        (STOCK_MOVED, [PRICE_10, STOCK], "rule:stock only"),  # one rule covers it: its name
    ],
)
def test_rules_together_approve_what_each_field_is_covered_by(
    changes: dict, rules: list[dict], expected: str | None
) -> None:
    assert approving_rule("update", changes, rules) == expected


def test_creates_still_wait_whatever_the_rules_cover() -> None:
    assert approving_rule("create", {**STOCK_MOVED, **PRICE_UP_5}, [STOCK, PRICE_10]) is None


def test_the_recorded_approver_fits_its_column() -> None:
    rules = [{"kind": "price_within_percent", "percent": p} for p in range(1, 21)] + [STOCK]
    changes = {f"variants.A-{n}.price": {"old": "100", "new": str(100 + n)} for n in range(1, 21)}
    name = approving_rule("update", {**changes, **STOCK_MOVED}, rules)
    assert name is not None
    assert name.startswith("rule:price within 1% + price within 2%")
    assert len(name) == APPROVER_LENGTH


def test_staging_approves_a_stock_and_price_change_by_both_rules(session: Session) -> None:
    store = add_store(session, [STOCK, PRICE_10])
    product = add_product(session, 1)
    as_pushed(session, store, product)
    product.variants[0].price = Decimal("10.50")
    product.variants[0].inventory = {"MAIN": 9, "WEST": 2}
    result = stage_push(session, store)
    [change] = open_changes(session)
    assert change.status is StagedChangeStatus.APPROVED
    assert change.approval_rule == "rule:stock only + price within 10%"
    assert result.auto_approved == 1
