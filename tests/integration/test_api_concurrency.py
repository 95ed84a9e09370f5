"""Many clients at once: every request is answered, none fails waiting for a connection."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from cowans.db.models import Role
from cowans.db.session import POOL_SIZE

# More requests at once than the thread pool (40) and the connection pool hold together: each
# request holds a session between the steps FastAPI runs on threads, so without a bound on the
# sessions, every thread ended up waiting for a connection only a waiting request could return.
CLIENTS = 2 * 40 + 2 * POOL_SIZE


def test_more_clients_than_threads_and_connections_are_all_answered(
    client: TestClient, login: Callable[[Role], dict[str, str]]
) -> None:
    headers = login(Role.VIEWER)

    def list_products(_: int) -> int:
        return client.get("/api/products", headers=headers).status_code

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = list(pool.map(list_products, range(CLIENTS)))
    assert statuses == [200] * CLIENTS


def test_a_request_waiting_for_a_session_holds_no_thread(
    client: TestClient, login: Callable[[Role], dict[str, str]]
) -> None:
    """The bound is on sessions, not requests: while every place is taken, a request that
    needs no session (the health check) is still answered."""
    headers = login(Role.VIEWER)
    slots = client.app.state.database_slots  # type: ignore[attr-defined]
    taken = [client.portal.call(slots.acquire) for _ in range(POOL_SIZE)]  # type: ignore[union-attr]
    try:
        assert client.get("/api/health").status_code == 200
    finally:
        for _ in taken:
            client.portal.call(slots.release)  # type: ignore[union-attr]
    assert client.get("/api/products", headers=headers).status_code == 200
