"""No secret in any log line or API response, through a whole working day over the real API.

Every log record of the process is kept (the root logger at DEBUG, as `configure_logging` sets
it up, with SQLAlchemy's statements and parameters, httpx's and the job runtime's records), while
people log in (and fail to), create users and an API token, import both feeds from their remote
sources (the FTP password, the Xorosoft key), connect a store to the Shopify emulator (its access
token, its webhook secret), stage, approve, push, pull, and receive a webhook. The error paths
are in it too: a store whose token Shopify refuses, a push that fails on it, a webhook with a
wrong signature: tracebacks and exception texts are where tokens leak.

Afterwards no secret may appear in any record (its message, its arguments, its traceback, its
extra fields) nor in any response, except the one response that hands the secret out (the login
its JWT, the token creation its token).
"""

import io
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, text

from cowans.api.app import create_app
from cowans.config import Settings
from cowans.db.models import Role
from cowans.logs import configure_logging
from cowans.sync.webhooks import signature_of
from shopify_emulator.shops import Shop
from tests.emulator.conftest import RunningEmulator
from tests.emulator.conftest import make_emulator as make_emulator
from tests.sources.test_etilize_fetch import PASSWORD as FTP_PASSWORD
from tests.sources.test_etilize_fetch import SAMPLE as ETILIZE_SAMPLE
from tests.sources.test_etilize_fetch import USER as FTP_USER
from tests.sources.test_etilize_fetch import running_ftp_server
from tests.xorosoft_emulator.conftest import KEY as XOROSOFT_KEY
from tests.xorosoft_emulator.conftest import SECRET as XOROSOFT_SECRET
from tests.xorosoft_emulator.conftest import serving as xorosoft_serving

SHOP_TOKEN = f"shpat_{secrets.token_hex(16)}"
WRONG_SHOP_TOKEN = f"shpat_{secrets.token_hex(16)}"
WEBHOOK_SECRET = f"whsec_{secrets.token_hex(16)}"
PASSWORDS = {
    Role.ADMIN: f"admin-{secrets.token_urlsafe(12)}",
    Role.EDITOR: f"editor-{secrets.token_urlsafe(12)}",
    Role.APPROVER: f"approver-{secrets.token_urlsafe(12)}",
}
WRONG_PASSWORD = f"wrong-{secrets.token_urlsafe(12)}"
TERMINAL = ("completed", "completed_with_errors", "failed", "cancelled")
# Loggers of the test's own servers (the FTP server, the emulators): not the application.
NOT_OURS = ("pyftpdlib", "shopify_emulator", "xorosoft_emulator")


@dataclass
class KeptLogs:
    """Each record as it was logged, before the redacting filter of `configure_logging` saw
    it (so a leak at its source shows even where the filter would hide it), and the output
    that handler wrote."""

    raw: list[tuple[str, str]] = field(default_factory=list)
    output: io.StringIO = field(default_factory=io.StringIO)

    def texts(self) -> Iterator[tuple[str, str]]:
        return iter(self.raw)


class _KeepRaw(logging.Handler):
    """First of the root's handlers: it copies what a handler could write (the formatted
    message and traceback) and what a log shipper could serialise (the arguments and extra
    fields) before the next handler's filter redacts the record in place."""

    def __init__(self, kept: KeptLogs) -> None:
        super().__init__(logging.DEBUG)
        self.kept = kept
        self.plain = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(NOT_OURS):
            return
        where = f"{record.name}:{record.levelname}"
        self.kept.raw.append((where, self.plain.format(record)))
        self.kept.raw.append((where, repr(record.args)))
        extra = {key: value for key, value in vars(record).items() if key != "args"}
        self.kept.raw.append((where, repr(extra)))
        record.exc_text = None  # formatted here without redaction: the next handler redoes it


