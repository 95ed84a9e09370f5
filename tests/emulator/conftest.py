"""The Shopify emulator, served over real HTTP by uvicorn on a free loopback port."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from shopify_emulator.app import EmulatorOptions, create_app
from shopify_emulator.shops import Shop, ShopRegistry

TOKEN = "shpat_test_token"
API_PATH = "/admin/api/2026-10/graphql.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningEmulator:
    base_url: str
    registry: ShopRegistry
    http: httpx.Client

    def shop(self, name: str = "demo") -> Shop:
        shop = self.registry.by_name(name)
        assert shop is not None
        return shop

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        shop: str = "demo",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST a document the way a Shopify client does (path-prefixed shop)."""
        return self.http.post(
            f"{self.base_url}/{shop}{API_PATH}",
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": self.shop(shop).access_token, **(headers or {})},
        )

    def gql(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """POST and return the body, failing the test on transport or GraphQL errors."""
        response = self.post(query, variables, **kwargs)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body

    def location_ids(self, shop: str = "demo") -> list[str]:
        return [location.id for location in self.shop(shop).data.locations.values()]


def _serve(app: Any, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the emulator did not start")
        time.sleep(0.02)
    return server, thread


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., RunningEmulator]]:
    """Start an emulator with the given shops (default: one standard-plan shop `demo`)."""
    servers: list[tuple[uvicorn.Server, threading.Thread, httpx.Client]] = []

    def start(
        shops: list[Shop] | None = None,
        locations: tuple[str, ...] = ("Main Warehouse", "Store Front"),
        options: EmulatorOptions | None = None,
    ) -> RunningEmulator:
        registry = ShopRegistry()
        for shop in shops or [Shop("demo", TOKEN)]:
            registry.add(shop, locations)
        port = free_port()
        server, thread = _serve(create_app(registry, options), port)
        http = httpx.Client(timeout=30)
        servers.append((server, thread, http))
        return RunningEmulator(f"http://127.0.0.1:{port}", registry, http)

    yield start
    for server, thread, http in servers:
        http.close()
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def emulator(make_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return make_emulator()


PRODUCT_SET = """
mutation Set($input: ProductSetInput!, $identifier: ProductSetIdentifiers, $synchronous: Boolean) {
  productSet(input: $input, identifier: $identifier, synchronous: $synchronous) {
    product { id handle title status tags vendor productType
      variants(first: 50) { nodes { id sku price barcode inventoryQuantity
        inventoryItem { id } selectedOptions { name value } } } }
    productSetOperation { id status }
    userErrors { field message code }
  }
}
"""


def simple_product(handle: str, sku: str, price: str = "9.99", **extra: Any) -> dict[str, Any]:
    """A one-variant productSet input."""
    return {
        "title": extra.pop("title", handle.replace("-", " ").title()),
        "handle": handle,
        "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
        "variants": [
            {
                "optionValues": [{"optionName": "Title", "name": "Default Title"}],
                "sku": sku,
                "price": price,
            }
        ],
        **extra,
    }
