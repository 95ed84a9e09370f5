"""Xorosoft, the ERP: where each item's price and its stock per location come from.

Two ways in, one result: `read_xorosoft_csv` streams the CSV export and `XorosoftClient` pages
the REST API. Both yield one `XorosoftItem` per item per location, checked by the same rules,
so an import does not care which way the data came.

The API key and secret are credentials: they go into the Authorization header and nowhere
else, never into a log line or an exception message.

This module and `xorosoft_columns`, the CSV export's fast reader, import each other: the column
reader calls this one's rules for every row it does not find plain.
"""

import asyncio
import codecs
import contextlib
import csv
import io
import json
import logging
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO, NamedTuple, TypeVar

import httpx

from cowans.backoff import RetryPolicy
from cowans.config import Settings
from cowans.sources import xorosoft_columns
from cowans.sources.csv_batches import columns_then_rows, position_to_return_to
from cowans.sources.records import RowError, SourceError, SourceErrorCode, XorosoftItem

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = (
    "ItemNumber",
    "BasePartNumber",
    "Description",
    "UnitPrice",
    "QuantityOnHand",
    "Location",
)
OPTIONAL_COLUMNS = ("UPC", "VendorProductNumber")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Without these an item cannot be priced or stocked; a base part or description may be missing.
NON_EMPTY_COLUMNS = ("ItemNumber", "UnitPrice", "QuantityOnHand", "Location")
# The widths of the columns these are kept in (xorosoft_items). PostgreSQL refuses a longer
# value, which would fail the whole import at its write; SQLite would keep it. Either way it is
# the row's error, the same on both.
STORED_WIDTHS = {"ItemNumber": 255, "BasePartNumber": 255, "UPC": 64, "VendorProductNumber": 255}
# Beyond any real stock and beyond what Shopify accepts: a typo or a unit mix-up.
MAX_QUANTITY = 1_000_000_000
# The file is judged on its first bytes before anything is yielded; any real header fits.
HEAD_BYTES = 64 * 1024
# Longest field of the export (its fields are codes, prices and short descriptions). csv's
# limit is process-wide and the Etilize reader sets a larger one: each reader sets its own.
MAX_FIELD_CHARS = 64 * 1024
# Kept in `extra` from API answers: fields the export has no column for.
PRODUCT_EXTRA_FIELDS = ("Title", "Handle")
VARIANT_EXTRA_FIELDS = ("ProductCode",)

T = TypeVar("T")


# Checking one item, from either source --------------------------------------------------------


class FieldProblem(NamedTuple):
    column: str
    reason: str


def _price(text: str) -> Decimal:
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not price.is_finite():
        raise ValueError(f"{text!r} is not a price")
    if price < 0:
        raise ValueError(f"{text} is negative")
    return price


def _quantity(text: str) -> int:
    try:
        quantity = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not quantity.is_finite() or quantity != quantity.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number")
    if quantity < 0:
        raise ValueError(f"{text} is negative")
    if quantity > MAX_QUANTITY:
        raise ValueError(f"{text} is more than {MAX_QUANTITY:,}")
    return int(quantity)


def _parsed(
    fields: Mapping[str, str],
    column: str,
    parse: Callable[[str], T],
    problems: list[FieldProblem],
) -> T | None:
    """The parsed value, or None with the reason added to problems (an empty field was
    reported already)."""
    text = fields.get(column, "")
    if not text:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        problems.append(FieldProblem(column, str(exc)))
        return None


def _parse_item(
    fields: Mapping[str, str], extra: dict[str, str]
) -> XorosoftItem | list[FieldProblem]:
    """The item, or every problem of its fields at once, so a person fixes a row in one go."""
    problems = [
        FieldProblem(name, "is empty") for name in NON_EMPTY_COLUMNS if not fields.get(name)
    ]
    problems += [
        FieldProblem(name, f"is longer than {limit} characters")
        for name, limit in STORED_WIDTHS.items()
        if len(fields.get(name, "")) > limit
    ]
    price = _parsed(fields, "UnitPrice", _price, problems)
    quantity = _parsed(fields, "QuantityOnHand", _quantity, problems)
    if problems or price is None or quantity is None:
        return problems
    return XorosoftItem(
        item_number=fields["ItemNumber"],
        base_part_number=fields.get("BasePartNumber", ""),
        description=fields.get("Description", ""),
        unit_price=price,
        quantity_on_hand=quantity,
        location=fields["Location"],
        upc=fields.get("UPC", ""),
        vendor_product_number=fields.get("VendorProductNumber", ""),
        extra=extra,
    )


