"""The ASGI app: Xorosoft's product endpoints under `/api/xerp/`, plus the emulator's own doors."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.routing import Route

from xorosoft_emulator import api, sidedoor
from xorosoft_emulator.catalog import Catalog
from xorosoft_emulator.faults import DEFAULT_REQUESTS_PER_SECOND, ArrivalWindow, Faults
from xorosoft_emulator.state import Credentials, EmulatorState


@dataclass
class EmulatorOptions:
    credentials: Credentials = field(default_factory=Credentials)
    faults: Faults = field(default_factory=Faults)
    requests_per_second: int = DEFAULT_REQUESTS_PER_SECOND
    side_door: bool = True
    # The rate limit's clock: tests pass their own to cross the window without waiting.
    clock: Callable[[], float] = time.monotonic


def create_app(catalog: Catalog, options: EmulatorOptions | None = None) -> Starlette:
    options = options or EmulatorOptions()
    state = EmulatorState(
        catalog=catalog,
        credentials=options.credentials,
        faults=options.faults,
        window=ArrivalWindow(options.requests_per_second, clock=options.clock),
    )
    routes: list[Route] = api.routes()
    if options.side_door:
        routes += sidedoor.routes()
    app = Starlette(routes=routes)
    app.state.emulator = state
    return app
