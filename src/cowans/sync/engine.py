"""The ParallelSyncEngine's worker pool: how many steps of a phase are in flight at once.

Shopify's bucket, not our CPU, is the limit, so the pool follows the bucket. It starts at
`min_workers`; while steps wait for a worker and the store's bucket can pay for them and still
stay above its low line (a tenth of its size), it adds workers: as many as that room pays for,
up to `max_workers`, at most doubling per decision while the bucket's size is still a guess.
When Shopify throttles, or the bucket runs low, or workers have to wait for it, more workers would
only queue at the bucket, so it lets one go per decision, down to `min_workers`; when nothing
waits, idle workers leave. Decisions are made after every step and every `tick_seconds`.

Workers are numbered slots (1..max_workers), so a worker that leaves and comes back keeps its
figures. A worker told to leave while busy finishes its step first: a step in flight is never
abandoned. `should_stop` is asked before each step starts; once it says yes, no step starts
again, the steps in flight finish, and the ones never started are handed back.
"""

import asyncio
import contextlib
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from cowans.shopify.throttle import CostThrottle
from cowans.sync.planner import Step

# The causes of a wait that mean "the bucket is the limit": more workers would not help.
THROTTLE_CAUSES = frozenset({"throttled", "http_429", "bucket"})

# The worker slot the current task runs a step for; the client's wait listeners read it.
_current_worker: ContextVar[int | None] = ContextVar("sync_worker", default=None)


def current_worker() -> int | None:
    """The pool worker whose step this task is running, if any."""
    return _current_worker.get()


class PoolObserver(Protocol):
    """What the pool tells the monitor about its workers."""

    def worker_joined(self, worker_id: int) -> None: ...

    def worker_left(self, worker_id: int) -> None: ...

    def scaled(self, before: int, after: int, reason: str) -> None: ...

    def tick(self) -> None: ...


@dataclass(frozen=True)
class ScalingPolicy:
    """Below `low_fraction` of its size the bucket is low and the pool shrinks. Room is what it
    holds above `room_fraction` of its size: the pool grows only by steps that room pays for
    now. With the two equal, a step starts only if the bucket stays above the low line once it
    is paid, so the pool does not grow into a shrink. A larger `room_fraction` keeps more of
    the bucket for other apps of the store."""

    room_fraction: float = 0.10
    low_fraction: float = 0.10


StepRunner = Callable[[int, Step], Awaitable[None]]


