"""Xorosoft as a source: the CSV export read as a stream, and the REST client against the
emulator over real HTTP."""

import asyncio
import contextlib
import io
import itertools
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal

import httpx
import pytest

from cowans.config import Settings
from cowans.sources.records import RowError, SourceError, SourceErrorCode, XorosoftItem
from cowans.sources.xorosoft import (
    RequestRateLimiter,
    RetryPolicy,
    XorosoftClient,
    read_xorosoft_csv,
)
from tests.emulator.conftest import free_port
from tests.xorosoft_emulator.conftest import KEY, SAMPLE_CSV, SECRET, RunningEmulator, serving
from xorosoft_emulator.app import EmulatorOptions
from xorosoft_emulator.faults import Faults
from xorosoft_emulator.generate import generate_rows
from xorosoft_emulator.state import Credentials

HEADER = (
    "ItemNumber,BasePartNumber,Description,UnitPrice,QuantityOnHand,Location,"
    "UPC,VendorProductNumber"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def make_xorosoft() -> Iterator[Callable[..., RunningEmulator]]:
    """Start Xorosoft emulators (the sample export by default), stopped after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda *args, **kwargs: stack.enter_context(serving(*args, **kwargs))


@pytest.fixture
def xorosoft(make_xorosoft: Callable[..., RunningEmulator]) -> RunningEmulator:
    return make_xorosoft()


def _item(
    item_number: str,
    base: str,
    description: str,
    price: str,
    quantity: int,
    location: str = "MAIN",
    upc: str = "",
    vendor_product_number: str = "",
) -> XorosoftItem:
    return XorosoftItem(
        item_number,
        base,
        description,
        Decimal(price),
        quantity,
        location,
        upc,
        vendor_product_number,
    )


POST_IT = ("MMM654YW", "MMM654", "POST-IT NOTES 3X3 CANARY 12PK", "14.99")
HP_INK = ("HEWN9J92AN", "HEWN9J92", "HP 64XL BLACK INK", "39.49")
SAMPLE_ITEMS = [
    _item(*POST_IT, 120, "MAIN", "051131000000", "654-YW"),
    _item(*POST_IT, 35, "WEST", "051131000000", "654-YW"),
    _item(*HP_INK, 18, "MAIN", "889894000000", "N9J92AN"),
    _item("BIC-GSM609-BE", "BICGSM609", "BIC ROUND STIC BLUE 60BX", "11.25", 0),
    _item("PAP1927694", "PAP1927", "PAPERMATE FLAIR ASSORTED 12PK", "19.99", 44),
    _item("OBS-999", "OBS", "OBSOLETE ITEM NOT IN ETILIZE", "1.00", 5),
]


def _read(data: bytes) -> list[XorosoftItem | RowError]:
    return list(read_xorosoft_csv(io.BytesIO(data)))


# The CSV export ----------------------------------------------------------------------------------


def test_the_sample_export_reads_to_its_items() -> None:
    with SAMPLE_CSV.open("rb") as stream:
        records = list(read_xorosoft_csv(stream))
        assert not stream.closed  # the caller's stream stays theirs
    assert records == SAMPLE_ITEMS
    assert all(record.extra == {} for record in records if isinstance(record, XorosoftItem))


def test_an_export_without_a_bom_reads_the_same() -> None:
    data = SAMPLE_CSV.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert _read(data.removeprefix(b"\xef\xbb\xbf")) == SAMPLE_ITEMS


def test_extra_columns_are_kept_and_header_case_does_not_matter() -> None:
    data = (
        b" itemnumber ,BASEPARTNUMBER,Description,UnitPrice,QuantityOnHand,Location,Bin,"
        b"ProductCode\r\nMMM654YW,MMM654,POST-IT NOTES,14.99,120,MAIN,A-12,NOTES\r\n"
    )
    [item] = _read(data)
    assert item == _item("MMM654YW", "MMM654", "POST-IT NOTES", "14.99", 120)
    assert isinstance(item, XorosoftItem)
    assert item.extra == {"Bin": "A-12", "ProductCode": "NOTES"}


def test_bad_rows_are_reported_with_their_row_numbers_and_the_rest_is_read() -> None:
    lines = [
        HEADER,
        "GOOD-1,GOOD,FINE ITEM,2.50,3,MAIN,,",  # row 2
        ",NOPE,NO ITEM NUMBER,1.00,1,MAIN,,",
        "BAD-PRICE,B,X,$4.99,1,MAIN,,",
        "NEG-QTY,B,X,1.00,-2,MAIN,,",
        "HALF,B,X,1.00,1.5,MAIN,,",
        "NO-LOC,B,X,1.00,1,,,",
        "SHORT,B,X,1.00",
        "GOOD-1,GOOD,FINE ITEM,2.50,9,main,,",
        'MULTI,M,"TWO\nLINES",1.00,1,MAIN,,',  # row 10: one row, two lines
        "NAN,B,X,NaN,1e12,MAIN,,",
        "",
        "GOOD-2,GOOD,FINE ITEM,3.00,0,WEST,,",  # row 13: the blank line above was row 12
    ]
    records = _read("\n".join(lines).encode())
    assert records == [
        _item("GOOD-1", "GOOD", "FINE ITEM", "2.50", 3),
        RowError(3, "ItemNumber", "is empty"),
        RowError(4, "UnitPrice", "'$4.99' is not a number"),
        RowError(5, "QuantityOnHand", "-2 is negative"),
        RowError(6, "QuantityOnHand", "'1.5' is not a whole number"),
        RowError(7, "Location", "is empty"),
        RowError(8, "QuantityOnHand", "the row has 4 fields where the header has 8"),
        RowError(9, "Location", "GOOD-1 at main is on row 2 already"),
        _item("MULTI", "M", "TWO\nLINES", "1.00", 1),
        RowError(11, "UnitPrice", "'NaN' is not a price"),
        RowError(11, "QuantityOnHand", "1e12 is more than 1,000,000,000"),
        _item("GOOD-2", "GOOD", "FINE ITEM", "3.00", 0, "WEST"),
    ]


def test_a_field_that_is_not_utf8_fails_its_row_only() -> None:
    data = f"{HEADER}\nPAP1,PAP,PAPERMATE CAFÉ,1.00,1,MAIN,,\nOK-1,OK,FINE,1.00,1,MAIN,,\n"
    records = _read(data.encode("latin-1"))
    assert records == [
        RowError(2, "Description", "is not UTF-8 text (was the file saved as Latin-1?)"),
        _item("OK-1", "OK", "FINE", "1.00", 1),
    ]


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf\r\n", "empty"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00CowanOfficeSupplies.csv", "binary"),
        (b"\n" + HEADER.encode() + b"\n", "blank"),
        (b"Handle,Title,SKU,Vendor\nabc,Pens,P-1,BIC\n", "missing column(s) ItemNumber"),
        (b"ItemNumber,BasePartNumber,Description,UnitPrice\nA,B,C,1\n", "QuantityOnHand"),
        ((HEADER + ",Location\n").encode(), "Location appear more than once"),
        ("ItemNumbér,Café\n".encode("latin-1"), "not UTF-8"),
        (b"x" * (70 * 1024), "no line break"),
    ],
)
def test_what_is_not_the_export_is_refused_before_anything_is_yielded(
    data: bytes, complaint: str
) -> None:
    with pytest.raises(SourceError) as refused:
        read_xorosoft_csv(io.BytesIO(data))
    assert refused.value.code is SourceErrorCode.NOT_A_FEED
    assert complaint in refused.value.message


def test_a_csv_that_breaks_off_midway_is_refused_after_its_good_rows() -> None:
    data = f'{HEADER}\nOK-1,OK,FINE,1.00,1,MAIN,,\nX,"never closed{"z" * 200_000}\n'.encode()
    records = read_xorosoft_csv(io.BytesIO(data))
    assert next(records) == _item("OK-1", "OK", "FINE", "1.00", 1)
    with pytest.raises(SourceError, match="after row 2") as broken:
        next(records)
    assert broken.value.code is SourceErrorCode.NOT_A_FEED


class LargeExport(io.RawIOBase):
    """An export of millions of rows, made up as it is read, counting the bytes handed out."""

    def __init__(self, rows: int) -> None:
        super().__init__()
        header = (HEADER + "\r\n").encode()
        body = (f"ITEM{n},BASE{n},DESC {n},1.25,{n % 9},MAIN,,\r\n".encode() for n in range(rows))
        self._lines = itertools.chain([header], body)
        self._pending = b""
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        while len(self._pending) < len(buffer) and (line := next(self._lines, None)):
            self._pending += line
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.bytes_read += size
        return size


def test_the_export_is_read_as_a_stream_not_loaded_whole() -> None:
    source = LargeExport(rows=5_000_000)  # about 200 MB if it were read through
    records = read_xorosoft_csv(source)
    first = [next(records) for _ in range(1000)]
    assert first[999] == _item("ITEM999", "BASE999", "DESC 999", "1.25", 999 % 9)
    assert source.bytes_read < 1024 * 1024


# The REST client ---------------------------------------------------------------------------------


def _client(
    xorosoft: RunningEmulator,
    *,
    key: str = KEY,
    secret: str = SECRET,
    max_attempts: int = 6,
    max_seconds: float = 0.05,
    page_size: int = 500,
    pages_in_flight: int = 2,
    timeout_seconds: float = 30.0,
) -> XorosoftClient:
    """A client with short backoffs, so retries take milliseconds."""
    return XorosoftClient(
        xorosoft.api_url,
        key,
        secret,
        page_size=page_size,
        pages_in_flight=pages_in_flight,
        timeout_seconds=timeout_seconds,
        retry=RetryPolicy(max_attempts=max_attempts, base_seconds=0.01, max_seconds=max_seconds),
    )


async def _all_items(client: XorosoftClient, base_part_number: str = "") -> list[XorosoftItem]:
    async with client:
        return [item async for item in client.iter_items(base_part_number)]


def _options(faults: Faults | None = None, requests_per_second: int = 10) -> EmulatorOptions:
    return EmulatorOptions(
        credentials=Credentials(KEY, SECRET),
        faults=faults or Faults(),
        requests_per_second=requests_per_second,
    )


@pytest.mark.anyio
async def test_the_client_pages_through_what_the_csv_holds(xorosoft: RunningEmulator) -> None:
    client = _client(xorosoft, page_size=2)
    assert await _all_items(client) == SAMPLE_ITEMS
    assert client.stats.requests == 3  # five products, two a page
    assert xorosoft.counters()["requests"] == 3


@pytest.mark.anyio
async def test_a_large_catalog_comes_through_whole_without_a_single_429(
    make_xorosoft: Callable[..., RunningEmulator],
) -> None:
    xorosoft = make_xorosoft(generate_rows(300, seed=2))
    export = xorosoft.http.get(f"{xorosoft.base_url}/_emulator/export.csv").content
    from_csv = list(read_xorosoft_csv(io.BytesIO(export)))
    client = _client(xorosoft, page_size=8, pages_in_flight=4)
    assert await _all_items(client) == from_csv
    counters = xorosoft.counters()
    assert counters["requests"] > 10  # enough to break the limit if the client did not keep it
    assert counters.get("rate_limited", 0) == 0


@pytest.mark.anyio
async def test_the_client_reads_one_base_part(xorosoft: RunningEmulator) -> None:
    assert await _all_items(_client(xorosoft), "MMM654") == SAMPLE_ITEMS[:2]


@pytest.mark.anyio
async def test_stopping_early_leaves_no_page_request_behind(xorosoft: RunningEmulator) -> None:
    async with _client(xorosoft, page_size=1, pages_in_flight=2) as client:
        async with contextlib.aclosing(client.iter_items()) as items:
            first = await anext(items)
        pending = [task for task in asyncio.all_tasks() if "_filtered_page" in repr(task)]
    assert first == SAMPLE_ITEMS[0]
    assert client.stats.requests <= 3  # the first page and at most two fetched ahead
    assert pending == []


@pytest.mark.anyio
async def test_get_item_answers_each_location_or_nothing(xorosoft: RunningEmulator) -> None:
    async with _client(xorosoft) as client:
        assert await client.get_item("MMM654YW") == SAMPLE_ITEMS[:2]
        assert await client.get_item("bic-gsm609-be") == [SAMPLE_ITEMS[3]]
        assert await client.get_item("NOT-AN-ITEM") == []


@pytest.mark.anyio
async def test_a_stock_refresh_sees_changed_stock_and_prices(xorosoft: RunningEmulator) -> None:
    changes = [
        {"ItemNumber": "MMM654YW", "Location": "WEST", "QuantityOnHand": 7, "UnitPrice": 15.49},
        {"ItemNumber": "BIC-GSM609-BE", "Location": "EAST", "QuantityOnHand": 60},
    ]
    xorosoft.http.post(f"{xorosoft.base_url}/_emulator/items", json={"items": changes})
    async with _client(xorosoft) as client:
        post_it = await client.get_item("MMM654YW")
        pens = await client.get_item("BIC-GSM609-BE")
    assert [(item.location, item.quantity_on_hand, item.unit_price) for item in post_it] == [
        ("MAIN", 120, Decimal("15.49")),
        ("WEST", 7, Decimal("15.49")),
    ]
    assert [(item.location, item.quantity_on_hand) for item in pens] == [("MAIN", 0), ("EAST", 60)]


@pytest.mark.anyio
async def test_a_variant_that_breaks_the_rules_is_skipped_and_logged(
    xorosoft: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    change = {"ItemNumber": "OBS-999", "Location": "MAIN", "QuantityOnHand": -4}
    xorosoft.http.post(f"{xorosoft.base_url}/_emulator/items", json={"items": [change]})
    client = _client(xorosoft)
    with caplog.at_level(logging.WARNING, logger="cowans.sources.xorosoft"):
        assert await _all_items(client) == SAMPLE_ITEMS[:5]
    assert client.stats.rejected_variants == 1
    assert "OBS-999" in caplog.text
    assert "QuantityOnHand -4 is negative" in caplog.text


@pytest.mark.anyio
async def test_5xx_answers_are_retried_until_everything_is_read(
    make_xorosoft: Callable[..., RunningEmulator], caplog: pytest.LogCaptureFixture
) -> None:
    xorosoft = make_xorosoft(options=_options(Faults(http_5xx=0.3, seed=1)))
    client = _client(xorosoft, page_size=1)
    with caplog.at_level(logging.DEBUG):
        assert await _all_items(client) == SAMPLE_ITEMS
    faults = xorosoft.counters()["faults_5xx"]
    assert faults > 0
    assert sum(client.stats.retries.values()) == faults
    assert KEY not in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.anyio
async def test_a_server_that_keeps_failing_is_given_up_after_bounded_attempts(
    make_xorosoft: Callable[..., RunningEmulator],
) -> None:
    xorosoft = make_xorosoft(options=_options(Faults(http_5xx=1.0)))
    with pytest.raises(SourceError) as failed:
        await _all_items(_client(xorosoft, max_attempts=3))
    assert failed.value.code is SourceErrorCode.TRANSFER_FAILED
    assert "failed 3 times" in failed.value.message
    assert xorosoft.counters()["requests"] == 3


@pytest.mark.anyio
async def test_429_answers_are_waited_out(
    make_xorosoft: Callable[..., RunningEmulator],
) -> None:
    xorosoft = make_xorosoft(options=_options(requests_per_second=2))  # stricter than the client
    client = _client(xorosoft, page_size=1, max_seconds=2.0)
    assert await _all_items(client) == SAMPLE_ITEMS
    assert xorosoft.counters()["rate_limited"] > 0
    assert client.stats.retries["HTTP 429"] == xorosoft.counters()["rate_limited"]


@pytest.mark.anyio
async def test_wrong_credentials_fail_at_once_without_showing_them(
    xorosoft: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_secret = "wrong-secret-5c4b3a"
    client = _client(xorosoft, secret=wrong_secret)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as refused:
        await _all_items(client)
    assert refused.value.code is SourceErrorCode.AUTH_FAILED
    assert "XOROSOFT_API_SECRET" in refused.value.message
    for secret in (KEY, wrong_secret):
        assert secret not in str(refused.value)
        assert secret not in caplog.text
    assert xorosoft.counters()["unauthorized"] == 1  # not retried


@pytest.mark.anyio
async def test_timeouts_are_retried_then_given_up(
    make_xorosoft: Callable[..., RunningEmulator],
) -> None:
    xorosoft = make_xorosoft(options=_options(Faults(latency_ms=(500, 500))))
    client = _client(xorosoft, max_attempts=2, timeout_seconds=0.05)
    with pytest.raises(SourceError, match="failed 2 times") as failed:
        await _all_items(client)
    assert failed.value.code is SourceErrorCode.TRANSFER_FAILED
    assert "timeout" in failed.value.message
    assert client.stats.retries["timeout"] == 1


@pytest.mark.anyio
async def test_an_unreachable_server_is_a_transfer_failure() -> None:
    retry = RetryPolicy(max_attempts=3, base_seconds=0.01, max_seconds=0.02)
    url = f"http://127.0.0.1:{free_port()}/api/xerp"
    with pytest.raises(SourceError) as failed:
        async with XorosoftClient(url, KEY, SECRET, retry=retry) as client:
            await client.get_item("MMM654YW")
    assert failed.value.code is SourceErrorCode.TRANSFER_FAILED
    assert "connection error" in failed.value.message


@pytest.mark.parametrize(
    ("answer", "attempts", "complaint"),
    [
        (httpx.Response(200, json={"Result": True, "Data": {"a": 1}}), 1, "expected shape"),
        (httpx.Response(200, json=[{"Result": True}]), 1, "expected shape"),
        (httpx.Response(200, json={"Result": True, "Data": [{"Variants": 3}]}), 1, "shape"),
        (httpx.Response(400, json={"Result": False, "Message": "Bad filter"}), 1, "Bad filter"),
        (httpx.Response(404, text="<html>Not Found</html>"), 1, "HTTP 404"),
        (httpx.Response(200, text="<html>Down for maintenance</html>"), 3, "not JSON"),
    ],
)
@pytest.mark.anyio
async def test_answers_that_are_no_data_are_refused_and_retried_only_when_it_can_help(
    answer: httpx.Response, attempts: int, complaint: str
) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answer

    retry = RetryPolicy(max_attempts=3, base_seconds=0.001, max_seconds=0.002)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = XorosoftClient("https://erp.test/api/xerp", KEY, SECRET, retry=retry, http=http)
    async with http, client:
        with pytest.raises(SourceError, match=complaint) as refused:
            await client.get_item("MMM654YW")
    assert refused.value.code is SourceErrorCode.TRANSFER_FAILED
    assert len(requests) == attempts
    assert requests[0].url.path == "/api/xerp/product/getproduct"
    assert requests[0].headers["Authorization"].startswith("Basic ")


@pytest.mark.anyio
async def test_the_limiter_never_lets_more_requests_into_one_period() -> None:
    limiter = RequestRateLimiter(max_requests=3, period_seconds=0.2)
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def request() -> None:
        async with limiter.slot():
            starts.append(loop.time())
            await asyncio.sleep(0.01)

    await asyncio.gather(*(request() for _ in range(10)))
    starts.sort()
    assert all(later - earlier >= 0.2 for earlier, later in zip(starts, starts[3:], strict=False))


# Settings ----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_client_is_configured_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XOROSOFT_API_KEY", "env-key-4d3c")
    monkeypatch.setenv("XOROSOFT_API_SECRET", "env-secret-2b1a")
    monkeypatch.delenv("XOROSOFT_API_URL", raising=False)
    settings = Settings(_env_file=None)
    assert "env-key-4d3c" not in repr(settings)
    assert "env-secret-2b1a" not in repr(settings)
    async with XorosoftClient.from_settings(settings) as client:
        assert client.base_url == "https://res.xorosoft.io/api/xerp"


def test_a_client_without_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("XOROSOFT_API_KEY", "XOROSOFT_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SourceError, match="XOROSOFT_API_KEY") as refused:
        XorosoftClient.from_settings(Settings(_env_file=None))
    assert refused.value.code is SourceErrorCode.AUTH_FAILED
