"""The stores the catalog publishes to: register, change, list, and test the connection.

An access token is write-only here. It goes into the encrypted column and out to Shopify in a
header, and nowhere else: no return value of this module carries it, no log line names it, and
no error message repeats it or any other submitted value that could hold a secret (DESIGN.md,
invariant 6). The webhook secret (the app's client secret Shopify signs webhooks with) is kept
the same way and only ever used to check a signature (cowans.sync.webhooks).

Semantic checks live here rather than in the API schema so every caller (the API, a future CLI
command) gets the same rules and the same error codes.
"""

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cowans.backoff import RetryPolicy
from cowans.config import Settings
from cowans.db.models import Store
from cowans.errors import Conflict, InvalidInput, NotFound
from cowans.shopify.client import ShopifyClient, StoreEndpoint
from cowans.shopify.connection import check_allowed_host, endpoint_for_store
from cowans.shopify.documents import load
from cowans.shopify.errors import ShopifyError, ShopifyErrorCode, ShopifyUnavailable
from cowans.shopify.throttle import CostThrottle
from cowans.shopify.webhooks import (
    Subscription,
    SubscriptionRefused,
    callback_url,
    delete_subscriptions,
    ensure_subscriptions,
)

logger = logging.getLogger(__name__)

API_VERSION_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# RFC 1123 labels; a shop's own domain (shop.example.com) is as valid as x.myshopify.com.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Visible ASCII only: anything else could not go into an HTTP header, and the error httpx would
# raise for it would quote the header, token and all.
_TOKEN_CHARACTERS = re.compile(r"^[!-~]+$")
MAX_NAME_LENGTH = 200
MAX_DOMAIN_LENGTH = 253
MAX_ADMIN_URL_LENGTH = 500
MAX_TOKEN_LENGTH = 255
MAX_LOCATION_NAME_LENGTH = 100
MAX_LOCATIONS = 250
MAX_PLAN_LENGTH = 50

# A person waits for a connection test: one quick retry for a blip, short timeouts, and a hard
# deadline over everything (a throttled store is otherwise waited out at length).
TEST_ATTEMPTS = 2
TEST_TIMEOUT_SECONDS = 8.0
TEST_DEADLINE_SECONDS = 20.0
TEST_BACKOFF = (0.2, 1.0)  # base and longest retry delay, seconds


class StoreErrorCode(StrEnum):
    STORE_NOT_FOUND = "store_not_found"
    SHOP_DOMAIN_TAKEN = "store_shop_domain_taken"
    INVALID_NAME = "invalid_store_name"
    INVALID_SHOP_DOMAIN = "invalid_shop_domain"
    INVALID_ACCESS_TOKEN = "invalid_access_token"
    INVALID_API_VERSION = "invalid_api_version"
    INVALID_ADMIN_URL = "invalid_admin_url"
    INVALID_LOCATION_MAP = "invalid_location_map"
    INVALID_WEBHOOK_SECRET = "invalid_webhook_secret"


class WebhookSetupFailure(StrEnum):
    """Why subscribing to a store's webhooks failed, beside the ConnectionFailure reasons."""

    SECRET_MISSING = "webhook_secret_missing"
    REFUSED = "shopify_webhook_subscription_refused"


class ConnectionFailure(StrEnum):
    """Why a connection test failed, for the dashboard to pick an icon or a hint by."""

    UNAUTHORIZED = "shopify_unauthorized"
    NOT_FOUND = "shopify_not_found"
    UNREACHABLE = "shopify_unreachable"
    TIMEOUT = "shopify_timeout"
    UNAVAILABLE = "shopify_unavailable"
    THROTTLED = "shopify_throttled"
    UNEXPECTED_ANSWER = "shopify_unexpected_answer"


@dataclass(frozen=True)
class Throttle:
    currently_available: float
    maximum_available: float
    restore_rate: float


@dataclass(frozen=True)
class ConnectionTest:
    """The outcome of one connection test. A failure is an outcome, not an exception: the test
    itself worked, and the person needs the reason, not an error page."""

    ok: bool
    elapsed_ms: float
    shop_name: str | None = None
    plan: str | None = None
    myshopify_domain: str | None = None
    shopify_plus: bool | None = None
    throttle: Throttle | None = None
    error: str | None = None
    error_code: ConnectionFailure | None = None


@dataclass(frozen=True)
class WebhookSetup:
    """The store's webhook subscriptions after an attempt to make them: the topics subscribed,
    and why the attempt failed if it did. A failure never undoes the store or its test."""

    subscribed: tuple[str, ...]
    callback_url: str
    error: str | None = None
    error_code: str | None = None


