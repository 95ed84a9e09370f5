"""Push jobs: a store's approved changes, checked, planned and sent to Shopify.

The job takes the approved changes when it starts (a change approved later waits for the next
push) and marks them as its own, then works through them a window at a time (`PUSH_WINDOW`
changes: loaded, checked, planned and sent), so its memory does not grow with the catalog.
Before planning, each update is compared with the product as
Shopify has it now: what a merchant changed there since the base is either left alone or, when
the change would overwrite it, turned into a conflict for a person (see `sync.push`). Stock-only
updates are the exception: Shopify compares their stock itself as it applies them, so they are
sent unread unless a push took them before. The read is one bulk export of what the updates
write (products and variants, and the lists some change writes), or pages for a few. The plan
then runs on the elastic worker pool; each change's outcome is written as soon as its last
request is answered, so a crash loses at most the requests in flight, and the job picked up
again redoes only what has no outcome (every write is idempotent). `POST /api/sync/stop` lets
the requests in flight finish and leaves the rest approved for the next push.

A job that could not apply every change ends `completed_with_errors`, never `completed`.
"""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, defer

from cowans.db.models import (
    StagedChangeStatus,
    Store,
    StoreProduct,
    SyncHistory,
    SyncJob,
    SyncStaging,
)
from cowans.db.session import session_scope
from cowans.jobs import store as jobs_store
from cowans.jobs.context import JobContext
from cowans.jobs.errors import CompletedWithErrors, JobCancelled, JobInterrupted, JobLost
from cowans.jobs.staged_events import staged_changed
from cowans.jobs.store_turns import run_on_store
from cowans.shopify.bulk import (
    COLLECTIONS,
    MEDIA,
    METAFIELDS,
    PRODUCT_PARTS,
    iterate_bulk_products,
    run_bulk_mutation,
)
from cowans.shopify.client import ShopifyClient
from cowans.shopify.collections import candidate_handles, ensure_collections, find_collections
from cowans.shopify.connection import client_for_store
from cowans.shopify.documents import load
from cowans.shopify.products import RemoteProduct, fetch_products_by_handles, list_locations
from cowans.sync.changes import Operation, ProductChange
from cowans.sync.monitor import SyncPerformanceMonitor
from cowans.sync.planner import (
    Plan,
    Step,
    StoreConditions,
    Strategy,
    collection_titles,
    plan_changes,
)
from cowans.sync.pull import mark_conflict, stage_missing
from cowans.sync.push import (
    ID_CHUNK,
    RemoteCheck,
    approved_changes,
    approved_ids,
    check_against_remote,
    guarded_by_its_writes,
    parts_to_read,
    record_outcomes,
)
from cowans.sync.push import change_id as staged_change_id
from cowans.sync.runner import PUSH_POLL, PlanRunner, RunReport, WorkOutcome

KIND = "sync.push"
ERRORS_KEPT = 100
CHECK_BATCH = 250  # products read from Shopify per pre-push check round
STOP_POLL_SECONDS = 1.0
# The outcomes a change may have had from an earlier attempt of the same push.
DONE = (StagedChangeStatus.APPLIED, StagedChangeStatus.FAILED, StagedChangeStatus.CONFLICT)
BULK_READ_FROM = 50  # products to check at once, past which one bulk export reads them
BULK_COLLECTIONS_FROM = 3  # collections to make at once, past which one bulk mutation makes them
WRITE_CHUNK = 1000  # outcomes written per transaction


def create_push_job(
    session: Session,
    store: Store,
    config: dict[str, Any],
    created_by: int | None,
    ids: list[int] | None = None,
) -> SyncJob:
    params = {**config, "ids": ids}
    return jobs_store.create_job(
        session,
        KIND,
        params=params,
        created_by=created_by,
        priority=config.get("priority", "normal"),
        store_id=store.id,
    )


