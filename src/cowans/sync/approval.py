"""Approval rules: which staged changes approve themselves, per store.

Without rules a person approves everything. Rules only ever approve an update whose every
changed field one of them covers; creates and deletes always wait for a person. The rule (or
rules) that approved a change is recorded as its approver.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from cowans.errors import InvalidInput

STOCK_ONLY = "stock_only"
PRICE_WITHIN_PERCENT = "price_within_percent"
KINDS = (STOCK_ONLY, PRICE_WITHIN_PERCENT)
APPROVER_LENGTH = 100  # sync_staging.approval_rule

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
    """The name of the rule that approves this change, or None: the first that covers every
    changed field; else the rules that cover them together (a supplier's day moves the stock
    and the price of many products at once, and a store that trusts each alone trusts both),
    named in their order, joined by " + "."""
    if operation != "update" or not changes:
        return None
    for rule in rules:
        if all(_covers(rule, name, change) for name, change in changes.items()):
            return rule_name(rule)
    used: list[Rule] = []
    for name, change in changes.items():
        rule = next((rule for rule in rules if _covers(rule, name, change)), None)
        if rule is None:
            return None
        if rule not in used:
            used.append(rule)
    ordered = [rule for rule in rules if rule in used]
    names = " + ".join(rule_name(rule).removeprefix("rule:") for rule in ordered)
    return f"rule:{names}"[:APPROVER_LENGTH]


def _covers(rule: Rule, name: str, change: Mapping[str, Any]) -> bool:
    if rule["kind"] == STOCK_ONLY:
        return ".inventory." in name
    limit = Decimal(str(rule["percent"]))
    return name.endswith(".price") and _within(change.get("old"), change.get("new"), limit)


def _within(old: Any, new: Any, percent: Decimal) -> bool:
    try:
        before, after = Decimal(str(old)), Decimal(str(new))
    except (InvalidOperation, ValueError):
        return False
    if before <= 0:
        return False
    return abs(after - before) * 100 / before <= percent
