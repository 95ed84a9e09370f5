"""Webhook delivery (to be completed): drains each shop's events to its subscriptions."""

import asyncio

from shopify_emulator.shops import ShopRegistry


class WebhookDispatcher:
    def __init__(self, registry: ShopRegistry, retry_delays: tuple[float, ...]) -> None:
        self.registry = registry
        self.retry_delays = retry_delays
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass
