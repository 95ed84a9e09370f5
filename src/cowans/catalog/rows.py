"""Products read as plain rows with their lists, for the code that reads thousands at a time
(staging, exports): building them as ORM objects (identity map, instance state, relationship
collections) cost more than the queries did.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from cowans.db.models import Product

P = TypeVar("P")


@dataclass(frozen=True)
class ChildRows:
    """One list of a product read as rows: the attribute its rows are appended to, the
    columns (the product's id first) and the order within a product, the ORM relationship's."""

    attribute: str
    columns: tuple[Any, ...]
    order: tuple[Any, ...]


def products_with_children(
    session: Session,
    make: Callable[..., P],
    columns: Sequence[Any],
    chosen: Any,
    children: Iterable[ChildRows],
    *conditions: ColumnElement[bool],
) -> dict[int, P]:
    """The products whose id is `chosen` (a list of ids or a select of them) and meets
    `conditions`, each `make(*row)` of `columns` (the id first), in id order, with each
    child's rows appended to its list: one query per table whatever the number of products."""
    products = {
        row.id: make(*row)
        for row in session.execute(
            select(*columns).where(Product.id.in_(chosen), *conditions).order_by(Product.id)
        )
    }
    for child in children:
        owner = child.columns[0]
        rows = session.execute(
            select(*child.columns).where(owner.in_(chosen)).order_by(owner, *child.order)
        )
        for row in rows:
            product = products.get(row.product_id)
            if product is not None:  # its product was left out by `conditions`
                getattr(product, child.attribute).append(row)
    return products
