"""Shopify's leaky bucket: points restore continuously up to the plan's maximum."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

# (maximum available, restore rate per second), per plan, as Shopify documents them.
PLANS: dict[str, tuple[float, float]] = {
    "standard": (2000.0, 100.0),
    "advanced": (4000.0, 200.0),
    "plus": (20000.0, 1000.0),
    "enterprise": (40000.0, 2000.0),
}
PLAN_DISPLAY_NAMES = {
    "standard": "Basic",
    "advanced": "Advanced",
    "plus": "Shopify Plus",
    "enterprise": "Shopify for enterprise",
}


@dataclass
class LeakyBucket:
    maximum: float
    restore_rate: float
    clock: Callable[[], float] = time.monotonic
    available: float = field(init=False)
    _updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.available = self.maximum
        self._updated = self.clock()

    @classmethod
    def for_plan(cls, plan: str, clock: Callable[[], float] = time.monotonic) -> "LeakyBucket":
        maximum, rate = PLANS[plan]
        return cls(maximum, rate, clock)

    def _restore(self) -> None:
        moment = self.clock()
        self.available = min(
            self.maximum, self.available + (moment - self._updated) * self.restore_rate
        )
        self._updated = moment

    def try_take(self, points: float) -> bool:
        """Take the points if they are there; a throttled request takes nothing."""
        self._restore()
        if points > self.available:
            return False
        self.available -= points
        return True

    def refund(self, points: float) -> None:
        self._restore()
        self.available = min(self.maximum, self.available + points)

    def set_plan(self, plan: str) -> None:
        self._restore()
        self.maximum, self.restore_rate = PLANS[plan]
        self.available = min(self.available, self.maximum)

    def status(self) -> dict[str, float]:
        self._restore()
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available, 1),
            "restoreRate": self.restore_rate,
        }