@dataclass
class _Tally:
    total: int = 0
    applied: int = 0
    failed: int = 0
    conflicts: int = 0
    not_run: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    def add_errors(self, errors: Iterable[dict[str, str]]) -> None:
        self.errors.extend(errors)
        del self.errors[ERRORS_KEPT:]


class _Push:
    """One run of a push job: the rows it owns, and their outcomes as they arrive."""

    def __init__(self, context: JobContext, store: Store) -> None:
        self.context, self.store, self.settings = context, store, context.settings
        self.claimed: list[int] = []  # every change this run took, in id order
        self.next_window = 0  # where in `claimed` the next window starts
        self.rows: dict[str, tuple[SyncStaging, ProductChange]] = {}  # the window's, unfinished
        # Changes a push claimed before this run (an earlier attempt, or another push that
        # ended early): they may be in Shopify already, so they are always read first.
        self.sent_before: set[str] = set()
        self.store_products = 0  # products the store has, as far as this system knows
        self.works_left: Counter[str] = Counter()
        self.outcomes: dict[str, list[WorkOutcome]] = {}
        self.tally = _Tally()
        self._stop_checked = 0.0
        self._stop = False

    # Database ---------------------------------------------------------------------------------

    def claim(self) -> None:
        """Take the approved changes: they carry this job's id from now on. Only their ids are
        read here; the changes themselves are loaded a window at a time (`load_window`). A
        job picked up again after a crash counts what its earlier attempts finished, so its
        figures and history cover the whole push."""
        with session_scope(self.context.engine) as session:
            self._count_earlier_attempts(session)
            taken = approved_ids(session, self.store.id, self.context.params.get("ids"))
            self.sent_before = _claimed_by_a_push(session, taken)
            self.store_products = (
                session.scalar(select(func.count()).where(StoreProduct.store_id == self.store.id))
                or 0
            )
            self.claimed = [row_id for row_id, _ in taken]
            for start in range(0, len(self.claimed), ID_CHUNK):
                session.execute(
                    update(SyncStaging)
                    .where(SyncStaging.id.in_(self.claimed[start : start + ID_CHUNK]))
                    .values(sync_job_id=self.context.job_id)
                    .execution_options(synchronize_session=False)  # no rows in the session
                )
        self.tally.total += len(self.claimed)

    def load_window(self) -> bool:
        """The next window of claimed changes, or False when none is left. A change that left
        the approved ones since the claim (restaged, say) is no longer this push's to count."""
        window = self.claimed[self.next_window : self.next_window + self.settings.push_window]
        if not window:
            return False
        self.next_window += len(window)
        with session_scope(self.context.engine) as session:
            pairs = approved_changes(session, self.store.id, window)
            session.expunge_all()
        self.rows = {change.change_id: (row, change) for row, change in pairs}
        self.tally.total -= len(window) - len(pairs)
        return True

    @property
    def not_loaded(self) -> int:
        return len(self.claimed) - self.next_window

    def _count_earlier_attempts(self, session: Session) -> None:
        finished = session.execute(
            select(SyncStaging.status, func.count())
            .where(
                SyncStaging.sync_job_id == self.context.job_id,
                SyncStaging.direction == "push",
                SyncStaging.status.in_(DONE),
            )
            .group_by(SyncStaging.status)
        )
        for status, count in finished:
            if status is StagedChangeStatus.APPLIED:
                self.tally.applied += count
            elif status is StagedChangeStatus.CONFLICT:
                self.tally.conflicts += count
            else:
                self.tally.failed += count
            self.tally.total += count

    def _write(self, pairs: list[tuple[SyncStaging, ProductChange]], report: RunReport) -> None:
        """Outcomes are written WRITE_CHUNK changes per transaction: a bulk mutation answers
        for every change at once, and one transaction of them all held every row and base
        in memory together. A crash between chunks leaves the rest approved and claimed, and
        the job picked up again redoes them (every write is idempotent)."""
        for start in range(0, len(pairs), WRITE_CHUNK):
            self._write_chunk(pairs[start : start + WRITE_CHUNK], report)

    def _write_chunk(
        self, pairs: list[tuple[SyncStaging, ProductChange]], report: RunReport
    ) -> None:
        with session_scope(self.context.engine) as session:
            # The rows as the database has them now, by one SELECT: a `merge` of each held row
            # was most of a push's own time (a millisecond a change, in the daily delta's
            # profile). The held rows were never changed, so they have nothing to add. A row
            # gone meanwhile is merged back, so that its outcome is still written.
            fresh = {
                row.id: row
                for row in session.scalars(
                    select(SyncStaging)
                    .options(defer(SyncStaging.desired), defer(SyncStaging.changes))
                    .where(SyncStaging.id.in_([row.id for row, _ in pairs]))
                )
            }
            current = [(fresh.get(row.id) or session.merge(row), change) for row, change in pairs]
            outcome = record_outcomes(session, self.store.id, current, report)
            if outcome.applied:
                stored = session.get(Store, self.store.id)
                if stored is not None:
                    stored.last_push_at = datetime.now(UTC)
        self.tally.applied += outcome.applied
        self.tally.failed += outcome.failed
        self.tally.conflicts += outcome.conflicts
        self.tally.add_errors(outcome.errors)
        self.progress()

    def _hold_back(self, held: list[tuple[str, RemoteCheck]]) -> None:
        """Conflicts found before sending, and updates of products Shopify no longer has."""
        with session_scope(self.context.engine) as session:
            vanished = []
            for change_id, check in held:
                stored, change = self.rows.pop(change_id)
                row = session.merge(stored)
                if check.vanished:
                    row.status = StagedChangeStatus.FAILED
                    row.error = "Deleted in Shopify; a pull change asks whether to delete it here."
                    vanished.append(change.handle)
                    self.tally.failed += 1
                else:
                    mark_conflict(row, check.conflicts, "Changed in Shopify since the last sync.")
                    self.tally.conflicts += 1
                self.tally.add_errors([{"handle": change.handle, "error": row.error or ""}])
            if vanished:
                store = session.get(Store, self.store.id)
                assert store is not None
                stage_missing(session, store, vanished, job_id=self.context.job_id)
        self.progress()

    def _finish_unplannable(self, plan: Plan) -> None:
        if not plan.unplannable:
            return
        with session_scope(self.context.engine) as session:
            for change_id, reason in plan.unplannable.items():
                stored, change = self.rows.pop(change_id)
                row = session.merge(stored)
                row.status, row.error = StagedChangeStatus.FAILED, reason[:2000]
                self.tally.failed += 1
                self.tally.add_errors([{"handle": change.handle, "error": row.error}])
        self.progress()

    def progress(self) -> None:
        done = self.tally.applied + self.tally.failed + self.tally.conflicts
        self.context.progress(
            processed=done,
            succeeded=self.tally.applied,
            failed=self.tally.failed + self.tally.conflicts,
            persist=False,
        )

    # Shopify ------------------------------------------------------------------------------------

    async def send(self) -> RunReport:
        """Every window in turn, on one connection and one monitor. The report adds up the
        windows' requests, points and time; their outcomes were written as they came."""
        workers = self._workers()
        total = RunReport()
        async with client_for_store(self.store, self.settings) as client:
            locations = await list_locations(client)
            monitor = SyncPerformanceMonitor(
                len(self.claimed), *workers, reporter=self.context.report_metrics
            )
            while not self._should_stop() and await asyncio.to_thread(self.load_window):
                report = await self._send_window(client, locations, monitor, workers)
                total.requests += report.requests
                total.points += report.points
                total.seconds += report.seconds
                total.peak_workers = max(total.peak_workers, report.peak_workers)
                if report.stopped:
                    break
            self.context.report_metrics(monitor.snapshot(), force=True)
        return total

    async def _send_window(
        self,
        client: ShopifyClient,
        locations: dict[str, str],
        monitor: SyncPerformanceMonitor,
        workers: tuple[int, int],
    ) -> RunReport:
        changes = await self._checked(client, locations)
        if not changes:
            return RunReport()
        collection_ids = await _collection_ids(client, changes)
        conditions = StoreConditions.from_settings(
            self.settings,
            locations,
            concurrency=workers[1],
            collection_ids=collection_ids,
        )
        if self.context.params.get("batchSize"):  # products per request, at most
            batch_size = int(self.context.params["batchSize"])
            conditions = replace(conditions, max_aliases=batch_size)
        plan = plan_changes(changes, self._strategy(), conditions)
        self._finish_unplannable(plan)
        for step in plan.steps:
            for work in step.works:
                self.works_left[work.change_id] += 1
        await self._finish_already_there()
        self.context.progress(phase="pushing")
        runner = PlanRunner(
            client,
            min_workers=workers[0],
            max_workers=workers[1],
            monitor=monitor,
            on_step=self._step_done,
            should_stop=self._should_stop,
        )
        return await runner.run(plan)

    async def _checked(
        self, client: ShopifyClient, locations: dict[str, str]
    ) -> list[ProductChange]:
        """The changes to plan, each as Shopify's current state allows: creates as they are,
        and stock-only updates never sent before (Shopify checks them as it applies them, see
        `guarded_by_its_writes`); other updates and deletes after a look at the product in
        Shopify, at the parts of it they write."""
        self.context.progress(phase="checking")
        ready: list[ProductChange] = []
        existing: dict[str, tuple[str, ProductChange]] = {}
        for change_id, (_, change) in self.rows.items():
            if change.operation is Operation.CREATE or (
                change_id not in self.sent_before and guarded_by_its_writes(change)
            ):
                ready.append(change)
            else:
                existing[change.handle] = (change_id, change)
        parts = parts_to_read(change for _, change in existing.values())
        # Pages read whole products; an export leaves out what no change writes.
        unread = PRODUCT_PARTS - parts if len(existing) > BULK_READ_FROM else frozenset()
        checks: list[tuple[str, ProductChange, RemoteCheck]] = []
        lines = self.store_products * _lines_per_product(existing.values(), parts)
        reads = _remote_products(client, list(existing), locations, parts, round(lines))
        async for remote in reads:
            change_id, change = existing.pop(remote.handle, (None, None))
            if change_id is not None and change is not None:
                check = check_against_remote(change, remote, locations, unread)
                checks.append((change_id, change, check))
            if len(checks) >= CHECK_BATCH:
                ready += await self._settle_checks(checks)
                checks = []
        for change_id, change in existing.values():  # Shopify has no such product
            checks.append((change_id, change, check_against_remote(change, None, locations)))
        return ready + await self._settle_checks(checks)

    async def _settle_checks(
        self, checks: list[tuple[str, ProductChange, RemoteCheck]]
    ) -> list[ProductChange]:
        """The changes to send; the others written now: held back, or already done."""
        ready: list[ProductChange] = []
        held: list[tuple[str, RemoteCheck]] = []
        done: list[tuple[SyncStaging, ProductChange]] = []
        for change_id, _, check in checks:
            if check.send is not None:
                ready.append(check.send)
            elif check.already_done:
                done.append(self.rows.pop(change_id))
            else:
                held.append((change_id, check))
        if held:
            await asyncio.to_thread(self._hold_back, held)
        if done:
            await asyncio.to_thread(self._write, done, RunReport())
        return ready

    async def _finish_already_there(self) -> None:
        """Changes the plan has nothing to send for are applied: Shopify shows them already, as
        when the request that applied them was in flight when the previous run was killed.
        Left out, they would never get an outcome and the job would end stopped."""
        done = [self.rows.pop(cid) for cid in list(self.rows) if not self.works_left[cid]]
        if done:
            await asyncio.to_thread(self._write, done, RunReport())

    async def _step_done(self, step: Step, outcomes: list[WorkOutcome]) -> None:
        """After each request: the changes whose last work this was get their outcome now."""
        finished: list[tuple[SyncStaging, ProductChange]] = []
        gathered: list[WorkOutcome] = []
        for outcome in outcomes:
            change_id = outcome.work.change_id
            self.outcomes.setdefault(change_id, []).append(outcome)
            self.works_left[change_id] -= 1
            if self.works_left[change_id] == 0 and change_id in self.rows:
                del self.works_left[change_id]
                finished.append(self.rows.pop(change_id))
                gathered += self.outcomes.pop(change_id)
        del step
        if finished:
            await asyncio.to_thread(self._write, finished, RunReport(outcomes=gathered))

    def _should_stop(self) -> bool:
        now = time.monotonic()
        if not self._stop and now - self._stop_checked >= STOP_POLL_SECONDS:
            self._stop_checked = now
            self._stop = jobs_store.cancel_requested(self.context.engine, self.context.job_id)
        return self._stop or self.context.shutting_down.is_set()

    def _workers(self) -> tuple[int, int]:
        params = self.context.params
        most = int(params.get("maxWorkers") or self.settings.parallel_sync_max_workers)
        least = min(int(params.get("minWorkers") or self.settings.parallel_sync_min_workers), most)
        return least, most

    def _strategy(self) -> Strategy:
        return Strategy(self.context.params.get("strategy") or "balanced")