# -- validation ------------------------------------------------------------------------------


def _invalid(code: StoreErrorCode, field: str, message: str) -> InvalidInput:
    return InvalidInput(code, message, {"field": field})


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise _invalid(
            StoreErrorCode.INVALID_NAME,
            "name",
            f"A store needs a name of 1 to {MAX_NAME_LENGTH} characters.",
        )
    return name


def normalize_shop_domain(value: str) -> str:
    """A bare host name, lower case. A pasted `https://x.myshopify.com/` is accepted as
    `x.myshopify.com`: that is what people copy from their browser."""
    domain = value.strip().lower()
    for prefix in ("https://", "http://"):
        domain = domain.removeprefix(prefix)
    domain = domain.rstrip("/").removesuffix(".")
    labels = domain.split(".")
    if not domain or len(domain) > MAX_DOMAIN_LENGTH or not all(map(_LABEL.match, labels)):
        raise _invalid(
            StoreErrorCode.INVALID_SHOP_DOMAIN,
            "shop_domain",
            "shop_domain must be a host name such as cowans.myshopify.com "
            "(no path, port or spaces).",
        )
    return domain


def check_access_token(token: str) -> str:
    """Never quotes the token back, whatever is wrong with it."""
    return _checked_secret(
        token,
        StoreErrorCode.INVALID_ACCESS_TOKEN,
        "access_token",
        "an Admin API access token such as shpat_...",
    )


def check_webhook_secret(secret: str) -> str:
    """The app's client secret Shopify signs webhooks with. Never quoted back."""
    return _checked_secret(
        secret,
        StoreErrorCode.INVALID_WEBHOOK_SECRET,
        "webhook_secret",
        "the app's client secret, which Shopify signs webhooks with",
    )


