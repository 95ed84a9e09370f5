"""Schemathesis against the app's own `/openapi.json`: every operation, as every role.

What it proves: whatever a client of each role sends, generated from the documented schema
(valid requests, and invalid ones the schema should refuse), the answer is never a 5xx and its
status code, content type and body are the ones the document promises. An error the document
does not list is a failure here, so 400/401/403/404/409/413/422 must be documented where they
can happen (`cowans.api.errors` adds the ones a route's declaration implies; a route adds its
own with `responses=error_responses(...)`).

How it runs, and why:
- One test per role, each on its own migrated SQLite copy; every operation is fuzzed in turn
  against the same database, so state built by one example (a store, a token, an import) is
  there for the next. Public operations (logging in, webhooks) answer every caller alike and
  are fuzzed in the viewer's run only. PostgreSQL is left to the router tests: the fuzzer
  looks for contract breaks, which do not depend on the backend.
- Examples are derandomized (Hypothesis derives them from the test), so CI sends the same
  requests each run. `FUZZ_EXAMPLES` (default 4: per operation, role and kind of example:
  valid, invalid, valid about an existing resource) raises the count for a longer local run:
  `FUZZ_EXAMPLES=50 .venv/bin/pytest -p no:xdist tests/integration/test_api_fuzz.py`, and
  `FUZZ_SEED=<n>` draws other examples than CI's (the same ones again for the same n).
  The default takes about a minute (80 s when the two cores are busy).
- No job runs (`job_workers=0`: imports, pushes and batches are only queued), and every
  outgoing HTTP request goes to a proxy that refuses connections, so a store whose generated
  `admin_url` or shop domain names a real host never reaches the internet, and the connection
  test answers at once.
- Products 1-3, store 1 and its staged changes exist from the start, and each operation with
  ids in its path is also fuzzed with those ids set to 1, so the fuzzer reaches the code
  behind the 404 as well as the 404.
- The user's role and active flag are put back before each operation: an admin fuzzing
  `PATCH /api/users/{id}` demotes or disables itself sooner or later, and everything after
  would be a 401 that proves nothing.
- Not covered, because the OpenAPI document does not describe them: the `/ws` WebSocket and
  the dashboard's static files.
"""

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy import Engine, update

from cowans.api.app import create_app
from cowans.auth import service as auth
from cowans.catalog.feed import FeedProduct
from cowans.catalog.upsert import apply_feed_product
from cowans.config import Settings
from cowans.db.models import Role, User
from cowans.db.session import create_db_engine, session_scope
from cowans.shopify import stores
from cowans.sync.staging import stage_push
from tests.conftest import PASSWORD

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
SEED = int(os.environ["FUZZ_SEED"]) if os.environ.get("FUZZ_SEED") else None
SEEDED_ID = 1
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Nothing listens on the discard port: every outgoing connection is refused at once.
REFUSING_PROXY = "http://127.0.0.1:9"


@dataclass
class Fuzzer:
    client: TestClient
    engine: Engine
    user_id: int
    role: Role
    headers: dict[str, str]

    def restore_user(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(User).where(User.id == self.user_id).values(role=self.role, is_active=True)
            )

    def send(self, case: Case) -> httpx.Response:
        request = case.as_transport_kwargs(headers=self.headers)
        response = self.client.request(
            request["method"],
            request["url"],
            params=request.get("params"),
            headers=request.get("headers"),
            **_body(request),
        )
        # A multipart body is streamed; the checks read what was sent.
        response.request.read()
        return response


def _body(request: dict[str, Any]) -> dict[str, Any]:
    """Requests-style body arguments (what schemathesis serializes to) as httpx's."""
    if "json" in request:
        return {"json": request["json"]}
    if request.get("files"):
        return {"files": _files(request["files"]), "data": request.get("data")}
    data = request.get("data")
    if isinstance(data, (bytes, str)):
        return {"content": data}
    if data is not None:
        return {"data": data}
    return {}


def _files(files: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, tuple[Any, ...]]]:
    """requests sends a number as its text; httpx wants text or bytes."""
    return [
        (name, (filename, content if isinstance(content, (bytes, str)) else str(content), *rest))
        for name, (filename, content, *rest) in files
    ]