async def _remote_products(
    client: ShopifyClient,
    handles: list[str],
    locations: dict[str, str],
    parts: Collection[str],
    expected_lines: int,
) -> AsyncIterator[RemoteProduct]:
    """The products Shopify has of these handles: page by page for a few, past BULK_READ_FROM
    by one bulk export of the store (a few points, where pages cost about a thousand each),
    keeping only the ones asked for. The export holds only the product lists in `parts`
    besides the variants: each list adds a line per element, and Shopify's time to write the
    file grows with its lines."""
    if len(handles) <= BULK_READ_FROM:
        for start in range(0, len(handles), CHECK_BATCH):
            found = await fetch_products_by_handles(
                client, handles[start : start + CHECK_BATCH], location_count=len(locations)
            )
            for remote in found.values():
                yield remote
        return
    wanted = set(handles)
    exported = iterate_bulk_products(
        client, parts=parts, poll=PUSH_POLL, expected_objects=expected_lines or None
    )
    async for remote in exported:
        if remote.handle in wanted:
            yield remote


def _lines_per_product(
    changes: Iterable[tuple[str, ProductChange]], parts: Collection[str]
) -> float:
    """The lines a product takes in an export of `parts`, on average over the changes' bases:
    an estimate of the export's size, which paces the waits for it."""
    counts = [
        1
        + len(base.variants)
        + (len(base.metafields) if METAFIELDS in parts else 0)
        + (len(base.images) if MEDIA in parts else 0)
        + (len(base.collections) if COLLECTIONS in parts else 0)
        for _, change in changes
        if (base := change.base) is not None
    ]
    return sum(counts) / len(counts) if counts else 0.0


