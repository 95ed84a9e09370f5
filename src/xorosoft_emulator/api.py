"""Xorosoft's product endpoints, as the ERP answers them.

    GET  /api/xerp/product/getproduct?ItemNumber=X    the item, one variant per location
    POST /api/xerp/product/getfiltered                {"filter": {"basePartNumber": "..."},
                                                       "page": 1, "pageSize": 500}

Both answer `{"Result": true, "Message": "", "Data": [product...], "TotalPages": n}`. Nothing
found is `Result: false` with a message and HTTP 200, as the ERP says it; a request it cannot
read is `Result: false` with HTTP 400. Every request passes the gate first: Basic auth (401),
the rate limit (429), then the seeded latency and 5xx faults.
"""

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from xorosoft_emulator import API_ROOT
from xorosoft_emulator.catalog import StockRow, product_document
from xorosoft_emulator.state import EmulatorState, emulator_state

DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 1000
FILTER_FIELDS = {"basepartnumber": "basePartNumber"}  # accepted in any case, as ASP.NET does
NOT_AUTHORIZED = {"Result": False, "Message": "Authorization has been denied for this request."}
TOO_MANY_REQUESTS = {"Result": False, "Message": "Rate limit exceeded: at most 10 requests/s."}
# What the ERP's web server answers when the application behind it fails: a page, not JSON.
SERVER_ERRORS = ((500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable"))
ERROR_PAGE = (
    "<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
)

Handler = Callable[[Request, EmulatorState], Awaitable[Response]]


class InvalidRequest(ValueError):
    """Answered with HTTP 400 and `Result: false`: sending it again cannot help."""


@dataclass(frozen=True)
class FilteredQuery:
    base_part_number: str
    page: int
    page_size: int


def _answer(products: list[list[StockRow]], total_pages: int) -> JSONResponse:
    data = [product_document(rows) for rows in products]
    return JSONResponse({"Result": True, "Message": "", "Data": data, "TotalPages": total_pages})


def _nothing_found(state: EmulatorState, message: str, total_pages: int = 0) -> JSONResponse:
    state.counters["not_found"] += 1
    return JSONResponse(
        {"Result": False, "Message": message, "Data": [], "TotalPages": total_pages}
    )


def _refused(state: EmulatorState, message: str) -> JSONResponse:
    state.counters["invalid"] += 1
    return JSONResponse({"Result": False, "Message": message}, status_code=400)


def _gated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Auth, rate limit and faults, in that order, before the handler sees the request."""

    async def endpoint(request: Request) -> Response:
        state = emulator_state(request)
        state.counters["requests"] += 1
        if not state.credentials.accept(request.headers.get("authorization", "")):
            state.counters["unauthorized"] += 1
            headers = {"WWW-Authenticate": 'Basic realm="xerp"'}
            return JSONResponse(NOT_AUTHORIZED, status_code=401, headers=headers)
        if not state.window.admit():
            state.counters["rate_limited"] += 1
            retry_after = str(max(1, math.ceil(state.window.retry_after_seconds())))
            headers = {"Retry-After": retry_after}
            return JSONResponse(TOO_MANY_REQUESTS, status_code=429, headers=headers)
        delay = state.faults.latency_seconds()
        if delay:
            await asyncio.sleep(delay)
        if state.faults.fails():
            state.counters["faults_5xx"] += 1
            status, reason = state.faults.rng.choice(SERVER_ERRORS)
            return HTMLResponse(ERROR_PAGE.format(status=status, reason=reason), status)
        return await handler(request, state)

    return endpoint


async def get_product(request: Request, state: EmulatorState) -> Response:
    params = {name.lower(): value for name, value in request.query_params.items()}
    item_number = params.get("itemnumber", "").strip()
    if not item_number:
        return _refused(state, "The ItemNumber parameter is required.")
    rows = state.catalog.item_rows(item_number)
    if not rows:
        return _nothing_found(state, f"No product found for ItemNumber {item_number}.")
    return _answer([rows], total_pages=1)


def _positive_int(body: dict[str, Any], name: str, default: int, highest: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= highest:
        raise InvalidRequest(f"{name} must be a whole number from 1 to {highest}.")
    return value


def _base_part_filter(given: Any) -> str:
    if given is None:
        return ""
    if not isinstance(given, dict):
        raise InvalidRequest("filter must be an object.")
    fields = {FILTER_FIELDS.get(name.lower(), name): value for name, value in given.items()}
    unknown = sorted(set(fields) - set(FILTER_FIELDS.values()))
    if unknown:
        raise InvalidRequest(f"Unknown filter field(s): {', '.join(unknown)}.")
    value = fields.get("basePartNumber") or ""
    if not isinstance(value, str):
        raise InvalidRequest("basePartNumber must be a string.")
    return value.strip()


def parse_filtered_query(raw: bytes) -> FilteredQuery:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise InvalidRequest("The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be an object.")
    return FilteredQuery(
        base_part_number=_base_part_filter(body.get("filter")),
        page=_positive_int(body, "page", 1, 2**31 - 1),
        page_size=_positive_int(body, "pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
    )


async def get_filtered(request: Request, state: EmulatorState) -> Response:
    try:
        query = parse_filtered_query(await request.body())
    except InvalidRequest as problem:
        return _refused(state, str(problem))
    products = state.catalog.products(query.base_part_number)
    total_pages = math.ceil(len(products) / query.page_size)
    if query.page > total_pages:
        return _nothing_found(state, "No records found.", total_pages)
    start = (query.page - 1) * query.page_size
    return _answer(products[start : start + query.page_size], total_pages)


def routes() -> list[Route]:
    return [
        Route(f"{API_ROOT}/product/getproduct", _gated(get_product), methods=["GET"]),
        Route(f"{API_ROOT}/product/getfiltered", _gated(get_filtered), methods=["POST"]),
    ]
