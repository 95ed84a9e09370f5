"""The Xorosoft emulator over real HTTP: endpoints, auth, rate limit, faults, side door, CLI."""

import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator.conftest import free_port
from tests.xorosoft_emulator.conftest import (
    AUTH,
    KEY,
    SAMPLE_CSV,
    FakeClock,
    RunningEmulator,
)
from xorosoft_emulator.app import EmulatorOptions
from xorosoft_emulator.export import ExportError, read_export
from xorosoft_emulator.faults import Faults
from xorosoft_emulator.generate import generate_rows
from xorosoft_emulator.state import DEV_KEY, DEV_SECRET, Credentials

STARTUP_SECONDS = 30
SAMPLE_ITEMS = {"MMM654YW", "HEWN9J92AN", "BIC-GSM609-BE", "PAP1927694", "OBS-999"}


def _variants(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["Result"] is True, body
    return [variant for product in body["Data"] for variant in product["Variants"]]


# Products ---------------------------------------------------------------------------------------


def test_getproduct_answers_the_item_at_each_location(emulator: RunningEmulator) -> None:
    body = emulator.get_product("MMM654YW").json()
    assert body["Result"] is True
    assert body["TotalPages"] == 1
    [product] = body["Data"]
    assert product["BasePartNumber"] == "MMM654"
    assert product["Title"] == "POST-IT NOTES 3X3 CANARY 12PK"
    assert product["Handle"] == "post-it-notes-3x3-canary-12pk"
    assert product["Variants"] == [
        {
            "ItemNumber": "MMM654YW",
            "Description": "POST-IT NOTES 3X3 CANARY 12PK",
            "UnitPrice": 14.99,
            "VendorProductNumber": "654-YW",
            "UPC": "051131000000",
            "ProductCode": "",
            "QuantityOnHand": quantity,
            "Location": location,
        }
        for location, quantity in (("MAIN", 120), ("WEST", 35))
    ]


def test_getproduct_matches_item_numbers_in_any_case(emulator: RunningEmulator) -> None:
    [variant] = _variants(emulator.get_product("bic-gsm609-be"))
    assert variant["ItemNumber"] == "BIC-GSM609-BE"
    assert variant["QuantityOnHand"] == 0


def test_an_unknown_item_is_result_false_with_a_message(emulator: RunningEmulator) -> None:
    response = emulator.get_product("NOPE-1")
    assert response.status_code == 200
    body = response.json()
    assert body["Result"] is False
    assert "NOPE-1" in body["Message"]
    assert body["Data"] == []
    assert emulator.counters()["not_found"] == 1


def test_getproduct_without_an_item_number_is_refused(emulator: RunningEmulator) -> None:
    response = emulator.http.get(f"{emulator.api_url}/product/getproduct", auth=AUTH)
    assert response.status_code == 400
    assert response.json()["Result"] is False
    assert "ItemNumber" in response.json()["Message"]


def test_an_empty_filter_pages_through_every_product_once(emulator: RunningEmulator) -> None:
    pages = [
        emulator.get_filtered({"filter": {}, "page": page, "pageSize": 2}) for page in (1, 2, 3)
    ]
    bodies = [page.json() for page in pages]
    assert [body["TotalPages"] for body in bodies] == [3, 3, 3]
    assert [len(body["Data"]) for body in bodies] == [2, 2, 1]
    items = [variant["ItemNumber"] for page in pages for variant in _variants(page)]
    assert items == [
        "MMM654YW",
        "MMM654YW",
        "HEWN9J92AN",
        "BIC-GSM609-BE",
        "PAP1927694",
        "OBS-999",
    ]
    beyond = emulator.get_filtered({"filter": {}, "page": 4, "pageSize": 2}).json()
    assert beyond["Result"] is False
    assert beyond["Message"]


def test_defaults_serve_everything_on_one_page(emulator: RunningEmulator) -> None:
    response = emulator.get_filtered({})
    assert response.json()["TotalPages"] == 1
    assert {variant["ItemNumber"] for variant in _variants(response)} == SAMPLE_ITEMS


def test_a_base_part_filter_answers_that_product_only(emulator: RunningEmulator) -> None:
    response = emulator.get_filtered({"filter": {"BasePartNumber": "mmm654"}, "page": 1})
    assert [product["BasePartNumber"] for product in response.json()["Data"]] == ["MMM654"]
    assert [variant["Location"] for variant in _variants(response)] == ["MAIN", "WEST"]
    nothing = emulator.get_filtered({"filter": {"basePartNumber": "ZZZ"}}).json()
    assert nothing["Result"] is False


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "object"),
        (b'{"pageSize": 0}', "pageSize"),
        (b'{"pageSize": 5000}', "pageSize"),
        (b'{"page": "1"}', "page"),
        (b'{"filter": "MMM654"}', "filter"),
        (b'{"filter": {"sku": "MMM654YW"}}', "sku"),
        (b'{"filter": {"basePartNumber": 654}}', "basePartNumber"),
    ],
)
def test_an_invalid_request_is_refused_with_result_false(
    emulator: RunningEmulator, body: bytes, complaint: str
) -> None:
    response = emulator.http.post(
        f"{emulator.api_url}/product/getfiltered", content=body, auth=AUTH
    )
    assert response.status_code == 400
    assert response.json()["Result"] is False
    assert complaint in response.json()["Message"]


