"""How long to wait before trying a failed request again: exponential, capped, fully jittered."""

import random
from dataclasses import dataclass, field


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 0.5
    max_seconds: float = 20.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int) -> float:
        """Uniform in [0, min(max, base * 2^failures)]: clients that failed together (a store
        outage) do not all come back at the same moment."""
        return self.rng.uniform(0, min(self.max_seconds, self.base_seconds * 2**failures))
