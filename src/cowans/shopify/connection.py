"""A client for a store row, configured from the settings, and where a store may point.

A store's endpoint carries its access token to whatever host it names, and the answer (refused,
timed out, a shop) reaches whoever asked for a connection test. Unchecked, an admin could aim
the server at internal addresses (cloud metadata, databases) and map them. So every endpoint
must be on a host SHOPIFY_ALLOWED_HOSTS lists, checked when a store is saved (a clear 422) and
again before any request is sent (the list may have shrunk since).
"""

from enum import StrEnum
from urllib.parse import urlsplit

from cowans.config import Settings
from cowans.db.models import Store
from cowans.errors import InvalidInput
from cowans.shopify.client import RetryPolicy, ShopifyClient, StoreEndpoint


class ConnectionErrorCode(StrEnum):
    HOST_NOT_ALLOWED = "store_host_not_allowed"


def host_allowed(host: str, patterns: tuple[str, ...]) -> bool:
    """`*.example.com` matches any subdomain of example.com (not example.com itself); any
    other pattern matches its host exactly."""
    host = host.lower().rstrip(".")
    return any(
        host.endswith(pattern[1:]) if pattern.startswith("*.") else host == pattern
        for pattern in patterns
    )


def check_allowed_host(admin_url: str, settings: Settings) -> None:
    host = urlsplit(admin_url).hostname or ""
    patterns = settings.shopify_allowed_host_patterns
    if not host_allowed(host, patterns):
        raise InvalidInput(
            ConnectionErrorCode.HOST_NOT_ALLOWED,
            f"A store's endpoint may not be on {host or 'that host'}: SHOPIFY_ALLOWED_HOSTS "
            f"allows {', '.join(patterns)}.",
            {"field": "admin_url", "host": host},
        )


def endpoint_for_store(store: Store, settings: Settings) -> StoreEndpoint:
    """The store's own `admin_url` (an emulator, a proxy), else Shopify's address for its shop;
    refused when its host is not an allowed one."""
    if store.admin_url:
        endpoint = StoreEndpoint(store.admin_url, store.access_token)
    else:
        version = store.api_version or settings.shopify_api_version
        endpoint = StoreEndpoint.for_shop(store.shop_domain, store.access_token, version)
    check_allowed_host(endpoint.admin_url, settings)
    return endpoint


def client_for_store(store: Store, settings: Settings) -> ShopifyClient:
    retry = RetryPolicy(
        max_attempts=settings.shopify_max_attempts,
        base_seconds=settings.shopify_backoff_base_seconds,
        max_seconds=settings.shopify_backoff_max_seconds,
    )
    return ShopifyClient(
        endpoint_for_store(store, settings),
        timeout_seconds=settings.shopify_timeout_seconds,
        retry=retry,
    )