# The CSV export ---------------------------------------------------------------------------------


class _Replayed(io.RawIOBase):
    """The stream from its start again, after its first bytes were read to judge it. Closing
    this leaves the caller's stream open: it is theirs."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _not_a_feed(reason: str) -> SourceError:
    return SourceError(SourceErrorCode.NOT_A_FEED, f"Not a Xorosoft CSV export: {reason}")


def _read_head(stream: BinaryIO) -> bytes:
    """Up to HEAD_BYTES, even from a stream that hands out less per read (a socket, a zip)."""
    chunks: list[bytes] = []
    size = 0
    while size < HEAD_BYTES and (chunk := stream.read(HEAD_BYTES - size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _judge_head(head: bytes) -> None:
    """Refuse what is plainly no CSV, without reading further than the head."""
    if not head.removeprefix(codecs.BOM_UTF8).strip():
        raise _not_a_feed("the file is empty")
    if b"\x00" in head:
        raise _not_a_feed("the file is binary (a zip or a spreadsheet?), not CSV text")
    if len(head) == HEAD_BYTES and b"\n" not in head and b"\r" not in head:
        raise _not_a_feed(f"no line break in the first {HEAD_BYTES // 1024} KiB")


def _is_utf8(text: str) -> bool:
    """Undecodable bytes were kept as lone surrogates, which cannot be encoded back."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _canonical_column(name: str) -> str:
    """Known columns whatever their case or surrounding spaces; others as written, trimmed."""
    trimmed = name.strip()
    return next((known for known in KNOWN_COLUMNS if known.lower() == trimmed.lower()), trimmed)


def _header(rows: Iterator[list[str]]) -> list[str]:
    try:
        names = next(rows, [])
    except csv.Error as exc:
        raise _not_a_feed(f"the header is not CSV ({exc})") from None
    if not any(name.strip() for name in names):
        raise _not_a_feed("the first line is blank where the header should be")
    if not _is_utf8("".join(names)):
        raise _not_a_feed("the header is not UTF-8 text")
    header = [_canonical_column(name) for name in names]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        found = ", ".join(name for name in header[:10] if name)
        raise _not_a_feed(f"missing column(s) {', '.join(missing)} (the header has {found})")
    repeated = sorted({column for column in KNOWN_COLUMNS if header.count(column) > 1})
    if repeated:
        raise _not_a_feed(f"the column(s) {', '.join(repeated)} appear more than once")
    return header


def _field_count_error(row_number: int, values: list[str], header: list[str]) -> RowError:
    column = header[len(values)] if len(values) < len(header) else ""
    reason = f"the row has {len(values)} fields where the header has {len(header)}"
    return RowError(row_number, column, reason)


def _undecodable_fields(row_number: int, fields: Mapping[str, str]) -> list[RowError]:
    if _is_utf8("".join(fields.values())):  # one check for the usual, clean row
        return []
    return [
        RowError(row_number, name, "is not UTF-8 text (was the file saved as Latin-1?)")
        for name, value in fields.items()
        if not _is_utf8(value)
    ]


class SeenRows:
    """The row each (item, location) came first on, to refuse a second row of it: memory
    that grows with the export, so kept small. Items are keyed per location (an export has a
    handful): a key per row is one string, not a tuple and a copy of the location's name, which
    halves it (some 50 MB at 470,000 rows)."""

    def __init__(self) -> None:
        self._by_location: dict[str, dict[str, int]] = {}

    def first_row(self, item: XorosoftItem, row_number: int) -> int:
        """The row `item`'s (item number, location) came first on: `row_number` if it is new."""
        location = item.location.upper()
        items = self._by_location.get(location)
        if items is None:
            items = self._by_location[location] = {}
        return items.setdefault(item.item_number.upper(), row_number)


def _duplicate(item: XorosoftItem, row_number: int, seen: SeenRows) -> RowError | None:
    """Two rows for one item at one location would make its stock ambiguous: the first wins."""
    first = seen.first_row(item, row_number)
    if first == row_number:
        return None
    reason = f"{item.item_number} at {item.location} is on row {first} already"
    return RowError(row_number, "Location", reason)


