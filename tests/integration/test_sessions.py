"""Sessions and the browser's side of security: signing-key rotation, token renewal, revocation,
the password policy, the login limit across processes, CORS and the security headers (with a
real Chromium proving the Content-Security-Policy breaks nothing on the dashboard).
"""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.fernet import InvalidToken
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, select, text, update
from typer.testing import CliRunner

from cowans.api.app import create_app
from cowans.api.security_headers import DASHBOARD_POLICY, DOCS_POLICY
from cowans.auth.passwords import check_password_policy
from cowans.auth.tokens import issue_access_token, read_access_token
from cowans.cli import app as cli
from cowans.config import Settings, get_settings
from cowans.db.base import utcnow
from cowans.db.models import Role, Store, User
from cowans.db.session import session_scope
from cowans.db.types import _fernet
from cowans.errors import DomainError, Unauthenticated
from tests.conftest import PASSWORD

OLD_KEY = "the-key-we-used-to-have-" + "o" * 24
NEW_KEY = "the-key-we-have-now-" + "n" * 28


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _client(db_url: str, tmp_path: Path, **overrides: object) -> TestClient:
    settings = Settings(database_url=db_url, data_dir=tmp_path / "var", job_workers=0, **overrides)
    return TestClient(create_app(settings))


def _login(client: TestClient, email: str) -> dict:
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


# --- Rotating SECRET_KEY ---------------------------------------------------------------------


def test_tokens_of_the_previous_key_work_until_they_expire(
    db_url: str, tmp_path: Path, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.EDITOR)
    old_token = issue_access_token(user.id, OLD_KEY, timedelta(minutes=5)).token
    old_expired = issue_access_token(user.id, OLD_KEY, timedelta(seconds=-1)).token

    rotated = _client(db_url, tmp_path, secret_key=NEW_KEY, secret_key_previous=f" {OLD_KEY} ,")
    assert rotated.get("/api/auth/me", headers=_bearer(old_token)).status_code == 200
    expired = rotated.get("/api/auth/me", headers=_bearer(old_expired))
    assert (expired.status_code, expired.json()["error"]["code"]) == (401, "token_expired")
    # New tokens are signed with the new key only.
    new_token = _login(rotated, user.email)["access_token"]
    assert read_access_token(new_token, NEW_KEY) == user.id
    with pytest.raises(Unauthenticated):
        read_access_token(new_token, OLD_KEY)

    # Once the old key is dropped, its tokens are forged tokens.
    dropped = _client(db_url, tmp_path, secret_key=NEW_KEY)
    refused = dropped.get("/api/auth/me", headers=_bearer(old_token))
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "invalid_token")
    assert dropped.get("/api/auth/me", headers=_bearer(new_token)).status_code == 200


def _use_keys(monkeypatch: pytest.MonkeyPatch, current: str, previous: str = "") -> None:
    """The process-wide settings the encrypted columns read their key from."""
    monkeypatch.setenv("SECRET_KEY", current)
    monkeypatch.setenv("SECRET_KEY_PREVIOUS", previous)
    get_settings.cache_clear()


def _raw_secrets(engine: Engine) -> tuple[str, str]:
    with engine.connect() as connection:
        row = connection.execute(text("SELECT access_token, webhook_secret FROM stores")).one()
    return row[0], row[1]