# Auth, rate limit, faults -------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, (KEY, "wrong-secret"), ("wrong-key", AUTH[1])])
def test_requests_without_the_right_key_and_secret_get_401(
    emulator: RunningEmulator, auth: tuple[str, str] | None
) -> None:
    response = emulator.get_product("MMM654YW", auth=auth)
    assert response.status_code == 401
    assert response.json()["Result"] is False
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert emulator.counters()["unauthorized"] == 1


def test_a_malformed_authorization_header_gets_401(emulator: RunningEmulator) -> None:
    for header in ("Basic !!!not-base64", "Bearer abc", ""):
        response = emulator.http.get(
            f"{emulator.api_url}/product/getproduct",
            params={"ItemNumber": "MMM654YW"},
            headers={"Authorization": header},
        )
        assert response.status_code == 401


def test_more_than_ten_requests_in_a_second_get_429(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    clock = FakeClock()
    emulator = make_emulator(options=EmulatorOptions(credentials=Credentials(*AUTH), clock=clock))
    statuses = [emulator.get_product("MMM654YW").status_code for _ in range(10)]
    assert statuses == [200] * 10
    clock.advance(0.5)
    refused = emulator.get_product("MMM654YW")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["Result"] is False
    clock.advance(0.5)  # the first ten leave the window
    assert emulator.get_product("MMM654YW").status_code == 200
    assert emulator.counters()["rate_limited"] == 1


def test_a_certain_5xx_fault_fails_every_request(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    options = EmulatorOptions(credentials=Credentials(*AUTH), faults=Faults(http_5xx=1.0))
    emulator = make_emulator(options=options)
    statuses = [emulator.get_product("MMM654YW").status_code for _ in range(5)]
    assert all(status in (500, 502, 503) for status in statuses)
    assert emulator.counters()["faults_5xx"] == 5


def test_faults_repeat_for_the_same_seed() -> None:
    first, second, other = (Faults(http_5xx=0.5, seed=seed) for seed in (7, 7, 8))
    rolls = [[faults.fails() for _ in range(40)] for faults in (first, second, other)]
    assert rolls[0] == rolls[1]
    assert rolls[0] != rolls[2]
    assert 0 < sum(rolls[0]) < 40


def test_latency_is_drawn_within_its_bounds() -> None:
    faults = Faults(latency_ms=(5, 9), seed=3)
    delays = [faults.latency_seconds() for _ in range(50)]
    assert all(0.005 <= delay <= 0.009 for delay in delays)
    assert len(set(delays)) > 1
    assert Faults().latency_seconds() == 0.0


# Side door ---------------------------------------------------------------------------------------


def test_the_side_door_lists_every_stock_row(emulator: RunningEmulator) -> None:
    body = emulator.http.get(f"{emulator.base_url}/_emulator/items").json()
    assert body["item_count"] == 5
    assert body["rows"] == 6
    assert body["items"][1] == {
        "BasePartNumber": "MMM654",
        "ItemNumber": "MMM654YW",
        "Description": "POST-IT NOTES 3X3 CANARY 12PK",
        "UnitPrice": "14.99",
        "VendorProductNumber": "654-YW",
        "UPC": "051131000000",
        "ProductCode": "",
        "QuantityOnHand": 35,
        "Location": "WEST",
    }


def _update(emulator: RunningEmulator, *items: dict[str, Any]) -> httpx.Response:
    return emulator.http.post(f"{emulator.base_url}/_emulator/items", json={"items": list(items)})


def test_stock_and_price_changes_are_served(emulator: RunningEmulator) -> None:
    response = _update(
        emulator,
        {"ItemNumber": "MMM654YW", "Location": "WEST", "QuantityOnHand": 7},
        {"ItemNumber": "MMM654YW", "UnitPrice": "15.49"},
        {"ItemNumber": "BIC-GSM609-BE", "Location": "EAST", "QuantityOnHand": 12},
    )
    assert response.json() == {"updated": 3}
    post_it = _variants(emulator.get_product("MMM654YW"))
    assert [(v["Location"], v["QuantityOnHand"], v["UnitPrice"]) for v in post_it] == [
        ("MAIN", 120, 15.49),
        ("WEST", 7, 15.49),
    ]
    pens = _variants(emulator.get_product("BIC-GSM609-BE"))
    assert [(v["Location"], v["QuantityOnHand"]) for v in pens] == [("MAIN", 0), ("EAST", 12)]


@pytest.mark.parametrize(
    ("update", "status", "complaint"),
    [
        ({"ItemNumber": "NOPE-1", "UnitPrice": 1}, 404, "unknown item"),
        ({"ItemNumber": "MMM654YW", "QuantityOnHand": 3}, 422, "needs the Location"),
        ({"ItemNumber": "MMM654YW", "UnitPrice": "-1"}, 422, "UnitPrice"),
        ({"ItemNumber": "MMM654YW", "UnitPrice": True}, 422, "UnitPrice"),
        ({"ItemNumber": "MMM654YW", "Location": "MAIN", "QuantityOnHand": 1.5}, 422, "whole"),
        ({"ItemNumber": "MMM654YW", "Colour": "red"}, 422, "Colour"),
        ({"ItemNumber": "MMM654YW", "Location": "EAST"}, 404, "not stocked at EAST"),
        ({"UnitPrice": 1}, 422, "ItemNumber"),
    ],
)
def test_a_bad_update_changes_nothing(
    emulator: RunningEmulator, update: dict[str, Any], status: int, complaint: str
) -> None:
    good = {"ItemNumber": "MMM654YW", "Location": "MAIN", "QuantityOnHand": 1}
    response = _update(emulator, good, update)
    assert response.status_code == status
    assert complaint in response.text
    assert emulator.catalog.item_rows("MMM654YW")[0].quantity_on_hand == 120


def test_an_update_body_must_list_items(emulator: RunningEmulator) -> None:
    url = f"{emulator.base_url}/_emulator/items"
    assert emulator.http.post(url, content=b"nope").status_code == 400
    assert emulator.http.post(url, json={"ItemNumber": "MMM654YW"}).status_code == 400


def test_counters_count_and_clear(emulator: RunningEmulator) -> None:
    emulator.get_product("MMM654YW")
    emulator.get_product("MMM654YW", auth=None)
    assert emulator.counters() == {"requests": 2, "unauthorized": 1}
    emulator.http.delete(f"{emulator.base_url}/_emulator/counters")
    assert emulator.counters() == {}


def test_the_export_serves_what_the_api_serves(emulator: RunningEmulator, tmp_path: Path) -> None:
    _update(emulator, {"ItemNumber": "OBS-999", "Location": "MAIN", "QuantityOnHand": 2})
    response = emulator.http.get(f"{emulator.base_url}/_emulator/export.csv")
    assert response.content.startswith(b"\xef\xbb\xbfItemNumber,BasePartNumber,")
    export = tmp_path / "export.csv"
    export.write_bytes(response.content)
    assert read_export(export) == emulator.catalog.rows
    assert read_export(export)[-1].quantity_on_hand == 2


def test_the_sample_export_loads_as_written() -> None:
    rows = read_export(SAMPLE_CSV)
    assert [(row.item_number, row.location, row.quantity_on_hand) for row in rows[:2]] == [
        ("MMM654YW", "MAIN", 120),
        ("MMM654YW", "WEST", 35),
    ]
    assert rows[-1].unit_price == Decimal("1.00")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("ItemNumber,UnitPrice\nA,1\n", "no Location, QuantityOnHand column"),
        ("ItemNumber,UnitPrice,QuantityOnHand,Location\nA,x,1,MAIN\n", "row 2: UnitPrice"),
        ("ItemNumber,UnitPrice,QuantityOnHand,Location\nA,1,1,MAIN\nB,1,1.5,MAIN\n", "row 3"),
        ("ItemNumber,UnitPrice,QuantityOnHand,Location\n,1,1,MAIN\n", "ItemNumber is empty"),
    ],
)
def test_the_emulator_refuses_a_bad_export(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExportError, match=complaint):
        read_export(path)


