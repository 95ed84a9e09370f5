"""WS /ws with a real WebSocket client against the app served by uvicorn over real TCP."""

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from sqlalchemy import Engine, update

from cowans.api.app import create_app
from cowans.api.routers import events as events_router
from cowans.config import Settings
from cowans.db.models import Role, User
from cowans.db.session import session_scope
from tests.conftest import PASSWORD
from tests.emulator.conftest import free_port

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"


class Served:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://") + "/ws"
        self.http = httpx.Client(base_url=base_url, timeout=30)


def serve(settings: Settings) -> Iterator[Served]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.02)
    served = Served(f"http://127.0.0.1:{port}")
    try:
        yield served
    finally:
        served.http.close()
        server.should_exit = True
        thread.join(30)


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    yield from serve(settings)


def login(served: Served, make_user: Callable[..., User], role: Role = Role.EDITOR) -> str:
    user = make_user(role)
    response = served.http.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def read_until(
    socket: Any, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 60
) -> list[dict[str, Any]]:
    """Events until `done` says the list is complete."""
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while not done(received):
            received.append(json.loads(await socket.recv()))
    return received


def has_type(kind: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda events: bool(events) and events[-1]["type"] == kind


def job_states(events: list[dict[str, Any]], job_id: int) -> list[str]:
    return [
        e["job"]["state"] for e in events if e["type"] == "job.state" and e["job"]["id"] == job_id
    ]


def test_a_connection_without_a_valid_token_is_refused(served: Served) -> None:
    async def connect() -> tuple[dict[str, Any], int | None]:
        async with websockets.connect(served.ws_url + "?token=not-a-token") as socket:
            message = json.loads(await socket.recv())
            with pytest.raises(websockets.ConnectionClosed):
                await socket.recv()
            return message, socket.close_code

    message, code = asyncio.run(connect())
    assert message["type"] == "error"
    assert message["error"]["code"] == "invalid_token"
    assert code == 4401


def test_an_open_connection_ends_when_its_account_is_disabled(
    served: Served,
    make_user: Callable[..., User],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The token is checked while the stream runs, not only when it opens."""
    monkeypatch.setattr(events_router, "REAUTHENTICATE_SECONDS", 0.2)
    token = login(served, make_user, Role.VIEWER)

    async def connect() -> tuple[list[dict[str, Any]], int | None]:
        async with websockets.connect(f"{served.ws_url}?token={token}") as socket:
            received = await read_until(socket, has_type("snapshot.done"))
            with session_scope(engine) as session:
                session.execute(update(User).values(is_active=False))
            async with asyncio.timeout(30):  # a stream nobody ends is the failure
                with contextlib.suppress(websockets.ConnectionClosed):
                    async for message in socket:  # until the server closes it
                        received.append(json.loads(message))
            return received, socket.close_code

    received, code = asyncio.run(connect())
    assert code == 4401
    assert received[-1]["type"] == "error"


def test_a_client_gets_the_state_then_the_events_of_an_import(
    served: Served, make_user: Callable[..., User]
) -> None:
    token = login(served, make_user)
    headers = {"Authorization": f"Bearer {token}"}

    async def follow_an_import() -> tuple[list[dict[str, Any]], int]:
        async with websockets.connect(f"{served.ws_url}?token={token}") as socket:
            snapshot = await read_until(socket, has_type("snapshot.done"))
            assert not [e for e in snapshot if e["type"] == "job.state"]  # nothing ran yet
            response = await asyncio.to_thread(
                served.http.post,
                "/api/imports/xorosoft",
                files={"file": ("x.csv", (SAMPLES / "xorosoft_sample.csv").read_bytes())},
                headers=headers,
            )
            assert response.status_code == 202, response.text
            job_id = response.json()["job_id"]
            events = await read_until(socket, lambda seen: "completed" in job_states(seen, job_id))
            return snapshot + events, job_id

    events, job_id = asyncio.run(follow_an_import())
    states = job_states(events, job_id)
    assert states[0] == "queued"
    assert "running" in states
    assert states[-1] == "completed"
    imports = [e["import"] for e in events if e["type"] == "import.progress"]
    assert imports
    assert imports[-1]["state"] == "completed"
    assert imports[-1]["products"] > 0
    assert any(e["type"] == "worker.state" for e in events)

    async def reconnect() -> list[dict[str, Any]]:
        async with websockets.connect(f"{served.ws_url}?token={token}") as socket:
            return await read_until(socket, has_type("snapshot.done"))

    snapshot = asyncio.run(reconnect())
    assert job_states(snapshot, job_id) == ["completed"]
    workers = [e["worker"] for e in snapshot if e["type"] == "worker.state"]
    assert [w["mode"] for w in workers] == ["embedded"]
