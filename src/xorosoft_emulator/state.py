"""What every request may read or change: the catalog, the credentials, the faults, the counts."""

import base64
import binascii
import hmac
from collections import Counter
from dataclasses import dataclass, field

from starlette.requests import Request

from xorosoft_emulator.catalog import Catalog
from xorosoft_emulator.faults import ArrivalWindow, Faults

DEV_KEY = "xorosoft-emulator-key"
DEV_SECRET = "xorosoft-emulator-secret"


@dataclass(frozen=True)
class Credentials:
    key: str = DEV_KEY
    secret: str = field(default=DEV_SECRET, repr=False)

    def accept(self, authorization: str) -> bool:
        """Whether an `Authorization: Basic ...` header carries this key and secret."""
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, f"{self.key}:{self.secret}".encode())


@dataclass
class EmulatorState:
    """Handlers run on the event loop, one at a time between awaits, so each sees and leaves
    the state consistent without locks."""

    catalog: Catalog
    credentials: Credentials
    faults: Faults
    window: ArrivalWindow
    counters: Counter[str] = field(default_factory=Counter)


def emulator_state(request: Request) -> EmulatorState:
    return request.app.state.emulator
