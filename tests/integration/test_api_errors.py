"""Every failure has the same body shape, and bad input is a 4xx, never a 500."""

from collections.abc import Callable

from fastapi.testclient import TestClient

from cowans.db.models import Role

LoginHeaders = Callable[[Role], dict[str, str]]


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_unknown_path_is_404(client: TestClient) -> None:
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_wrong_method_is_405(client: TestClient) -> None:
    response = client.delete("/api/health")
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"


def test_malformed_json_is_422(client: TestClient, login: LoginHeaders) -> None:
    for headers in ({}, login(Role.ADMIN)):
        response = client.post(
            "/api/users" if headers else "/api/auth/login",
            content=b'{"email": "a@b.c", "password": ',
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 422
        assert _error(response)["code"] == "malformed_json"


def test_validation_errors_never_echo_the_input(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"email": "not-an-email", "password": "s3cr3t"})
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_error"
    assert error["details"][0]["loc"] == ["body", "email"]
    assert "s3cr3t" not in response.text
    assert "not-an-email" not in response.text


def test_wrong_types_and_missing_fields_are_422(client: TestClient, login: LoginHeaders) -> None:
    headers = login(Role.ADMIN)
    for body in ([], {"email": 5}, {"email": "x@y.z", "password": "long enough pw", "role": "god"}):
        response = client.post("/api/users", json=body, headers=headers)
        assert response.status_code == 422, body
    assert client.get("/api/users/not-a-number", headers=headers).status_code == 422


def test_openapi_document_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/auth/login" in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
