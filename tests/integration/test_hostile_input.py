"""Hostile input through the real API: injection strings in every filter, file names that try to
leave the uploads folder, bodies too large or too deep, and unicode at its edges.

Each refusal is a 4xx in the standard error shape, never a 500, and leaves the database exactly
as it was (`snapshot` compares every row of the tables a request could write, and the row counts
of all the others).
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cowans.api.app import create_app
from cowans.api.body_limits import MULTIPART_OVERHEAD_BYTES
from cowans.catalog import editing
from cowans.config import Settings
from cowans.db.base import Base
from cowans.db.models import (
    AuditLog,
    Import,
    Product,
    ProductVariant,
    ProductVersion,
    Role,
    Store,
    SyncJob,
    SyncStaging,
)
from cowans.db.session import session_scope
from cowans.errors import InvalidInput
from cowans.sources import etilize, xorosoft
from cowans.sources.records import RowError
from cowans.sync.webhooks import MAX_BODY_BYTES as MAX_WEBHOOK_BODY_BYTES
from tests.conftest import PASSWORD
from tests.integration.test_products_api import feed, load
from tests.sources.test_etilize import feed as etilize_feed
from tests.sources.test_etilize import main_row
from tests.sources.test_etilize_columns import assert_same
from tests.sources.test_xorosoft_columns import assert_same as assert_same_xorosoft

LoginHeaders = Callable[[Role], dict[str, str]]

# Percent-encoded as sent on the wire (what a browser or curl would put in a URL).
INJECTION_STRINGS = {
    "sql_or": quote("' OR 1=1 --"),
    "percent": quote("%"),
    "underscore": quote("_"),
    "backslash": quote("\\"),
    "drop_table": quote('"; DROP TABLE products; --'),
    "regex": quote(".*[(?+|^$"),
    "fts_syntax": quote('title:* OR "x" NEAR(a b) AND NOT {'),
    "very_long": "x" * 10_000,
    "nul": "a%00b",
    "invalid_utf8_surrogate": "%ED%A0%80",
    "invalid_utf8_byte": "%FF%FE",
}
# Rows compared one by one: everything a request in these tests could write.
COMPARED_ROWS = (Product, ProductVariant, ProductVersion, SyncStaging, Import, Store, SyncJob)
# Matching no product literally: a result that is not empty was a pattern, not the text.
EVIL_TEXT = ("' OR 1=1 --", "%%", "__", "\\\\", '"; DROP TABLE x; --', ".*[(?+|^$", "x" * 200)


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every row of the compared tables and the row count of every other one. The audit log is
    left out: it records refused requests too, which is the point of it."""
    with session_scope(engine) as session:
        state: dict[str, Any] = {}
        for table in Base.metadata.sorted_tables:
            if table.name != AuditLog.__tablename__:
                count = session.scalar(select(func.count()).select_from(table))
                state[table.name] = count
        for model in COMPARED_ROWS:
            rows = session.execute(select(model.__table__).order_by(model.__table__.c.id)).all()
            state[f"{model.__tablename__} rows"] = [tuple(row) for row in rows]
        return state


