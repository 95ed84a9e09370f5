"""The command line, run as a real process: serve, answer over HTTP, stop on SIGINT, restart."""

import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shopify_emulator.cli import DEV_ACCESS_TOKEN
from tests.emulator.conftest import API_PATH, PRODUCT_SET, free_port, simple_product

STARTUP_SECONDS = 30


class Process:
    def __init__(self, args: list[str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # A file, not a pipe: an unread pipe could fill up and block the server. Closed by serve.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "shopify_emulator", "--port", str(self.port), *args],
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

    def gql(
        self, shop: str, token: str, query: str, variables: dict | None = None
    ) -> httpx.Response:
        return self.http.post(
            f"{self.base_url}/{shop}{API_PATH}",
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token},
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
        [sys.executable, "-m", "shopify_emulator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serves_each_shop_with_its_token_and_stops_on_sigint(
    serve: Callable[..., Process],
) -> None:
    process = serve("--shop", "alpha", "--access-token", "tok-alpha", "--shop", "beta")
    alpha = process.gql("alpha", "tok-alpha", "{ shop { name myshopifyDomain } }")
    assert alpha.json()["data"]["shop"] == {
        "name": "alpha",
        "myshopifyDomain": "alpha.myshopify.com",
    }
    beta = process.gql("beta", DEV_ACCESS_TOKEN, "{ shop { name } }")
    assert beta.json()["data"]["shop"]["name"] == "beta"
    assert process.gql("alpha", DEV_ACCESS_TOKEN, "{ shop { name } }").status_code == 401
    assert process.http.get(f"{process.base_url}/_emulator/shops").status_code == 200

    assert process.interrupt() == 0
    printed = process.output()
    assert "tok-alpha" in printed
    assert DEV_ACCESS_TOKEN in printed
    assert f"/alpha{API_PATH}" in printed


def test_options_reach_the_shops(serve: Callable[..., Process]) -> None:
    process = serve(
        "--plan",
        "advanced",
        "--seed-products",
        "12",
        "--seed-random",
        "4",
        "--locations",
        "Main Warehouse, Store Front",
        "--no-side-door",
    )
    query = "{ shop { plan { displayName } } locations(first: 5) { nodes { name } } }"
    body = process.gql("demo", DEV_ACCESS_TOKEN, query).json()["data"]
    assert body["shop"]["plan"]["displayName"] == "Advanced"
    assert [n["name"] for n in body["locations"]["nodes"]] == ["Main Warehouse", "Store Front"]
    products = process.gql("demo", DEV_ACCESS_TOKEN, "{ products(first: 50) { nodes { id } } }")
    assert len(products.json()["data"]["products"]["nodes"]) == 12
    assert process.http.get(f"{process.base_url}/_emulator/shops").status_code == 404
    assert process.interrupt() == 0


def test_a_certain_5xx_fault_answers_every_request_with_an_edge_error(
    serve: Callable[..., Process],
) -> None:
    process = serve("--fault-5xx", "1", "--fault-seed", "9", "--latency-ms", "1-3")
    response = process.gql("demo", DEV_ACCESS_TOKEN, "{ shop { name } }")
    assert response.status_code in (500, 502, 503)
    assert process.interrupt() == 0


def test_the_state_file_keeps_changes_across_a_restart(
    serve: Callable[..., Process], tmp_path: Path
) -> None:
    args = ("--state-file", str(tmp_path / "shops.sqlite"), "--seed-products", "5")
    first = serve(*args)
    created = first.gql(
        "demo", DEV_ACCESS_TOKEN, PRODUCT_SET, {"input": simple_product("kept", "KEPT-1")}
    )
    assert created.json()["data"]["productSet"]["userErrors"] == []
    assert first.interrupt() == 0

    second = serve(*args)
    query = (
        "{ products(first: 50) { nodes { handle } } "
        'kept: products(first: 1, query: "sku:KEPT-1") { nodes { handle } } }'
    )
    body = second.gql("demo", DEV_ACCESS_TOKEN, query).json()["data"]
    assert len(body["products"]["nodes"]) == 6  # the seeded five were restored, not seeded again
    assert body["kept"]["nodes"] == [{"handle": "kept"}]
    assert second.interrupt() == 0


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--fault-5xx", "2"], "probability"),
        (["--latency-ms", "9-3"], "MIN <= MAX"),
        (["--plan", "gold"], "invalid choice"),
        (["--access-token", "a", "--access-token", "b"], "more --access-token"),
        (["--shop", "x", "--shop", "x"], "once"),
        (["--seed-products", "-1"], "negative"),
    ],
)
def test_bad_arguments_exit_with_a_usage_error(args: list[str], complaint: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert complaint in result.stderr


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("cowans-shopify-emulator")
    result = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    for option in ("--state-file", "--bulk-rows-per-second", "--fault-ise-after-apply"):
        assert option in result.stdout
