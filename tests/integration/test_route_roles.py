"""The auth matrix: every route of the running app, every kind of bad token, every role.

The routes come from the app itself (`create_app(...).routes`, the WebSocket and the dashboard's
fallback included), not from a list kept by hand, and the roles they need come from SECURITY.md's
table. A route added without a role dependency, or without a row there, fails here; so does a
row whose route is gone. Each route then gets: no token, a wrong scheme, an expired, a revoked
(API token deleted, user disabled) and a forged (other key, alg none, tampered payload) token,
all 401; and each role, 403 below the documented minimum and past auth (not 401/403) from it
on. Requests carry no body and ids that do not exist: getting past auth is what is checked, and
nothing is changed. One app and one SQLite database serve the whole module.
"""

import base64
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, update
from starlette.routing import Route
from starlette.websockets import WebSocketDisconnect

from cowans.api.app import create_app
from cowans.auth import service as auth
from cowans.auth.errors import AuthErrorCode
from cowans.auth.tokens import issue_access_token
from cowans.config import Settings
from cowans.db.base import utcnow
from cowans.db.models import ApiToken, Role, User
from cowans.db.session import create_db_engine, session_scope
from tests.conftest import PASSWORD

SECURITY_MD = Path(__file__).parents[2] / "SECURITY.md"
PUBLIC = "public"
DASHBOARD_FALLBACK = ("GET", "/{page}")
_ROW = re.compile(r"^\| `([A-Z]+)` \| `([^`]+)` \| (\w+) \|$")
# Values for path parameters: well-formed, but naming nothing that exists.
_PATH_VALUES = {"field": "title", "page": "products/3"}
_MISSING_ID = "987654"


def documented_routes() -> dict[tuple[str, str], str]:
    rows: dict[tuple[str, str], str] = {}
    for line in SECURITY_MD.read_text().splitlines():
        match = _ROW.match(line.strip())
        if match:
            method, path, role = match.groups()
            assert (method, path) not in rows, f"SECURITY.md lists {method} {path} twice"
            rows[(method, path)] = role
    assert rows, "SECURITY.md has no route table"
    return rows


def required_roles(dependant: Dependant) -> list[Role]:
    found = []
    for dependency in dependant.dependencies:
        role = getattr(dependency.call, "required_role", None)
        if role is not None:
            found.append(role)
        found += required_roles(dependency)
    return found


def _minimum_role(dependant: Dependant) -> str:
    roles = required_roles(dependant)
    return max(roles, key=lambda role: role.rank).value if roles else PUBLIC


def app_routes(app: FastAPI) -> dict[tuple[str, str], str | None]:
    """(method, path) of every route the app answers, with the role its code declares; None for
    a WebSocket, which authenticates inside the handler (checked by behaviour below)."""
    found: dict[tuple[str, str], str | None] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIWebSocketRoute):
            found[("WS", context.path)] = None
        elif isinstance(route, APIRoute):
            for method in route.methods:
                found[(method, context.path)] = _minimum_role(context.dependant)
        elif isinstance(route, Route):  # the docs and the schema: Starlette routes, no auth
            for method in (route.methods or set()) - {"HEAD"}:
                found[(method, route.path)] = PUBLIC
        else:
            raise AssertionError(f"a route of an unexpected kind: {route!r}")
    if app.router.default is not getattr(app.router, "not_found", None):
        found[DASHBOARD_FALLBACK] = PUBLIC  # the dashboard's files, for any other GET path
    return found


@dataclass
class Matrix:
    client: TestClient
    app: FastAPI
    role_tokens: dict[str, str]  # "viewer", "editor", ..., and "editor API token"
    refused_tokens: dict[str, tuple[str, str]]  # what -> (token, the error code it gets)


