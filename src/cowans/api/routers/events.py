"""WS /ws?token=...: the live events of jobs, imports and workers.

A connection first gets the current state (one event per live or recent job, per worker and per
running import, then `snapshot.done`), then every event as it happens. It subscribes before it
reads that state, so nothing that happens in between is missed (at worst seen twice). A browser
too slow to keep up is disconnected rather than buffered for; it reconnects to a fresh state.

The token is checked again every REAUTHENTICATE_SECONDS while the connection is open, so an
expired or revoked token, or a disabled account, stops its stream within that time rather than
whenever the browser happens to leave. A database too busy or away to answer does not end it.
"""

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from starlette.websockets import WebSocketDisconnect

from cowans.auth.service import authenticate
from cowans.db.models import Import, JobState, SyncJob
from cowans.db.session import read_only
from cowans.errors import DomainError
from cowans.jobs import store
from cowans.jobs.context import metrics_event
from cowans.jobs.events import Event, SubscriberOverflow, Subscription
from cowans.jobs.workers import list_workers
from cowans.sources.imports import import_view

router = APIRouter(tags=["events"])

RECENT_JOBS = 20
UNAUTHORIZED = 4401  # WebSocket close codes 4000-4999 are the application's own
TOO_SLOW = 1013  # "try again later"
REAUTHENTICATE_SECONDS = 60.0


@router.websocket("/ws")
async def live_events(websocket: WebSocket, token: str = "") -> None:
    await websocket.accept()
    try:
        await asyncio.to_thread(_authenticate, websocket, token)
    except DomainError as exc:
        await _refuse(websocket, exc)
        return
    subscription = websocket.app.state.events.local.subscribe()
    try:
        for event in await asyncio.to_thread(_snapshot, websocket):
            await websocket.send_json(event)
        await websocket.send_json({"type": "snapshot.done"})
        await _stream(websocket, subscription, token)
    except WebSocketDisconnect:
        pass
    finally:
        subscription.close()


async def _refuse(websocket: WebSocket, exc: DomainError) -> None:
    error = {"code": exc.code, "message": exc.message}
    await websocket.send_json({"type": "error", "error": error})
    await websocket.close(code=UNAUTHORIZED)


def _authenticate(websocket: WebSocket, token: str) -> None:
    with websocket.app.state.session_factory() as session:
        authenticate(session, websocket.app.state.settings, token)
        session.commit()  # an API token records its last use


async def _stream(websocket: WebSocket, subscription: Subscription, token: str) -> None:
    """Send events until the browser leaves (or falls too far behind, or its token stops
    being valid)."""
    tasks = {
        asyncio.create_task(_send_events(websocket, subscription)),
        asyncio.create_task(_until_closed(websocket)),
        asyncio.create_task(_until_unauthorized(websocket, token)),
    }
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await task
    for task in done:
        if isinstance(task.exception(), SubscriberOverflow):
            await websocket.close(code=TOO_SLOW)


async def _send_events(websocket: WebSocket, subscription: Subscription) -> None:
    while True:
        await websocket.send_json(await subscription.next())


async def _until_unauthorized(websocket: WebSocket, token: str) -> None:
    while True:
        await asyncio.sleep(REAUTHENTICATE_SECONDS)
        try:
            await asyncio.to_thread(_authenticate, websocket, token)
        except OperationalError:
            continue  # the database's trouble, not the token's: ask again next time
        except DomainError as exc:
            await _refuse(websocket, exc)
            return


async def _until_closed(websocket: WebSocket) -> None:
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


def _snapshot(websocket: WebSocket) -> list[Event]:
    app = websocket.app
    with app.state.session_factory() as session:
        read_only(session)
        live = select(SyncJob).where(SyncJob.state.in_([JobState.QUEUED, JobState.RUNNING]))
        recent = select(SyncJob).order_by(SyncJob.id.desc()).limit(RECENT_JOBS)
        jobs = {job.id: job for job in session.scalars(live)}
        jobs.update((job.id, job) for job in session.scalars(recent))
        running_imports = session.scalars(
            select(Import).where(or_(Import.state == "running", Import.state == "queued"))
        )
        events: list[dict[str, Any]] = [
            {"type": "job.state", "job": store.job_view(job)}
            for job in sorted(jobs.values(), key=lambda job: job.id)
        ]
        events += [{"type": "import.progress", "import": import_view(r)} for r in running_imports]
        events += [
            metrics_event(job.id, job.kind, job.store_id, job.metrics)
            for job in sorted(jobs.values(), key=lambda job: job.id)
            if job.state is JobState.RUNNING and job.metrics
        ]
    stale_after = app.state.settings.job_stale_after_seconds
    events += [
        {"type": "worker.state", "worker": worker}
        for worker in list_workers(app.state.engine, stale_after)
    ]
    return events
