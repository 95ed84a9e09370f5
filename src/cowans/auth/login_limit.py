"""Brute-force protection: failed logins are counted per account and per client address.

Counts live in the database (table `login_attempts`) so the limit holds across every API
process of a distributed deployment. A success clears the account's count; the address count
only ages out, so one address cannot cycle through accounts.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cowans.auth.errors import AuthErrorCode
from cowans.db.base import utcnow
from cowans.db.models import LoginAttempt
from cowans.errors import RateLimited

# Rows older than this many windows can no longer matter.
_RETENTION_WINDOWS = 4


def _failures_since(session: Session, since: datetime, **match: str) -> tuple[int, datetime | None]:
    column_filters = [getattr(LoginAttempt, name) == value for name, value in match.items()]
    row = session.execute(
        select(func.count(), func.min(LoginAttempt.created_at)).where(
            *column_filters, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > since
        )
    ).one()
    # min() keeps the column's type, so this comes back as an aware UTC datetime.
    return row[0], row[1]


def check_login_allowed(
    session: Session,
    email: str,
    client_address: str,
    *,
    max_per_account: int,
    max_per_address: int,
    window: timedelta,
) -> None:
    now = utcnow()
    window_start = now - window
    last_success = session.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    account_since = max(window_start, last_success) if last_success else window_start
    for count, oldest, limit in (
        (*_failures_since(session, account_since, email=email), max_per_account),
        (*_failures_since(session, window_start, client_address=client_address), max_per_address),
    ):
        if count >= limit and oldest is not None:
            retry_after = max(1, int((oldest + window - now).total_seconds()) + 1)
            raise RateLimited(
                AuthErrorCode.TOO_MANY_ATTEMPTS,
                "Too many failed logins. Try again later.",
                retry_after_seconds=retry_after,
            )


def record_login_attempt(
    session: Session, email: str, client_address: str, *, succeeded: bool, window: timedelta
) -> None:
    session.add(LoginAttempt(email=email, client_address=client_address, succeeded=succeeded))
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.created_at < utcnow() - window * _RETENTION_WINDOWS)
    )
