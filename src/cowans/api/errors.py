"""One error body for every failure: `{"error": {"code", "message", "details"}}`.

The OpenAPI document says so too: every operation lists the errors it can answer with that
body. The ones that follow from how a route is declared (a role: 401, 403, and 503 since the
token is checked against the database; an id in the path: 404; a request body: 400 and 413; any
input: 422) are added to every route here, so a new route is documented without anyone
remembering to; a route adds its own (a 409, say) with `responses=error_responses(...)`.
"""

import logging
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cowans.db.models import Role
from cowans.errors import DomainError, RateLimited
from cowans.logs import request_id_var

logger = logging.getLogger(__name__)

ERROR_SCHEMA = "ErrorBody"
_ERROR_DESCRIPTIONS = {
    400: "The request body cannot be read (a malformed multipart form, say).",
    401: "No valid token: missing, malformed, expired, revoked, or of a disabled account.",
    403: "The caller's role may not do this.",
    404: "Nothing with this id.",
    409: "The request conflicts with the current state; `code` says how.",
    413: "The request body is larger than the server accepts.",
    422: "The request is invalid: `details` lists where and why.",
    429: "Too many attempts: wait as long as `Retry-After` says.",
    503: "The database cannot be reached for the moment: try again after `Retry-After`.",
}
DATABASE_RETRY_AFTER_SECONDS = 5


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any


class ErrorBody(BaseModel):
    """What every 4xx and 5xx answer carries."""

    error: ErrorDetail


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status_code, headers=headers)


def _code_for_status(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(
        exc.status_code, _code_for_status(exc.status_code), message, headers=exc.headers
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with where and why, but never the submitted values (they may hold a password)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"loc": list(err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type")}
        for err in exc.errors()
    ]
    malformed = any(problem["type"] == "json_invalid" for problem in problems)
    message = "The request body is not valid JSON." if malformed else "The request is invalid."
    code = "malformed_json" if malformed else "validation_error"
    return error_response(422, code, message, problems)


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """The database stopped, restarting, or (SQLite) locked past the busy timeout: nothing the
    caller did wrong and nothing broken in the app, so a 503 to retry rather than a 500. The
    driver's message stays in the log; it names hosts and ports."""
    logger.warning("database unavailable: %s", type(exc).__name__)
    return error_response(
        503,
        "database_unavailable",
        "The database is unavailable at the moment; try again shortly.",
        {"request_id": request_id_var.get()},
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return error_response(
        500,
        "internal_error",
        "Something went wrong on our side. Quote the request id when reporting it.",
        {"request_id": request_id_var.get()},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
    app.openapi = _with_error_responses(app, app.openapi)  # type: ignore[method-assign]


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that can answer with these errors (beyond the ones every
    route of its kind gets, see the module's docstring)."""
    return {code: _error_response(code) for code in status_codes}


def _error_response(status_code: int) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    description = _ERROR_DESCRIPTIONS.get(status_code, HTTPStatus(status_code).phrase)
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _with_error_responses(
    app: FastAPI, build: Callable[[], dict[str, Any]]
) -> Callable[[], dict[str, Any]]:
    """Wraps the document's builder: it runs on the first request for it, once every router is
    included, which is when the routes can be read."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document_errors(app, build())
        return app.openapi_schema

    return openapi


def _document_errors(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    # Route contexts, not `app.routes`: those hold included routers, not their routes.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            responses = operation.setdefault("responses", {})
            for status_code in _implied_errors(route.dependant, operation):
                # FastAPI's own 422 describes its `detail` body, which this app never sends.
                if str(status_code) not in responses or status_code == 422:
                    responses[str(status_code)] = _error_response(status_code)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[ERROR_SCHEMA] = schema
    return document


def _implied_errors(dependant: Dependant, operation: dict[str, Any]) -> Iterator[int]:
    roles = list(_required_roles(dependant))
    if roles:
        yield from (401, 503)  # checking the token reads the database
    if any(role.rank > 0 for role in roles):
        yield 403
    parameters = operation.get("parameters", [])
    if any(parameter["in"] == "path" for parameter in parameters):
        yield 404
    if "requestBody" in operation:
        yield from (400, 413)
    if parameters or "requestBody" in operation:
        yield 422


def _required_roles(dependant: Dependant) -> Iterator[Role]:
    """The roles a route's dependencies demand (`cowans.api.deps.require_role` marks them)."""
    for dependency in dependant.dependencies:
        role = getattr(dependency.call, "required_role", None)
        if isinstance(role, Role):
            yield role
        yield from _required_roles(dependency)
