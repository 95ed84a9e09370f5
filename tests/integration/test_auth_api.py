"""Login, tokens and roles through the HTTP API, on both databases."""

from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from cowans.auth.tokens import issue_access_token
from cowans.config import Settings
from cowans.db.base import utcnow
from cowans.db.models import ApiToken, AuditLog, Role, User
from cowans.db.session import session_scope
from tests.conftest import PASSWORD

LoginHeaders = Callable[[Role], dict[str, str]]


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_returns_a_token_that_works(client: TestClient, make_user) -> None:
    user = make_user(Role.EDITOR, email="Mixed.Case@Example.com")
    response = client.post(
        "/api/auth/login", json={"email": "  mixed.case@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["user"] == {"id": user.id, "email": "mixed.case@example.com", "role": "editor"}

    me = client.get("/api/auth/me", headers=_bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == "mixed.case@example.com"
    assert me.json()["last_login_at"] is not None


@pytest.mark.parametrize(
    ("email", "password"),
    [("viewer1@example.com", "wrong password!"), ("nobody@example.com", PASSWORD)],
)
def test_bad_credentials_get_one_answer(
    client: TestClient, make_user, email: str, password: str
) -> None:
    make_user(Role.VIEWER)
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 401
    assert _error(response)["code"] == "invalid_credentials"


def test_disabled_user_cannot_log_in(client: TestClient, make_user, engine: Engine) -> None:
    user = make_user(Role.ADMIN)
    with session_scope(engine) as session:
        session.execute(update(User).where(User.id == user.id).values(is_active=False))
    response = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_failed_logins_are_limited_per_account(
    client: TestClient, make_user, settings: Settings
) -> None:
    user = make_user(Role.VIEWER)
    for _ in range(settings.login_max_failures_per_account):
        bad = client.post("/api/auth/login", json={"email": user.email, "password": "x" * 12})
        assert bad.status_code == 401
    # Now even the right password is refused until the window passes.
    blocked = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert _error(blocked)["code"] == "too_many_login_attempts"
    retry_after = int(blocked.headers["Retry-After"])
    assert 0 < retry_after <= settings.login_failure_window_seconds + 1
    # Another account from the same address is not affected yet.
    other = make_user(Role.VIEWER)
    ok = client.post("/api/auth/login", json={"email": other.email, "password": PASSWORD})
    assert ok.status_code == 200


def test_failed_logins_are_limited_per_address(db_url: str, tmp_path, make_user) -> None:
    from cowans.api.app import create_app

    settings = Settings(database_url=db_url, data_dir=tmp_path, login_max_failures_per_address=3)
    user = make_user(Role.VIEWER)
    with TestClient(create_app(settings)) as client:
        for n in range(3):
            email = f"guess{n}@example.com"
            response = client.post("/api/auth/login", json={"email": email, "password": "x" * 12})
            assert response.status_code == 401
        blocked = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
        assert blocked.status_code == 429


def test_a_success_resets_the_account_count(client: TestClient, make_user, settings) -> None:
    user = make_user(Role.VIEWER)
    for _ in range(settings.login_max_failures_per_account - 1):
        client.post("/api/auth/login", json={"email": user.email, "password": "x" * 12})
    assert (
        client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code
        == 200
    )
    for _ in range(settings.login_max_failures_per_account - 1):
        client.post("/api/auth/login", json={"email": user.email, "password": "x" * 12})
    assert (
        client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code
        == 200
    )


def test_protected_routes_need_a_token(client: TestClient) -> None:
    for method, path in [("GET", "/api/auth/me"), ("GET", "/api/users"), ("POST", "/api/users")]:
        response = client.request(method, path)
        assert response.status_code == 401, (method, path)
        assert _error(response)["code"] == "not_authenticated"


def test_expired_token_is_refused(client: TestClient, make_user, settings: Settings) -> None:
    user = make_user(Role.ADMIN)
    expired = issue_access_token(user.id, settings.signing_key, timedelta(seconds=-1))
    response = client.get("/api/auth/me", headers=_bearer(expired.token))
    assert response.status_code == 401
    assert _error(response)["code"] == "token_expired"


def test_forged_tokens_are_refused(client: TestClient, make_user) -> None:
    user = make_user(Role.ADMIN)
    forged_with_other_key = issue_access_token(user.id, "another key" * 4, timedelta(minutes=5))
    unsigned = jwt.encode({"sub": str(user.id), "aud": "cowans-api"}, key=None, algorithm="none")
    for token in (forged_with_other_key.token, unsigned, "garbage", "cwn_not-a-real-token"):
        response = client.get("/api/auth/me", headers=_bearer(token))
        assert response.status_code == 401, token
        assert _error(response)["code"] == "invalid_token"


def test_token_of_disabled_user_stops_working(
    client: TestClient, make_user, engine: Engine
) -> None:
    user = make_user(Role.EDITOR)
    token = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).json()[
        "access_token"
    ]
    with session_scope(engine) as session:
        session.execute(update(User).where(User.id == user.id).values(is_active=False))
    assert client.get("/api/auth/me", headers=_bearer(token)).status_code == 401


def test_api_token_lifecycle(client: TestClient, login: LoginHeaders, engine: Engine) -> None:
    headers = login(Role.EDITOR)
    created = client.post("/api/auth/tokens", json={"name": "nightly export"}, headers=headers)
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("cwn_")

    me = client.get("/api/auth/me", headers=_bearer(token))
    assert me.status_code == 200

    listed = client.get("/api/auth/tokens", headers=headers).json()
    assert [t["name"] for t in listed] == ["nightly export"]
    assert "token" not in listed[0]
    assert token.startswith(listed[0]["token_prefix"])
    with session_scope(engine) as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored

    revoked = client.delete(f"/api/auth/tokens/{created.json()['id']}", headers=headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    after = client.get("/api/auth/me", headers=_bearer(token))
    assert after.status_code == 401
    assert _error(after)["code"] == "token_revoked"


def test_expired_api_token_is_refused(
    client: TestClient, login: LoginHeaders, engine: Engine
) -> None:
    headers = login(Role.VIEWER)
    created = client.post(
        "/api/auth/tokens", json={"name": "short", "expires_in_days": 1}, headers=headers
    ).json()
    with session_scope(engine) as session:
        session.execute(
            update(ApiToken).where(ApiToken.id == created["id"]).values(expires_at=utcnow())
        )
    response = client.get("/api/auth/me", headers=_bearer(created["token"]))
    assert response.status_code == 401
    assert _error(response)["code"] == "token_expired"


def test_users_cannot_revoke_each_others_tokens(client: TestClient, login: LoginHeaders) -> None:
    alice, bob = login(Role.EDITOR), login(Role.EDITOR)
    token_id = client.post("/api/auth/tokens", json={"name": "a"}, headers=alice).json()["id"]
    assert client.delete(f"/api/auth/tokens/{token_id}", headers=bob).status_code == 404
    admin = login(Role.ADMIN)
    assert client.delete(f"/api/auth/tokens/{token_id}", headers=admin).status_code == 200


def test_roles_are_ordered(client: TestClient, login: LoginHeaders) -> None:
    for role in Role:
        response = client.get("/api/users", headers=login(role))
        expected = 200 if role is Role.ADMIN else 403
        assert response.status_code == expected, role
        if expected == 403:
            assert _error(response)["code"] == "forbidden"


def test_state_changes_are_audited_with_the_actor(
    client: TestClient, login: LoginHeaders, engine: Engine
) -> None:
    headers = login(Role.ADMIN)
    response = client.post(
        "/api/users",
        json={"email": "new@example.com", "password": PASSWORD, "role": "editor"},
        headers={**headers, "X-Request-ID": "req-123"},
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "req-123"
    client.post("/api/auth/login", json={"email": "new@example.com", "password": "wrong-pass!"})
    with session_scope(engine) as session:
        entries = session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        admin_id = session.scalar(select(User.id).where(User.role == Role.ADMIN))
    created = next(e for e in entries if e.action == "POST /api/users")
    assert created.actor_user_id == admin_id
    assert created.status_code == 201
    assert created.request_id == "req-123"
    assert created.details["email"] == "new@example.com"
    failed_login = entries[-1]
    assert (failed_login.action, failed_login.status_code) == ("POST /api/auth/login", 401)
    assert failed_login.actor_user_id is None
    assert failed_login.details == {"email": "new@example.com"}
    assert all(PASSWORD not in str(entry.details) for entry in entries)
    # Reads are not audited.
    assert not any(entry.method == "GET" for entry in entries)
