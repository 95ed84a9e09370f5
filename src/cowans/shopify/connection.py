"""A client for a store row, configured from the settings."""

from cowans.config import Settings
from cowans.db.models import Store
from cowans.shopify.client import RetryPolicy, ShopifyClient, StoreEndpoint


def endpoint_for_store(store: Store, settings: Settings) -> StoreEndpoint:
    """The store's own `admin_url` (an emulator, a proxy), else Shopify's address for its shop."""
    if store.admin_url:
        return StoreEndpoint(store.admin_url, store.access_token)
    version = store.api_version or settings.shopify_api_version
    return StoreEndpoint.for_shop(store.shop_domain, store.access_token, version)


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
