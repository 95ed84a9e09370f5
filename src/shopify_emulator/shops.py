"""Shops the emulator serves: each with its own token, data, bucket, faults and counters."""

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shopify_emulator.state import Location, ShopData
from shopify_emulator.throttle import PLAN_DISPLAY_NAMES, LeakyBucket

DEFAULT_LOCATIONS = ("Main Warehouse",)


@dataclass
class Faults:
    """Seeded fault injection. Probabilities are per request (per mutation for ISE-after-apply)."""

    http_5xx: float = 0.0
    hang: float = 0.0
    ise_after_apply: float = 0.0
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

    def add_location(self, name: str, *, primary: bool = False) -> Location:
        location = Location(self.data.next_number(), name, is_primary=primary)
        self.data.locations[location.number] = location
        return location

    def emit(self, topic: str, payload: dict[str, Any]) -> None:
        """Queue a webhook event; the webhook dispatcher delivers it to every subscription."""
        self.events.append((topic, payload))


class ShopRegistry:
    def __init__(self) -> None:
        self.shops: dict[str, Shop] = {}

    def add(self, shop: Shop, locations: tuple[str, ...] = DEFAULT_LOCATIONS) -> Shop:
        self.shops[shop.name] = shop
        if not shop.data.locations:
            for index, name in enumerate(locations):
                shop.add_location(name, primary=index == 0)
        return shop

    def by_host(self, host: str) -> Shop | None:
        name = host.split(":", 1)[0].removesuffix(".myshopify.com")
        return self.shops.get(name)

    def by_name(self, name: str) -> Shop | None:
        return self.shops.get(name.removesuffix(".myshopify.com"))
