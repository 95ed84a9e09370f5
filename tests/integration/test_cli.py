"""The `cowans` command, in-process for the admin commands and as a real server for `serve`."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from cowans.auth.tokens import hash_api_token
from cowans.cli import app
from cowans.cli.emulators import demo_access_token
from cowans.config import Settings
from cowans.db.models import ApiToken, Role, User
from cowans.db.session import session_scope
from tests.conftest import PASSWORD

runner = CliRunner()
COWANS = str(Path(sys.executable).with_name("cowans"))


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def test_user_create_from_stdin_then_list(cli_env: str, engine: Engine) -> None:
    result = runner.invoke(
        app,
        ["user", "create", "Ops@Example.com", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "ops@example.com (admin)" in result.output
    with session_scope(engine) as session:
        user = session.scalar(select(User).where(User.email == "ops@example.com"))
        assert user is not None
        assert user.role is Role.ADMIN
        assert PASSWORD not in user.password_hash

    listed = runner.invoke(app, ["user", "list"])
    assert listed.exit_code == 0
    assert "ops@example.com" in listed.output


def test_user_create_prompts_for_the_password_twice(cli_env: str) -> None:
    result = runner.invoke(
        app, ["user", "create", "p@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output


def test_user_create_refuses_bad_input(cli_env: str) -> None:
    weak = runner.invoke(
        app, ["user", "create", "w@example.com", "--password-stdin"], input="abc\n"
    )
    assert weak.exit_code == 1
    assert "characters" in weak.output
    bad_role = runner.invoke(
        app,
        ["user", "create", "r@example.com", "--role", "god", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert bad_role.exit_code == 2
    runner.invoke(app, ["user", "create", "d@example.com", "--password-stdin"], input=PASSWORD)
    duplicate = runner.invoke(
        app, ["user", "create", "D@example.com", "--password-stdin"], input=PASSWORD
    )
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output


def test_token_create_prints_a_working_token(cli_env: str, engine: Engine, make_user) -> None:
    user = make_user(Role.EDITOR, email="script@example.com")
    result = runner.invoke(app, ["token", "create", "script@example.com", "--name", "cron"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("cwn_")
    with session_scope(engine) as session:
        record = session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_api_token(token))
        )
        assert record is not None
        assert record.user_id == user.id
        assert record.name == "cron"

    unknown = runner.invoke(app, ["token", "create", "ghost@example.com"])
    assert unknown.exit_code == 1


def test_db_upgrade_on_an_empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Database at revision" in result.output


def test_production_refuses_to_start_without_a_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "SECRET_KEY" in result.output
    assert not (tmp_path / "prod.db").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fresh_checkout(tmp_path: Path) -> dict[str, str]:
    """The environment of a newcomer's machine: development mode, nothing configured."""
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATA_DIR"}}
    env["ENVIRONMENT"] = "development"
    env["SHOPIFY_EMULATOR_PORT"] = str(_free_port())
    env["XOROSOFT_EMULATOR_PORT"] = str(_free_port())
    env["DEMO_SEED_PRODUCTS"] = "25"
    env["DEMO_FEED_PRODUCTS"] = "30"
    return env


