"""Shops the emulator serves: each with its own token, data, bucket, faults and counters."""

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shopify_emulator.state import Location, ShopData
from shopify_emulator.throttle import PLAN_DISPLAY_NAMES, LeakyBucket

DEFAULT_LOCATIONS = ("Main Warehouse",)
# Emitted events kept on the shop for inspection; older ones are dropped so a long run stays small.
EVENT_HISTORY = 1000

EventListener = Callable[["Shop", str, dict[str, Any]], None]


@dataclass
class Faults:
    """Seeded fault injection. Probabilities are per request (per mutation for ISE-after-apply)."""

    http_5xx: float = 0.0
    hang: float = 0.0
    ise_after_apply: float = 0.0
    # A THROTTLED answer whatever the bucket holds: a client that paces itself by the bucket
    # never meets a real throttle, so a chaos run forces some.
    throttle: float = 0.0
    latency_ms: tuple[int, int] = (0, 0)
    hang_seconds: float = 600.0
    seed: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)

    def roll(self, probability: float) -> bool:
        return probability > 0 and self.rng.random() < probability

    def latency_seconds(self) -> float:
        low, high = self.latency_ms
        return self.rng.uniform(low, high) / 1000 if high > 0 else 0.0

    def describe(self) -> dict[str, Any]:
        return {
            "http_5xx": self.http_5xx,
            "hang": self.hang,
            "ise_after_apply": self.ise_after_apply,
            "throttle": self.throttle,
            "latency_ms": list(self.latency_ms),
            "seed": self.seed,
        }


@dataclass
class Shop:
    name: str
    access_token: str
    plan: str = "standard"
    data: ShopData = field(default_factory=ShopData)
    faults: Faults = field(default_factory=Faults)
    counters: Counter[str] = field(default_factory=Counter)
    bucket: LeakyBucket = field(init=False)
    webhook_secret: str = ""
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Bumped by every emitted event and side-door change: persistence saves when it moves.
    revision: int = 0
    # Set by the running webhook dispatcher; None when no app is serving this shop.
    listener: EventListener | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.bucket = LeakyBucket.for_plan(self.plan)
        if not self.webhook_secret:
            self.webhook_secret = f"{self.name}-webhook-secret"

    @property
    def domain(self) -> str:
        return f"{self.name}.myshopify.com"

    @property
    def plan_display_name(self) -> str:
        return PLAN_DISPLAY_NAMES[self.plan]

    def set_plan(self, plan: str) -> None:
        self.plan = plan
        self.bucket.set_plan(plan)

    def reset(self) -> None:
        """Empty the shop as if it were new: same name, token, plan, faults and locations
        (which get their original ids back, since they were created first)."""
        names = [location.name for location in self.data.locations.values()]
        self.data = ShopData()
        for index, name in enumerate(names):
            self.add_location(name, primary=index == 0)
        self.counters.clear()
        self.events.clear()
        self.bucket = LeakyBucket.for_plan(self.plan)
        self.revision += 1

    def add_location(self, name: str, *, primary: bool = False) -> Location:
        location = Location(self.data.next_number(), name, is_primary=primary)
        self.data.locations[location.number] = location
        return location

    def emit(self, topic: str, payload: dict[str, Any]) -> None:
        """Record a webhook event and hand it to the dispatcher, which delivers it to every
        matching subscription (and does nothing at all when none matches)."""
        self.revision += 1
        self.events.append((topic, payload))
        if len(self.events) > 2 * EVENT_HISTORY:
            del self.events[:-EVENT_HISTORY]
        if self.listener is not None:
            self.listener(self, topic, payload)


class ShopRegistry:
    def __init__(self) -> None:
        self.shops: dict[str, Shop] = {}
        self.listener: EventListener | None = None

    def add(self, shop: Shop, locations: tuple[str, ...] = DEFAULT_LOCATIONS) -> Shop:
        self.shops[shop.name] = shop
        shop.listener = self.listener
        if not shop.data.locations:
            for index, name in enumerate(locations):
                shop.add_location(name, primary=index == 0)
        return shop

    def set_listener(self, listener: EventListener | None) -> None:
        """Route every shop's events (present and future) to the listener, or to none."""
        self.listener = listener
        for shop in self.shops.values():
            shop.listener = listener

    def by_host(self, host: str) -> Shop | None:
        """The shop a `Host` header names; on a plain address (127.0.0.1:5001) with one shop
        served, that shop, so `http://127.0.0.1:5001/admin/api/...` works out of the box."""
        name = host.split(":", 1)[0].removesuffix(".myshopify.com")
        if name in self.shops:
            return self.shops[name]
        return next(iter(self.shops.values())) if len(self.shops) == 1 else None

    def by_name(self, name: str) -> Shop | None:
        return self.shops.get(name.removesuffix(".myshopify.com"))