async def _collection_ids(client: ShopifyClient, changes: list[ProductChange]) -> dict[str, str]:
    """{title: id} of the collections the changes join (made where missing) and of those they
    leave that still exist. Past BULK_COLLECTIONS_FROM missing ones (a first load, where every
    product type is new), one bulk mutation makes them: a collectionCreate costs 10 points
    each, a bulk mutation about 25 whatever its size. `ensure_collections` then finds them,
    and makes one by one any the bulk mutation could not (a handle taken, say)."""
    joined, left = collection_titles(changes)
    if len(joined) >= BULK_COLLECTIONS_FROM:
        there = await find_collections(client, joined)
        missing = [title for title in joined if title not in there]
        if len(missing) >= BULK_COLLECTIONS_FROM:
            lines = [
                {"collection": {"title": title, "handle": candidate_handles(title)[0]}}
                for title in missing
            ]
            await run_bulk_mutation(client, load("collection_create"), lines, poll=PUSH_POLL)
    return {
        **await find_collections(client, left),
        **await ensure_collections(client, joined),
    }


def _claimed_by_a_push(session: Session, taken: list[tuple[int, int | None]]) -> set[str]:
    """The changes whose rows a push job took before (staging gives them its own job's id)."""
    job_ids = {job_id for _, job_id in taken if job_id is not None}
    pushes = set(
        session.scalars(select(SyncJob.id).where(SyncJob.id.in_(job_ids), SyncJob.kind == KIND))
    )
    return {staged_change_id(row_id) for row_id, job_id in taken if job_id in pushes}