@pytest.fixture
def start_server(tmp_path: Path, fresh_checkout: dict[str, str]) -> Iterator:
    processes: list[subprocess.Popen[str]] = []

    def start(port: int) -> tuple[subprocess.Popen[str], list[str]]:
        process = subprocess.Popen(
            [COWANS, "serve", "--port", str(port)],
            cwd=tmp_path,
            env=fresh_checkout,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        lines: list[str] = []
        # The emulator child shares this output, so readiness is the API answering, not a line.
        reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                reader.join(timeout=5)
                raise AssertionError("server exited:\n" + "".join(lines))
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                    return process, list(lines)
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("server did not start:\n" + "".join(lines))

    yield start
    for process in processes:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _demo_store_token(tmp_path: Path) -> str:
    """The token `cowans serve` gave the emulator, derived from the key it generated."""
    dev = Settings(
        _env_file=None, environment="development", secret_key="", data_dir=tmp_path / "var"
    )
    return demo_access_token(dev)


def test_serve_on_a_fresh_machine(
    tmp_path: Path, start_server, fresh_checkout: dict[str, str]
) -> None:
    """`make run` in one test: migrations, demo admin, the Shopify emulator as the demo store."""
    port = _free_port()
    process, lines = start_server(port)
    output = "".join(lines)
    match = re.search(r"Created the demo admin.*: (\S+) / (\S+)", output)
    assert match, output
    email, password = match.groups()
    assert f"http://127.0.0.1:{port}" in output
    assert (tmp_path / "var" / "cowans.db").exists()
    assert (tmp_path / "var" / "secret_key").exists()

    base = f"http://127.0.0.1:{port}"
    health = httpx.get(f"{base}/api/health").json()
    assert health == {"status": "ok", "db": "ok", "queue": "ok", "shopify": "ok"}, output
    token = httpx.post(
        f"{base}/api/auth/login", json={"email": email, "password": password}
    ).json()["access_token"]
    me = httpx.get(f"{base}/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "admin"
    # The demo catalog came in through the Xorosoft emulator's API and the generated feed.
    imports = httpx.get(f"{base}/api/imports", headers={"Authorization": f"Bearer {token}"}).json()
    assert sorted((i["kind"], i["source"], i["state"]) for i in imports) == [
        ("etilize", "file", "completed"),
        ("xorosoft", "api", "completed"),
    ], output
    catalog = httpx.get(f"{base}/api/products", headers={"Authorization": f"Bearer {token}"})
    assert catalog.json()["total"] > 10

    emulator = f"http://127.0.0.1:{fresh_checkout['SHOPIFY_EMULATOR_PORT']}"
    products = httpx.post(
        f"{emulator}/admin/api/2026-10/graphql.json",
        json={"query": "{ productsCount: products(first: 50) { nodes { id } } }"},
        headers={"X-Shopify-Access-Token": _demo_store_token(tmp_path)},
    ).json()
    assert len(products["data"]["productsCount"]["nodes"]) == 25

    process.send_signal(signal.SIGINT)
    process.wait(timeout=15)
    _, second_lines = start_server(_free_port())
    assert "demo admin" not in "".join(second_lines), "credentials are printed only once"


def test_emulator_command_runs_the_shopify_emulator() -> None:
    result = subprocess.run(
        [COWANS, "emulator", "shopify", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "--seed-products" in result.stdout
    assert "--fault-ise-after-apply" in result.stdout


def test_import_commands_and_the_feed_generator(cli_env: str, tmp_path: Path) -> None:
    samples = Path(__file__).resolve().parents[3] / "shared" / "samples"
    xorosoft = runner.invoke(app, ["import", "xorosoft", str(samples / "xorosoft_sample.csv")])
    assert xorosoft.exit_code == 0, xorosoft.output
    etilize = runner.invoke(app, ["import", "etilize", str(samples / "etilize_sample.csv")])
    assert etilize.exit_code == 0, etilize.output
    assert "completed" in etilize.output
    assert "errors.csv" in etilize.output
    both = runner.invoke(app, ["import", "etilize", str(samples / "etilize_sample.csv"), "--ftp"])
    assert both.exit_code == 2
    missing = runner.invoke(app, ["import", "xorosoft", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2

    generated = runner.invoke(
        app,
        [
            "demo",
            "generate-feed",
            "--products",
            "40",
            "--seed",
            "3",
            "--out",
            str(tmp_path / "demo"),
        ],
    )
    assert generated.exit_code == 0, generated.output
    assert (
        runner.invoke(
            app, ["import", "xorosoft", str(tmp_path / "demo" / "xorosoft.csv")]
        ).exit_code
        == 0
    )
    result = runner.invoke(app, ["import", "etilize", str(tmp_path / "demo" / "etilize.csv")])
    assert result.exit_code == 0, result.output
