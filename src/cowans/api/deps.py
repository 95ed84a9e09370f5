"""Dependencies every router shares: settings, a database session, the caller and its role.

Routes declare their role with one of the `Viewer`, `Editor`, `Approver`, `Admin` aliases; the
auth matrix test reads `required_role` off the dependency to check every route has one.
"""

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from cowans.auth.errors import AuthErrorCode
from cowans.auth.service import Principal, authenticate
from cowans.config import Settings
from cowans.db.models import Role
from cowans.db.session import read_only
from cowans.errors import Unauthenticated
from cowans.jobs.runtime import JobRuntime

READ_METHODS = frozenset({"GET", "HEAD"})
_bearer = HTTPBearer(auto_error=False, description="A login access token or an API token.")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def database_slot(request: Request) -> AsyncIterator[None]:
    """A place among the requests holding a database session, waited for in the event loop.

    FastAPI runs a request's dependencies, handler and teardown as separate steps on the
    thread pool (40 threads), and the session holds its connection between them. Unbounded,
    more requests than the pool has connections left every thread waiting for a connection
    that only requests waiting for a thread could give back: nothing moved until the pool's
    timeout failed them all with a 500 (80 clients did it). Waiting here holds no thread."""
    slots: anyio.Semaphore | None = getattr(request.app.state, "database_slots", None)
    if slots is None:
        yield
        return
    async with slots:
        yield


def get_session(
    request: Request, _slot: Annotated[None, Depends(database_slot, scope="function")]
) -> Iterator[Session]:
    """One transaction per request: committed when the handler succeeds, else rolled back.
    Reads begin without SQLite's write lock, so they are answered while an import writes."""
    with request.app.state.session_factory() as session:
        if request.method in READ_METHODS:
            read_only(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def get_jobs(request: Request) -> JobRuntime:
    return request.app.state.jobs


SettingsDep = Annotated[Settings, Depends(get_settings)]
JobsDep = Annotated[JobRuntime, Depends(get_jobs)]
# scope="function": commit before the response is sent, so a failed commit is never a 200.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated(
            AuthErrorCode.NOT_AUTHENTICATED, "Send 'Authorization: Bearer <token>'."
        )
    principal = authenticate(session, settings, credentials.credentials)
    # Plain ids for the audit entry: the ORM object may be expired by a rollback by then.
    request.state.actor_user_id = principal.user.id
    request.state.actor_token_id = principal.api_token_id
    return principal


def require_role(role: Role) -> Callable[..., Principal]:
    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(role)
        return principal

    dependency.required_role = role  # type: ignore[attr-defined]
    return dependency


Viewer = Annotated[Principal, Depends(require_role(Role.VIEWER))]
Editor = Annotated[Principal, Depends(require_role(Role.EDITOR))]
Approver = Annotated[Principal, Depends(require_role(Role.APPROVER))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]


def audit(request: Request, **details: object) -> None:
    """Add facts to this request's audit entry (ids, names; never secrets)."""
    request.state.audit_details = {**getattr(request.state, "audit_details", {}), **details}


def changes_nothing(request: Request) -> None:
    """Mark a POST that only computes (a prediction): the audit trail records what changed
    something, and a form asking as it is filled in would otherwise flood it."""
    request.state.changes_nothing = True