def assert_refused(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    if code is not None:
        assert error["code"] == code, error
    return error


@pytest.fixture
def catalog(engine: Engine) -> dict[str, int]:
    """Products whose text holds the characters a LIKE pattern would treat as wildcards, a
    store, and staged changes about them: enough for a match-all to show."""
    load(
        engine,
        feed("recycled-paper", "100% Recycled Paper", vendor="Acme%Co", product_type="Paper"),
        feed("snake-pen", "Pen_Blue fine", vendor="Pilot", product_type="Pens"),
        feed("slash-ruler", "Ruler 30cm \\ metric", vendor="Staedtler", product_type="Rulers"),
        feed("plain-stapler", "Stapler", vendor="Swingline", product_type="Staplers"),
    )
    with session_scope(engine) as session:
        store = Store(name="Shop", shop_domain="hostile.myshopify.com", access_token="shpat_x")
        session.add(store)
        session.flush()
        ids = {p.handle: p.id for p in session.scalars(select(Product))}
        for handle, product_id in ids.items():
            session.add(
                SyncStaging(
                    product_id=product_id,
                    store_id=store.id,
                    direction="push",
                    operation_type="update",
                    changes={"title": ["old", "new"]},
                    status="pending",
                    handle=handle,
                )
            )
        return ids


def test_injection_strings_in_every_query_parameter_are_harmless(
    client: TestClient, engine: Engine, login: LoginHeaders, catalog: dict[str, int]
) -> None:
    headers = login(Role.ADMIN)
    document = client.get("/openapi.json").json()
    before = snapshot(engine)
    covered = 0
    for template, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        # Path ids point at a real row where one exists: the filters then run on real data.
        path = template
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                path = path.replace("{" + parameter["name"] + "}", "1")
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            for label, value in INJECTION_STRINGS.items():
                response = client.get(f"{path}?{parameter['name']}={value}", headers=headers)
                where = f"GET {path} {parameter['name']}={label}"
                assert response.status_code < 500, f"{where}: {response.text[:300]}"
                assert response.status_code in (200, 404, 422), f"{where}: {response.text[:300]}"
                if response.status_code != 200:
                    assert set(response.json()["error"]) == {"code", "message", "details"}, where
                covered += 1
    assert covered > 300  # the enumeration found the list and search endpoints' filters
    for path in ("/api/products/1%00", "/api/imports/%00", "/api/jobs/1%00/cancel"):
        response = client.get(path, headers=headers)
        assert response.status_code in (404, 405, 422), (path, response.text)
    assert snapshot(engine) == before


def _handles(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(item["handle"] for item in response.json()["items"])


def test_search_takes_wildcards_and_quotes_literally(
    client: TestClient, login: LoginHeaders, catalog: dict[str, int]
) -> None:
    headers = login(Role.VIEWER)
    expected = {
        "%": ["recycled-paper"],
        "0%": ["recycled-paper"],
        "_": ["snake-pen"],
        "n_b": ["snake-pen"],
        "\\": ["slash-ruler"],
        "' OR 1=1 --": [],
        '"; DROP TABLE products; --': [],
        ".*": [],
        '"': [],
        "Stapler": ["plain-stapler"],
    }
    for term, handles in expected.items():
        products = client.get("/api/products", params={"query": term}, headers=headers)
        assert _handles(products) == handles, term
        staged = client.get(
            "/api/enhanced-sync/staged-changes", params={"query": term}, headers=headers
        )
        assert _handles(staged) == handles, term
    by_vendor = client.get("/api/products", params={"vendor": "Acme%Co"}, headers=headers)
    assert _handles(by_vendor) == ["recycled-paper"]
    for vendor in ("%", "Acme_Co", "' OR 1=1 --"):
        listed = client.get("/api/products", params={"vendor": vendor}, headers=headers)
        assert _handles(listed) == [], vendor


def _filter_schemas(document: dict[str, Any]) -> Iterator[tuple[str, str, list[str]]]:
    """(path, schema name, its free-text properties) for every POST body with a `filter`."""
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        body = operations.get("post", {}).get("requestBody", {})
        reference = body.get("content", {}).get("application/json", {}).get("schema", {})
        name = reference.get("$ref", "").rsplit("/", 1)[-1]
        if not name or "filter" not in schemas[name].get("properties", {}):
            continue
        options = schemas[name]["properties"]["filter"].get("anyOf", [])
        for option in options:
            if "$ref" in option:
                filter_name = option["$ref"].rsplit("/", 1)[-1]
                text = [
                    field
                    for field, spec in schemas[filter_name]["properties"].items()
                    if spec.get("type") == "string"
                    or any(o.get("type") == "string" for o in spec.get("anyOf", []))
                ]
                yield path, filter_name, text


def test_injection_strings_in_body_filters_select_nothing(
    client: TestClient, engine: Engine, login: LoginHeaders, catalog: dict[str, int]
) -> None:
    """A batch or a decision over a filter acts on what the filter matches: a pattern matching
    everything would act on the whole catalog."""
    headers = login(Role.ADMIN)
    filters = list(_filter_schemas(client.get("/openapi.json").json()))
    assert {path for path, _, _ in filters} >= {
        "/api/batch/process",
        "/api/enhanced-sync/approve-changes",
    }
    before = snapshot(engine)
    for path, _, fields in filters:
        for field in fields:
            for value in EVIL_TEXT:
                body: dict[str, Any] = {"filter": {field: value}}
                if path == "/api/batch/process":
                    body["operation"] = "export"
                else:
                    body["decision"] = "reject"
                response = client.post(path, json=body, headers=headers)
                where = f"{path} {field}={value[:20]!r}"
                assert response.status_code < 500, f"{where}: {response.text[:300]}"
                if response.status_code < 300:
                    decided = response.json()
                    assert decided.get("total", 0) == 0, where
                    assert decided.get("rejected", 0) == decided.get("approved", 0) == 0, where
    after = snapshot(engine)
    # An empty batch is still a job row; nothing else may have moved.
    for name in after:
        if not name.startswith(SyncJob.__tablename__) and name != "job_items":
            assert after[name] == before[name], name


# -- uploaded file names ---------------------------------------------------------------------

HOSTILE_NAMES = (
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\system32\\x.csv",
    "C:\\temp\\feed.csv",
    "feed\x00.csv",
    "a" * 10_000 + ".csv",
    "\u202ecsv.exe",  # right-to-left override
    "..",
    "",
    "café 😀 ﬁle.csv",
)


# python-multipart's bound on one part-header line (4 KiB and a little): a longer file name is
# a 400 from the parser, before the router sees the upload.
MULTIPART_HEADER_LIMIT = 4096


@pytest.fixture
def quiet_client(db_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    """No job workers (an upload stays where it was stored) and small body limits."""
    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path / "var",
        job_workers=0,
        max_request_bytes=64 * 1024,
        max_upload_bytes=128 * 1024,
    )
    with TestClient(create_app(settings)) as client:
        yield client, settings


def _editor(client: TestClient, engine: Engine, make_user: Callable[..., Any]) -> dict[str, str]:
    user = make_user(Role.EDITOR)
    response = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_uploaded_file_names_cannot_leave_the_uploads_folder(
    quiet_client: tuple[TestClient, Settings],
    engine: Engine,
    make_user: Callable[..., Any],
    tmp_path: Path,
) -> None:
    client, settings = quiet_client
    headers = _editor(client, engine, make_user)
    uploads = (settings.data_dir / "uploads").resolve()
    for kind in ("etilize", "xorosoft"):
        for name in HOSTILE_NAMES:
            response = client.post(
                f"/api/imports/{kind}", files={"file": (name, b"a,b\n1,2\n")}, headers=headers
            )
            if len(name) > MULTIPART_HEADER_LIMIT:
                # The multipart parser refuses a part header this long, before any handler.
                assert_refused(response, 400, "bad_request")
                continue
            if not name:  # a part without a file name is a form field, not a file
                assert_refused(response, 422, "file_missing")
                continue
            assert response.status_code == 202, (name[:40], response.text)
            import_id = response.json()["import_id"]
            with session_scope(engine) as session:
                job = session.get(SyncJob, response.json()["job_id"])
                assert job is not None
                stored = Path(job.config["path"])
                record = session.get(Import, import_id)
                assert record is not None
                filename = record.filename
            assert stored.resolve().parent == uploads, (name[:40], stored)
            assert stored.name.startswith(f"import-{import_id}-")
            assert stored.exists()
            shown = client.get(f"/api/imports/{import_id}", headers=headers).json()
            assert shown["filename"] == filename
            for fragment in ("/", "\\", "\x00", "\u202e"):
                assert fragment not in filename, (name[:40], filename)
            assert filename not in ("..", ".")
            assert len(filename) <= 100
            assert str(uploads) not in json.dumps(shown)
    with session_scope(engine) as session:
        imported = session.scalar(select(func.count()).select_from(Import))
    assert imported == 2 * (len(HOSTILE_NAMES) - 2)  # the refused names left no import behind
    # Nothing landed anywhere else in the test's folder.
    written = {p.resolve() for p in tmp_path.rglob("*") if p.is_file()}
    assert {p for p in written if p.parent == uploads} == {
        p for p in written if "import-" in p.name
    }


# -- sizes -----------------------------------------------------------------------------------


def _patch_body(size: int) -> bytes:
    return json.dumps({"body_html": "x" * size}).encode()


def test_a_json_body_over_the_limit_is_refused_declared_or_streamed(
    quiet_client: tuple[TestClient, Settings],
    engine: Engine,
    make_user: Callable[..., Any],
) -> None:
    client, _ = quiet_client
    headers = {**_editor(client, engine, make_user), "Content-Type": "application/json"}
    load(engine, feed("big-body", "Big body"))
    product = client.get("/api/products", headers=headers).json()["items"][0]["id"]
    before = snapshot(engine)
    declared = client.patch(
        f"/api/products/{product}", content=_patch_body(100 * 1024), headers=headers
    )
    error = assert_refused(declared, 413, "request_body_too_large")
    assert "0.0625 MiB (65536 bytes)" in error["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        body = _patch_body(100 * 1024)
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    streamed = client.patch(f"/api/products/{product}", content=chunks(), headers=headers)
    assert_refused(streamed, 413, "request_body_too_large")
    assert snapshot(engine) == before
    under = client.patch(f"/api/products/{product}", content=_patch_body(1000), headers=headers)
    assert under.status_code == 200, under.text


def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(
    quiet_client: tuple[TestClient, Settings],
    engine: Engine,
    make_user: Callable[..., Any],
) -> None:
    client, settings = quiet_client
    headers = _editor(client, engine, make_user)
    uploads = settings.data_dir / "uploads"
    before = snapshot(engine)
    # Just over the file limit: the router, counting the file itself, refuses it.
    just_over = b"a" * (settings.max_upload_bytes + 1)
    # Far over: refused before the multipart parser has spooled it all.
    far_over = b"a" * (settings.max_upload_bytes + 2 * 1024 * 1024)
    for content in (just_over, far_over):
        response = client.post(
            "/api/imports/etilize", files={"file": ("feed.csv", content)}, headers=headers
        )
        error = assert_refused(response, 413, "upload_too_large")
        assert "0.125 MiB (131072 bytes)" in error["message"]
    assert snapshot(engine) == before
    assert not uploads.exists() or not any(uploads.iterdir())
    within = client.post(
        "/api/imports/etilize", files={"file": ("feed.csv", b"a" * 1000)}, headers=headers
    )
    assert within.status_code == 202, within.text


def _multipart_chunks(file_bytes: int) -> Iterator[bytes]:
    """A multipart upload sent chunked, without a Content-Length: only counting it as it
    streams can stop it."""
    yield (
        b"--hostile\r\n"
        b'Content-Disposition: form-data; name="file"; filename="feed.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
    )
    for _ in range(file_bytes // 65536):
        yield b"a" * 65536
    yield b"\r\n--hostile--\r\n"


def test_a_streamed_upload_over_the_limit_is_stopped_while_it_streams(
    quiet_client: tuple[TestClient, Settings],
    engine: Engine,
    make_user: Callable[..., Any],
) -> None:
    client, settings = quiet_client
    headers = {
        **_editor(client, engine, make_user),
        "Content-Type": "multipart/form-data; boundary=hostile",
    }
    before = snapshot(engine)
    far_over = settings.max_upload_bytes + 4 * 1024 * 1024
    for kind in ("etilize", "xorosoft"):
        response = client.post(
            f"/api/imports/{kind}", content=_multipart_chunks(far_over), headers=headers
        )
        error = assert_refused(response, 413, "upload_too_large")
        assert "0.125 MiB (131072 bytes)" in error["message"]
    assert snapshot(engine) == before
    under = client.post("/api/imports/etilize", content=_multipart_chunks(65536), headers=headers)
    assert under.status_code == 202, under.text


def test_an_endless_upload_is_read_no_further_than_the_limit(
    quiet_client: tuple[TestClient, Settings],
    engine: Engine,
    make_user: Callable[..., Any],
) -> None:
    """Driven at the ASGI level, where the bytes the app pulls can be counted: a body that
    never ends is refused once the limit (and the multipart framing allowance) is read."""
    client, settings = quiet_client
    token = _editor(client, engine, make_user)["Authorization"]
    chunk = b"a" * 65536
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        if pulled > 2000:  # 128 MiB: the app did not stop; end the body so the test ends
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": next(parts, chunk), "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    parts = iter([next(_multipart_chunks(0))])
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/imports/etilize",
        "raw_path": b"/api/imports/etilize",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", token.encode()),
            (b"content-type", b"multipart/form-data; boundary=hostile"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    anyio.run(client.app, scope, receive, send)
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 413
    allowed = settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
    assert (pulled - 1) * len(chunk) <= allowed + len(chunk)


def test_the_webhook_body_limit_answers_like_the_others(client: TestClient, engine: Engine) -> None:
    before = snapshot(engine)
    body = b'{"id": 1, "pad": "' + b"x" * (MAX_WEBHOOK_BODY_BYTES + 1) + b'"}'
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": "not-checked-before-the-size",
        "X-Shopify-Shop-Domain": "hostile.myshopify.com",
        "X-Shopify-Topic": "products/update",
        "X-Shopify-Event-Id": "evt-big",
    }
    response = client.post("/api/shopify/webhooks", content=body, headers=headers)
    error = assert_refused(response, 413, "webhook_body_too_large")
    assert str(MAX_WEBHOOK_BODY_BYTES) in error["message"]
    assert snapshot(engine) == before


def test_huge_arrays_are_refused_clearly(
    client: TestClient, engine: Engine, login: LoginHeaders, catalog: dict[str, int]
) -> None:
    headers = login(Role.ADMIN)
    before = snapshot(engine)
    ten_million = b'{"operation": "delete", "product_ids": [' + b"1," * 10_000_000 + b"1]}"
    response = client.post(
        "/api/batch/process",
        content=ten_million,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert_refused(response, 413, "request_body_too_large")
    within_bytes = {"operation": "delete", "product_ids": list(range(1, 150_002))}
    assert_refused(client.post("/api/batch/process", json=within_bytes, headers=headers), 422)
    decision = {"decision": "approve", "ids": list(range(1, 100_002))}
    approve = client.post("/api/enhanced-sync/approve-changes", json=decision, headers=headers)
    assert_refused(approve, 422)
    skus = {"skus": [f"SKU-{n}" for n in range(25_001)]}
    assert_refused(client.post("/api/products/lookup-skus", json=skus, headers=headers), 422)
    assert snapshot(engine) == before


def _nested_list(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _nested_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def test_deeply_nested_json_is_refused_before_parsing(
    client: TestClient, engine: Engine, login: LoginHeaders, catalog: dict[str, int]
) -> None:
    headers = {**login(Role.ADMIN), "Content-Type": "application/json"}
    product = catalog["plain-stapler"]
    before = snapshot(engine)
    targets = (
        ("post", "/api/batch/process"),
        ("post", "/api/enhanced-sync/approve-changes"),
        ("post", "/api/products/lookup-skus"),
        ("patch", f"/api/products/{product}"),
        ("post", "/api/auth/login"),
        ("post", "/api/imports/etilize"),
    )
    for method, path in targets:
        for body in (_nested_list(10_000), _nested_object(10_000)):
            response = client.request(method, path, content=body, headers=headers)
            error = assert_refused(response, 422, "json_too_deep")
            assert "64 levels" in error["message"]
    # Brackets inside strings are text, not depth.
    bracketed = json.dumps({"body_html": "[" * 5000 + "{" * 5000})
    edit = client.patch(f"/api/products/{product}", content=bracketed, headers=headers)
    assert edit.status_code == 200, edit.text
    assert edit.json()["body_html"] == "[" * 5000 + "{" * 5000
    after = snapshot(engine)
    assert after["products"] == before["products"]


def test_a_signed_deeply_nested_webhook_is_accepted_not_a_500(
    client: TestClient, engine: Engine, catalog: dict[str, int]
) -> None:
    """The webhook route gets its body as signed (no depth refusal in front of it), so its own
    parser must survive the nesting: a signed, unreadable payload is ignored, not retried."""
    from cowans.sync.webhooks import signature_of

    with session_scope(engine) as session:
        store = session.scalar(select(Store))
        assert store is not None
        store.webhook_secret = "whsec-hostile"
        domain = store.shop_domain
    body = b'{"id": ' + _nested_list(100_000) + b"}"
    response = client.post(
        "/api/shopify/webhooks",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Hmac-Sha256": signature_of(body, "whsec-hostile"),
            "X-Shopify-Shop-Domain": domain,
            "X-Shopify-Topic": "products/update",
            "X-Shopify-Event-Id": "evt-deep",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"


# -- unicode ---------------------------------------------------------------------------------

STORED_EXACTLY = {
    "combining": "Cafe\u0301 Cre\u0300me bru\u0302le\u0301e",
    "rtl": "\u05e2\u05d8 \u0642\u0644\u0645 \u202eevil\u202c",
    "astral": "Pens 😀🏳️‍🌈 \U0001d518\U0001d52b\U0001d526",
    "zero_width": "a\u200bb\u200cc\u200dd\ufeffe\u2060",
    "line_separators": "one\u2028two\u2029three",
    "longest": "😀" * 255,
}


def test_unicode_edge_cases_in_product_fields_are_stored_exactly(
    client: TestClient, login: LoginHeaders, catalog: dict[str, int]
) -> None:
    headers = login(Role.EDITOR)
    product = catalog["plain-stapler"]
    for label, value in STORED_EXACTLY.items():
        edit = {"title": value, "vendor": value[:255], "tags": [value[:255]], "seo_title": value}
        response = client.patch(f"/api/products/{product}", json=edit, headers=headers)
        assert response.status_code == 200, (label, response.text)
        shown = client.get(f"/api/products/{product}", headers=headers).json()
        assert (shown["title"], shown["vendor"], shown["seo_title"]) == (value,) * 3, label
        assert shown["tags"] == [value.strip()], label


REFUSED = {
    "nul": (b'{"title": "a\\u0000b"}', "nul_character"),
    "nul_in_tag": (b'{"tags": ["ok", "a\\u0000"]}', "nul_character"),
    "lone_surrogate": (b'{"title": "a\\ud800b"}', "validation_error"),
    "lone_low_surrogate": (b'{"vendor": "\\udc00"}', "validation_error"),
    "too_long": (json.dumps({"title": "😀" * 256}).encode(), "validation_error"),
    "raw_invalid_utf8": (b'{"title": "\xff\xfe"}', "invalid_utf8"),
}


def test_unstorable_text_in_product_fields_is_refused_and_changes_nothing(
    client: TestClient, engine: Engine, login: LoginHeaders, catalog: dict[str, int]
) -> None:
    headers = {**login(Role.EDITOR), "Content-Type": "application/json"}
    product = catalog["plain-stapler"]
    before = snapshot(engine)
    for label, (body, code) in REFUSED.items():
        response = client.patch(f"/api/products/{product}", content=body, headers=headers)
        assert response.status_code == 422, (label, response.text)
        if code:
            assert response.json()["error"]["code"] == code, label
    assert snapshot(engine) == before


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "ok\udfff"])
def test_the_catalog_refuses_unstorable_text_whoever_calls_it(
    session: Session, engine: Engine, catalog: dict[str, int], value: str
) -> None:
    """Batches and approvals edit through the catalog, not the API's schema: the check is
    the catalog's own."""
    product = catalog["plain-stapler"]
    for edit in ({"title": value}, {"tags": ["fine", value]}):
        with pytest.raises(InvalidInput) as refused:
            editing.edit_product(session, product, edit, None)
        assert "NUL" in refused.value.message


# -- feeds -----------------------------------------------------------------------------------

SAMPLE_HEADER = (
    (Path(__file__).resolve().parents[3] / "shared" / "samples" / "etilize_sample.csv")
    .read_bytes()
    .split(b"\n", 1)[0]
    .decode("ascii")
    .strip()
    .split(",")
)
FEED_TITLES = {
    **{label: value for label, value in STORED_EXACTLY.items() if label != "longest"},
    "longest": "\u00e9" * 255,
}
# Rows the feed must reject one by one (the rest of the file imports). They come after the
# first 64 KiB: a NUL there makes the whole file "binary", refused before any row is read.
FEED_REJECTS = {"nul": "Pen\x00Cap", "too_long": "x" * 256}
HEAD_FILLER = "filler"


def _etilize_csv(titles: dict[str, str]) -> bytes:
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SAMPLE_HEADER, lineterminator="\r\n")
    writer.writeheader()
    for label, title in titles.items():
        writer.writerow(
            {
                "Handle": f"feed-{label.replace('_', '-')}",
                "Title": title,
                "Description": "<p>" + "z" * (64 << 10) + "</p>" if label == HEAD_FILLER else "",
                "Vendor": "Acme",
                "Type": "Pens",
                "Status": "active",
                "Published": "TRUE",
                "SKU": f"SKU-{label.upper()}",
                "Option1 Name": "Title",
                "Option1 Value": "Default Title",
            }
        )
    return out.getvalue().encode("utf-8")


def _xorosoft_csv(labels: list[str]) -> bytes:
    lines = ["ItemNumber,BasePartNumber,Description,UnitPrice,QuantityOnHand,Location,UPC"]
    lines += [f"SKU-{label.upper()},B{n},DESC,1.00,1,MAIN," for n, label in enumerate(labels)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _imported(client: TestClient, kind: str, content: bytes, headers: dict[str, str]) -> dict:
    import time

    started = client.post(
        f"/api/imports/{kind}", files={"file": (f"{kind}.csv", content)}, headers=headers
    )
    assert started.status_code == 202, started.text
    import_id = started.json()["import_id"]
    deadline = time.monotonic() + 120  # a guard against a hung job, not a speed check
    while time.monotonic() < deadline:
        shown = client.get(f"/api/imports/{import_id}", headers=headers).json()
        if shown["state"] in ("completed", "failed"):
            return dict(shown)
        time.sleep(0.05)
    raise AssertionError(f"import {import_id} did not finish")


def test_feeds_store_unicode_exactly_and_reject_unstorable_rows_one_by_one(
    client: TestClient, engine: Engine, login: LoginHeaders
) -> None:
    headers = login(Role.EDITOR)
    good = {**FEED_TITLES, HEAD_FILLER: "Filler"}
    titles = {**good, **FEED_REJECTS}
    xorosoft = _imported(client, "xorosoft", _xorosoft_csv(list(titles)), headers)
    assert xorosoft["state"] == "completed", xorosoft
    report = _imported(client, "etilize", _etilize_csv(titles), headers)
    assert report["state"] == "completed", report
    with session_scope(engine) as session:
        stored = dict(session.execute(select(Product.handle, Product.title)).all())
    assert stored == {f"feed-{label.replace('_', '-')}": title for label, title in good.items()}
    assert report["errors"] == len(FEED_REJECTS), report["row_errors"]
    rejected = {error["row"] for error in report["row_errors"]}
    assert len(rejected) == len(FEED_REJECTS), report["row_errors"]


def test_a_feed_with_nul_bytes_up_front_is_refused_whole(
    client: TestClient, engine: Engine, login: LoginHeaders
) -> None:
    """NUL bytes in the first block mean a binary file (or UTF-16): the import fails with a
    reason and writes no product at all, rather than half a catalog of garbage."""
    headers = login(Role.EDITOR)
    before = snapshot(engine)
    for kind, content in (
        ("etilize", _etilize_csv({"nul": "Pen\x00Cap", **FEED_TITLES})),
        ("xorosoft", _xorosoft_csv(["a\x00b", "fine"])),
    ):
        report = _imported(client, kind, content, headers)
        assert report["state"] == "failed", report
        assert "NUL" in report["error"] or "binary" in report["error"], report["error"]
    after = snapshot(engine)
    for table in ("products", "product_variants", "product_versions", "products rows"):
        assert after[table] == before[table], table


@pytest.mark.parametrize("column", etilize.LIMITED_COLUMNS)
def test_both_etilize_readers_report_a_cell_longer_than_the_catalog_keeps(column: str) -> None:
    """The column reader hands such a row to the careful reader, which reports it: the same
    records either way, and the rows around it imported."""
    too_long = "x" * (etilize.MAX_STORED_CHARS + 1)
    cells = {column: too_long} if column != etilize.HANDLE else {"Title": "T", "SKU": "S-b"}
    long_row = main_row(too_long if column == etilize.HANDLE else "b", cells)
    data = etilize_feed([main_row("a"), long_row, main_row("c")], encoding="utf-8")
    read = assert_same(data)
    errors = [record for record in read.records if isinstance(record, RowError)]
    assert [(error.row_number, error.column) for error in errors] == [(3, column)]
    handles = [record.handle for record in read.records if not isinstance(record, RowError)]
    assert handles == ["a", "c"]
    at_the_limit = main_row("d", {column: "y" * etilize.MAX_STORED_CHARS})
    if column != etilize.HANDLE:
        fine = assert_same(etilize_feed([at_the_limit], encoding="utf-8"))
        assert not any(isinstance(record, RowError) for record in fine.records)


@pytest.mark.parametrize("column", sorted(xorosoft.STORED_WIDTHS))
def test_both_xorosoft_readers_report_a_cell_longer_than_the_catalog_keeps(column: str) -> None:
    limit = xorosoft.STORED_WIDTHS[column]
    header = "ItemNumber,BasePartNumber,Description,UnitPrice,QuantityOnHand,Location,UPC,"
    header += "VendorProductNumber"
    values = ["A1", "A", "d", "1.00", "1", "MAIN", "", ""]
    rows = [dict(zip(header.split(","), values, strict=True))]
    rows.append({**rows[0], "ItemNumber": "B2", column: "9" * (limit + 1)})
    rows.append({**rows[0], "ItemNumber": "C3", column: "8" * limit})
    lines = [header] + [",".join(row.values()) for row in rows]
    read = assert_same_xorosoft(("\r\n".join(lines) + "\r\n").encode())
    errors = [record for record in read.records if isinstance(record, RowError)]
    assert [(error.row_number, error.column) for error in errors] == [(3, column)]
    assert len(read.records) == 3