def _row_records(
    row_number: int,
    values: list[str],
    header: list[str],
    seen: SeenRows,
) -> list[XorosoftItem | RowError]:
    if len(values) != len(header):
        return [_field_count_error(row_number, values, header)]
    fields = {name: value.strip() for name, value in zip(header, values, strict=True) if name}
    garbled = _undecodable_fields(row_number, fields)
    if garbled:
        return list(garbled)
    extra = {name: value for name, value in fields.items() if name not in KNOWN_COLUMNS}
    parsed = _parse_item(fields, extra)
    if isinstance(parsed, list):
        return [RowError(row_number, problem.column, problem.reason) for problem in parsed]
    duplicate = _duplicate(parsed, row_number, seen)
    return [duplicate or parsed]


def _records(rows: Iterator[list[str]], header: list[str]) -> Iterator[XorosoftItem | RowError]:
    """Only the (item, location) pairs are remembered, to catch duplicates; never the rows."""
    seen = SeenRows()
    row_number = 1
    try:
        for row_number, values in enumerate(rows, start=2):
            if any(value.strip() for value in values):  # a blank line is no row to report
                yield from _row_records(row_number, values, header, seen)
    except csv.Error as exc:
        reason = f"the CSV breaks off after row {row_number} ({exc})"
        raise SourceError(SourceErrorCode.NOT_A_FEED, reason) from None


def read_xorosoft_csv(stream: BinaryIO) -> Iterator[XorosoftItem | RowError]:
    """Items and row errors, one at a time, in file order; row numbers as a spreadsheet shows
    them (the header is row 1).

    The file is judged before this returns: what is not the export at all (empty, binary,
    wrong columns) raises SourceError(NOT_A_FEED), so nothing of it is ever yielded. A bad
    row is a RowError and the rows after it are still read. The stream is read as the items
    are consumed, never whole, and is left open.

    A stream that can go back to its start is read by the column reader (`xorosoft_columns`),
    which yields the same records several times faster and hands the file to this module's
    careful reader at anything it cannot read exactly as it does.
    """
    start = position_to_return_to(stream)
    rows, header = _open_export(stream)
    if start is None:
        return _records(rows, header)
    return _columns_then_rows(stream, start, header)


def _open_export(stream: BinaryIO) -> tuple[Iterator[list[str]], list[str]]:
    """The careful reader, past the header; SourceError when the file is not the export."""
    head = _read_head(stream)
    _judge_head(head)
    csv.field_size_limit(MAX_FIELD_CHARS)
    text = io.TextIOWrapper(
        io.BufferedReader(_Replayed(head, stream)),
        encoding="utf-8-sig",  # takes the BOM off when there is one
        errors="surrogateescape",  # a bad byte fails its field, not the file
        newline="",
    )
    rows = csv.reader(text)
    return rows, _header(rows)


def _columns_then_rows(
    stream: BinaryIO, start: int, header: list[str]
) -> Iterator[XorosoftItem | RowError]:
    """The column reader's records, and the careful reader's after a hand-over (which reads
    the file again from the start)."""

    def careful() -> Iterator[XorosoftItem | RowError]:
        stream.seek(start)
        rows, header = _open_export(stream)
        return _records(rows, header)

    stream.seek(start)
    return columns_then_rows(xorosoft_columns.read_columns(stream, header), careful)


# The REST API -----------------------------------------------------------------------------------


class RequestRateLimiter:
    """At most `max_requests` in any `period_seconds`, as the server counts them.

    Xorosoft counts a request when it arrives: some time after it is sent, before its answer
    is back. So a slot is held from sending until a full period after the answer; then no
    `max_requests + 1` arrivals can fall within one period however the network delays them,
    and no safety margin has to be guessed from latencies.
    """

    def __init__(self, max_requests: int = 10, period_seconds: float = 1.0) -> None:
        self.period_seconds = period_seconds
        self._slots = asyncio.Semaphore(max_requests)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self._slots.acquire()
        try:
            yield
        finally:
            asyncio.get_running_loop().call_later(self.period_seconds, self._slots.release)


@dataclass
class ClientStats:
    requests: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    rejected_variants: int = 0


class _Retryable(Exception):
    def __init__(self, cause: str, wait: float = 0.0) -> None:
        super().__init__(cause)
        self.cause = cause
        self.wait = wait


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _message(body: Any) -> str:
    message = body.get("Message") if isinstance(body, dict) else None
    return str(message)[:300] if message else "no message"


