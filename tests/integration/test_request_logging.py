"""Every log line of a request carries its request id; no line carries a password or token."""

import io
import json
import logging

import pytest
from fastapi.testclient import TestClient

from cowans.db.models import Role
from cowans.logs import configure_logging
from tests.conftest import PASSWORD


@pytest.fixture
def json_logs():
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().handlers.clear()


def test_access_lines_carry_the_request_id(client: TestClient, make_user, json_logs) -> None:
    user = make_user(Role.VIEWER)
    response = client.post(
        "/api/auth/login",
        json={"email": user.email, "password": PASSWORD},
        headers={"X-Request-ID": "req-42"},
    )
    token = response.json()["access_token"]
    client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    generated = client.get("/api/health").headers["X-Request-ID"]

    lines = json_logs()
    access = [line for line in lines if line["logger"] == "cowans.access"]
    assert any(
        line["request_id"] == "req-42" and "POST /api/auth/login 200" in line["message"]
        for line in access
    )
    assert any(line["request_id"] == generated for line in access)
    text = json.dumps(lines)
    assert PASSWORD not in text
    assert token not in text


def test_a_hostile_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/api/health", headers={"X-Request-ID": "bad id\nwith newline" * 10})
    assert response.headers["X-Request-ID"] != "bad id"
    assert len(response.headers["X-Request-ID"]) == 32
