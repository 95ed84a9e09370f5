"""The async client for one store's Admin GraphQL endpoint.

What it promises its callers:
- it never lets a THROTTLED answer through: it waits for the bucket before sending (see
  throttle.py) and, should Shopify throttle anyway, waits that out and sends again;
- 5xx answers, timeouts, dropped connections and INTERNAL_SERVER_ERROR are retried with
  exponential backoff and full jitter, a bounded number of times, then `ShopifyUnavailable`;
- 401/403, validation errors and MAX_COST_EXCEEDED are raised at once as `ShopifyError`: sending
  them again cannot help. userErrors are data, returned for the caller to report per item.
Every retried write must be safe to repeat; the documents and the planner make sure of that.
Whoever schedules the calls (the sync engine's worker pool) can listen to every wait: a retry and
its cause, or a wait for the bucket before a first send (`backoff_listeners`).
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from cowans.backoff import RetryPolicy
from cowans.shopify.cost import CostModel
from cowans.shopify.documents import Document
from cowans.shopify.errors import ShopifyError, ShopifyErrorCode, ShopifyUnavailable
from cowans.shopify.throttle import CostThrottle, throttle_for

logger = logging.getLogger(__name__)

API_VERSION = "2026-10"
# A THROTTLED answer is not a failure, but a store that never has room is: give up eventually.
MAX_THROTTLED_RETRIES = 50


@dataclass(frozen=True)
class StoreEndpoint:
    admin_url: str
    access_token: str = field(repr=False)

    @classmethod
    def for_shop(
        cls, shop_domain: str, access_token: str, api_version: str = API_VERSION
    ) -> "StoreEndpoint":
        return cls(f"https://{shop_domain}/admin/api/{api_version}/graphql.json", access_token)


@dataclass
class GraphQLResult:
    data: dict[str, Any]
    requested_cost: int | None
    actual_cost: int | None
    attempts: int
    # Shopify's `extensions.cost.throttleStatus` of this answer, as sent (None if it sent none).
    throttle_status: dict[str, Any] | None = None


@dataclass
class ClientStats:
    requests: int = 0
    points_spent: float = 0.0
    throttled: int = 0
    retries: Counter[str] = field(default_factory=Counter)


# The cause of a wait before the first send: the bucket had no room for the request yet.
BUCKET_WAIT = "bucket"


@dataclass(frozen=True)
class Backoff:
    """A wait the client is about to make: `cause` is a retry cause (`throttled`, `timeout`,
    `connection`, `http_503`, `internal_error`, ...) when `retry`, else `bucket`."""

    cause: str
    seconds: float
    retry: bool


BackoffListener = Callable[[Backoff], None]


class _Retry(Exception):
    def __init__(self, cause: str, wait: float | None = None, requested: int | None = None) -> None:
        self.cause = cause
        self.wait = wait
        self.requested = requested  # the cost Shopify put on the request, when it said


class ShopifyClient:
    def __init__(
        self,
        endpoint: StoreEndpoint,
        *,
        timeout_seconds: float = 30.0,
        retry: RetryPolicy | None = None,
        throttle: CostThrottle | None = None,
        cost_model: CostModel | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.retry = retry or RetryPolicy()
        self.throttle = throttle or throttle_for(endpoint.admin_url)
        self.cost_model = cost_model or CostModel()
        self.stats = ClientStats()
        # Called in the caller's task before each wait, so a listener can tell whose wait it is.
        self.backoff_listeners: list[BackoffListener] = []
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
            http2=True,
        )

    async def __aenter__(self) -> "ShopifyClient":
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def execute(
        self, document: Document, variables: Mapping[str, Any] | None = None
    ) -> GraphQLResult:
        variables = dict(variables or {})
        predicted = self.cost_model.predict(document, variables)
        failures = throttled = 0
        while True:
            await self.throttle.acquire(predicted, self._bucket_wait)
            try:
                body = await self._send(document, variables, predicted)
                return self._result(document, variables, body, failures + throttled + 1)
            except _Retry as retry:
                if retry.cause == "throttled":
                    throttled += 1
                    self.stats.throttled += 1
                    if throttled > MAX_THROTTLED_RETRIES:
                        raise ShopifyUnavailable(
                            "Shopify kept throttling", throttled, "throttled"
                        ) from None
                    if retry.requested:  # wait for what Shopify charges, not what we guessed
                        predicted = retry.requested
                        self.cost_model.learn(document, variables, retry.requested)
                else:
                    failures += 1
                    if failures >= self.retry.max_attempts:
                        raise ShopifyUnavailable(
                            f"{document.name} failed {failures} times ({retry.cause})",
                            failures,
                            retry.cause,
                        ) from None
                self.stats.retries[retry.cause] += 1
                wait = self._retry_wait(retry, failures, predicted)
                self._tell(Backoff(retry.cause, wait, retry=True))
                logger.info("retrying %s after %s in %.2fs", document.name, retry.cause, wait)
                await asyncio.sleep(wait)

    def _retry_wait(self, retry: _Retry, failures: int, predicted: int) -> float:
        """A THROTTLED answer reports the bucket, and the throttle waits for exactly the restore
        the request needs before it is sent again: a backoff on top would leave the bucket idle.
        Only a THROTTLED the report does not explain (the bucket had room) backs off."""
        if retry.wait is not None:
            return retry.wait
        if retry.cause == "throttled" and not self.throttle.has_room(predicted):
            return 0.0
        return self.retry.delay(failures)

    def _bucket_wait(self, seconds: float) -> None:
        self._tell(Backoff(BUCKET_WAIT, seconds, retry=False))

    def _tell(self, backoff: Backoff) -> None:
        for listener in self.backoff_listeners:
            listener(backoff)

    async def _send(
        self, document: Document, variables: dict[str, Any], predicted: int
    ) -> dict[str, Any]:
        self.stats.requests += 1
        try:
            response = await self.http.post(
                self.endpoint.admin_url,
                json={"query": document.text, "variables": variables},
                headers={"X-Shopify-Access-Token": self.endpoint.access_token},
            )
        except httpx.TimeoutException as exc:
            self.throttle.settle(predicted, None)
            raise _Retry("timeout") from exc
        except httpx.TransportError as exc:
            self.throttle.settle(predicted, None)
            raise _Retry("connection") from exc
        return self._body(response, predicted)

    def _body(self, response: httpx.Response, predicted: int) -> dict[str, Any]:
        status = response.status_code
        if status != 200:
            self.throttle.settle(predicted, None)
        if status == 429:
            raise _Retry("http_429", _retry_after(response))
        if status >= 500:
            raise _Retry(f"http_{status}")
        if status in (401, 403):
            raise ShopifyError(
                ShopifyErrorCode.UNAUTHORIZED, f"Shopify refused the access token ({status})"
            )
        if status == 404:
            raise ShopifyError(ShopifyErrorCode.NOT_FOUND, "No such shop or API version (404)")
        if status != 200:
            raise ShopifyError(
                ShopifyErrorCode.GRAPHQL_ERROR, f"Unexpected HTTP {status}", response.text[:500]
            )
        try:
            body = response.json()
        except ValueError as exc:
            self.throttle.settle(predicted, None)
            raise _Retry("bad_json") from exc
        cost = (body.get("extensions") or {}).get("cost") or {}
        self.throttle.settle(predicted, cost.get("throttleStatus"))
        self._check_errors(body.get("errors"), cost.get("requestedQueryCost"))
        return body

    @staticmethod
    def _check_errors(errors: Any, requested: int | None = None) -> None:
        if not errors:
            return
        codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
        if "THROTTLED" in codes:
            raise _Retry("throttled", requested=requested)
        if "INTERNAL_SERVER_ERROR" in codes:
            raise _Retry("internal_error")
        if "MAX_COST_EXCEEDED" in codes:
            raise ShopifyError(
                ShopifyErrorCode.MAX_COST_EXCEEDED, errors[0].get("message", ""), errors
            )
        message = (
            errors[0].get("message", "GraphQL error") if isinstance(errors, list) else str(errors)
        )
        raise ShopifyError(ShopifyErrorCode.GRAPHQL_ERROR, message, errors)

    def _result(
        self, document: Document, variables: dict[str, Any], body: dict[str, Any], attempts: int
    ) -> GraphQLResult:
        cost = (body.get("extensions") or {}).get("cost") or {}
        requested, actual = cost.get("requestedQueryCost"), cost.get("actualQueryCost")
        if requested is not None:
            self.cost_model.learn(document, variables, requested)
        self.stats.points_spent += actual or 0
        return GraphQLResult(
            body.get("data") or {}, requested, actual, attempts, cost.get("throttleStatus")
        )


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "2")))
    except ValueError:
        return 2.0