@pytest.fixture
def fuzz_settings(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(variable, REFUSING_PROXY)
        monkeypatch.setenv(variable.lower(), REFUSING_PROXY)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    database = tmp_path / "cowans.db"
    shutil.copy(sqlite_template, database)
    return Settings(
        database_url=f"sqlite:///{database}",
        data_dir=tmp_path / "var",
        job_workers=0,
        shopify_timeout_seconds=1.0,
        shopify_max_attempts=1,
        dev_emulators=False,
    )


def _seed(settings: Settings, engine: Engine) -> None:
    """Products 1-3, store 1 and the changes staged for it (so job 1 and changes 1-3 too)."""
    feeds = [
        FeedProduct(
            f"seeded-{number}",
            {"title": f"Seeded {number}", "sku": f"SEED-{number}", "price": Decimal("9.99")},
            {"price": "xorosoft", "sku": "xorosoft"},
        )
        for number in range(1, 4)
    ]
    with session_scope(engine) as session:
        for feed in feeds:
            apply_feed_product(
                session, None, feed, source="etilize", import_id=None, moment=datetime.now(UTC)
            )
        store = stores.create_store(
            session,
            settings,
            name="Seeded",
            shop_domain="seeded.myshopify.com",
            access_token="shpat_seeded",
        )
        stage_push(session, store)
        assert store.id == SEEDED_ID


def _fuzzer(client: TestClient, engine: Engine, role: Role) -> Fuzzer:
    """A user of the role, logged in as a person would be."""
    email = f"fuzz-{role.value}@example.com"
    with session_scope(engine) as session:
        user_id = auth.create_user(session, email, PASSWORD, role).id
    login = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    return Fuzzer(client, engine, user_id, role, headers)


@pytest.fixture
def engine_for(fuzz_settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(fuzz_settings.database_url)
    yield engine
    engine.dispose()


def _strategy(operation: APIOperation) -> st.SearchStrategy[Case]:
    """Valid and invalid requests, and valid ones about resources that exist."""
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    path_names = re.findall(r"\{(\w+)\}", operation.path)
    if path_names:
        existing = {name: SEEDED_ID if name.endswith("_id") else "title" for name in path_names}
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=existing))
    return st.one_of(strategies)


def _fuzz_operation(fuzzer: Fuzzer, schema: OpenApiSchema, label: str) -> None:
    operation = schema.find_operation_by_label(label)
    assert operation is not None
    strategy = _strategy(operation)

    @hypothesis.seed(SEED)
    @hypothesis.settings(
        max_examples=EXAMPLES * 3,
        derandomize=SEED is None,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.generate],
        print_blob=False,
    )
    @given(case=strategy)
    def fuzz(case: Case) -> None:
        response = fuzzer.send(case)
        case.validate_response(response, checks=CHECKS, headers=fuzzer.headers)

    fuzzer.restore_user()
    fuzz()


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.timeout(120 + 30 * EXAMPLES)  # a longer run (FUZZ_EXAMPLES) needs longer
def test_every_operation_keeps_its_contract(
    role: Role, fuzz_settings: Settings, engine_for: Engine
) -> None:
    with TestClient(create_app(fuzz_settings)) as client:
        _seed(fuzz_settings, engine_for)
        fuzzer = _fuzzer(client, engine_for, role)
        schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
        labels = [
            operation.label
            for operation in (result.ok() for result in schema.get_all_operations())
            # Public operations answer every caller alike: fuzzed once, in the viewer's run.
            if operation.definition.raw.get("security") or role is Role.VIEWER
        ]
        failures: dict[str, str] = {}
        for label in labels:
            try:
                _fuzz_operation(fuzzer, schema, label)
            # Collected, so one broken operation hides no other. schemathesis reports its
            # failures as a BaseExceptionGroup.
            except (Exception, BaseExceptionGroup) as exc:
                failures[label] = str(exc)[:3000]
    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())


# -- Regressions: what the fuzzer found, each pinned on both backends ---------------------------

BEYOND_ANY_ID = (2**31, 2**63, 10**30)  # past PostgreSQL's integer, SQLite's, and any
# The document does not depend on the database.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_an_id_no_row_can_have_is_invalid_input_not_a_server_error(
    client: TestClient, login: Callable[[Role], dict[str, str]]
) -> None:
    """Sent to the database, such an id overflowed (SQLite: OverflowError; PostgreSQL: integer
    out of range), a 500 instead of an answer."""
    headers = login(Role.ADMIN)
    for too_big in BEYOND_ANY_ID:
        _assert_refused_as_invalid(client, headers, too_big)


