"""The ASGI app: Shopify's Admin GraphQL endpoint for every shop, plus the emulator's own doors.

Shops are addressed like Shopify (`Host: <shop>.myshopify.com`) or, when many shops share one
port on localhost, by a path prefix (`/<shop>/admin/api/2026-10/graphql.json`).
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from shopify_emulator import API_VERSION, executor, sidedoor, uploads
from shopify_emulator.persistence import AutoSaver, StateFile
from shopify_emulator.shops import Shop, ShopRegistry
from shopify_emulator.webhooks import WebhookDispatcher

SUPPORTED_VERSIONS = frozenset({API_VERSION})
INVALID_TOKEN_BODY = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
# What Shopify's edge answers when something behind it fails: HTML, not JSON.
EDGE_ERROR_PAGE = (
    "<!DOCTYPE html><html><head><title>Shopify</title></head><body><h1>{status} {reason}</h1>"
    "<p>There was a problem loading this website. Please try again.</p></body></html>"
)
EDGE_ERRORS = ((500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable"))


@dataclass
class EmulatorOptions:
    side_door: bool = True
    bulk_rows_per_second: float = 5000.0
    webhook_retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0)
    webhook_timeout_seconds: float = 5.0  # Shopify's: 1 s to connect, 5 s in all
    state_file: str | None = None  # SQLite file the shops' data is loaded from and saved to
    state_save_interval: float = 2.0  # seconds between saves of changed shops
    extra: dict[str, Any] = field(default_factory=dict)


def _base_url(request: Request, shop: Shop, by_path: bool) -> str:
    root = str(request.base_url).rstrip("/")
    return f"{root}/{shop.name}" if by_path else root


async def graphql_endpoint(request: Request) -> Response:
    registry: ShopRegistry = request.app.state.registry
    path_shop = request.path_params.get("shop")
    shop = (
        registry.by_name(path_shop)
        if path_shop
        else registry.by_host(request.headers.get("host", ""))
    )
    if shop is None:
        return JSONResponse({"errors": "Not Found"}, status_code=404)
    if request.path_params["version"] not in SUPPORTED_VERSIONS:
        return JSONResponse({"errors": "Not Found"}, status_code=404)
    if request.headers.get("x-shopify-access-token") != shop.access_token:
        return JSONResponse(INVALID_TOKEN_BODY, status_code=401)
    shop.counters["requests"] += 1
    # Received in full before any delay, like behind Shopify's edge: a request the client gave
    # up on while it hung is still applied when the hang ends (the case retries must survive).
    raw = await request.body()

    faults = shop.faults
    delay = faults.latency_seconds()
    if delay:
        await asyncio.sleep(delay)
    if faults.roll(faults.hang):
        shop.counters["faults_hang"] += 1
        await asyncio.sleep(faults.hang_seconds)
    if faults.roll(faults.http_5xx):
        shop.counters["faults_5xx"] += 1
        status, reason = faults.rng.choice(EDGE_ERRORS)
        return HTMLResponse(
            EDGE_ERROR_PAGE.format(status=status, reason=reason), status_code=status
        )

    try:
        payload = json.loads(raw)
    except ValueError:
        return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, 400)
    if not isinstance(payload, dict):
        return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, 400)
    outcome = executor.run(
        shop,
        _base_url(request, shop, by_path=path_shop is not None),
        payload.get("query"),
        payload.get("variables"),
        payload.get("operationName"),
        options=request.app.state.options,
        cost_debug=request.headers.get("shopify-graphql-cost-debug") == "1",
    )
    if outcome.was_mutation and "data" in outcome.body and faults.roll(faults.ise_after_apply):
        shop.counters["faults_ise_after_apply"] += 1
        return JSONResponse(executor.internal_error_body())
    return JSONResponse(outcome.body)


def create_app(registry: ShopRegistry, options: EmulatorOptions | None = None) -> Starlette:
    options = options or EmulatorOptions()
    dispatcher = WebhookDispatcher(
        registry, options.webhook_retry_delays, options.webhook_timeout_seconds
    )
    saver = (
        AutoSaver(StateFile(options.state_file), registry, options.state_save_interval)
        if options.state_file
        else None
    )
    routes = [
        Route("/admin/api/{version}/graphql.json", graphql_endpoint, methods=["POST"]),
        Route("/{shop}/admin/api/{version}/graphql.json", graphql_endpoint, methods=["POST"]),
        *uploads.routes(),
    ]
    if options.side_door:
        routes += sidedoor.routes()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if saver is not None:
            saver.start()  # loads the saved shops before the first request
        dispatcher.start()
        yield
        await dispatcher.stop()
        if saver is not None:
            await saver.stop()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.registry = registry
    app.state.options = options
    app.state.dispatcher = dispatcher
    return app
