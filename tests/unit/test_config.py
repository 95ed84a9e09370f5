"""Settings: the spec's names and defaults, and the refusal to run on a guessable key."""

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from cowans.config import ConfigError, Environment, Settings

README = Path(__file__).parents[2] / "README.md"


def test_spec_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENVIRONMENT", "SECRET_KEY", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.parallel_sync_max_workers == 10
    assert settings.parallel_sync_default_batch_size == 50
    assert settings.parallel_sync_timeout == 300_000
    assert settings.graphql_max_complexity == 1000
    assert settings.graphql_batch_size == 50
    assert settings.ratelimit_calls_per_second == 4
    assert settings.database_url == "sqlite:///var/cowans.db"
    assert settings.queue_url == "sqlite:///var/queue.db"
    assert settings.port == 5000


def test_reads_the_spec_names_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_SYNC_MAX_WORKERS", "4")
    monkeypatch.setenv("ENABLE_SWARM_MODE", "true")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/cowans")
    monkeypatch.setenv("QUEUE_URL", "redis://cache:6379/0")
    settings = Settings(_env_file=None)
    assert settings.parallel_sync_max_workers == 4
    assert settings.enable_swarm_mode is True
    assert settings.database_url == "postgresql://u@db/cowans"
    assert settings.queue_url == "redis://cache:6379/0"


def test_reads_a_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("GRAPHQL_BATCH_SIZE=25\n")
    assert Settings(_env_file=env_file).graphql_batch_size == 25


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PARALLEL_SYNC_MAX_WORKERS", "0"),
        ("GRAPHQL_MAX_COMPLEXITY", "5000"),
        ("PORT", "70000"),
        ("ENVIRONMENT", "staging"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()):
        Settings(_env_file=None)


@pytest.mark.parametrize("key", ["", "changeme", "secret", "short-but-random-9f8e"])
def test_production_refuses_a_weak_secret_key(key: str) -> None:
    settings = Settings(_env_file=None, environment="production", secret_key=key)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        settings.check_secret_key()
    with pytest.raises(ConfigError):
        _ = settings.signing_key


def test_production_accepts_a_strong_secret_key() -> None:
    key = "x" * 16 + "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    settings = Settings(_env_file=None, environment="production", secret_key=key)
    assert settings.signing_key == key


def test_development_generates_and_keeps_a_key(tmp_path: Path) -> None:
    first = Settings(_env_file=None, environment="development", secret_key="", data_dir=tmp_path)
    key = first.signing_key
    assert len(key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    second = Settings(_env_file=None, environment="development", secret_key="", data_dir=tmp_path)
    assert second.signing_key == key


def test_readme_documents_every_setting() -> None:
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", README.read_text()))
    missing = {name.upper() for name in Settings.model_fields} - documented
    assert not missing, f"README's configuration table lacks {sorted(missing)}"