class ElasticPool:
    def __init__(
        self,
        min_workers: int,
        max_workers: int,
        throttle: CostThrottle,
        observer: PoolObserver,
        *,
        policy: ScalingPolicy = ScalingPolicy(),
        tick_seconds: float = 0.1,
    ) -> None:
        if not 1 <= min_workers <= max_workers:
            raise ValueError(f"workers must be 1 <= min <= max, not {min_workers}..{max_workers}")
        self.min_workers = min_workers
        self.max_workers = max_workers
        self.throttle = throttle
        self.observer = observer
        self.policy = policy
        self.tick_seconds = tick_seconds
        self.stopped = False
        self.peak = 0
        self._members: set[int] = set()
        self._leaving: set[int] = set()
        self._busy: set[int] = set()
        self._signals: Counter[str] = Counter()
        self._resize(min_workers, "start")

    @property
    def size(self) -> int:
        """Workers in the pool, not counting those finishing a step before they leave."""
        return len(self._members - self._leaving)

    def signal(self, cause: str) -> None:
        """A worker waited (see shopify.client.Backoff); bucket-related causes shrink the pool
        at the next decision."""
        if cause in THROTTLE_CAUSES:
            self._signals[cause] += 1

    async def run(
        self,
        steps: Sequence[Step],
        run_step: StepRunner,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[Step]:
        """Run `steps` (started in their order) on the pool's workers; returns the steps never
        started because the run was told to stop. An error of a step or of `should_stop` is
        raised here once the steps in flight have finished."""
        queue = deque(steps)
        running: set[asyncio.Task[None]] = set()
        error: BaseException | None = None
        try:
            while queue or running:
                if error is None and not self.stopped:
                    self._decide(queue)
                    try:
                        self._start(queue, running, run_step, should_stop)
                    except Exception as exc:  # should_stop failed: as a step failing would
                        error = exc
                self.observer.tick()
                if not running:
                    break
                done, _ = await asyncio.wait(
                    running, timeout=self.tick_seconds, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    running.discard(task)
                    if error is None and task.exception() is not None:
                        error = task.exception()
        finally:
            await _cancel(running)
        if error is not None:
            raise error
        return list(queue)

    def _start(
        self,
        queue: deque[Step],
        running: set[asyncio.Task[None]],
        run_step: StepRunner,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        while queue and (free := self._free()) is not None:
            if should_stop is not None and should_stop():
                self.stopped = True
                return
            step = queue.popleft()
            self._busy.add(free)
            running.add(asyncio.create_task(self._work(free, step, run_step)))

    def _free(self) -> int | None:
        free = sorted(self._members - self._leaving - self._busy)
        return free[0] if free else None

    async def _work(self, worker_id: int, step: Step, run_step: StepRunner) -> None:
        _current_worker.set(worker_id)  # this task's own context: no other task sees it
        try:
            await run_step(worker_id, step)
        finally:
            self._busy.discard(worker_id)
            if worker_id in self._leaving:
                self._leaving.discard(worker_id)
                self._members.discard(worker_id)
                self.observer.worker_left(worker_id)

    # Scaling ------------------------------------------------------------------------------------

    def _decide(self, queue: deque[Step]) -> None:
        signals, self._signals = self._signals, Counter()
        if self.min_workers == self.max_workers:
            return
        available, maximum = self.throttle.available(), self.throttle.maximum
        if signals or available < self.policy.low_fraction * maximum:
            reason = "throttled" if signals["throttled"] or signals["http_429"] else "bucket_low"
            self._resize(self.size - 1, reason)
        elif waiting := list(queue)[len(self._members - self._leaving - self._busy) :]:
            self._resize(self.size + self._affordable(waiting, available, maximum), "queue_deep")
        elif not queue:
            self._resize(len(self._busy - self._leaving), "idle")

    def _affordable(self, waiting: list[Step], available: float, maximum: float) -> int:
        """How many of the waiting steps the bucket's room pays for, within max_workers. Until
        Shopify has reported the bucket its size is a guess, so the pool at most doubles per
        decision then, ramping up as the answers come instead of betting on the guess."""
        room = available - self.policy.room_fraction * maximum
        most = self.max_workers - self.size
        if not self.throttle.reported:
            most = min(most, self.size)
        added = 0
        for step in waiting[:most]:
            if room < step.predicted_cost:
                break
            room -= step.predicted_cost
            added += 1
        return added

    def _resize(self, wanted: int, reason: str) -> None:
        before, target = self.size, max(self.min_workers, min(self.max_workers, wanted))
        if target > before:
            self._grow(target - before)
        elif target < before:
            self._shrink(before - target)
        if target != before:
            self.peak = max(self.peak, target)
            self.observer.scaled(before, target, reason)

    def _grow(self, count: int) -> None:
        for worker_id in sorted(self._leaving, reverse=True)[:count]:
            self._leaving.discard(worker_id)  # still busy: it simply stays
            count -= 1
        vacant = (n for n in range(1, self.max_workers + 1) if n not in self._members)
        for worker_id in list(vacant)[:count]:
            self._members.add(worker_id)
            self.observer.worker_joined(worker_id)

    def _shrink(self, count: int) -> None:
        """Idle workers leave at once (the highest numbers first); busy ones after their step."""
        staying = sorted(self._members - self._leaving, key=lambda n: (n not in self._busy, n))
        for worker_id in reversed(staying[-count:] if count else []):
            if worker_id in self._busy:
                self._leaving.add(worker_id)
            else:
                self._members.discard(worker_id)
                self.observer.worker_left(worker_id)


async def _cancel(running: set[asyncio.Task[None]]) -> None:
    """Only reached with tasks left when the run itself was cancelled or failed."""
    for task in running:
        task.cancel()
    for task in running:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
