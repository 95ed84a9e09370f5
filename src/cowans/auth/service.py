"""Users, logins and tokens: the operations the API and the CLI share."""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cowans.auth.errors import AuthErrorCode
from cowans.auth.login_limit import check_login_allowed, record_login_attempt
from cowans.auth.passwords import check_password_policy, hash_password, verify_password
from cowans.auth.tokens import (
    AccessToken,
    hash_api_token,
    is_api_token,
    issue_access_token,
    new_api_token,
    read_access_claims,
)
from cowans.config import Settings
from cowans.db.base import utcnow
from cowans.db.models import ApiToken, Role, User
from cowans.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, and the API token they used (None for a login session)."""

    user: User
    api_token_id: int | None = None
    # When the person typed their password, for a login session (a JWT); None for API tokens.
    authenticated_at: datetime | None = None

    def require(self, role: Role) -> None:
        if not self.user.role.includes(role):
            raise PermissionDenied(
                AuthErrorCode.FORBIDDEN,
                f"This action needs the {role.value} role; you have {self.user.role.value}.",
            )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(AuthErrorCode.USER_NOT_FOUND, f"No user with id {user_id}.")
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def create_user(session: Session, email: str, password: str, role: Role, name: str = "") -> User:
    email = normalize_email(email)
    check_password_policy(password, email)
    if find_user_by_email(session, email) is not None:
        raise Conflict(AuthErrorCode.EMAIL_TAKEN, f"A user with email {email} already exists.")
    user = User(email=email, name=name, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def update_user(
    session: Session,
    user_id: int,
    *,
    name: str | None = None,
    role: Role | None = None,
    is_active: bool | None = None,
    password: str | None = None,
) -> User:
    user = get_user(session, user_id)
    loses_admin = user.role is Role.ADMIN and (
        (role is not None and role is not Role.ADMIN) or is_active is False
    )
    if loses_admin and _active_admin_count(session) <= 1:
        raise Conflict(AuthErrorCode.LAST_ADMIN, "The last active admin cannot be demoted.")
    if name is not None:
        user.name = name
    if role is not None:
        user.role = role
    if is_active is not None:
        user.is_active = is_active
    if password is not None:
        check_password_policy(password, user.email)
        user.password_hash = hash_password(password)
    session.flush()
    return user


def _active_admin_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).where(User.role == Role.ADMIN, User.is_active.is_(True))
        )
        or 0
    )


def login(
    session: Session, settings: Settings, email: str, password: str, client_address: str
) -> tuple[AccessToken, User]:
    email = normalize_email(email)
    window = timedelta(seconds=settings.login_failure_window_seconds)
    check_login_allowed(
        session,
        email,
        client_address,
        max_per_account=settings.login_max_failures_per_account,
        max_per_address=settings.login_max_failures_per_address,
        window=window,
    )
    user = find_user_by_email(session, email)
    ok = verify_password(user.password_hash if user else None, password)
    ok = ok and user is not None and user.is_active
    record_login_attempt(session, email, client_address, succeeded=ok, window=window)
    if not ok or user is None:
        # One message for unknown email, wrong password and disabled account alike.
        raise Unauthenticated(AuthErrorCode.INVALID_CREDENTIALS, "Email or password is wrong.")
    user.last_login_at = utcnow()
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    return issue_access_token(user.id, settings.signing_key, lifetime), user


def authenticate(session: Session, settings: Settings, bearer: str) -> Principal:
    """Resolve a bearer token (JWT or API token) to an active user, or raise Unauthenticated."""
    if is_api_token(bearer):
        return _authenticate_api_token(session, bearer)
    claims = read_access_claims(bearer, settings.signing_key, settings.previous_signing_keys)
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated(AuthErrorCode.USER_INACTIVE, "This account is disabled.")
    return Principal(user=user, authenticated_at=claims.authenticated_at)


def refresh_access_token(principal: Principal, settings: Settings) -> AccessToken:
    """A new access token for a login session that is still valid, so a person at work is not
    signed out mid-edit. It keeps the login's time: past SESSION_MAX_HOURS the password is
    asked for again, so a stolen token cannot be renewed forever."""
    if principal.authenticated_at is None:
        raise InvalidInput(
            AuthErrorCode.NOT_A_LOGIN_SESSION,
            "Only login sessions are renewed; create a new API token instead.",
        )
    session_end = principal.authenticated_at + timedelta(hours=settings.session_max_hours)
    remaining = session_end - utcnow()
    if remaining <= timedelta(seconds=0):
        raise Unauthenticated(
            AuthErrorCode.SESSION_EXPIRED,
            f"Sessions last at most {settings.session_max_hours} hours; sign in again.",
        )
    lifetime = min(timedelta(minutes=settings.access_token_expire_minutes), remaining)
    return issue_access_token(
        principal.user.id, settings.signing_key, lifetime, principal.authenticated_at
    )


def _authenticate_api_token(session: Session, bearer: str) -> Principal:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_api_token(bearer)))
    if token is None:
        raise Unauthenticated(AuthErrorCode.INVALID_TOKEN, "The API token is invalid.")
    if token.revoked_at is not None:
        raise Unauthenticated(AuthErrorCode.TOKEN_REVOKED, "The API token was revoked.")
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated(AuthErrorCode.TOKEN_EXPIRED, "The API token has expired.")
    if not token.user.is_active:
        raise Unauthenticated(AuthErrorCode.USER_INACTIVE, "This account is disabled.")
    # Written at most once a minute: a busy script should not turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        _touch(session, token, now)
    return Principal(user=token.user, api_token_id=token.id)


def _touch(session: Session, token: ApiToken, moment: datetime) -> None:
    """Best effort: a read-only request on SQLite may not get the write lock at once, and
    `last_used_at` is not worth failing the request for; it is written next time."""
    try:
        with session.begin_nested():
            token.last_used_at = moment
    except OperationalError:
        log.info("API token %s: last use not recorded (database busy)", token.id)


def create_api_token(
    session: Session, user: User, name: str, expires_in_days: int
) -> tuple[str, ApiToken]:
    """Returns the token itself (shown once, never stored) and its record."""
    token = new_api_token()
    record = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_api_token(token),
        token_prefix=token[:10],
        expires_at=utcnow() + timedelta(days=expires_in_days),
    )
    session.add(record)
    session.flush()
    return token, record


def list_api_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    )


def revoke_api_token(session: Session, principal: Principal, token_id: int) -> ApiToken:
    """Users revoke their own tokens; admins may revoke anyone's."""
    token = session.get(ApiToken, token_id)
    is_admin = principal.user.role is Role.ADMIN
    if token is None or (token.user_id != principal.user.id and not is_admin):
        raise NotFound(AuthErrorCode.TOKEN_NOT_FOUND, f"No API token with id {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    session.flush()
    return token


def ensure_demo_admin(session: Session, email: str) -> str | None:
    """Create the first admin of a fresh development database; returns its password once."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    password = secrets.token_urlsafe(12)
    create_user(session, email, password, Role.ADMIN, name="Demo admin")
    return password