# Generated catalogs ------------------------------------------------------------------------------


def test_a_generated_catalog_repeats_for_its_seed() -> None:
    assert generate_rows(60, seed=5) == generate_rows(60, seed=5)
    assert generate_rows(60, seed=5) != generate_rows(60, seed=6)


def _upc_is_valid(upc: str) -> bool:
    digits = [int(digit) for digit in upc]
    return (3 * sum(digits[0:11:2]) + sum(digits[1:11:2]) + digits[11]) % 10 == 0


def test_a_generated_catalog_looks_like_cowans_stock() -> None:
    rows = generate_rows(500, seed=1)
    items = Counter(row.item_number for row in rows)
    assert len(items) == 500
    assert any(count > 1 for count in items.values())  # several locations for some items
    assert len({(row.item_number, row.location) for row in rows}) == len(rows)
    assert {row.location for row in rows} == {"MAIN", "WEST", "EAST"}
    assert all(row.unit_price > 0 and row.unit_price == round(row.unit_price, 2) for row in rows)
    assert any(row.quantity_on_hand == 0 for row in rows)
    upcs = [row.upc for row in rows if row.upc]
    assert upcs
    assert all(len(upc) == 12 and _upc_is_valid(upc) for upc in upcs)
    bases = Counter(row.base_part_number for row in rows if row.location == "MAIN")
    assert any(count > 1 for count in bases.values())  # several items share a base part
    assert all(row.item_number.startswith(row.base_part_number) for row in rows)