def run_push(context: JobContext) -> dict[str, Any]:
    return run_on_store(context, _push_store)


def _push_store(context: JobContext, store: Store) -> dict[str, Any]:
    started = datetime.now(UTC)
    push = _Push(context, store)
    push.claim()
    context.progress(total=push.tally.total, phase="checking")
    push.progress()  # an attempt after a crash starts from what the earlier ones finished
    report = asyncio.run(push.send()) if push.claimed else RunReport()
    push.tally.not_run = len(push.rows) + push.not_loaded
    summary = _summary(push.tally, report)
    handed_back = push.tally.not_run and (context.shutting_down.is_set() or context.lost.is_set())
    with session_scope(context.engine) as session:
        if not handed_back:  # one history row per push, written by the attempt that ends it
            session.add(_history(context, store.id, started, summary))
        session.flush()
        event = staged_changed(session, store.id, "pushed", job_id=context.job_id)
    context.publish(event)
    context.progress(phase="done" if not push.tally.not_run else "stopped")
    if push.tally.not_run:
        _stopped(context, push.tally.not_run, summary)
    problems = push.tally.failed + push.tally.conflicts
    if problems:
        raise CompletedWithErrors(
            f"{problems} of {push.tally.total} changes were not applied "
            f"({push.tally.conflicts} conflicts); see the job's result and the staged changes.",
            summary,
        )
    return summary


