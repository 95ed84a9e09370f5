"""Which Etilize products Cowan's sells: matched to Xorosoft items exactly as DATA.md says.

For each product the candidates are tried in order (its SKU, then each CWS_A, CWS_Catalog and
SPRC value), each first against Xorosoft's ItemNumber, then against BasePartNumber (the first
item of that base part, by ItemNumber). The first hit wins. When several products hit the same
item, the best method keeps it (sku > cws_a > cws_catalog > sprc, ties by file order) and the
others are reported as duplicates.

Matching a full feed is 33,500 products against 62,000 item rows, so the work per identifier is
kept small: an identifier that is already letters and digits is its own key (no regex), the
index sorts distinct (item, base part) pairs once, and a match is a slotted record.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

from cowans.sources.gc_pause import gc_paused
from cowans.sources.records import EtilizeProduct

METHODS = ("sku", "cws_a", "cws_catalog", "sprc")
_SEPARATORS = re.compile(r"[-\s/]")


def normalize(identifier: str) -> str:
    key = identifier.strip().upper()
    if key.isalnum():
        return key
    # The usual separators, without a regex; letters and digits left means nothing else was.
    cleaned = key.replace("-", "").replace(" ", "").replace("/", "")
    return cleaned if cleaned.isalnum() else _SEPARATORS.sub("", key)


class ItemRef(NamedTuple):
    item_number: str
    base_part_number: str


class XorosoftIndex:
    """Normalized ItemNumber and BasePartNumber to the item they name."""

    def __init__(self, items: Iterable[ItemRef]) -> None:
        self.by_item: dict[str, str] = {}
        self.by_base: dict[str, str] = {}
        with gc_paused():
            self._add(items)

    def _add(self, items: Iterable[ItemRef]) -> None:
        # An item stocked at several locations comes once per location: each pair counts once.
        for item_number, base_part_number in sorted(set(items), key=attrgetter("item_number")):
            self.by_item.setdefault(normalize(item_number), item_number)
            if base_part_number:
                self.by_base.setdefault(normalize(base_part_number), item_number)

    def find(self, candidate: str) -> tuple[str, str] | None:
        """(item number, "ItemNumber" or "BasePartNumber") for a candidate, or None."""
        key = normalize(candidate)
        if not key:
            return None
        if (item_number := self.by_item.get(key)) is not None:
            return item_number, "ItemNumber"
        if (item_number := self.by_base.get(key)) is not None:
            return item_number, "BasePartNumber"
        return None


@dataclass(slots=True)
class Match:
    product: EtilizeProduct
    item_number: str
    method: str
    matched_field: str
    candidate: str
    order: int  # position in the file, for ties


@dataclass(frozen=True)
class Duplicate:
    handle: str
    row_number: int
    item_number: str
    method: str
    kept_handle: str


@dataclass
class MatchReport:
    matches: dict[str, Match] = field(default_factory=dict)  # by item number
    unmatched: list[EtilizeProduct] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)

    def method_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(METHODS, 0)
        for match in self.matches.values():
            counts[match.method] += 1
        return counts


def candidates(product: EtilizeProduct) -> Iterable[tuple[str, str]]:
    yield "sku", product.sku
    for method in METHODS[1:]:
        for value in getattr(product, method):
            yield method, value


def match_one(product: EtilizeProduct, index: XorosoftIndex, order: int) -> Match | None:
    """The first of `candidates` that names an item (written out: most products match by
    their SKU, and a generator per product cost more than the lookup)."""
    found = index.find(product.sku)
    if found is not None:
        return Match(product, found[0], "sku", found[1], product.sku, order)
    for method in METHODS[1:]:
        for candidate in getattr(product, method):
            found = index.find(candidate)
            if found is not None:
                return Match(product, found[0], method, found[1], candidate, order)
    return None


_RANK = {method: rank for rank, method in enumerate(METHODS)}


def _better(challenger: Match, holder: Match) -> bool:
    ranks = (_RANK[challenger.method], challenger.order)
    return ranks < (_RANK[holder.method], holder.order)


def match_products(products: Iterable[EtilizeProduct], index: XorosoftIndex) -> MatchReport:
    with gc_paused():  # a match per product, none of them garbage
        return _match_all(products, index)


def _match_all(products: Iterable[EtilizeProduct], index: XorosoftIndex) -> MatchReport:
    report = MatchReport()
    for order, product in enumerate(products):
        match = match_one(product, index, order)
        if match is None:
            report.unmatched.append(product)
            continue
        holder = report.matches.get(match.item_number)
        if holder is None:
            report.matches[match.item_number] = match
            continue
        winner, loser = (match, holder) if _better(match, holder) else (holder, match)
        report.matches[match.item_number] = winner
        report.duplicates.append(
            Duplicate(
                loser.product.handle,
                loser.product.row_number,
                loser.item_number,
                loser.method,
                winner.product.handle,
            )
        )
    return report
