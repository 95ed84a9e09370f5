"""/api/jobs: the common view of every job, and cancelling one; imports run as jobs."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cowans.api.app import create_app
from cowans.config import Settings
from cowans.db.models import Role, User
from tests.conftest import PASSWORD
from tests.jobs.conftest import wait_for

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
Login = Callable[[Role], dict[str, str]]


@pytest.fixture
def idle_client(settings: Settings) -> Iterator[TestClient]:
    """An app whose process runs no jobs, so what is submitted stays queued."""
    with TestClient(create_app(settings.model_copy(update={"job_workers": 0}))) as client:
        yield client


def upload_xorosoft(client: TestClient, headers: dict[str, str]) -> dict:
    response = client.post(
        "/api/imports/xorosoft",
        files={"file": ("x.csv", (SAMPLES / "xorosoft_sample.csv").read_bytes())},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    return response.json()


def test_an_import_is_a_job_that_can_be_followed(client: TestClient, login: Login) -> None:
    editor = login(Role.EDITOR)
    started = upload_xorosoft(client, editor)

    def finished() -> dict | None:
        job = client.get(f"/api/jobs/{started['job_id']}", headers=editor).json()
        return job if job["state"] in ("completed", "failed") else None

    job = wait_for(finished, "the import job")
    assert job["state"] == "completed", job
    assert (job["kind"], job["config"]["import_id"]) == ("import.xorosoft", started["import_id"])
    assert job["result"]["state"] == "completed"
    assert job["processed"] == job["total"] == job["succeeded"] > 0
    assert job["phase"] == "done"
    record = client.get(f"/api/imports/{started['import_id']}", headers=editor).json()
    assert record["state"] == "completed"
    assert record["products"] > 0
    listed = client.get("/api/jobs?kind=import.xorosoft", headers=editor).json()
    assert [item["id"] for item in listed["items"]] == [started["job_id"]]
    assert listed["total"] == 1


def headers_for(client: TestClient, make_user: Callable[..., User], role: Role) -> dict[str, str]:
    user = make_user(role)
    response = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_queued_import_can_be_cancelled_and_never_runs(
    idle_client: TestClient, make_user: Callable[..., User]
) -> None:
    client = idle_client
    editor = headers_for(client, make_user, Role.EDITOR)
    started = upload_xorosoft(client, editor)
    assert client.get("/api/jobs?state=queued", headers=editor).json()["total"] == 1

    viewer = headers_for(client, make_user, Role.VIEWER)
    refused = client.post(f"/api/jobs/{started['job_id']}/cancel", headers=viewer)
    assert refused.status_code == 403

    cancelled = client.post(f"/api/jobs/{started['job_id']}/cancel", headers=editor)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    again = client.post(f"/api/jobs/{started['job_id']}/cancel", headers=editor)
    assert again.status_code == 200  # asking twice is harmless


def test_cancelling_a_finished_job_is_a_conflict(
    client: TestClient, login: Login, engine: Engine
) -> None:
    editor = login(Role.EDITOR)
    started = upload_xorosoft(client, editor)
    wait_for(
        lambda: (
            client.get(f"/api/jobs/{started['job_id']}", headers=editor).json()["state"]
            == "completed"
        ),
        "the import job",
    )
    response = client.post(f"/api/jobs/{started['job_id']}/cancel", headers=editor)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "job_finished"


def test_unknown_jobs_are_404(client: TestClient, login: Login) -> None:
    viewer = login(Role.VIEWER)
    assert client.get("/api/jobs/999", headers=viewer).status_code == 404
    assert client.get("/api/jobs?state=sleeping", headers=viewer).status_code == 422
