"""`/api/health` tells a load balancer whether this process can serve."""

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cowans.api.app import create_app
from cowans.config import Settings
from cowans.db import migrate
from cowans.db.models import Store
from cowans.db.session import session_scope


def test_healthy_without_authentication(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "db": "ok", "queue": "ok", "shopify": "no_stores"}


def test_reports_configured_stores(client: TestClient, engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Store(name="Demo", shop_domain="demo.myshopify.com", access_token="shpat_x"))
    assert client.get("/api/health").json()["shopify"] == "ok"


def test_unmigrated_database_is_degraded(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", data_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["db"] == "migrations_pending"


def test_unreachable_database_and_queue_are_degraded(tmp_path: Path, postgres_server: str) -> None:
    unreachable_db = postgres_server.rsplit("@", 1)[0] + "@127.0.0.1:1/nowhere"
    settings = Settings(
        database_url=unreachable_db, queue_url="redis://127.0.0.1:1/0", data_dir=tmp_path
    )
    with TestClient(create_app(settings)) as client:
        body = client.get("/api/health").json()
    assert body == {"status": "degraded", "db": "error", "queue": "error", "shopify": "error"}


def test_migrated_database_is_at_head(engine: Engine) -> None:
    assert migrate.current_revision(engine) == migrate.head_revision()
