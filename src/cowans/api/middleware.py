"""Request ids, access logs and the audit trail, as one pure ASGI middleware.

Pure ASGI (not BaseHTTPMiddleware) so streaming responses and WebSockets pass through untouched.
Dependencies and routers leave what the audit needs in `request.state`: `actor_user_id`,
`actor_token_id` and `audit_details`; `changes_nothing` keeps a computing POST out of it.
"""

import logging
import re
import time
import uuid
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cowans.db.models import AuditLog
from cowans.logs import request_id_var

logger = logging.getLogger("cowans.access")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, session_factory: sessionmaker[Session]) -> None:
        self.app = app
        self.session_factory = session_factory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        token = request_id_var.set(request_id)
        state: dict[str, Any] = scope.setdefault("state", {})
        status_code = 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info("%s %s %s %.1fms", scope["method"], scope["path"], status_code, elapsed_ms)
            if scope["method"] not in SAFE_METHODS and not state.get("changes_nothing"):
                await anyio.to_thread.run_sync(
                    self._write_audit, scope, state, status_code, request_id
                )
            request_id_var.reset(token)

    def _write_audit(
        self, scope: Scope, state: dict[str, Any], status_code: int, request_id: str
    ) -> None:
        route = scope.get("route")
        path_template = getattr(route, "path", scope["path"])
        client = scope.get("client")
        entry = AuditLog(
            actor_user_id=state.get("actor_user_id"),
            actor_token_id=state.get("actor_token_id"),
            action=f"{scope['method']} {path_template}",
            method=scope["method"],
            path=scope["path"][:500],
            status_code=status_code,
            request_id=request_id,
            client_address=client[0] if client else "",
            details=state.get("audit_details", {}),
        )
        try:
            with self.session_factory() as session:
                session.add(entry)
                session.commit()
        except Exception:
            # The request already happened; a lost audit row must be loud, not a second failure.
            logger.exception("could not write the audit log entry for %s", entry.action)
