"""Error codes of the auth area (one enum per area, as the API reports them)."""

from enum import StrEnum


class AuthErrorCode(StrEnum):
    INVALID_CREDENTIALS = "invalid_credentials"
    TOO_MANY_ATTEMPTS = "too_many_login_attempts"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_TOKEN = "invalid_token"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_REVOKED = "token_revoked"
    SESSION_EXPIRED = "session_expired"
    NOT_A_LOGIN_SESSION = "not_a_login_session"
    USER_INACTIVE = "user_inactive"
    FORBIDDEN = "forbidden"
    EMAIL_TAKEN = "email_taken"
    USER_NOT_FOUND = "user_not_found"
    TOKEN_NOT_FOUND = "token_not_found"
    WEAK_PASSWORD = "weak_password"
    LAST_ADMIN = "last_admin"
