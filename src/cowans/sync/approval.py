"""Approval rules: which staged changes approve themselves, per store.

Without rules a person approves everything. A rule only ever approves an update whose every
changed field it covers; creates and deletes always wait for a person. The rule that approved
a change is recorded as its approver.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from cowans.errors import InvalidInput

STOCK_ONLY = "stock_only"
PRICE_WITHIN_PERCENT = "price_within_percent"
KINDS = (STOCK_ONLY, PRICE_WITHIN_PERCENT)

Rule = Mapping[str, Any]


def checked_rules(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rules to store, or InvalidInput saying which one is wrong and why."""
    checked = []
    for position, rule in enumerate(rules):
        kind = rule.get("kind")
        if kind not in KINDS:
            raise InvalidInput(
                "invalid_approval_rule",
                f"Rule {position + 1}: kind must be one of {', '.join(KINDS)}.",
            )
        if kind == PRICE_WITHIN_PERCENT:
            percent = rule.get("percent")
            if not isinstance(percent, int | float) or not 0 < percent <= 100:
                raise InvalidInput(
                    "invalid_approval_rule",
                    f"Rule {position + 1}: percent must be a number above 0 and at most 100.",
                )
            checked.append({"kind": kind, "percent": percent})
        else:
            checked.append({"kind": kind})
    return checked


def rule_name(rule: Rule) -> str:
    if rule["kind"] == PRICE_WITHIN_PERCENT:
        return f"rule:price within {rule['percent']}%"
    return "rule:stock only"


def approving_rule(
    operation: str, changes: Mapping[str, Mapping[str, Any]], rules: Sequence[Rule]
) -> str | None:
    """The name of the first rule that approves this change, or None."""
    if operation != "update" or not changes:
        return None
    for rule in rules:
        if _covers(rule, changes):
            return rule_name(rule)
    return None


def _covers(rule: Rule, changes: Mapping[str, Mapping[str, Any]]) -> bool:
    if rule["kind"] == STOCK_ONLY:
        return all(".inventory." in name for name in changes)
    limit = Decimal(str(rule["percent"]))
    return all(
        name.endswith(".price") and _within(change.get("old"), change.get("new"), limit)
        for name, change in changes.items()
    )


def _within(old: Any, new: Any, percent: Decimal) -> bool:
    try:
        before, after = Decimal(str(old)), Decimal(str(new))
    except (InvalidOperation, ValueError):
        return False
    if before <= 0:
        return False
    return abs(after - before) * 100 / before <= percent
