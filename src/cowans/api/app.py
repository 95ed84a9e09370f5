"""The FastAPI application: `create_app(settings)` wires settings, database, jobs and routers.

The app's lifespan starts what runs beside the requests: the in-process job workers (unless
JOB_WORKERS is 0, as `cowans serve --no-workers` sets it) and, with Redis, the relay that brings
other processes' events to this process's WebSockets.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from cowans import __version__
from cowans.api.body_limits import RequestLimitsMiddleware
from cowans.api.errors import install_error_handlers
from cowans.api.middleware import RequestContextMiddleware
from cowans.api.routers import (
    auth,
    batch,
    enhanced_sync,
    events,
    health,
    imports,
    jobs,
    metrics,
    products,
    stores,
    sync,
    users,
    webhooks,
)
from cowans.api.security_headers import SecurityHeadersMiddleware
from cowans.api.web import install_dashboard
from cowans.config import Settings, get_settings
from cowans.db.session import POOL_SIZE, get_engine, session_factory
from cowans.jobs.events import EventBus
from cowans.jobs.handlers import HANDLERS
from cowans.jobs.runtime import JobRuntime
from cowans.shopify import webhooks as webhook_subscriptions

ROUTERS = (
    health.router,
    metrics.router,
    auth.router,
    users.router,
    products.router,
    imports.router,
    batch.router,
    sync.router,
    enhanced_sync.router,
    jobs.router,
    events.router,
    stores.router,
    webhooks.router,
)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    bus: EventBus = app.state.events
    runtime: JobRuntime = app.state.jobs
    relay = asyncio.create_task(bus.redis.relay(bus.local)) if bus.redis else None
    consumer = None
    if settings.job_workers > 0:
        consumer = runtime.consumer(settings.job_workers, embedded=True, periodic=True)
        consumer.start()
    try:
        yield
    finally:
        if consumer is not None:
            await asyncio.to_thread(consumer.stop)
        if relay is not None:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay
        bus.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # exports, the embedded queue
    _ = settings.signing_key  # refuse a weak key now, not at the first login
    engine = get_engine(settings.database_url)
    sessions = session_factory(engine)

    app = FastAPI(
        title="Cowan's Product Management System",
        version=__version__,
        description="Supplier feeds in, reviewed changes out to Shopify.",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = sessions
    # Requests holding a session at once: fewer than the pool's connections (see deps).
    app.state.database_slots = anyio.Semaphore(POOL_SIZE)
    app.state.events = EventBus(settings)
    app.state.jobs = JobRuntime(settings, engine, app.state.events, HANDLERS)

    install_error_handlers(app)
    # Inside the request context (added before it): its refusals get a request id and a log line.
    app.add_middleware(
        RequestLimitsMiddleware,
        max_request_bytes=settings.max_request_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        max_json_depth=settings.max_json_depth,
        raw_body_paths=(webhook_subscriptions.CALLBACK_PATH,),
    )
    app.add_middleware(RequestContextMiddleware, session_factory=sessions)
    if settings.cors_origin_list:
        # Bearer tokens, never cookies: no credentials mode, so a listed origin's page still has
        # to hold a token to act.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "Content-Disposition"],
        )
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: every response carries them
    for router in ROUTERS:
        app.include_router(router)

    install_dashboard(app, settings.web_dist_dir)

    return app