def test_secrets_rotate_re_encrypts_store_tokens_under_the_new_key(
    db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    _use_keys(monkeypatch, OLD_KEY)
    with session_scope(engine) as session:
        session.add(
            Store(
                name="Main",
                shop_domain="main.myshopify.com",
                access_token="shpat_the_real_token",
                webhook_secret="whsec_the_real_secret",
            )
        )
    before = _raw_secrets(engine)
    assert "shpat_the_real_token" not in before[0]

    # The new key alone cannot read what the old one wrote...
    _use_keys(monkeypatch, NEW_KEY)
    with session_scope(engine) as session, pytest.raises(ValueError, match="SECRET_KEY_PREVIOUS"):
        session.scalars(select(Store)).one()
    # ...and the rotation refuses to run without the old key, changing nothing.
    refused = CliRunner().invoke(cli, ["secrets", "rotate"])
    assert refused.exit_code == 1, refused.output
    assert "nothing was re-encrypted" in refused.output
    assert _raw_secrets(engine) == before

    # With the old key listed as previous, the tokens are readable at once, and rotated.
    _use_keys(monkeypatch, NEW_KEY, f"{OLD_KEY}")
    with session_scope(engine) as session:
        assert session.scalars(select(Store)).one().access_token == "shpat_the_real_token"
    result = CliRunner().invoke(cli, ["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 2 stored secrets" in result.output

    after = _raw_secrets(engine)
    assert _fernet(NEW_KEY).decrypt(after[0].encode()) == b"shpat_the_real_token"
    assert _fernet(NEW_KEY).decrypt(after[1].encode()) == b"whsec_the_real_secret"
    with pytest.raises(InvalidToken):
        _fernet(OLD_KEY).decrypt(after[0].encode())
    # The old key can go now.
    _use_keys(monkeypatch, NEW_KEY)
    with session_scope(engine) as session:
        store = session.scalars(select(Store)).one()
        assert (store.access_token, store.webhook_secret) == (
            "shpat_the_real_token",
            "whsec_the_real_secret",
        )


# --- Renewing a login ------------------------------------------------------------------------


def test_refresh_renews_a_login_token_and_keeps_the_login_time(
    client: TestClient, make_user: Callable[..., User], settings: Settings
) -> None:
    user = make_user(Role.VIEWER)
    first = _login(client, user.email)["access_token"]
    renewed = client.post("/api/auth/refresh", headers=_bearer(first))
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["expires_in"] == settings.access_token_expire_minutes * 60
    assert body["user"] == {"id": user.id, "email": user.email, "role": "viewer"}
    token = body["access_token"]
    assert token != first
    assert client.get("/api/auth/me", headers=_bearer(token)).status_code == 200

    def claims(value: str) -> dict:
        return jwt.decode(value, options={"verify_signature": False})

    assert claims(token)["auth_time"] == claims(first)["auth_time"]
    assert claims(token)["exp"] >= claims(first)["exp"]


def test_refresh_stops_at_the_session_maximum(
    client: TestClient, make_user: Callable[..., User], settings: Settings
) -> None:
    user = make_user(Role.EDITOR)
    lifetime = timedelta(minutes=30)
    max_age = timedelta(hours=settings.session_max_hours)

    def token_logged_in(ago: timedelta) -> str:
        return issue_access_token(user.id, settings.signing_key, lifetime, utcnow() - ago).token

    too_old = client.post("/api/auth/refresh", headers=_bearer(token_logged_in(max_age)))
    assert (too_old.status_code, too_old.json()["error"]["code"]) == (401, "session_expired")
    # Near the end, the renewed token ends with the session, not a full lifetime later.
    near_end = token_logged_in(max_age - timedelta(minutes=10))
    last = client.post("/api/auth/refresh", headers=_bearer(near_end))
    assert last.status_code == 200
    assert 0 < last.json()["expires_in"] <= 10 * 60


def test_refresh_is_for_login_sessions_only(
    client: TestClient, login: Callable[[Role], dict[str, str]], engine: Engine
) -> None:
    headers = login(Role.EDITOR)
    api_token = client.post("/api/auth/tokens", json={"name": "cron"}, headers=headers).json()
    refused = client.post("/api/auth/refresh", headers=_bearer(api_token["token"]))
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "not_a_login_session"
    # A disabled user's login cannot be renewed either.
    with session_scope(engine) as session:
        session.execute(update(User).values(is_active=False))
    gone = client.post("/api/auth/refresh", headers=headers)
    assert (gone.status_code, gone.json()["error"]["code"]) == (401, "user_inactive")


# --- Revocation takes effect on the next request ---------------------------------------------


def test_disabling_a_user_cuts_off_their_api_tokens_at_once(
    client: TestClient, login: Callable[[Role], dict[str, str]], make_user: Callable[..., User]
) -> None:
    admin = login(Role.ADMIN)
    user = make_user(Role.EDITOR)
    session_token = _login(client, user.email)["access_token"]
    created = client.post("/api/auth/tokens", json={"name": "x"}, headers=_bearer(session_token))
    token = created.json()["token"]
    assert client.get("/api/auth/me", headers=_bearer(token)).status_code == 200

    patched = client.patch(f"/api/users/{user.id}", json={"is_active": False}, headers=admin)
    assert patched.status_code == 200
    for bearer in (token, session_token):
        refused = client.get("/api/auth/me", headers=_bearer(bearer))
        assert (refused.status_code, refused.json()["error"]["code"]) == (401, "user_inactive")


# --- Passwords and login limits --------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Password123!",
        "P@ssw0rd2024",
        "qwertyuiop",
        "1234567890",
        "0987654321",
        "abcdefghijk",
        "aaaaaaaaaaaa",
        "abcabcabcabc",
        "iloveyou!!!!",
        "Cowans2026!!",
        "ops.person99",  # the account's own name
        "short",
    ],
)
def test_easily_guessed_passwords_are_refused(password: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_password_policy(password, "ops.person@example.com")
    assert refused.value.code == "weak_password"


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,
        "tangerine otter 42 kiln",
        "1234a56789-violet",
        "Zürich-Möwe-Ølkasse",  # any characters count, as characters
        "日本語のパスワードです",
        "blue-harbour-lamp",
    ],
)
def test_long_unusual_passwords_pass_without_composition_rules(password: str) -> None:
    check_password_policy(password, "ops.person@example.com")


