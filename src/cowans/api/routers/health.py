"""Liveness and readiness in one call, for people and load balancers alike."""

import os
from pathlib import Path
from typing import Literal

import redis
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from cowans.db.migrate import current_revision, head_revision
from cowans.db.models import Store
from cowans.db.session import read_only

router = APIRouter(tags=["health"])

CheckResult = Literal["ok", "error", "migrations_pending", "no_stores"]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    db: CheckResult
    queue: CheckResult
    shopify: CheckResult


def _check_db(request: Request) -> CheckResult:
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok" if current_revision(engine) == head_revision() else "migrations_pending"
    except Exception:
        return "error"


def _check_queue(request: Request) -> CheckResult:
    """The queue's storage must be reachable: Redis answers PING, or SQLite's folder is writable."""
    url = request.app.state.settings.queue_url
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            client.ping()
            return "ok"
        folder = Path(make_url(url).database or "").parent
        return "ok" if folder.is_dir() and os.access(folder, os.W_OK) else "error"
    except Exception:
        return "error"


def _check_shopify(request: Request) -> CheckResult:
    try:
        with request.app.state.session_factory() as session:
            read_only(session)
            stores = session.scalar(select(func.count()).where(Store.is_active.is_(True)))
        return "ok" if stores else "no_stores"
    except Exception:
        return "error"


@router.get("/api/health", response_model=Health, responses={503: {"model": Health}})
def health(request: Request, response: Response) -> Health:
    """No authentication. 503 when the database or the queue cannot serve."""
    db, queue = _check_db(request), _check_queue(request)
    healthy = db == "ok" and queue == "ok"
    if not healthy:
        response.status_code = 503
    return Health(
        status="ok" if healthy else "degraded", db=db, queue=queue, shopify=_check_shopify(request)
    )
