"""Settings, read once from the environment and an optional `.env` file.

Names follow the original specification (``PARALLEL_SYNC_MAX_WORKERS`` and friends), so the
variables carry no prefix. Every field here is documented in the README; a test keeps the two
in step.
"""

import secrets
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_KEY_LENGTH = 32
# Values people paste from examples; refusing them outside development is the point.
WEAK_SECRET_KEYS = frozenset({"", "changeme", "change-me", "secret", "dev", "development"})


SHOPIFY_HOSTS = ("*.myshopify.com",)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ConfigError(RuntimeError):
    """The settings cannot run the app; the message says which variable to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    environment: Environment = Environment.DEVELOPMENT
    secret_key: SecretStr = SecretStr("")
    # Older keys, comma-separated: tokens they signed and columns they encrypted stay readable
    # while `cowans secrets rotate` moves the columns to the current key.
    secret_key_previous: SecretStr = SecretStr("")
    data_dir: Path = Path("var")
    # The dashboard's build (`npm run build` in web/); the API serves it at `/` when present.
    web_dist_dir: Path = Path("web/dist")
    database_url: str = ""
    queue_url: str = ""
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 5000
    # The address Shopify reaches this app at: webhook subscriptions deliver under it.
    public_url: Annotated[str, Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")] = (
        "http://127.0.0.1:5000"
    )
    log_level: str = "INFO"
    log_format: Annotated[str, Field(pattern="^(text|json)$")] = "text"
    # Origins (scheme://host[:port], comma-separated) whose pages may call the API; none by
    # default, so another site's scripts cannot read its answers.
    cors_origins: Annotated[
        str, Field(pattern=r"^(\s*https?://[^\s/,*]+\s*(,\s*https?://[^\s/,*]+\s*)*)?$")
    ] = ""

    access_token_expire_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 60
    # How long a login lasts however often the dashboard renews its access token.
    session_max_hours: Annotated[int, Field(ge=1, le=30 * 24)] = 12
    api_token_default_expire_days: Annotated[int, Field(ge=1, le=3650)] = 90
    login_max_failures_per_account: Annotated[int, Field(ge=1)] = 5
    login_max_failures_per_address: Annotated[int, Field(ge=1)] = 20
    login_failure_window_seconds: Annotated[int, Field(ge=1)] = 900
    demo_admin_email: str = "admin@cowans.local"
    max_upload_bytes: Annotated[int, Field(ge=1024)] = 512 * 1024 * 1024
    # Bodies other than uploads (JSON): refused with 413 beyond this, before a router reads them.
    max_request_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    max_json_depth: Annotated[int, Field(ge=4, le=1000)] = 64
    dev_emulators: bool = True
    shopify_emulator_port: Annotated[int, Field(ge=1, le=65535)] = 5001
    demo_seed_products: Annotated[int, Field(ge=0, le=250_000)] = 500
    xorosoft_emulator_port: Annotated[int, Field(ge=1, le=65535)] = 5002
    demo_feed_products: Annotated[int, Field(ge=1, le=250_000)] = 500

    shopify_api_version: Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")] = "2026-10"
    # Hosts a store's endpoint may be on (`*.domain` for subdomains), comma-separated; empty:
    # Shopify's own, plus this machine outside production (the bundled emulator).
    shopify_allowed_hosts: Annotated[str, Field(pattern=r"^[\w.*:,\s\[\]-]*$")] = ""
    shopify_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    shopify_max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    shopify_backoff_base_seconds: Annotated[float, Field(gt=0)] = 0.5
    shopify_backoff_max_seconds: Annotated[float, Field(gt=0)] = 20.0

    xorosoft_api_url: str = "https://res.xorosoft.io/api/xerp"
    xorosoft_api_key: SecretStr = SecretStr("")
    xorosoft_api_secret: SecretStr = SecretStr("")

    etilize_ftp_host: str = ""
    etilize_ftp_user: str = ""
    etilize_ftp_password: SecretStr = SecretStr("")
    etilize_ftp_path: str = "/CowanOfficeSupplies.zip"
    etilize_ftp_tls: bool = False
    etilize_ftp_port: Annotated[int, Field(ge=1, le=65535)] = 21
    etilize_ftp_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0

    job_workers: Annotated[int, Field(ge=0, le=64)] = 2
    job_heartbeat_seconds: Annotated[float, Field(gt=0, le=300)] = 5.0
    job_stale_after_seconds: Annotated[float, Field(gt=0)] = 60.0
    job_max_attempts: Annotated[int, Field(ge=1, le=100)] = 3
    event_throttle_seconds: Annotated[float, Field(ge=0, le=60)] = 0.5
    schedules: bool | None = None
    schedule_etilize_cron: str = "0 3 * * *"
    schedule_xorosoft_cron: str = "15 * * * *"
    schedule_reconcile_cron: str = "30 1 * * *"

    stage_after_import: bool = True

    parallel_sync_max_workers: Annotated[int, Field(ge=1, le=64)] = 10
    parallel_sync_min_workers: Annotated[int, Field(ge=1, le=64)] = 1
    parallel_sync_default_batch_size: Annotated[int, Field(ge=1, le=250)] = 50
    parallel_sync_timeout: Annotated[int, Field(ge=1000)] = 300_000
    push_window: Annotated[int, Field(ge=1, le=100_000)] = 25_000
    graphql_max_complexity: Annotated[int, Field(ge=1, le=1000)] = 1000
    graphql_batch_size: Annotated[int, Field(ge=1, le=250)] = 50
    ratelimit_calls_per_second: Annotated[float, Field(gt=0)] = 4
    enable_parallel_sync: bool = True
    enable_staged_changes: bool = True
    enable_swarm_mode: bool = False

    @model_validator(mode="after")
    def _fill_defaults_under_data_dir(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'cowans.db'}"
        if not self.queue_url:
            self.queue_url = f"sqlite:///{self.data_dir / 'queue.db'}"
        return self

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @property
    def schedules_enabled(self) -> bool:
        """Scheduled imports and pulls touch real suppliers: on in production unless turned
        off, off elsewhere unless turned on."""
        if self.schedules is not None:
            return self.schedules
        return self.environment is Environment.PRODUCTION

    @property
    def uses_redis(self) -> bool:
        return self.queue_url.startswith(("redis://", "rediss://", "unix://"))

    def check_secret_key(self) -> None:
        """Refuse to run with a guessable key anywhere but on a developer's machine."""
        if self.is_development:
            return
        key = self.secret_key.get_secret_value()
        if key.strip().lower() in WEAK_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} "
                f"characters when ENVIRONMENT={self.environment.value} "
                '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )

    @property
    def previous_signing_keys(self) -> tuple[str, ...]:
        """Keys rotated out (SECRET_KEY_PREVIOUS), newest first as listed."""
        listed = self.secret_key_previous.get_secret_value().split(",")
        return tuple(key.strip() for key in listed if key.strip())

    @property
    def shopify_allowed_host_patterns(self) -> tuple[str, ...]:
        listed = [host.strip().lower() for host in self.shopify_allowed_hosts.split(",")]
        if any(listed):
            return tuple(host for host in listed if host)
        if self.environment is Environment.PRODUCTION:
            return SHOPIFY_HOSTS
        return (*SHOPIFY_HOSTS, *LOCAL_HOSTS)

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @cached_property
    def signing_key(self) -> str:
        """The key every token and encrypted column derives from.

        In development an unset SECRET_KEY is generated once and kept in the data directory, so
        a newcomer needs no configuration and encrypted store tokens survive restarts.
        """
        self.check_secret_key()
        key = self.secret_key.get_secret_value()
        if key:
            return key
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.touch(mode=0o600)
            key_file.write_text(secrets.token_urlsafe(48))
        return key_file.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings` instead of patching this."""
    return Settings()
