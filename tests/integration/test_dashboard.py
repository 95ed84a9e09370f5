"""The dashboard's build served at `/` beside the API, and the API the dashboard relies on.

The build is a tiny fake dist in tmp_path, so these tests need no npm. The contract test reads
web/src/api/contract/*.json (one file per area of the dashboard), the list of every endpoint,
parameter and response field the dashboard's client uses, and finds each one in the app's own
OpenAPI document: renaming a field the dashboard reads fails here, not in a browser.
"""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cowans.api.app import create_app
from cowans.config import Settings

CONTRACT = Path(__file__).parents[2] / "web" / "src" / "api" / "contract"
INDEX = "<!doctype html><title>Cowans</title><div id=root></div>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX)
    (folder / "assets" / "index-abc123.js").write_text("console.log('hi')")
    (folder / "favicon.svg").write_text("<svg/>")
    (folder / "assets" / "vendor-def456.js").write_text("const big = 1;\n" * 1000)
    return folder


def _client(sqlite_template: Path, tmp_path: Path, dist: Path) -> TestClient:
    database = tmp_path / "cowans.db"
    shutil.copy(sqlite_template, database)
    settings = Settings(
        database_url=f"sqlite:///{database}",
        data_dir=tmp_path / "var",
        web_dist_dir=dist,
        job_workers=0,
    )
    return TestClient(create_app(settings))


@pytest.fixture
def client(sqlite_template: Path, tmp_path: Path, dist: Path) -> TestClient:
    return _client(sqlite_template, tmp_path, dist)


def test_root_serves_the_dashboard(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"


def test_a_deep_link_falls_back_to_the_app(client: TestClient) -> None:
    response = client.get("/stores/3/changes?status=pending")
    assert response.status_code == 200
    assert response.text == INDEX
    assert client.head("/login").status_code == 200


def test_assets_are_served_and_kept_for_good(client: TestClient) -> None:
    response = client.get("/assets/index-abc123.js")
    assert response.text == "console.log('hi')"
    assert "immutable" in response.headers["cache-control"]


def test_big_assets_are_compressed_for_browsers_that_take_it(client: TestClient) -> None:
    script = client.get("/assets/vendor-def456.js", headers={"Accept-Encoding": "gzip"})
    assert script.headers["content-encoding"] == "gzip"
    assert script.text == "const big = 1;\n" * 1000  # httpx decodes it
    assert int(script.headers["content-length"]) < 1000
    plain = client.get("/assets/vendor-def456.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    api = client.get("/api/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in api.headers
    assert client.get("/favicon.svg").text == "<svg/>"


def test_a_missing_asset_is_a_404_not_html(client: TestClient) -> None:
    response = client.get("/assets/gone-123.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_no_escape_from_the_build_folder(client: TestClient, dist: Path) -> None:
    (dist.parent / "secret.txt").write_text("secret")
    response = client.get("/%2e%2e/secret.txt")
    assert "secret" not in response.text


@pytest.mark.parametrize(
    "path", ["/api/no-such-thing", "/api", "/ws/nothing", "/metrics/x", "/docs/x", "/redoc/x"]
)
def test_api_paths_keep_their_json_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_api_routes_are_untouched(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["title"]
    assert client.get("/docs").status_code == 200
    assert client.get("/api/jobs").status_code == 401
    assert client.delete("/api/health").status_code == 405
    assert client.post("/some/page").status_code == 404  # only GET and HEAD get the app


def test_without_a_build_root_redirects_to_the_docs(sqlite_template: Path, tmp_path: Path) -> None:
    client = _client(sqlite_template, tmp_path, tmp_path / "no-build")
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/docs"
    assert client.get("/stores/3").status_code == 404


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref, and take the non-null branch of an `X | None`."""
    while True:
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in schema:
            schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        else:
            return schema


def _has_field(spec: dict[str, Any], schema: dict[str, Any], dotted: str) -> bool:
    """`items[].id`: a field of an object's list; `[].id`: of an answer that is a list."""
    for part in dotted.split("."):
        schema = _resolve(spec, schema)
        name, is_list = part.removesuffix("[]"), part.endswith("[]")
        if name:
            if name not in schema.get("properties", {}):
                return False
            schema = _resolve(spec, schema["properties"][name])
        if is_list:
            if schema.get("type") != "array":
                return False
            schema = schema["items"]
    return True


def _contract() -> dict[str, dict[str, list[str]]]:
    """Every area's uses, merged: two areas may use one endpoint, each listing its fields."""
    merged: dict[str, dict[str, list[str]]] = {}
    for path in sorted(CONTRACT.glob("*.json")):
        for endpoint, uses in json.loads(path.read_text()).items():
            into = merged.setdefault(endpoint, {"response": []})
            for part, names in uses.items():
                into.setdefault(part, []).extend(names)
    return merged


def test_every_endpoint_and_field_the_dashboard_uses_exists(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    missing = []
    for endpoint, uses in _contract().items():
        method, path = endpoint.split(" ", 1)
        operation = spec["paths"].get(path, {}).get(method.lower())
        if operation is None:
            missing.append(endpoint)
            continue
        responses = operation["responses"]
        ok = responses.get("200") or responses.get("201") or responses.get("202")
        if uses["response"]:  # a download (CSV, a file) lists no fields
            response = ok["content"]["application/json"]["schema"]
            missing += [
                f"{endpoint} -> {f}" for f in uses["response"] if not _has_field(spec, response, f)
            ]
        if "request" in uses:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            missing += [
                f"{endpoint} <- {f}" for f in uses["request"] if not _has_field(spec, body, f)
            ]
        parameters = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        missing += [f"{endpoint} ?{q}" for q in uses.get("query", []) if q not in parameters]
    assert not missing


def test_the_contract_check_finds_missing_fields_of_list_answers(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    def answer(path: str) -> dict[str, Any]:
        ok = spec["paths"][path]["get"]["responses"]["200"]
        return ok["content"]["application/json"]["schema"]

    users, jobs = answer("/api/users"), answer("/api/jobs")
    assert _has_field(spec, users, "[].email")
    assert not _has_field(spec, users, "[].no_such_field")
    assert not _has_field(spec, jobs, "[].id")  # an object, not a list
    assert _has_field(spec, jobs, "items[].id")
    assert not _has_field(spec, users, "email")  # a list, not an object
