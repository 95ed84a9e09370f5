"""Live events: what jobs, imports and workers publish, and how it reaches the WebSockets.

Embedded, publisher and WebSockets share a process and events go through `LocalEvents`. With
Redis (the distributed setup) every process publishes to one Redis channel and each API process
relays the channel into its own `LocalEvents`, so an event from a worker on another machine
reaches every browser. Events are hints for the screen: the database stays the truth, and a
browser that reconnects first gets the current state from it.
"""

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis

from cowans.config import Settings

logger = logging.getLogger(__name__)

CHANNEL = "cowans:events"
# A browser this far behind is closed rather than buffered for; it reconnects to a fresh state.
SUBSCRIBER_BUFFER = 1_000

Event = dict[str, Any]


class EventSink(Protocol):
    def publish(self, event: Event) -> None: ...


class SubscriberOverflow(Exception):
    """The subscriber fell too far behind; it must start again from the current state."""


class Subscription:
    """One WebSocket's queue of events, fed from any thread."""

    def __init__(self, hub: "LocalEvents", loop: asyncio.AbstractEventLoop) -> None:
        self._hub = hub
        self._loop = loop
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self.overflowed = False

    def deliver(self, event: Event) -> None:
        """Called in the subscriber's event loop."""
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self._queue.get_nowait()
            self._queue.put_nowait(None)  # wakes the reader to raise

    async def next(self) -> Event:
        event = await self._queue.get()
        if event is None:
            raise SubscriberOverflow
        return event

    def close(self) -> None:
        self._hub.unsubscribe(self)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop


class LocalEvents:
    """Fan-out to the subscribers of this process. `publish` is safe from any thread."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self._lock = threading.Lock()

    def subscribe(self) -> Subscription:
        subscription = Subscription(self, asyncio.get_running_loop())
        with self._lock:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            try:
                subscription.loop.call_soon_threadsafe(subscription.deliver, event)
            except RuntimeError:  # its loop closed: the connection is gone
                self.unsubscribe(subscription)


class RedisEvents:
    """Publishes to the shared channel; `relay` brings the channel into a process's hub."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._client = redis.Redis.from_url(url)

    def publish(self, event: Event) -> None:
        try:
            self._client.publish(CHANNEL, json.dumps(event, default=str))
        except redis.RedisError as exc:  # an event is a hint; the job must go on without it
            logger.warning("event not published (%s): %s", type(exc).__name__, event.get("type"))

    async def relay(self, hub: LocalEvents) -> None:
        """Forward every event of the channel to `hub` until cancelled, reconnecting as needed."""
        while True:
            try:
                async for event in self._listen():
                    hub.publish(event)
            except (redis.RedisError, OSError) as exc:
                logger.warning("event relay lost Redis (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(1)

    async def _listen(self) -> AsyncIterator[Event]:
        client = aioredis.Redis.from_url(self._url)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        yield json.loads(message["data"])
        finally:
            await client.aclose()

    def close(self) -> None:
        self._client.close()


class EventBus:
    """What the rest of the system holds: `publish` from anywhere, `local` to subscribe."""

    def __init__(self, settings: Settings) -> None:
        self.local = LocalEvents()
        self.redis = RedisEvents(settings.queue_url) if settings.uses_redis else None

    def publish(self, event: Event) -> None:
        if self.redis is not None:
            self.redis.publish(event)
        else:
            self.local.publish(event)

    def close(self) -> None:
        if self.redis is not None:
            self.redis.close()