def _assert_refused_as_invalid(client: TestClient, headers: dict[str, str], too_big: int) -> None:
    requests = [
        ("GET", f"/api/products/{too_big}", None),
        ("DELETE", f"/api/products/{too_big}/locks/title", None),
        ("GET", f"/api/shopify/stores/{too_big}", None),
        ("GET", f"/api/jobs/{too_big}", None),
        ("GET", f"/api/batch/status/{too_big}", None),
        ("GET", f"/api/sync/debug/status?job_id={too_big}", None),
        ("GET", f"/api/sync/staged?cursor={too_big}", None),
        ("GET", f"/api/enhanced-sync/staged-changes?cursor={too_big}", None),
        ("POST", "/api/enhanced-sync/shopify-up", {"store_id": too_big}),
        ("POST", "/api/enhanced-sync/approve-changes", {"decision": "approve", "ids": [too_big]}),
        ("POST", "/api/sync/stop", {"job_id": too_big}),
        ("POST", "/api/sync/start", {"store_id": too_big}),
    ]
    for method, url, body in requests:
        response = client.request(method, url, json=body, headers=headers)
        assert response.status_code == 422, (method, url, response.text)
        assert response.json()["error"]["code"] == "validation_error"


def test_ids_of_users_tokens_and_imports_are_bounded_too(
    client: TestClient, login: Callable[[Role], dict[str, str]]
) -> None:
    headers = login(Role.ADMIN)
    for url in ("/api/users/{}", "/api/imports/{}", "/api/imports/{}/errors.csv"):
        assert client.get(url.format(2**63), headers=headers).status_code == 422, url
    assert client.delete(f"/api/auth/tokens/{2**63}", headers=headers).status_code == 422


def _responses(document: dict[str, Any], label: str) -> dict[str, Any]:
    method, path = label.split(" ", 1)
    return document["paths"][path][method.lower()]["responses"]


@SQLITE_ONLY
def test_errors_are_documented_with_the_body_they_have(client: TestClient) -> None:
    """Every operation listed only 200 and FastAPI's 422, with a `detail` body this app never
    sends: a client generated from the document knew nothing of 401, 403, 404 or `error`."""
    document = client.get("/openapi.json").json()
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert set(document["components"]["schemas"]["ErrorBody"]["properties"]) == {"error"}
    expected = {
        "GET /api/products/{product_id}": {"401", "404", "422"},
        "PATCH /api/products/{product_id}": {"400", "401", "403", "404", "413", "422"},
        "GET /api/products": {"401", "404", "422"},  # 404: an unknown store_id
        "POST /api/shopify/stores": {"400", "401", "403", "409", "413", "422"},
        "POST /api/jobs/{job_id}/cancel": {"401", "403", "404", "409", "422"},
        "POST /api/sync/stop": {"401", "403", "404", "409", "413", "422"},
        "GET /api/sync/debug/status": {"401", "404", "422"},
        "POST /api/batch/retry/{batch_id}": {"401", "403", "404", "409", "422"},
        "POST /api/shopify/webhooks": {"400", "401", "413", "422"},
        "GET /api/users": {"401", "403"},
    }
    for label, codes in expected.items():
        responses = _responses(document, label)
        assert codes <= set(responses), (label, sorted(responses))
        for code in codes:
            assert responses[code]["content"]["application/json"]["schema"] == error_body
    # What no caller can cause is not promised: a viewer's read has no 403, nothing public 401.
    assert "403" not in _responses(document, "GET /api/products")
    assert "401" not in _responses(document, "GET /api/health")


@SQLITE_ONLY
def test_every_operation_that_needs_a_token_documents_401(client: TestClient) -> None:
    """Derived from each route's role dependency, so a route added later is covered too."""
    document = client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                assert "401" in operation["responses"], (method, path)


@SQLITE_ONLY
def test_metrics_are_documented_as_the_text_they_are(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert set(_responses(document, "GET /metrics")["200"]["content"]) == {"text/plain"}
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
