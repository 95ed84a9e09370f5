"""Bearer tokens: short-lived JWT access tokens for people, long-lived API tokens for scripts.

API tokens carry a recognisable prefix so the authenticator can tell the two apart without
trying to decode, and so a leaked token is easy to spot in a secret scanner.
"""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from cowans.auth.errors import AuthErrorCode
from cowans.errors import Unauthenticated

API_TOKEN_PREFIX = "cwn_"
JWT_ALGORITHM = "HS256"
JWT_AUDIENCE = "cowans-api"


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


def _jwt_key(signing_key: str) -> str:
    # A purpose-bound key: the JWT secret differs from every other use of SECRET_KEY.
    return hashlib.sha256(b"cowans jwt v1:" + signing_key.encode()).hexdigest()


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    # When the password was typed: a renewed token keeps the original login's time, so renewal
    # cannot stretch a session past SESSION_MAX_HOURS.
    authenticated_at: datetime


def issue_access_token(
    user_id: int,
    signing_key: str,
    lifetime: timedelta,
    authenticated_at: datetime | None = None,
) -> AccessToken:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "aud": JWT_AUDIENCE,
        "iat": now,
        "exp": now + lifetime,
        "auth_time": int((authenticated_at or now).timestamp()),
        "jti": secrets.token_hex(8),
    }
    token = jwt.encode(claims, _jwt_key(signing_key), algorithm=JWT_ALGORITHM)
    return AccessToken(token=token, expires_in=int(lifetime.total_seconds()))


def read_access_token(token: str, signing_key: str, previous_keys: Sequence[str] = ()) -> int:
    """The user id an access token was issued to; raises Unauthenticated otherwise."""
    return read_access_claims(token, signing_key, previous_keys).user_id


def read_access_claims(
    token: str, signing_key: str, previous_keys: Sequence[str] = ()
) -> AccessClaims:
    """What a valid access token says; raises Unauthenticated otherwise.

    Tokens signed with a key rotated out (`previous_keys`) stay valid until they expire, so
    changing SECRET_KEY does not log everyone out at once."""
    for key in (signing_key, *previous_keys):
        try:
            return _decode(token, key)
        except jwt.InvalidSignatureError:
            continue
    raise Unauthenticated(AuthErrorCode.INVALID_TOKEN, "The access token is invalid.")


def _decode(token: str, signing_key: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            _jwt_key(signing_key),
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            options={"require": ["sub", "exp", "iat", "aud"]},
        )
        # Tokens issued before auth_time existed count from their issue.
        authenticated = int(claims.get("auth_time", claims["iat"]))
        return AccessClaims(int(claims["sub"]), datetime.fromtimestamp(authenticated, UTC))
    except jwt.InvalidSignatureError:
        raise
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated(AuthErrorCode.TOKEN_EXPIRED, "The access token has expired.") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError) as exc:
        raise Unauthenticated(AuthErrorCode.INVALID_TOKEN, "The access token is invalid.") from exc


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def is_api_token(token: str) -> bool:
    return token.startswith(API_TOKEN_PREFIX)


def hash_api_token(token: str) -> str:
    """SHA-256 is enough here: API tokens are 256 random bits, not guessable passwords."""
    return hashlib.sha256(token.encode()).hexdigest()