@pytest.fixture
def kept_logs() -> Iterator[KeptLogs]:
    """All the process's logging, as `cowans serve` configures it but at DEBUG, with
    SQLAlchemy logging statements and their parameters."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    uvicorn_access = logging.getLogger("uvicorn.access")
    noisy = {name: logging.getLogger(name).level for name in ("hpack", "sqlalchemy.engine")}
    kept = KeptLogs()
    configure_logging("DEBUG", "text", stream=kept.output)
    root.handlers.insert(0, _KeepRaw(kept))
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    try:
        yield kept
    finally:
        root.handlers[:], root.level = saved
        uvicorn_access.disabled = False
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)


class Calls:
    """The API as a person would use it, keeping every response and the secrets each one
    may legitimately carry (a login response its JWT)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.seen: list[tuple[httpx.Response, set[str]]] = []

    def __call__(
        self, method: str, url: str, *, allowed: set[str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        response = self.client.request(method, url, **kwargs)
        self.seen.append((response, allowed or set()))
        return response

    def login(self, email: str, password: str) -> str:
        response = self.client.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        jwt = str(response.json()["access_token"])
        self.seen.append((response, {jwt}))
        return jwt

    def wait(self, url: str, headers: dict[str, str]) -> dict[str, Any]:
        deadline = time.monotonic() + 120  # a guard against a hang, not a speed check
        while time.monotonic() < deadline:
            body = self("GET", url, headers=headers).json()
            if body.get("state") in TERMINAL:
                return dict(body)
            time.sleep(0.05)
        raise AssertionError(f"{url} did not finish")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def shop(make_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return make_emulator([Shop("demo", SHOP_TOKEN)])


@pytest.fixture
def settings_with_sources(db_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings naming an FTP server with the sample feed and a Xorosoft emulator."""
    root = tmp_path / "ftp"
    root.mkdir()
    (root / "feed.csv").write_bytes(ETILIZE_SAMPLE.read_bytes())
    with running_ftp_server(root) as ftp, xorosoft_serving() as xorosoft:
        yield Settings(
            database_url=db_url,
            data_dir=tmp_path / "var",
            log_level="DEBUG",
            xorosoft_api_url=xorosoft.api_url,
            xorosoft_api_key=XOROSOFT_KEY,
            xorosoft_api_secret=XOROSOFT_SECRET,
            etilize_ftp_host="127.0.0.1",
            etilize_ftp_port=ftp.port,
            etilize_ftp_user=FTP_USER,
            etilize_ftp_password=FTP_PASSWORD,
            etilize_ftp_path="/feed.csv",
            shopify_max_attempts=2,
            shopify_backoff_base_seconds=0.01,
            shopify_backoff_max_seconds=0.05,
        )


def _people(calls: Calls, make_user: Callable[..., Any]) -> dict[Role, str]:
    """The admin (made directly), an editor and an approver created through the API, each
    logged in; a failed login with a wrong password. Returns each role's JWT."""
    admin = make_user(Role.ADMIN, email="admin@example.com", password=PASSWORDS[Role.ADMIN])
    jwts = {Role.ADMIN: calls.login(admin.email, PASSWORDS[Role.ADMIN])}
    for role in (Role.EDITOR, Role.APPROVER):
        email = f"{role.value}@example.com"
        body = {"email": email, "password": PASSWORDS[role], "role": role.value}
        created = calls("POST", "/api/users", json=body, headers=bearer(jwts[Role.ADMIN]))
        assert created.status_code == 201, created.text
        jwts[role] = calls.login(email, PASSWORDS[role])
    wrong = {"email": "admin@example.com", "password": WRONG_PASSWORD}
    assert calls("POST", "/api/auth/login", json=wrong).status_code == 401
    return jwts


def _imports(calls: Calls, editor: dict[str, str]) -> None:
    for kind, source in (("xorosoft", "api"), ("etilize", "ftp")):
        started = calls("POST", f"/api/imports/{kind}", json={"source": source}, headers=editor)
        assert started.status_code == 202, started.text
        done = calls.wait(f"/api/imports/{started.json()['import_id']}", editor)
        assert done["state"] == "completed", done


def _store(calls: Calls, admin: dict[str, str], shop: RunningEmulator, **body: Any) -> int:
    payload = {
        "name": "Demo",
        "shop_domain": "demo.myshopify.com",
        "admin_url": f"{shop.base_url}/demo/admin/api/2026-10/graphql.json",
        "location_map": {"MAIN": "Main Warehouse", "WEST": "Store Front"},
        **body,
    }
    created = calls("POST", "/api/shopify/stores", json=payload, headers=admin)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _stage_approve_push(calls: Calls, jwts: dict[Role, str], store_id: int) -> dict[str, Any]:
    editor, approver = bearer(jwts[Role.EDITOR]), bearer(jwts[Role.APPROVER])
    staged = calls("POST", "/api/sync/staged", json={"store_id": store_id}, headers=editor)
    assert staged.status_code == 200, staged.text
    decision = {"all_pending": True, "decision": "approve", "store_id": store_id}
    approved = calls("POST", "/api/enhanced-sync/approve-changes", json=decision, headers=approver)
    assert approved.status_code == 200, approved.text
    push = calls(
        "POST", "/api/enhanced-sync/shopify-up", json={"store_id": store_id}, headers=approver
    )
    assert push.status_code == 202, push.text
    return calls.wait(f"/api/jobs/{push.json()['job_id']}", approver)


def _webhooks(calls: Calls) -> None:
    body = b'{"id": 1, "admin_graphql_api_id": "gid://shopify/Product/1"}'
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Shop-Domain": "demo.myshopify.com",
        "X-Shopify-Topic": "products/update",
        "X-Shopify-Event-Id": "evt-1",
        "X-Shopify-Hmac-Sha256": signature_of(body, WEBHOOK_SECRET),
    }
    accepted = calls("POST", "/api/shopify/webhooks", content=body, headers=headers)
    assert accepted.status_code == 200, accepted.text
    forged = {**headers, "X-Shopify-Hmac-Sha256": signature_of(body, "not-the-secret")}
    assert calls("POST", "/api/shopify/webhooks", content=body, headers=forged).status_code == 401


def test_no_secret_reaches_a_log_line_or_a_response(
    settings_with_sources: Settings,
    shop: RunningEmulator,
    make_user: Callable[..., Any],
    engine: Engine,
    kept_logs: KeptLogs,
) -> None:
    settings = settings_with_sources
    with TestClient(create_app(settings)) as client:
        calls = Calls(client)
        jwts = _people(calls, make_user)
        admin, editor = bearer(jwts[Role.ADMIN]), bearer(jwts[Role.EDITOR])
        created = calls("POST", "/api/auth/tokens", json={"name": "cron"}, headers=admin)
        api_token = str(created.json()["token"])
        calls.seen[-1][1].add(api_token)
        assert calls("GET", "/api/auth/me", headers=bearer(api_token)).status_code == 200

        _imports(calls, editor)
        store_id = _store(
            calls, admin, shop, access_token=SHOP_TOKEN, webhook_secret=WEBHOOK_SECRET
        )
        tested = calls("POST", f"/api/shopify/stores/{store_id}/test-connection", headers=admin)
        assert tested.status_code == 200, tested.text
        pushed = _stage_approve_push(calls, jwts, store_id)
        assert pushed["state"] == "completed", pushed
        pull = calls(
            "POST",
            "/api/enhanced-sync/shopify-down",
            json={"store_id": store_id, "full": True},
            headers=editor,
        )
        assert pull.status_code == 202, pull.text
        assert calls.wait(f"/api/jobs/{pull.json()['job_id']}", editor)["state"] == "completed"
        _webhooks(calls)

        # The error paths: Shopify refuses the token; the client raises, the job fails.
        calls(
            "PATCH",
            f"/api/shopify/stores/{store_id}",
            json={"access_token": WRONG_SHOP_TOKEN},
            headers=admin,
        )
        refused = calls("POST", f"/api/shopify/stores/{store_id}/test-connection", headers=admin)
        assert refused.status_code < 500, refused.text
        edit = {"title": "Changed once more"}
        product = calls("GET", "/api/products", headers=editor).json()["items"][0]["id"]
        assert calls("PATCH", f"/api/products/{product}", json=edit, headers=editor).is_success
        failed = _stage_approve_push(calls, jwts, store_id)
        assert failed["state"] in ("failed", "completed_with_errors"), failed

    secrets_ = {
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "store access token": SHOP_TOKEN,
        "refused access token": WRONG_SHOP_TOKEN,
        "webhook secret": WEBHOOK_SECRET,
        "Xorosoft key": XOROSOFT_KEY,
        "Xorosoft secret": XOROSOFT_SECRET,
        "FTP password": FTP_PASSWORD,
        "API token": api_token,
        "wrong password": WRONG_PASSWORD,
        **{f"{role.value} password": password for role, password in PASSWORDS.items()},
        **{f"{role.value} JWT": jwt for role, jwt in jwts.items()},
    }
    assert len(kept_logs.raw) > 300  # the capture saw the workflow (SQL, requests, jobs)
    written = kept_logs.output.getvalue()
    for name, secret in secrets_.items():
        assert secret not in written, f"the {name} is in the log output"
        for where, logged in kept_logs.texts():
            assert secret not in logged, f"the {name} is in a {where} record: {logged[:500]}"
        for response, allowed in calls.seen:
            if secret in allowed:
                continue
            shown = f"{response.request.method} {response.request.url}"
            assert secret not in response.text, f"the {name} is in the response to {shown}"
            assert secret not in str(response.headers), f"the {name} is in {shown}'s headers"
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT access_token, webhook_secret FROM stores")).one()
    assert SHOP_TOKEN not in str(stored)
    assert WRONG_SHOP_TOKEN not in str(stored)
    assert WEBHOOK_SECRET not in str(stored)


WRONG_FTP_PASSWORD = f"ftp-{secrets.token_urlsafe(12)}"
WRONG_XOROSOFT_SECRET = f"xoro-{secrets.token_urlsafe(12)}"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_credentials_the_sources_refuse_are_not_logged_either(
    settings_with_sources: Settings,
    make_user: Callable[..., Any],
    kept_logs: KeptLogs,
) -> None:
    """The FTP server and Xorosoft refuse the credentials: the imports fail with a reason that
    names neither the password nor the secret, and so do the logs of every attempt."""
    settings = settings_with_sources.model_copy(
        update={
            "etilize_ftp_password": SecretStr(WRONG_FTP_PASSWORD),
            "xorosoft_api_secret": SecretStr(WRONG_XOROSOFT_SECRET),
            "etilize_ftp_timeout_seconds": 5.0,
        }
    )
    with TestClient(create_app(settings)) as client:
        calls = Calls(client)
        make_user(Role.EDITOR, email="editor@example.com", password=PASSWORDS[Role.EDITOR])
        editor = bearer(calls.login("editor@example.com", PASSWORDS[Role.EDITOR]))
        for kind, source in (("xorosoft", "api"), ("etilize", "ftp")):
            started = calls("POST", f"/api/imports/{kind}", json={"source": source}, headers=editor)
            assert started.status_code == 202, started.text
            done = calls.wait(f"/api/imports/{started.json()['import_id']}", editor)
            assert done["state"] == "failed", done
            assert done["error"], done
    for name, secret in {
        "refused FTP password": WRONG_FTP_PASSWORD,
        "refused Xorosoft secret": WRONG_XOROSOFT_SECRET,
        "Xorosoft key": XOROSOFT_KEY,
    }.items():
        assert secret not in kept_logs.output.getvalue(), f"the {name} is in the log output"
        for where, logged in kept_logs.texts():
            assert secret not in logged, f"the {name} is in a {where} record: {logged[:500]}"
        for response, _ in calls.seen:
            assert secret not in response.text, f"the {name} is in a response"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_redacting_filter_catches_credentials_a_library_might_log(fmt: str) -> None:
    """The second line of defence: credential-shaped text in a message, its arguments or a
    traceback never reaches the output, whichever format writes it."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    output = io.StringIO()
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLW9mLWl0"
    api_token = f"cwn_{secrets.token_urlsafe(32)}"
    try:
        configure_logging("DEBUG", fmt, stream=output)
        logger = logging.getLogger("cowans.redaction")
        logger.info(
            "sent %s", {"X-Shopify-Access-Token": "abc123", "Authorization": f"Bearer {jwt}"}
        )
        logger.warning("store token %s for %s", SHOP_TOKEN, "https://demo.myshopify.com")
        logger.info("api token %s; database postgresql://cowans:pa55w0rd@db/cowans", api_token)
        try:
            raise RuntimeError(f"request failed: password={WRONG_PASSWORD}&user=admin")
        except RuntimeError:
            logger.exception("the client raised")
    finally:
        root.handlers[:], root.level = saved
        logging.getLogger("uvicorn.access").disabled = False
    written = output.getvalue()
    for secret in ("abc123", jwt, SHOP_TOKEN, api_token, "pa55w0rd", WRONG_PASSWORD):
        assert secret not in written, secret
    assert written.count("[redacted]") >= 6
    assert "https://demo.myshopify.com" in written  # what is not a credential stays
    assert "the client raised" in written
    assert "RuntimeError" in written