def test_the_api_explains_a_refused_password(
    client: TestClient, login: Callable[[Role], dict[str, str]]
) -> None:
    admin = login(Role.ADMIN)
    response = client.post(
        "/api/users",
        json={"email": "new.person@example.com", "password": "Password2026!"},
        headers=admin,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "weak_password"
    assert "first an attacker would try" in error["message"]


def test_the_login_limit_holds_across_processes(
    db_url: str, tmp_path: Path, make_user: Callable[..., User]
) -> None:
    """Two API processes (two apps) share the count: it lives in the database."""
    user = make_user(Role.VIEWER)
    settings = {"login_max_failures_per_account": 4}
    first = _client(db_url, tmp_path, **settings)
    second = _client(db_url, tmp_path, **settings)
    for client in (first, second, first, second):
        wrong = client.post("/api/auth/login", json={"email": user.email, "password": "nope" * 3})
        assert wrong.status_code == 401
    blocked = first.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0


# --- CORS and security headers ---------------------------------------------------------------

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization",
}


def test_cors_is_closed_by_default(client: TestClient) -> None:
    origin = {"Origin": "https://evil.example"}
    preflight = client.options("/api/auth/login", headers={**origin, **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code >= 400
    simple = client.get("/api/health", headers=origin)
    assert "access-control-allow-origin" not in simple.headers


def test_cors_opens_to_listed_origins_only(db_url: str, tmp_path: Path) -> None:
    client = _client(db_url, tmp_path, cors_origins="https://ops.example, http://localhost:3000")
    allowed = client.options(
        "/api/auth/login", headers={"Origin": "https://ops.example", **PREFLIGHT}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://ops.example"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers
    other = client.options(
        "/api/auth/login", headers={"Origin": "https://evil.example", **PREFLIGHT}
    )
    assert "access-control-allow-origin" not in other.headers
    for bad in ("*", "https://ops.example/path", "ops.example"):
        with pytest.raises(ValidationError):
            Settings(cors_origins=bad)


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/api/health", "/api/auth/me", "/api/no-such-thing", "/openapi.json"):
        headers = client.get(path).headers
        assert headers["content-security-policy"] == DASHBOARD_POLICY, path
        assert "frame-ancestors 'none'" in DASHBOARD_POLICY
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in headers  # plain http
    assert client.get("/docs").headers["content-security-policy"] == DOCS_POLICY


def test_hsts_only_over_https(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url="https://cowans.example") as client:
        assert client.get("/api/health").headers["strict-transport-security"].startswith("max-age=")
