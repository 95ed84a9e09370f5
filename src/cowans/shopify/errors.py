"""Errors of the Shopify area. Each carries a code the API and the job reports can show."""

from enum import StrEnum
from typing import Any


class ShopifyErrorCode(StrEnum):
    UNAUTHORIZED = "shopify_unauthorized"
    NOT_FOUND = "shopify_not_found"
    GRAPHQL_ERROR = "shopify_graphql_error"
    MAX_COST_EXCEEDED = "shopify_max_cost_exceeded"
    UNAVAILABLE = "shopify_unavailable"
    BULK_OPERATION_FAILED = "shopify_bulk_operation_failed"


class ShopifyError(Exception):
    """A request that failed for good: retrying it as it is would not help."""

    def __init__(self, code: ShopifyErrorCode, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class ShopifyUnavailable(ShopifyError):
    """Shopify kept failing (5xx, timeouts, resets) until the retry budget ran out.

    `cause` is the last failure's kind (`timeout`, `connection`, `http_503`, `throttled`...), so
    a caller can tell a person why without parsing the message.
    """

    def __init__(self, message: str, attempts: int, cause: str = "") -> None:
        super().__init__(
            ShopifyErrorCode.UNAVAILABLE, message, {"attempts": attempts, "cause": cause}
        )
        self.attempts = attempts
        self.cause = cause