def _json_body(response: httpx.Response, what: str) -> dict[str, Any]:
    """The answer's JSON, prices as Decimal so no cent is lost to a float."""
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        body = None
    if response.status_code != httpx.codes.OK:  # a 4xx: sending it again cannot help
        reason = f"Xorosoft refused {what} (HTTP {response.status_code}): {_message(body)}"
        raise SourceError(SourceErrorCode.TRANSFER_FAILED, reason)
    if body is None:  # a proxy's or a maintenance page: worth another try
        raise _Retryable("an answer that is not JSON")
    if not isinstance(body, dict):
        raise _unexpected_shape(what)
    return body


def _checked_body(response: httpx.Response, what: str) -> dict[str, Any]:
    """Sort an answer into data, a failure worth retrying, or one that retrying cannot fix."""
    status = response.status_code
    if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
        reason = (
            f"Xorosoft refused the API key and secret (HTTP {status}): "
            "check XOROSOFT_API_KEY and XOROSOFT_API_SECRET"
        )
        raise SourceError(SourceErrorCode.AUTH_FAILED, reason)
    if status == httpx.codes.TOO_MANY_REQUESTS:
        raise _Retryable("HTTP 429", _retry_after(response))
    if status >= httpx.codes.INTERNAL_SERVER_ERROR:
        raise _Retryable(f"HTTP {status}")
    return _json_body(response, what)


def _unexpected_shape(what: str) -> SourceError:
    reason = f"Xorosoft's answer to {what} is not in the expected shape; check XOROSOFT_API_URL"
    return SourceError(SourceErrorCode.TRANSFER_FAILED, reason)


