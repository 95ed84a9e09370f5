"""A store row becomes a client configured from the settings."""

import pytest

from cowans.config import Settings
from cowans.db.models import Store
from cowans.shopify.connection import client_for_store, endpoint_for_store


def test_shopify_address_unless_the_store_names_its_own() -> None:
    settings = Settings(_env_file=None)
    real = Store(
        shop_domain="cowans.myshopify.com", access_token="shpat_x", api_version="", admin_url=""
    )
    assert endpoint_for_store(real, settings).admin_url == (
        "https://cowans.myshopify.com/admin/api/2026-10/graphql.json"
    )
    emulated = Store(
        shop_domain="demo.myshopify.com",
        access_token="t",
        api_version="2026-10",
        admin_url="http://127.0.0.1:5001/admin/api/2026-10/graphql.json",
    )
    assert endpoint_for_store(emulated, settings).admin_url.startswith("http://127.0.0.1:5001/")


@pytest.mark.anyio
async def test_client_takes_timeouts_and_retries_from_settings() -> None:
    settings = Settings(
        _env_file=None,
        shopify_timeout_seconds=7,
        shopify_max_attempts=3,
        shopify_backoff_base_seconds=0.1,
        shopify_backoff_max_seconds=2,
    )
    store = Store(
        shop_domain="cowans.myshopify.com",
        access_token="shpat_secret",
        api_version="2026-10",
        admin_url="",
    )
    async with client_for_store(store, settings) as client:
        assert client.http.timeout.read == 7
        assert (client.retry.max_attempts, client.retry.base_seconds, client.retry.max_seconds) == (
            3,
            0.1,
            2,
        )
        assert "shpat_secret" not in repr(client.endpoint)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
