"""Domain errors: each business area raises these with its own codes; the API maps them.

The status hint keeps the HTTP mapping in one place (the API's error handler) while letting the
area that knows what went wrong say whether it was the caller's fault.
"""

from typing import Any


class DomainError(Exception):
    status_code = 400

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Unauthenticated(DomainError):
    status_code = 401


class PermissionDenied(DomainError):
    status_code = 403


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, code: str, message: str, retry_after_seconds: int) -> None:
        super().__init__(code, message, {"retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds
