"""The FastAPI application: `create_app(settings)` wires settings, database and routers."""

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from cowans import __version__
from cowans.api.errors import install_error_handlers
from cowans.api.middleware import RequestContextMiddleware
from cowans.api.routers import auth, health, imports, products, users
from cowans.config import Settings, get_settings
from cowans.db.session import get_engine, session_factory


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
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = sessions

    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, session_factory=sessions)
    for router in (health.router, auth.router, users.router, products.router, imports.router):
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app