def _checked_secret(value: str, code: StoreErrorCode, field: str, what: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_TOKEN_LENGTH or not _TOKEN_CHARACTERS.match(value):
        raise _invalid(
            code,
            field,
            f"{field} must be 1 to {MAX_TOKEN_LENGTH} visible ASCII characters "
            f"without spaces ({what}).",
        )
    return value


def check_api_version(version: str) -> str:
    version = version.strip()
    if not API_VERSION_PATTERN.match(version):
        raise _invalid(
            StoreErrorCode.INVALID_API_VERSION,
            "api_version",
            "api_version must be a Shopify API version such as 2026-10 (YYYY-MM).",
        )
    return version


def check_admin_url(url: str) -> str:
    """An http(s) URL with a host and nothing secret in it: the URL is shown in responses and
    written to logs by the HTTP client, so credentials or query strings have no place in it
    (the token travels in its own header). The message never quotes the URL for that reason."""
    url = url.strip()
    problem = ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        problem = "it is not a valid URL"
    else:
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problem = "it must be an http:// or https:// URL with a host"
        elif parts.username is not None or parts.password is not None:
            problem = "it must not contain a user name or password"
        elif parts.query or parts.fragment or "?" in url or "#" in url:
            problem = "it must not have a query string or fragment"
        elif len(url) > MAX_ADMIN_URL_LENGTH or any(c.isspace() for c in url):
            problem = f"it must be at most {MAX_ADMIN_URL_LENGTH} characters, without spaces"
    if problem:
        raise _invalid(
            StoreErrorCode.INVALID_ADMIN_URL,
            "admin_url",
            f"admin_url is the store's full GraphQL endpoint; {problem}.",
        )
    return url


def check_location_map(location_map: dict[str, str]) -> dict[str, str]:
    """Xorosoft location name -> Shopify location name, both short, non-empty text."""
    if len(location_map) > MAX_LOCATIONS:
        raise _invalid(
            StoreErrorCode.INVALID_LOCATION_MAP,
            "location_map",
            f"location_map may map at most {MAX_LOCATIONS} locations.",
        )
    cleaned: dict[str, str] = {}
    for source, target in location_map.items():
        names = (source.strip(), target.strip())
        if not all(0 < len(name) <= MAX_LOCATION_NAME_LENGTH for name in names):
            raise _invalid(
                StoreErrorCode.INVALID_LOCATION_MAP,
                "location_map",
                "location_map maps Xorosoft location names to Shopify location names, each "
                f"1 to {MAX_LOCATION_NAME_LENGTH} characters.",
            )
        cleaned[names[0]] = names[1]
    return cleaned


def _admin_url_to_store(url: str | None, shop_domain: str, api_version: str) -> str:
    """The column holds only a custom endpoint; empty means Shopify's own address, derived from
    the current domain and version, so changing the version later moves the endpoint too."""
    if not url:
        return ""
    url = check_admin_url(url)
    default = StoreEndpoint.for_shop(shop_domain, "", api_version).admin_url
    return "" if url == default else url


def _effective_url(stored_url: str, shop_domain: str, api_version: str) -> str:
    return stored_url or StoreEndpoint.for_shop(shop_domain, "", api_version).admin_url


# -- reading and writing ---------------------------------------------------------------------


def list_stores(session: Session) -> list[Store]:
    return list(session.scalars(select(Store).order_by(Store.id)))


def get_store(session: Session, store_id: int) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound(StoreErrorCode.STORE_NOT_FOUND, f"No store with id {store_id}.")
    return store


def effective_admin_url(store: Store, settings: Settings) -> str:
    """Where requests for the store actually go (its own endpoint, or Shopify's default)."""
    return endpoint_for_store(store, settings).admin_url


def _domain_taken(shop_domain: str) -> Conflict:
    return Conflict(
        StoreErrorCode.SHOP_DOMAIN_TAKEN,
        f"A store for {shop_domain} is already registered; change that one instead.",
        {"shop_domain": shop_domain},
    )


def create_store(
    session: Session,
    settings: Settings,
    *,
    name: str,
    shop_domain: str,
    access_token: str,
    api_version: str | None = None,
    admin_url: str | None = None,
    location_map: dict[str, str] | None = None,
    webhook_secret: str | None = None,
) -> Store:
    name = check_name(name)
    shop_domain = normalize_shop_domain(shop_domain)
    access_token = check_access_token(access_token)
    webhook_secret = check_webhook_secret(webhook_secret) if webhook_secret is not None else None
    api_version = check_api_version(api_version or settings.shopify_api_version)
    stored_url = _admin_url_to_store(admin_url, shop_domain, api_version)
    check_allowed_host(_effective_url(stored_url, shop_domain, api_version), settings)
    location_map = check_location_map(location_map or {})
    if session.scalar(select(Store.id).where(Store.shop_domain == shop_domain)) is not None:
        raise _domain_taken(shop_domain)
    store = Store(
        name=name,
        shop_domain=shop_domain,
        access_token=access_token,
        api_version=api_version,
        admin_url=stored_url,
        location_map=location_map,
        is_active=True,
        webhook_secret=webhook_secret,
        webhook_subscriptions=[],
    )
    session.add(store)
    try:
        session.flush()
    except IntegrityError as exc:  # another request registered the same shop meanwhile
        raise _domain_taken(shop_domain) from exc
    logger.info("registered store %d (%s)", store.id, shop_domain)
    return store


def update_store(
    session: Session,
    settings: Settings,
    store_id: int,
    *,
    name: str | None = None,
    access_token: str | None = None,
    api_version: str | None = None,
    admin_url: str | None = None,
    location_map: dict[str, str] | None = None,
    is_active: bool | None = None,
    webhook_secret: str | None = None,
) -> Store:
    """None leaves a field as it is; `admin_url=""` goes back to Shopify's default endpoint;
    `location_map` replaces the whole map. The shop domain cannot change: a store's history
    and snapshots belong to its shop, so another shop is another store."""
    store = get_store(session, store_id)
    if name is not None:
        store.name = check_name(name)
    if access_token is not None:
        store.access_token = check_access_token(access_token)
    if api_version is not None:
        store.api_version = check_api_version(api_version)
    if admin_url is not None:
        store.admin_url = _admin_url_to_store(admin_url, store.shop_domain, store.api_version)
        effective = _effective_url(store.admin_url, store.shop_domain, store.api_version)
        check_allowed_host(effective, settings)
    if location_map is not None:
        store.location_map = check_location_map(location_map)
    if is_active is not None:
        store.is_active = is_active
    if webhook_secret is not None:
        store.webhook_secret = check_webhook_secret(webhook_secret)
    session.flush()
    logger.info("changed store %d (%s)", store.id, store.shop_domain)
    return store


# -- connection test -------------------------------------------------------------------------


def test_connection(session: Session, settings: Settings, store_id: int) -> ConnectionTest:
    """Ask the store's shop who it is, remember its plan, report the throttle bucket.

    Synchronous for the API's thread pool: it runs its own event loop, so it must not be called
    from a coroutine. The transaction is committed before Shopify is asked, so no lock (SQLite's
    write lock, taken for instance by an API token's last-use stamp) is held while a person
    waits on the network.
    """
    store = get_store(session, store_id)
    endpoint = endpoint_for_store(store, settings)
    session.commit()
    timeout = min(settings.shopify_timeout_seconds, TEST_TIMEOUT_SECONDS)
    outcome = asyncio.run(probe(endpoint, timeout_seconds=timeout))
    if outcome.ok:
        store.plan = (outcome.plan or "")[:MAX_PLAN_LENGTH]
        session.flush()
        logger.info(
            "connection test of store %d: ok (%s, plan %s)", store.id, outcome.shop_name, store.plan
        )
    else:
        logger.warning(
            "connection test of store %d failed: %s", store.id, outcome.error_code or "unknown"
        )
    return outcome


async def probe(
    endpoint: StoreEndpoint,
    *,
    timeout_seconds: float = TEST_TIMEOUT_SECONDS,
    deadline_seconds: float = TEST_DEADLINE_SECONDS,
) -> ConnectionTest:
    """The shop_info query through our client, with a budget fit for a person waiting.

    The client gets a throttle of its own rather than the store's shared one: a 2-point query
    needs no place in a running push's queue, and a test cut short by the deadline must not
    leave points counted as in flight in the bucket every worker of the store relies on.
    """
    started = time.perf_counter()

    def failed(code: ConnectionFailure, message: str) -> ConnectionTest:
        elapsed = (time.perf_counter() - started) * 1000
        return ConnectionTest(
            ok=False, elapsed_ms=round(elapsed, 1), error=message, error_code=code
        )

    where = _host_of(endpoint.admin_url)
    try:
        async with asyncio.timeout(deadline_seconds):
            async with _quick_client(endpoint, timeout_seconds) as client:
                result = await client.execute(load("shop_info"))
    except TimeoutError:
        return failed(
            ConnectionFailure.TIMEOUT,
            f"{where} did not answer within {deadline_seconds:g} seconds.",
        )
    except ShopifyUnavailable as exc:
        return failed(*_unavailable(exc, where, timeout_seconds))
    except ShopifyError as exc:
        return failed(*_refused(exc, where))
    shop = result.data.get("shop")
    if not isinstance(shop, dict) or not shop.get("name"):
        return failed(
            ConnectionFailure.UNEXPECTED_ANSWER,
            f"{where} answered, but not with a shop: is admin_url a Shopify Admin GraphQL "
            "endpoint?",
        )
    plan = shop.get("plan") or {}
    elapsed = (time.perf_counter() - started) * 1000
    return ConnectionTest(
        ok=True,
        elapsed_ms=round(elapsed, 1),
        shop_name=str(shop["name"]),
        plan=str(plan.get("displayName") or ""),
        myshopify_domain=shop.get("myshopifyDomain"),
        shopify_plus=plan.get("shopifyPlus"),
        throttle=_throttle(result.throttle_status),
    )


def _quick_client(endpoint: StoreEndpoint, timeout_seconds: float) -> ShopifyClient:
    """A client for a person waiting: one quick retry, and a throttle of its own."""
    retry = RetryPolicy(
        max_attempts=TEST_ATTEMPTS, base_seconds=TEST_BACKOFF[0], max_seconds=TEST_BACKOFF[1]
    )
    return ShopifyClient(
        endpoint, timeout_seconds=timeout_seconds, retry=retry, throttle=CostThrottle()
    )


# -- webhook subscriptions -------------------------------------------------------------------


def subscribed_topics(store: Store, settings: Settings) -> tuple[str, ...]:
    """The topics recorded as delivering to the current PUBLIC_URL (a subscription made for an
    earlier address no longer reaches us)."""
    uri = callback_url(settings.public_url)
    records = store.webhook_subscriptions or []
    return tuple(sorted({record["topic"] for record in records if record.get("uri") == uri}))


def webhook_state(store: Store, settings: Settings) -> WebhookSetup:
    """What is recorded, without asking Shopify."""
    return WebhookSetup(subscribed_topics(store, settings), callback_url(settings.public_url))


def subscribe_webhooks(session: Session, settings: Settings, store_id: int) -> WebhookSetup:
    """Make sure Shopify tells us about the store's product and stock changes: the missing
    subscriptions are created, existing ones reused, and ones this system made for an earlier
    address removed. A failure is an outcome, not an exception: the caller (creating a store,
    testing its connection) still succeeds and shows the reason.

    Synchronous, and commits before asking Shopify, for the same reasons as `test_connection`.
    """
    store = get_store(session, store_id)
    uri = callback_url(settings.public_url)
    if not store.webhook_secret:
        return WebhookSetup(
            subscribed_topics(store, settings),
            uri,
            "The store has no webhook_secret, so its webhooks could not be verified: set it "
            "(the app's client secret) to subscribe.",
            WebhookSetupFailure.SECRET_MISSING,
        )
    endpoint = endpoint_for_store(store, settings)
    recorded = [str(record["id"]) for record in store.webhook_subscriptions or []]
    session.commit()
    timeout = min(settings.shopify_timeout_seconds, TEST_TIMEOUT_SECONDS)
    where = _host_of(endpoint.admin_url)
    try:
        subscriptions = asyncio.run(_subscribe(endpoint, uri, recorded, timeout))
    except TimeoutError:
        failure: tuple[str, str] = (
            ConnectionFailure.TIMEOUT,
            f"{where} did not answer within {TEST_DEADLINE_SECONDS:g} seconds.",
        )
    except SubscriptionRefused as exc:
        failure = (WebhookSetupFailure.REFUSED, f"{where}: {exc}")
    except ShopifyUnavailable as exc:
        failure = _unavailable(exc, where, timeout)
    except ShopifyError as exc:
        failure = _refused(exc, where)
    else:
        store.webhook_subscriptions = [subscription.as_record() for subscription in subscriptions]
        session.flush()
        logger.info("webhooks of store %d: subscribed to %d topics", store.id, len(subscriptions))
        return webhook_state(store, settings)
    logger.warning("webhook subscriptions of store %d failed: %s", store.id, failure[0])
    return WebhookSetup(subscribed_topics(store, settings), uri, failure[1], failure[0])


async def _subscribe(
    endpoint: StoreEndpoint, uri: str, recorded: list[str], timeout_seconds: float
) -> list[Subscription]:
    async with (
        asyncio.timeout(TEST_DEADLINE_SECONDS),
        _quick_client(endpoint, timeout_seconds) as client,
    ):
        subscriptions = await ensure_subscriptions(client, uri)
        current = {subscription.id for subscription in subscriptions}
        stale = [subscription_id for subscription_id in recorded if subscription_id not in current]
        if stale:
            try:
                await delete_subscriptions(client, stale)
            except ShopifyError as exc:  # they only point at an address we left: not fatal
                logger.warning(
                    "could not remove %d old webhook subscriptions: %s", len(stale), exc.code
                )
    return subscriptions


def _host_of(url: str) -> str:
    """Host and port only: never a path or anything else a URL might carry."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or "the store's admin_url"
    return f"{host}:{port}" if port else host


def _unavailable(
    exc: ShopifyUnavailable, where: str, timeout_seconds: float
) -> tuple[ConnectionFailure, str]:
    tries = f"{exc.attempts} attempt{'s' if exc.attempts != 1 else ''}"
    if exc.cause == "connection":
        return (
            ConnectionFailure.UNREACHABLE,
            f"Could not connect to {where} ({tries}): the connection was refused or failed. "
            "Check the shop domain or admin_url, DNS and TLS.",
        )
    if exc.cause == "timeout":
        return (
            ConnectionFailure.TIMEOUT,
            f"{where} did not answer within {timeout_seconds:g} seconds ({tries}).",
        )
    if exc.cause in ("throttled", "http_429"):
        return (
            ConnectionFailure.THROTTLED,
            f"{where} is throttling this app right now; try again in a minute.",
        )
    return (
        ConnectionFailure.UNAVAILABLE,
        f"{where} kept failing ({exc.cause or 'server error'}, {tries}): Shopify or a proxy "
        "in between may be down; try again later.",
    )


def _refused(exc: ShopifyError, where: str) -> tuple[ConnectionFailure, str]:
    if exc.code == ShopifyErrorCode.UNAUTHORIZED:
        return (
            ConnectionFailure.UNAUTHORIZED,
            f"{where} refused the access token (HTTP 401/403): it is wrong, revoked, or the "
            "app lacks Admin API access. Enter the store's current token.",
        )
    if exc.code == ShopifyErrorCode.NOT_FOUND:
        return (
            ConnectionFailure.NOT_FOUND,
            f"{where} has no such shop or API version (HTTP 404): check shop_domain, "
            "admin_url and api_version.",
        )
    # GraphQL errors come from the server, not from us; they never hold our token.
    return (
        ConnectionFailure.UNEXPECTED_ANSWER,
        f"{where} answered with an error: {exc.message[:300]}",
    )


def _throttle(status: dict[str, Any] | None) -> Throttle | None:
    if not status:
        return None
    try:
        return Throttle(
            currently_available=float(status["currentlyAvailable"]),
            maximum_available=float(status["maximumAvailable"]),
            restore_rate=float(status["restoreRate"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