def _tampered(token: str, user_id: int) -> str:
    """The same signature over a payload naming someone else."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(user_id)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _api_token(engine: Engine, user: User, name: str) -> tuple[str, int]:
    with session_scope(engine) as session:
        token, record = auth.create_api_token(session, session.merge(user), name, 30)
        return token, record.id


@pytest.fixture(scope="module")
def matrix(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    folder = tmp_path_factory.mktemp("matrix")
    shutil.copy(sqlite_template, folder / "cowans.db")
    (folder / "dist").mkdir()
    (folder / "dist" / "index.html").write_text("<!doctype html><title>dashboard</title>")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'cowans.db'}",
        data_dir=folder / "var",
        web_dist_dir=folder / "dist",
        job_workers=0,
    )
    engine = create_db_engine(settings.database_url)
    key, lifetime = settings.signing_key, timedelta(minutes=30)
    with session_scope(engine) as session:
        users = {
            role.value: auth.create_user(session, f"{role.value}@matrix.test", PASSWORD, role)
            for role in Role
        }
        disabled = auth.create_user(session, "gone@matrix.test", PASSWORD, Role.ADMIN)
    admin_id = users["admin"].id
    role_tokens = {
        name: issue_access_token(user.id, key, lifetime).token for name, user in users.items()
    }
    role_tokens["editor API token"], _ = _api_token(engine, users["editor"], "matrix")
    revoked, revoked_id = _api_token(engine, users["admin"], "revoked")
    expired_api, expired_api_id = _api_token(engine, users["admin"], "expired")
    disabled_token = issue_access_token(disabled.id, key, lifetime).token
    with session_scope(engine) as session:
        session.execute(
            update(ApiToken).where(ApiToken.id == revoked_id).values(revoked_at=utcnow())
        )
        session.execute(
            update(ApiToken).where(ApiToken.id == expired_api_id).values(expires_at=utcnow())
        )
        session.execute(update(User).where(User.id == disabled.id).values(is_active=False))
    engine.dispose()
    unsigned = jwt.encode(
        {"sub": str(admin_id), "aud": "cowans-api", "iat": 0, "exp": 4_000_000_000},
        key=None,
        algorithm="none",
    )
    refused_tokens = {
        "expired JWT": (
            issue_access_token(admin_id, key, timedelta(seconds=-1)).token,
            "token_expired",
        ),
        "JWT of a disabled user": (disabled_token, "user_inactive"),
        "revoked API token": (revoked, "token_revoked"),
        "expired API token": (expired_api, "token_expired"),
        "JWT signed with another key": (
            issue_access_token(admin_id, "another key " * 4, lifetime).token,
            "invalid_token",
        ),
        "JWT with alg none": (unsigned, "invalid_token"),
        "JWT with a tampered payload": (
            _tampered(role_tokens["viewer"], admin_id),
            "invalid_token",
        ),
        "unknown API token": ("cwn_" + "A" * 43, "invalid_token"),
    }
    app = create_app(settings)
    # No lifespan (no `with`): no job workers, and nothing a request queues is run.
    client = TestClient(app, raise_server_exceptions=False)
    yield Matrix(client, app, role_tokens, refused_tokens)
    client.close()


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _PATH_VALUES.get(m.group(1), _MISSING_ID), path)


def _call(matrix: Matrix, method: str, path: str, headers: dict[str, str]) -> Response:
    return matrix.client.request(method, _url(path), headers=headers)


def _ws_outcome(matrix: Matrix, token: str | None) -> dict:
    """The first message /ws sends: the error for a refused token, else the first event."""
    url = "/ws" if token is None else f"/ws?token={token}"
    with matrix.client.websocket_connect(url) as socket:
        first = socket.receive_json()
        if first.get("type") == "error":
            with pytest.raises(WebSocketDisconnect) as closed:
                socket.receive_json()
            first["close_code"] = closed.value.code
        return first


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_refused(response: Response, code: str, what: str) -> None:
    assert response.status_code == 401, (what, response.status_code, response.text)
    assert response.json()["error"]["code"] == code, (what, response.text)


DOCUMENTED = documented_routes()


def test_the_table_and_the_app_name_the_same_routes_and_roles(matrix: Matrix) -> None:
    in_app = app_routes(matrix.app)
    assert sorted(set(in_app) - set(DOCUMENTED)) == [], "routes missing from SECURITY.md"
    assert sorted(set(DOCUMENTED) - set(in_app)) == [], "SECURITY.md rows with no route"
    declared = {route: role for route, role in in_app.items() if role is not None}
    differing = {r: (role, DOCUMENTED[r]) for r, role in declared.items() if DOCUMENTED[r] != role}
    assert differing == {}, "(code, SECURITY.md) differ"
    valid = {PUBLIC, *(role.value for role in Role)}
    assert set(DOCUMENTED.values()) <= valid


@pytest.mark.parametrize(
    ("method", "path"),
    [route for route, role in DOCUMENTED.items() if role != PUBLIC and route[0] != "WS"],
    ids=lambda value: value,
)
def test_a_protected_route_refuses_bad_tokens_and_lesser_roles(
    matrix: Matrix, method: str, path: str
) -> None:
    _assert_refused(_call(matrix, method, path, {}), "not_authenticated", "no token")
    basic = {"Authorization": "Basic " + base64.b64encode(b"admin:x").decode()}
    _assert_refused(_call(matrix, method, path, basic), "not_authenticated", "Basic auth")
    for what, (token, code) in matrix.refused_tokens.items():
        _assert_refused(_call(matrix, method, path, _bearer(token)), code, what)

    minimum = Role(DOCUMENTED[(method, path)])
    for name, token in matrix.role_tokens.items():
        role = Role(name.split()[0])
        response = _call(matrix, method, path, _bearer(token))
        assert response.status_code < 500, (name, response.status_code, response.text)
        if role.includes(minimum):
            assert response.status_code not in (401, 403), (name, response.text)
        else:
            assert response.status_code == 403, (name, response.status_code, response.text)
            assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("method", "path"),
    [route for route, role in DOCUMENTED.items() if role == PUBLIC],
    ids=lambda value: value,
)
def test_a_public_route_needs_no_token(matrix: Matrix, method: str, path: str) -> None:
    """Not refused for want of a bearer token (webhooks still answer 401 for a missing HMAC
    signature, with a code of their own)."""
    for headers in ({}, _bearer(matrix.role_tokens["viewer"])):
        response = _call(matrix, method, path, headers)
        assert response.status_code < 500, response.text
        if response.status_code in (401, 403):
            assert response.json()["error"]["code"] not in set(AuthErrorCode), response.text


def test_the_websocket_refuses_bad_tokens_and_serves_every_role(matrix: Matrix) -> None:
    assert DOCUMENTED[("WS", "/ws")] == Role.VIEWER.value
    refused = [(None, "not_authenticated"), *matrix.refused_tokens.values()]
    for token, code in refused:
        outcome = _ws_outcome(matrix, token)
        assert outcome["type"] == "error", (token, outcome)
        assert outcome["close_code"] == 4401
        if token is not None:
            assert outcome["error"]["code"] == code, (token, outcome)
    for name, token in matrix.role_tokens.items():
        outcome = _ws_outcome(matrix, token)
        assert outcome["type"] != "error", (name, outcome)


def test_a_route_without_a_role_is_caught(matrix: Matrix) -> None:
    """The check above would notice a route someone forgets to protect."""
    app = FastAPI()

    @app.get("/api/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    assert app_routes(app)[("GET", "/api/forgotten")] == PUBLIC
    assert ("GET", "/api/forgotten") not in DOCUMENTED
