"""Shopify's leaky bucket, as seen from the client: wait until a request can be paid for.

Shopify reports the bucket after every request (`extensions.cost.throttleStatus`). Between
reports the bucket refills at `restoreRate`, and requests already sent but not yet answered will
be charged too, so the prediction is: reported + refilled since - still in flight. Every worker
talking to one store shares one `CostThrottle` (see `throttle_for`), so together they keep the
bucket busy without ever being throttled.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Until Shopify has answered once, assume the smallest bucket (Standard plan).
DEFAULT_MAXIMUM = 2000.0
DEFAULT_RESTORE_RATE = 100.0


@dataclass
class CostThrottle:
    maximum: float = DEFAULT_MAXIMUM
    restore_rate: float = DEFAULT_RESTORE_RATE
    reserve: float = 0.0  # points left for other apps (the "cost" strategy keeps some)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Any] = asyncio.sleep
    _reported: float = field(init=False)
    _reported_at: float = field(init=False)
    _in_flight: float = field(init=False, default=0.0)
    waited_seconds: float = field(init=False, default=0.0)
    # Whether Shopify has reported the bucket yet: until then its size is a guess.
    reported: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self._reported = self.maximum
        self._reported_at = self.clock()

    def available(self) -> float:
        refilled = (self.clock() - self._reported_at) * self.restore_rate
        return min(self.maximum, self._reported + refilled) - self._in_flight

    def status(self) -> dict[str, float]:
        """The bucket as Shopify would report it now (Shopify's own names): the last report
        plus what has refilled since, before the requests still in flight are charged."""
        refilled = (self.clock() - self._reported_at) * self.restore_rate
        return {
            "currentlyAvailable": round(min(self.maximum, self._reported + refilled), 1),
            "maximumAvailable": self.maximum,
            "restoreRate": self.restore_rate,
        }

    def has_room(self, cost: float) -> bool:
        """Whether a request of `cost` points would be sent now, without waiting."""
        return self._missing(cost) <= 0

    def _missing(self, cost: float) -> float:
        return min(cost, self.maximum - self.reserve) + self.reserve - self.available()

    async def acquire(self, cost: float, on_wait: Callable[[float], None] | None = None) -> None:
        """Wait until `cost` points are there, then count them as in flight. `on_wait` hears
        each wait before it starts, so a worker pool knows its workers are held by the bucket."""
        cost = min(cost, self.maximum - self.reserve)  # never wait for the impossible
        # No lock: between the check and the taking there is no await, so on one event loop
        # they are atomic, and the throttle works from any loop.
        while (missing := self._missing(cost)) > 0:
            delay = missing / self.restore_rate
            self.waited_seconds += delay
            if on_wait is not None:
                on_wait(delay)
            await self.sleep(delay)
        self._in_flight += cost

    def settle(self, reserved: float, status: dict[str, Any] | None) -> None:
        """A request came back: it is no longer in flight, and Shopify said where the bucket is."""
        self._in_flight = max(0.0, self._in_flight - min(reserved, self.maximum - self.reserve))
        if not status:
            return
        self.maximum = float(status.get("maximumAvailable") or self.maximum)
        self.restore_rate = float(status.get("restoreRate") or self.restore_rate)
        self._reported = float(status.get("currentlyAvailable", self._reported))
        self._reported_at = self.clock()
        self.reported = True


_THROTTLES: dict[str, CostThrottle] = {}


def throttle_for(store_key: str) -> CostThrottle:
    """The one throttle of a store in this process (keyed by its GraphQL endpoint)."""
    if store_key not in _THROTTLES:
        _THROTTLES[store_key] = CostThrottle()
    return _THROTTLES[store_key]
