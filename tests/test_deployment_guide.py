"""docs/DEPLOYMENT_GUIDE.md is run, not just read: its shell commands run against the suite's
PostgreSQL and Redis, its services start and stop, its files say what they claim."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from cowans.config import Settings
from cowans.db.models import WorkerProcess
from cowans.db.session import create_db_engine, session_scope
from tests.conftest import create_database
from tests.emulator.conftest import free_port
from tests.jobs.conftest import wait_for

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "DEPLOYMENT_GUIDE.md"
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(GUIDE.read_text()) if lang == language]


def file_block(name: str) -> str:
    [found] = [body for body in blocks("ini") + blocks("yaml") if body.startswith(f"# {name}")]
    return found


def plain(url: str) -> str:
    """The URL as the guide writes it, which PostgreSQL's own tools read too."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="module")
def production_env(
    postgres_server: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The guide's environment file, pointed at the suite's servers."""
    folder = tmp_path_factory.mktemp("deployment")
    settings = dict(
        line.split("=", 1)
        for line in file_block("/etc/cowans/cowans.env").splitlines()
        if line and not line.startswith("#")
    )
    settings.update(
        SECRET_KEY="deployment-guide-test-key-" + "x" * 30,
        DATABASE_URL=plain(create_database(postgres_server, "cowans_deployment")),
        QUEUE_URL=redis_url.rsplit("/", 1)[0] + "/3",
        DATA_DIR=str(folder / "data"),
    )
    return {
        **os.environ,
        **settings,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "ADMIN_EMAIL": "ops@example.com",
        "ADMIN_PASSWORD": "a long and unguessable passphrase",
        "BACKUP_FILE": str(folder / "cowans.dump"),
        "RESTORE_URL": plain(create_database(postgres_server, "cowans_restored")),
    }


def test_the_environment_file_names_only_real_settings(production_env: dict[str, str]) -> None:
    names = [
        line.split("=", 1)[0]
        for line in file_block("/etc/cowans/cowans.env").splitlines()
        if line and not line.startswith("#")
    ]
    known = {name.upper() for name in Settings.model_fields}
    assert set(names) <= known


# Every command of the guide in turn, each a new process that loads the application: a busy
# machine takes longer than one test's usual limit.
@pytest.mark.timeout(300)
def test_every_shell_command_runs(production_env: dict[str, str]) -> None:
    commands = [
        line
        for block in blocks("sh")
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert any(command.startswith("pg_dump") for command in commands)
    for command in commands:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            env=production_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        if command.startswith("cowans user list"):
            assert production_env["ADMIN_EMAIL"] in done.stdout


def exec_start(unit: str) -> list[str]:
    [line] = [line for line in file_block(unit).splitlines() if line.startswith("ExecStart=")]
    command = line.removeprefix("ExecStart=").split()
    return [str(BIN / "cowans"), *command[1:]]


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def test_the_services_start_and_stop_cleanly(production_env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "cowans"), "db", "upgrade"], env=production_env, check=True)
    worker = subprocess.Popen(
        exec_start("/etc/systemd/system/cowans-worker.service"), env=production_env
    )
    port = free_port()
    api_command = [
        part if part != "5000" else str(port)
        for part in exec_start("/etc/systemd/system/cowans-api.service")
    ]
    api = subprocess.Popen(api_command, env=production_env)
    try:
        engine = create_db_engine(production_env["DATABASE_URL"])

        def worker_live() -> bool:
            with session_scope(engine) as session:
                modes = session.scalars(
                    select(WorkerProcess.mode).where(WorkerProcess.state == "idle")
                ).all()
            return modes == ["worker"]  # the API process runs no jobs

        wait_for(worker_live, "the worker to report")
        wait_for(lambda: _healthy(port), "the API to answer")
    finally:
        assert stop(worker) == 0
        # uvicorn shuts down gracefully, then re-raises SIGTERM: systemd counts that as a stop.
        assert stop(api) in (0, -signal.SIGTERM)
        engine.dispose()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200
    except httpx.TransportError:
        return False


def test_the_proxy_passes_websockets_and_uploads() -> None:
    [nginx] = blocks("nginx")
    websocket = nginx[nginx.index("location /ws") :]
    websocket = websocket[: websocket.index("}")]
    assert "proxy_set_header Upgrade $http_upgrade;" in websocket
    assert 'proxy_set_header Connection "upgrade";' in websocket
    assert "proxy_http_version 1.1;" in websocket
    assert "client_max_body_size 512m;" in nginx


def test_the_alert_rules_use_metrics_that_exist(client: TestClient) -> None:
    served = client.get("/metrics").text
    families = set(re.findall(r"^# TYPE (\w+) ", served, re.MULTILINE))
    rules = yaml.safe_load(file_block("cowans-alerts.yml"))["groups"][0]["rules"]
    used = {name for rule in rules for name in re.findall(r"\bcowans_\w+", rule["expr"])}
    assert {"CowansQueueStalled", "CowansHighItemErrorRate", "CowansJobWithoutHeartbeat"} <= {
        rule["alert"] for rule in rules
    }
    for name in used:
        family = re.sub(r"_(total|bucket|count|sum)$", "", name)
        assert name in families or family in families, name
    scrape = yaml.safe_load(file_block("prometheus.yml"))["scrape_configs"][0]
    assert scrape["metrics_path"] == "/metrics"
