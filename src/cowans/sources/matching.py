"""Which Etilize products Cowan's sells: matched to Xorosoft items exactly as DATA.md says.

For each product the candidates are tried in order (its SKU, then each CWS_A, CWS_Catalog and
SPRC value), each first against Xorosoft's ItemNumber, then against BasePartNumber (the first
item of that base part, by ItemNumber). The first hit wins. When several products hit the same
item, the best method keeps it (sku > cws_a > cws_catalog > sprc, ties by file order) and the
others are reported as duplicates.

Matching a full feed is 33,500 products against 62,000 item rows, so the work per identifier is
kept small: an identifier that is already letters and digits is its own key (no regex), the
index sorts distinct (item, base part) pairs once, and a match is a slotted record.

The import streams a feed of any size, so who holds an item is decided by a `MatchTally`, which
keeps a number per matched item and no product: a holder is known by its order in the feed, and
the handles a duplicate names are filled in when the feed is read again. `match_products`, for
products already in memory, decides through the same tally.
"""

import re
from collections.abc import Callable, Iterable, Iterator
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
# A claim is a holder's (method rank, order in the feed) as one int, so that the better claim is
# the smaller int: a tally keeps one per matched item, a quarter of a million at most at scale.
_ORDERS = 1 << 40


def _claim(match: Match) -> int:
    return _RANK[match.method] * _ORDERS + match.order


@dataclass(frozen=True, slots=True)
class Contest:
    """Two products that hit the same item, before their handles are known."""

    loser_order: int
    item_number: str
    loser_method: str
    winner_order: int


class MatchTally:
    """Who holds each item, decided one match at a time in feed order (the rules of
    `match_products`): the best method keeps an item, ties go to the earlier product."""

    def __init__(self) -> None:
        # item number -> claim of its holder; items in the order they were first hit
        self._claims: dict[str, int] = {}
        self.contests: list[Contest] = []

    def __len__(self) -> int:
        return len(self._claims)

    def add(self, match: Match) -> None:
        claim = _claim(match)
        held = self._claims.setdefault(match.item_number, claim)
        if held == claim:
            return
        if claim < held:
            self._claims[match.item_number] = claim
            loser, winner = held, claim
        else:
            loser, winner = claim, held
        loser_method = METHODS[loser // _ORDERS]
        self.contests.append(
            Contest(loser % _ORDERS, match.item_number, loser_method, winner % _ORDERS)
        )

    def holds(self, match: Match) -> bool:
        """Whether `match` is the one that keeps its item (once the whole feed is tallied)."""
        return self._claims.get(match.item_number) == _claim(match)

    def holders(self) -> Iterator[tuple[str, int]]:
        """(item number, order of the product keeping it), items in the order first hit."""
        for item_number, claim in self._claims.items():
            yield item_number, claim % _ORDERS

    def method_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(METHODS, 0)
        for claim in self._claims.values():
            counts[METHODS[claim // _ORDERS]] += 1
        return counts

    def named_orders(self) -> set[int]:
        """The products a duplicate names: the handles `duplicates` needs."""
        return {order for c in self.contests for order in (c.loser_order, c.winner_order)}

    def duplicates(self, named: Callable[[int], tuple[str, int]]) -> list[Duplicate]:
        """The duplicates in the order they were found; `named` gives a product's (handle,
        row number) by its order."""
        found = []
        for contest in self.contests:
            loser_handle, loser_row = named(contest.loser_order)
            found.append(
                Duplicate(
                    loser_handle,
                    loser_row,
                    contest.item_number,
                    contest.loser_method,
                    named(contest.winner_order)[0],
                )
            )
        return found


def match_products(products: Iterable[EtilizeProduct], index: XorosoftIndex) -> MatchReport:
    with gc_paused():  # a match per product, none of them garbage
        return _match_all(products, index)


def _match_all(products: Iterable[EtilizeProduct], index: XorosoftIndex) -> MatchReport:
    report = MatchReport()
    tally = MatchTally()
    matched: dict[int, Match] = {}  # by order
    for order, product in enumerate(products):
        match = match_one(product, index, order)
        if match is None:
            report.unmatched.append(product)
            continue
        matched[order] = match
        tally.add(match)
    report.matches = {item: matched[order] for item, order in tally.holders()}
    report.duplicates = tally.duplicates(
        lambda order: (matched[order].product.handle, matched[order].product.row_number)
    )
    return report
