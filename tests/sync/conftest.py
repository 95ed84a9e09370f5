"""Push tests run plans against the Shopify emulator over real HTTP."""

import pytest

from tests.emulator.conftest import emulator, make_emulator  # noqa: F401 - fixtures
from tests.jobs.conftest import make_runtime  # noqa: F401 - fixture


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
