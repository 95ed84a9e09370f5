"""User administration through the API."""

from collections.abc import Callable

from fastapi.testclient import TestClient

from cowans.db.models import Role
from tests.conftest import PASSWORD

LoginHeaders = Callable[[Role], dict[str, str]]


def test_admin_creates_lists_and_updates_users(client: TestClient, login: LoginHeaders) -> None:
    admin = login(Role.ADMIN)
    created = client.post(
        "/api/users",
        json={
            "email": "Pat@Cowans.example",
            "password": PASSWORD,
            "role": "approver",
            "name": "Pat",
        },
        headers=admin,
    )
    assert created.status_code == 201
    user = created.json()
    assert user["email"] == "pat@cowans.example"
    assert user["role"] == "approver"
    assert "password" not in created.text
    assert "password_hash" not in created.text

    listed = client.get("/api/users", headers=admin).json()
    assert "pat@cowans.example" in [u["email"] for u in listed]

    patched = client.patch(f"/api/users/{user['id']}", json={"role": "viewer"}, headers=admin)
    assert patched.status_code == 200
    assert patched.json()["role"] == "viewer"
    assert client.get(f"/api/users/{user['id']}", headers=admin).json()["role"] == "viewer"


def test_new_user_can_log_in_with_a_changed_password(
    client: TestClient, login: LoginHeaders
) -> None:
    admin = login(Role.ADMIN)
    user = client.post(
        "/api/users", json={"email": "sam@example.com", "password": PASSWORD}, headers=admin
    ).json()
    new_password = "a brand new passphrase"
    client.patch(f"/api/users/{user['id']}", json={"password": new_password}, headers=admin)
    old = client.post("/api/auth/login", json={"email": "sam@example.com", "password": PASSWORD})
    new = client.post(
        "/api/auth/login", json={"email": "sam@example.com", "password": new_password}
    )
    assert (old.status_code, new.status_code) == (401, 200)
    assert new.json()["user"]["role"] == "viewer"


def test_duplicate_email_is_a_conflict(client: TestClient, login: LoginHeaders) -> None:
    admin = login(Role.ADMIN)
    body = {"email": "dup@example.com", "password": PASSWORD}
    assert client.post("/api/users", json=body, headers=admin).status_code == 201
    again = client.post("/api/users", json={**body, "email": "DUP@example.com"}, headers=admin)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"


def test_short_password_is_refused(client: TestClient, login: LoginHeaders) -> None:
    response = client.post(
        "/api/users",
        json={"email": "s@example.com", "password": "short"},
        headers=login(Role.ADMIN),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "weak_password"


def test_last_admin_cannot_be_demoted_or_disabled(client: TestClient, login: LoginHeaders) -> None:
    admin = login(Role.ADMIN)
    me = client.get("/api/auth/me", headers=admin).json()
    for change in ({"role": "editor"}, {"is_active": False}):
        response = client.patch(f"/api/users/{me['id']}", json=change, headers=admin)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "last_admin"
    second = login(Role.ADMIN)
    assert (
        client.patch(f"/api/users/{me['id']}", json={"role": "editor"}, headers=second).status_code
        == 200
    )


def test_unknown_user_is_404(client: TestClient, login: LoginHeaders) -> None:
    response = client.patch("/api/users/9999", json={"name": "x"}, headers=login(Role.ADMIN))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "user_not_found"


def test_non_admins_cannot_manage_users(client: TestClient, login: LoginHeaders) -> None:
    for role in (Role.VIEWER, Role.EDITOR, Role.APPROVER):
        headers = login(role)
        response = client.post(
            "/api/users", json={"email": "x@example.com", "password": PASSWORD}, headers=headers
        )
        assert response.status_code == 403
        assert (
            client.patch("/api/users/1", json={"role": "admin"}, headers=headers).status_code == 403
        )