# The command line -------------------------------------------------------------------------------


class Process:
    def __init__(self, args: list[str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # A file, not a pipe: an unread pipe could fill up and block the server. Closed by serve.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "xorosoft_emulator", "--port", str(self.port), *args],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.http = httpx.Client(timeout=10)
        self._wait_until_serving()

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise AssertionError(f"exited early:\n{self.output()}")
            try:
                self.http.get(f"{self.base_url}/")
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            return
        raise AssertionError("the emulator did not start")

    def get_product(self, item_number: str, auth: tuple[str, str]) -> httpx.Response:
        return self.http.get(
            f"{self.base_url}/api/xerp/product/getproduct",
            params={"ItemNumber": item_number},
            auth=auth,
        )

    def interrupt(self) -> int:
        """SIGINT, as Ctrl-C would; returns the exit code."""
        self.http.close()
        self.popen.send_signal(signal.SIGINT)
        return self.popen.wait(timeout=STARTUP_SECONDS)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@pytest.fixture
def serve() -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(*args: str) -> Process:
        process = Process(list(args))
        started.append(process)
        return process

    yield start
    for process in started:
        if process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait(timeout=10)
        process.log.close()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xorosoft_emulator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_serves_a_csv_with_the_given_credentials(
    serve: Callable[..., Process],
) -> None:
    process = serve("--csv", str(SAMPLE_CSV), "--key", "k-1", "--secret", "s-1")
    response = process.get_product("MMM654YW", ("k-1", "s-1"))
    assert [v["QuantityOnHand"] for v in _variants(response)] == [120, 35]
    assert process.get_product("MMM654YW", (DEV_KEY, DEV_SECRET)).status_code == 401
    assert process.http.get(f"{process.base_url}/_emulator/items").status_code == 200
    assert process.interrupt() == 0
    printed = process.output()
    assert "5 items, 6 stock rows" in printed
    assert f"http://127.0.0.1:{process.port}/api/xerp" in printed


def test_the_command_serves_generated_items_with_faults(serve: Callable[..., Process]) -> None:
    process = serve(
        "--items", "30", "--seed", "4", "--fault-5xx", "1", "--fault-seed", "2",
        "--latency-ms", "1-3", "--no-side-door",
    )  # fmt: skip
    assert process.get_product("ANY", (DEV_KEY, DEV_SECRET)).status_code in (500, 502, 503)
    assert process.http.get(f"{process.base_url}/_emulator/items").status_code == 404
    assert process.interrupt() == 0
    assert "30 items" in process.output()


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--fault-5xx", "2"], "probability"),
        (["--latency-ms", "9-3"], "MIN <= MAX"),
        (["--items", "-1"], "not from 0"),
        (["--csv", "x.csv", "--items", "3"], "not allowed with"),
        (["--csv", "/nonexistent/export.csv"], "cannot serve --csv"),
    ],
)
def test_bad_arguments_exit_with_a_usage_error(args: list[str], complaint: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert complaint in result.stderr


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("cowans-xorosoft-emulator")
    result = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    for option in ("--csv", "--items", "--key", "--secret", "--fault-5xx", "--latency-ms"):
        assert option in result.stdout