def _objects(value: Any, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise _unexpected_shape(what)
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _variant_fields(product: dict[str, Any], variant: dict[str, Any]) -> dict[str, str]:
    """A variant in the export's column names; its product fills in what it leaves out."""
    return {
        "ItemNumber": _text(variant.get("ItemNumber")),
        "BasePartNumber": _text(variant.get("BasePartNumber") or product.get("BasePartNumber")),
        "Description": _text(variant.get("Description") or product.get("Title")),
        "UnitPrice": _text(variant.get("UnitPrice")),
        "QuantityOnHand": _text(variant.get("QuantityOnHand")),
        "Location": _text(variant.get("Location")),
        "UPC": _text(variant.get("UPC")),
        "VendorProductNumber": _text(variant.get("VendorProductNumber")),
    }


def _variant_extra(product: dict[str, Any], variant: dict[str, Any]) -> dict[str, str]:
    given = {name: _text(product.get(name)) for name in PRODUCT_EXTRA_FIELDS}
    given |= {name: _text(variant.get(name)) for name in VARIANT_EXTRA_FIELDS}
    return {name: value for name, value in given.items() if value}


def _total_pages(body: dict[str, Any], what: str) -> int:
    total = body.get("TotalPages", 0)
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise _unexpected_shape(what)
    return total


class XorosoftClient:
    """Xorosoft's product endpoints, read politely.

    - at most 10 requests per second, counted the way the server counts them (see
      RequestRateLimiter), shared by every request of this client;
    - 5xx, 429, timeouts and dropped connections are retried with exponential backoff and full
      jitter, `retry.max_attempts` times in all, then SourceError(TRANSFER_FAILED);
    - 401/403 raise SourceError(AUTH_FAILED) at once: the same credentials will not do better.
    A variant that breaks the export's rules is skipped and logged, like a row error.
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        secret: str,
        *,
        page_size: int = 500,
        pages_in_flight: int = 2,
        timeout_seconds: float = 30.0,
        retry: RetryPolicy | None = None,
        limiter: RequestRateLimiter | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.pages_in_flight = max(1, pages_in_flight)
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RequestRateLimiter()
        self.stats = ClientStats()
        self._auth = httpx.BasicAuth(key, secret)
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds))

    @classmethod
    def from_settings(cls, settings: Settings) -> "XorosoftClient":
        key = settings.xorosoft_api_key.get_secret_value()
        secret = settings.xorosoft_api_secret.get_secret_value()
        if not key or not secret:
            reason = "XOROSOFT_API_KEY and XOROSOFT_API_SECRET must both be set"
            raise SourceError(SourceErrorCode.AUTH_FAILED, reason)
        return cls(settings.xorosoft_api_url, key, secret)

    async def __aenter__(self) -> "XorosoftClient":
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def get_item(self, item_number: str) -> list[XorosoftItem]:
        """The item at each of its locations; empty when Xorosoft does not know it."""
        what = f"getproduct {item_number}"
        body = await self._request(
            what, "GET", "product/getproduct", params={"ItemNumber": item_number}
        )
        wanted = item_number.strip().upper()
        return [item for item in self._items(body, what) if item.item_number.upper() == wanted]

    async def iter_items(self, base_part_number: str = "") -> AsyncIterator[XorosoftItem]:
        """Every item at every location (or one base part's), in Xorosoft's order."""
        # Closed explicitly, so a caller who stops early stops the pages fetched ahead now,
        # not whenever the garbage collector gets to them (the HTTP client may be closed then).
        async with contextlib.aclosing(self._pages(base_part_number)) as pages:
            async for page, body in pages:
                for item in self._items(body, f"getfiltered page {page}"):
                    yield item

    async def _pages(self, base_part_number: str) -> AsyncIterator[tuple[int, dict[str, Any]]]:
        """Page answers in order. The page count is the first answer's; the next pages are
        already on their way while the caller works through the current one."""
        first = await self._filtered_page(base_part_number, 1)
        remaining = iter(range(2, _total_pages(first, "getfiltered page 1") + 1))
        ahead: deque[tuple[int, asyncio.Task[dict[str, Any]]]] = deque()
        try:
            self._top_up(ahead, remaining, base_part_number)
            yield 1, first
            while ahead:
                page, task = ahead.popleft()
                body = await task
                self._top_up(ahead, remaining, base_part_number)
                yield page, body
        finally:
            for _page, task in ahead:
                task.cancel()
            await asyncio.gather(*(task for _page, task in ahead), return_exceptions=True)

    def _top_up(
        self,
        ahead: deque[tuple[int, asyncio.Task[dict[str, Any]]]],
        remaining: Iterator[int],
        base_part_number: str,
    ) -> None:
        """Keep `pages_in_flight` page requests going (the rate limiter still paces them)."""
        while len(ahead) < self.pages_in_flight and (page := next(remaining, None)) is not None:
            ahead.append((page, asyncio.create_task(self._filtered_page(base_part_number, page))))

    async def _filtered_page(self, base_part_number: str, page: int) -> dict[str, Any]:
        payload = {
            "filter": {"basePartNumber": base_part_number} if base_part_number else {},
            "page": page,
            "pageSize": self.page_size,
        }
        return await self._request(
            f"getfiltered page {page}", "POST", "product/getfiltered", payload=payload
        )

    def _items(self, body: dict[str, Any], what: str) -> Iterator[XorosoftItem]:
        if not body.get("Result"):  # how Xorosoft says it found nothing
            return
        for product in _objects(body.get("Data"), what):
            for variant in _objects(product.get("Variants"), what):
                parsed = _parse_item(
                    _variant_fields(product, variant), _variant_extra(product, variant)
                )
                if isinstance(parsed, XorosoftItem):
                    yield parsed
                else:
                    self._reject(variant, parsed)

    def _reject(self, variant: dict[str, Any], problems: list[FieldProblem]) -> None:
        self.stats.rejected_variants += 1
        reasons = "; ".join(f"{problem.column} {problem.reason}" for problem in problems)
        logger.warning("skipped Xorosoft item %r: %s", _text(variant.get("ItemNumber")), reasons)

    async def _request(
        self,
        what: str,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        failures = 0
        while True:
            try:
                return await self._attempt(what, method, path, params, payload)
            except _Retryable as retryable:
                failures += 1
                if failures >= self.retry.max_attempts:
                    reason = f"Xorosoft {what} failed {failures} times (last: {retryable.cause})"
                    raise SourceError(SourceErrorCode.TRANSFER_FAILED, reason) from None
                self.stats.retries[retryable.cause] += 1
                wait = min(max(retryable.wait, self.retry.delay(failures)), self.retry.max_seconds)
                logger.info("retrying Xorosoft %s after %s in %.2fs", what, retryable.cause, wait)
                await asyncio.sleep(wait)

    async def _attempt(
        self,
        what: str,
        method: str,
        path: str,
        params: dict[str, str] | None,
        payload: dict[str, Any] | None,
    ) -> dict[str, Any]:
        async with self.limiter.slot():
            self.stats.requests += 1
            try:
                response = await self.http.request(
                    method, f"{self.base_url}/{path}", params=params, json=payload, auth=self._auth
                )
            except httpx.TimeoutException:
                raise _Retryable("timeout") from None
            except httpx.TransportError as exc:
                raise _Retryable(f"connection error ({type(exc).__name__})") from None
        return _checked_body(response, what)
