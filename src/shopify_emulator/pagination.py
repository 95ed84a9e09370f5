"""Relay connections over in-memory lists, with Shopify's argument rules.

Cursors are opaque to clients: base64 of the item's sort value and number, so a cursor stays
valid when items before it are added or removed.
"""

import base64
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from graphql import GraphQLError

MAX_PAGE_SIZE = 250


def encode_cursor(sort_value: Any, number: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([sort_value, number]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[Any, int]:
    try:
        value, number = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return value, int(number)
    except (ValueError, TypeError) as exc:
        raise GraphQLError("Invalid cursor for current pagination sort.") from exc


def check_page_arguments(first: int | None, last: int | None) -> int:
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    if first is not None and last is not None:
        raise GraphQLError("providing both first and last is not supported")
    size = first if first is not None else last
    assert size is not None
    if size < 0:
        raise GraphQLError("first and last must be non-negative")
    if size > MAX_PAGE_SIZE:
        raise GraphQLError(f"The maximum number of items that can be requested is {MAX_PAGE_SIZE}.")
    return size


class Connection:
    """What a *Connection type resolves to: edges, nodes and pageInfo."""

    def __init__(
        self, items: Sequence[Any], cursors: list[str], has_next: bool, has_previous: bool
    ) -> None:
        self.nodes = list(items)
        self.edges = [{"cursor": c, "node": n} for c, n in zip(cursors, items, strict=True)]
        self.page_info = {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        }


def paginate(
    items: Sequence[Any],
    *,
    sort_value: Callable[[Any], Any] = lambda _item: None,
    number: Callable[[Any], int] = lambda item: item.number,
    first: int | None = None,
    last: int | None = None,
    after: str | None = None,
    before: str | None = None,
    reverse: bool = False,
    presorted: bool = False,
) -> Connection:
    """Page through items ordered by (sort_value, number), ascending unless reverse.

    `presorted` says the items already come in ascending order (the shop's dicts are kept in
    number order), which saves the sort; cursors are found by bisection either way.
    """
    size = check_page_arguments(first, last)
    keyed = [(_sortable(sort_value(item), number(item)), item) for item in items]
    if not presorted:
        keyed.sort(key=itemgetter(0))
    keys = [key for key, _ in keyed]
    count = len(keys)
    after_key = _sortable(*decode_cursor(after)) if after is not None else None
    before_key = _sortable(*decode_cursor(before)) if before is not None else None
    if not reverse:
        low = bisect_right(keys, after_key) if after_key is not None else 0
        high = bisect_left(keys, before_key) if before_key is not None else count
        window = keyed[low:high]
        more_before, more_after = low > 0, high < count
    else:  # descending: "after" a cursor means smaller keys
        high = bisect_left(keys, after_key) if after_key is not None else count
        low = bisect_right(keys, before_key) if before_key is not None else 0
        window = keyed[low:high][::-1]
        more_before, more_after = high < count, low > 0
    if first is not None:
        page, has_next, has_previous = window[:size], len(window) > size, more_before
    else:
        page = window[max(0, len(window) - size) :]
        has_next, has_previous = more_after, len(window) > size
    cursors = [encode_cursor(key[1] if key[0] else None, key[2]) for key, _ in page]
    return Connection([item for _, item in page], cursors, has_next, has_previous)


def _sortable(value: Any, number: int) -> tuple[Any, ...]:
    # None sorts first; mixed types never meet because one sort key has one type.
    return (value is not None, value if value is not None else 0, number)
