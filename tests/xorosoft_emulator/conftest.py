"""The Xorosoft emulator, served over real HTTP by uvicorn on a free loopback port."""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from tests.emulator.conftest import free_port
from xorosoft_emulator.app import EmulatorOptions, create_app
from xorosoft_emulator.catalog import Catalog, StockRow
from xorosoft_emulator.export import read_export
from xorosoft_emulator.state import Credentials

SAMPLE_CSV = Path(__file__).resolve().parents[3] / "shared" / "samples" / "xorosoft_sample.csv"
KEY = "test-api-key"
SECRET = "test-api-secret-9f8e7d"
AUTH = (KEY, SECRET)


class FakeClock:
    """The emulator's rate-limit clock, moved by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class RunningEmulator:
    base_url: str
    app: Starlette
    http: httpx.Client

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/xerp"

    @property
    def catalog(self) -> Catalog:
        return self.app.state.emulator.catalog

    def get_product(self, item_number: str, auth: Any = AUTH) -> httpx.Response:
        return self.http.get(
            f"{self.api_url}/product/getproduct", params={"ItemNumber": item_number}, auth=auth
        )

    def get_filtered(self, body: Any, auth: Any = AUTH) -> httpx.Response:
        return self.http.post(f"{self.api_url}/product/getfiltered", json=body, auth=auth)

    def counters(self) -> dict[str, int]:
        response = self.http.get(f"{self.base_url}/_emulator/counters")
        assert response.status_code == 200, response.text
        return response.json()


@contextlib.contextmanager
def serving(
    rows: list[StockRow] | None = None, options: EmulatorOptions | None = None
) -> Iterator[RunningEmulator]:
    """An emulator serving the given rows (default: the sample export) with the test
    credentials, unless the options name others; stopped on leaving."""
    catalog = Catalog(read_export(SAMPLE_CSV) if rows is None else rows)
    app = create_app(catalog, options or EmulatorOptions(credentials=Credentials(*AUTH)))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the emulator did not start")
        time.sleep(0.02)
    try:
        with httpx.Client(timeout=30) as http:
            yield RunningEmulator(f"http://127.0.0.1:{port}", app, http)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., RunningEmulator]]:
    """Start emulators with `serving`'s arguments; all are stopped after the test."""
    with contextlib.ExitStack() as stack:

        def start(
            rows: list[StockRow] | None = None, options: EmulatorOptions | None = None
        ) -> RunningEmulator:
            return stack.enter_context(serving(rows, options))

        yield start


@pytest.fixture
def emulator(make_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return make_emulator()
