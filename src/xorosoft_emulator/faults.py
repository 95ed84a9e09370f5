"""How the emulator misbehaves on purpose: a rate limit, like Xorosoft's, and seeded faults."""

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_REQUESTS_PER_SECOND = 10


@dataclass
class Faults:
    """Seeded fault injection: the same seed gives the same faults for the same requests."""

    http_5xx: float = 0.0
    latency_ms: tuple[int, int] = (0, 0)
    seed: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - seeded so faults repeat

    def latency_seconds(self) -> float:
        low, high = self.latency_ms
        return self.rng.uniform(low, high) / 1000 if high > 0 else 0.0

    def fails(self) -> bool:
        return self.http_5xx > 0 and self.rng.random() < self.http_5xx

    def describe(self) -> dict[str, Any]:
        return {"http_5xx": self.http_5xx, "latency_ms": list(self.latency_ms), "seed": self.seed}


@dataclass
class ArrivalWindow:
    """At most `limit` requests in any `period_seconds`, counted by arrival; refused requests
    are not counted, so a client that backs off gets through."""

    limit: int = DEFAULT_REQUESTS_PER_SECOND
    period_seconds: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _arrivals: deque[float] = field(default_factory=deque, init=False, repr=False)

    def admit(self) -> bool:
        now = self.clock()
        while self._arrivals and now - self._arrivals[0] >= self.period_seconds:
            self._arrivals.popleft()
        if len(self._arrivals) >= self.limit:
            return False
        self._arrivals.append(now)
        return True

    def retry_after_seconds(self) -> float:
        """When the oldest counted arrival leaves the window."""
        if not self._arrivals:
            return 0.0
        return max(0.0, self.period_seconds - (self.clock() - self._arrivals[0]))