def _stopped(context: JobContext, not_run: int, summary: dict[str, Any]) -> None:
    """Why the run stopped early decides how the job ends: a worker shutting down gives it
    back to the queue (its next run sends the rest), a cancel ends it with what it did."""
    if context.lost.is_set():
        raise JobLost
    if context.shutting_down.is_set():
        raise JobInterrupted
    raise JobCancelled(
        f"Stopped: {not_run} approved changes were not sent and stay approved.", summary
    )


def _summary(tally: _Tally, report: RunReport) -> dict[str, Any]:
    return {
        "total": tally.total,
        "applied": tally.applied,
        "failed": tally.failed,
        "conflicts": tally.conflicts,
        "not_run": tally.not_run,
        "requests": report.requests,
        "points": round(report.points, 1),
        "seconds": round(report.seconds, 2),
        "errors": tally.errors[:ERRORS_KEPT],
    }


def _history(
    context: JobContext, store_id: int, started: datetime, summary: dict[str, Any]
) -> SyncHistory:
    failed = summary["failed"] + summary["conflicts"]
    status = "completed_with_errors" if failed else "completed"
    if summary["not_run"]:
        status = "stopped"
    return SyncHistory(
        sync_job_id=context.job_id,
        store_id=store_id,
        sync_type="push",
        direction="push",
        status=status,
        started_at=started,
        completed_at=datetime.now(UTC),
        total_items=summary["total"],
        processed_items=summary["total"] - summary["not_run"],
        succeeded_items=summary["applied"],
        failed_items=failed,
        performance_metrics={
            **{k: summary[k] for k in ("requests", "points", "seconds")},
            **context_metrics(context),
        },
        error_message=None if not failed else f"{failed} changes not applied",
    )


def context_metrics(context: JobContext) -> dict[str, Any]:
    """The monitor's last figures for the job, as `sync_history.metrics` keeps them."""
    job = jobs_store.load_job(context.engine, context.job_id)
    return dict(job.metrics or {}) if job is not None else {}
