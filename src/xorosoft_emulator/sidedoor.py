"""The `/_emulator/` side door: JSON endpoints for tests, benchmarks and demos, never on a path
Xorosoft uses, without auth, rate limit or faults, mounted only when the options say so.

    GET    /_emulator/items         every stock row served, in export order
    POST   /_emulator/items         {"items": [{"ItemNumber", "Location"?, "QuantityOnHand"?,
                                    "UnitPrice"?}]}: change stock and prices, as the ERP would
    GET    /_emulator/export.csv    the same rows as Xorosoft's CSV export
    GET    /_emulator/counters      requests, unauthorized, rate_limited, faults_5xx...
    DELETE /_emulator/counters      zero them

A price belongs to the item, so it changes at every location; a quantity belongs to one
location, so it needs one (naming a location the item is not stocked at adds it there). The
changes are checked first and applied all together or not at all. Bad input is answered with
4xx and `{"error": ..., "details": [...]}`.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from xorosoft_emulator.catalog import Catalog, StockRow
from xorosoft_emulator.export import export_lines
from xorosoft_emulator.state import emulator_state

UPDATE_FIELDS = frozenset({"ItemNumber", "Location", "QuantityOnHand", "UnitPrice"})


class Problem(Exception):
    """A 4xx answer: what was wrong, and where."""

    def __init__(self, status: int, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or []


@dataclass(frozen=True)
class StockUpdate:
    item_number: str
    location: str  # empty: every location of the item
    quantity_on_hand: int | None
    unit_price: Decimal | None


def _answering_problems(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Problem as problem:
            body = {"error": problem.message, "details": problem.details}
            return JSONResponse(body, status_code=problem.status)

    return endpoint


def _row_document(row: StockRow) -> dict[str, Any]:
    """Prices as strings here: the side door reports exactly what is held."""
    return {
        "BasePartNumber": row.base_part_number,
        **row.variant(),
        "UnitPrice": str(row.unit_price),
    }


async def list_items(request: Request) -> Response:
    catalog = emulator_state(request).catalog
    items = [_row_document(row) for row in catalog.rows]
    return JSONResponse({"items": items, "item_count": catalog.item_count(), "rows": len(items)})


async def export_csv(request: Request) -> Response:
    rows = list(emulator_state(request).catalog.rows)  # a snapshot: updates may come meanwhile
    return StreamingResponse(export_lines(rows), media_type="text/csv; charset=utf-8")


def _price(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    problem = Problem(422, f"{where}: UnitPrice must be a number of at least 0")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise problem
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise problem from None
    if not price.is_finite() or price < 0:
        raise problem
    return price


def _quantity(value: Any, where: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise Problem(422, f"{where}: QuantityOnHand must be a whole number")
    return value


def _stock_update(entry: Any, where: str) -> StockUpdate:
    if not isinstance(entry, dict):
        raise Problem(422, f"{where} must be an object")
    unknown = sorted(set(entry) - UPDATE_FIELDS)
    if unknown:
        raise Problem(422, f"{where}: unknown field(s) {', '.join(unknown)}", sorted(UPDATE_FIELDS))
    item_number, location = entry.get("ItemNumber"), entry.get("Location")
    if not isinstance(item_number, str) or not item_number.strip():
        raise Problem(422, f"{where}: ItemNumber is required")
    if location is not None and (not isinstance(location, str) or not location.strip()):
        raise Problem(422, f"{where}: Location must be a location name")
    quantity = _quantity(entry.get("QuantityOnHand"), where)
    if quantity is not None and not location:
        raise Problem(422, f"{where}: QuantityOnHand needs the Location it is at")
    return StockUpdate(
        item_number=item_number.strip(),
        location=location.strip() if location else "",
        quantity_on_hand=quantity,
        unit_price=_price(entry.get("UnitPrice"), where),
    )


def _check_known(catalog: Catalog, updates: list[StockUpdate]) -> None:
    unknown = sorted({u.item_number for u in updates if not catalog.item_rows(u.item_number)})
    if unknown:
        raise Problem(404, "unknown item(s)", unknown)
    for update in updates:
        if update.location and update.quantity_on_hand is None and not _at(catalog, update):
            raise Problem(404, f"{update.item_number} is not stocked at {update.location}")


def _at(catalog: Catalog, update: StockUpdate) -> StockRow | None:
    rows = catalog.item_rows(update.item_number)
    return next((row for row in rows if row.location == update.location), None)


def _stocked_at(catalog: Catalog, update: StockUpdate, template: StockRow) -> StockRow:
    """The item's row at the update's location, added when the item was not stocked there."""
    row = _at(catalog, update)
    if row is None:
        row = replace(template, location=update.location, quantity_on_hand=0)
        catalog.add(row)
    return row


def _apply(catalog: Catalog, update: StockUpdate) -> None:
    rows = catalog.item_rows(update.item_number)
    if update.unit_price is not None:
        for row in rows:
            row.unit_price = update.unit_price
    if update.quantity_on_hand is not None:
        _stocked_at(catalog, update, rows[0]).quantity_on_hand = update.quantity_on_hand


async def update_items(request: Request) -> Response:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise Problem(400, "the body is not JSON") from None
    entries = body.get("items") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise Problem(400, 'the body must be {"items": [...]}')
    updates = [_stock_update(entry, f"items[{index}]") for index, entry in enumerate(entries)]
    catalog = emulator_state(request).catalog
    _check_known(catalog, updates)
    for update in updates:
        _apply(catalog, update)
    return JSONResponse({"updated": len(updates)})


async def counters(request: Request) -> Response:
    return JSONResponse(dict(emulator_state(request).counters))


async def clear_counters(request: Request) -> Response:
    emulator_state(request).counters.clear()
    return JSONResponse({})


def routes() -> list[Route]:
    return [
        Route("/_emulator/items", list_items, methods=["GET"]),
        Route("/_emulator/items", _answering_problems(update_items), methods=["POST"]),
        Route("/_emulator/export.csv", export_csv, methods=["GET"]),
        Route("/_emulator/counters", counters, methods=["GET"]),
        Route("/_emulator/counters", clear_counters, methods=["DELETE"]),
    ]
