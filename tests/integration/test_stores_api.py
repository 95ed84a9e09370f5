"""The stores API: registering shops, changing them, and testing their connection against a
Shopify emulator served over real HTTP. Throughout, the access token is write-only: it must
never come back in a response, an audit entry or a log line."""

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cowans.api.app import create_app
from cowans.config import Environment, Settings
from cowans.db.models import Role
from tests.emulator.conftest import TOKEN as EMULATOR_TOKEN
from tests.emulator.conftest import RunningEmulator, free_port

# A fixture: re-exported so pytest finds it for `shop` below.
from tests.emulator.conftest import make_emulator as make_emulator

LoginHeaders = Callable[[Role], dict[str, str]]
STORES = "/api/shopify/stores"
API_PATH = "/admin/api/2026-10/graphql.json"


def new_token() -> str:
    """Distinctive enough that finding it anywhere is a leak, not a coincidence."""
    return f"shpat_{secrets.token_hex(16)}"


@pytest.fixture
def shop(make_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return make_emulator()


def emulator_url(shop: RunningEmulator) -> str:
    return f"{shop.base_url}/demo{API_PATH}"


class Responses:
    """Every response of a test, so one assertion can cover all of them."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.seen: list[httpx.Response] = []

    def __call__(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, url, **kwargs)
        self.seen.append(response)
        return response

    def assert_never_contain(self, *secrets_: str) -> None:
        for response in self.seen:
            for secret in secrets_:
                assert secret not in response.text, (response.request.url, response.text)
                assert secret not in str(response.headers)


@pytest.fixture
def api(client: TestClient) -> Responses:
    return Responses(client)


def create(api: Responses, headers: dict[str, str], **body: Any) -> httpx.Response:
    payload = {"name": "Cowan's", "shop_domain": "cowans.myshopify.com", "access_token": "x"}
    return api("POST", STORES, json={**payload, **body}, headers=headers)


def create_connected(
    api: Responses,
    admin: dict[str, str],
    shop: RunningEmulator,
    access_token: str = EMULATOR_TOKEN,
    **body: Any,
) -> httpx.Response:
    """A store pointing at the emulator's demo shop (the token may be a wrong one)."""
    return create(
        api,
        admin,
        shop_domain="demo.myshopify.com",
        admin_url=emulator_url(shop),
        access_token=access_token,
        **body,
    )


def audit_rows(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM audit_log")).all()
    return [repr(tuple(row)) for row in rows]


# -- CRUD ------------------------------------------------------------------------------------


def test_admin_registers_lists_reads_and_changes_a_store(
    api: Responses, login: LoginHeaders
) -> None:
    admin, token = login(Role.ADMIN), new_token()
    created = create(
        api,
        admin,
        name=" Cowan's Office Supplies ",
        shop_domain="https://Cowans.myshopify.com/",
        access_token=token,
        location_map={"MAIN": "Main Warehouse"},
    )
    assert created.status_code == 201, created.text
    store = created.json()
    assert store["name"] == "Cowan's Office Supplies"
    assert store["shop_domain"] == "cowans.myshopify.com"
    assert store["api_version"] == "2026-10"
    assert store["admin_url"] == "https://cowans.myshopify.com/admin/api/2026-10/graphql.json"
    assert store["custom_admin_url"] is False
    assert store["location_map"] == {"MAIN": "Main Warehouse"}
    assert (store["is_active"], store["has_access_token"], store["plan"]) == (True, True, "")
    assert "access_token" not in store

    listed = api("GET", STORES, headers=admin).json()
    assert [s["id"] for s in listed] == [store["id"]]
    url = f"{STORES}/{store['id']}"
    assert api("GET", url, headers=admin).json() == store

    changed = api(
        "PATCH",
        url,
        json={
            "name": "Cowan's (staging)",
            "api_version": "2027-01",
            "location_map": {"WH1": "Store Front", "WH2": "Main Warehouse"},
            "is_active": False,
        },
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["name"] == "Cowan's (staging)"
    # The default endpoint follows the version.
    assert after["admin_url"] == "https://cowans.myshopify.com/admin/api/2027-01/graphql.json"
    assert after["location_map"] == {"WH1": "Store Front", "WH2": "Main Warehouse"}
    assert after["is_active"] is False
    assert after["has_access_token"] is True

    custom = api("PATCH", url, json={"admin_url": "http://localhost:8080/gql"}, headers=admin)
    assert custom.json()["admin_url"] == "http://localhost:8080/gql"
    assert custom.json()["custom_admin_url"] is True
    back = api("PATCH", url, json={"admin_url": None}, headers=admin).json()
    assert back["admin_url"] == "https://cowans.myshopify.com/admin/api/2027-01/graphql.json"
    assert back["custom_admin_url"] is False
    untouched = api("PATCH", url, json={}, headers=admin).json()
    assert untouched["name"] == "Cowan's (staging)"
    api.assert_never_contain(token)


def test_an_emulator_store_keeps_its_own_admin_url(api: Responses, login: LoginHeaders) -> None:
    url = "http://127.0.0.1:5001/admin/api/2026-10/graphql.json"
    created = create(
        api, login(Role.ADMIN), shop_domain="demo.myshopify.com", admin_url=url, api_version=None
    )
    assert created.status_code == 201, created.text
    assert (created.json()["admin_url"], created.json()["custom_admin_url"]) == (url, True)


def test_a_shop_is_registered_once(api: Responses, login: LoginHeaders) -> None:
    admin = login(Role.ADMIN)
    assert create(api, admin).status_code == 201
    for domain in ("cowans.myshopify.com", "COWANS.myshopify.com", "https://cowans.myshopify.com"):
        again = create(api, admin, name="Again", shop_domain=domain)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "store_shop_domain_taken"
        assert "cowans.myshopify.com" in again.json()["error"]["message"]
    assert len(api("GET", STORES, headers=admin).json()) == 1


def test_an_unknown_store_is_404(api: Responses, login: LoginHeaders) -> None:
    admin = login(Role.ADMIN)
    for method, path, body in (
        ("GET", f"{STORES}/999", None),
        ("PATCH", f"{STORES}/999", {"name": "x"}),
        ("POST", f"{STORES}/999/test-connection", None),
    ):
        response = api(method, path, json=body, headers=admin)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "store_not_found"


# -- roles -----------------------------------------------------------------------------------


def test_roles(api: Responses, login: LoginHeaders, shop: RunningEmulator) -> None:
    admin = login(Role.ADMIN)
    store = create_connected(api, admin, shop).json()
    url = f"{STORES}/{store['id']}"
    viewer, editor, approver = login(Role.VIEWER), login(Role.EDITOR), login(Role.APPROVER)

    assert api("GET", STORES).status_code == 401
    for reader in (viewer, editor, approver):
        assert api("GET", STORES, headers=reader).status_code == 200
        assert api("GET", url, headers=reader).status_code == 200
    for not_admin in (viewer, editor, approver):
        created = create(api, not_admin, shop_domain="other.myshopify.com")
        assert created.status_code == 403
        assert created.json()["error"]["code"] == "forbidden"
        assert api("PATCH", url, json={"name": "x"}, headers=not_admin).status_code == 403
    for cannot_test in (viewer, editor):
        assert api("POST", f"{url}/test-connection", headers=cannot_test).status_code == 403
    for can_test in (approver, admin):
        tested = api("POST", f"{url}/test-connection", headers=can_test)
        assert tested.status_code == 200
        assert tested.json()["ok"] is True
    assert len(api("GET", STORES, headers=admin).json()) == 1


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"shop_domain": "not a domain"}, "invalid_shop_domain"),
        ({"shop_domain": "cowans.myshopify.com/admin"}, "invalid_shop_domain"),
        ({"shop_domain": "-bad-.myshopify.com"}, "invalid_shop_domain"),
        ({"shop_domain": ""}, "invalid_shop_domain"),
        ({"name": "   "}, "invalid_store_name"),
        ({"api_version": "2026-13"}, "invalid_api_version"),
        ({"api_version": "latest"}, "invalid_api_version"),
        ({"admin_url": "ftp://127.0.0.1/graphql.json"}, "invalid_admin_url"),
        ({"admin_url": "127.0.0.1:5001/admin/api/2026-10/graphql.json"}, "invalid_admin_url"),
        ({"admin_url": "http://127.0.0.1:notaport/graphql"}, "invalid_admin_url"),
        ({"admin_url": "https://shop.example/graphql.json?key=1"}, "invalid_admin_url"),
        ({"location_map": {"MAIN": ""}}, "invalid_location_map"),
        ({"location_map": {"MAIN": "x" * 101}}, "validation_error"),
        ({"location_map": {"MAIN": 3}}, "validation_error"),
        ({"location_map": ["Main"]}, "validation_error"),
        ({"name": "x" * 201}, "validation_error"),
        ({"is_active": False}, "validation_error"),  # not a field of a new store
        ({"token": "shpat_typo"}, "validation_error"),  # an unknown field is refused
    ],
)
def test_invalid_stores_are_refused(
    api: Responses, login: LoginHeaders, body: dict[str, Any], code: str
) -> None:
    response = create(api, login(Role.ADMIN), **body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "bad_token",
    [
        "shpat_has a space_0123456789abcdef",
        "shpat_line\nbreak_0123456789abcdef",
        "shpat_ünïcödé_0123456789abcdef",
        "shpat_far_too_long_" + "0123456789abcdef" * 20,
        "   ",
    ],
)
def test_a_bad_token_is_refused_without_being_echoed(
    api: Responses, login: LoginHeaders, bad_token: str
) -> None:
    admin = login(Role.ADMIN)
    response = create(api, admin, access_token=bad_token)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in ("invalid_access_token", "validation_error")
    store = create(api, admin, shop_domain="ok.myshopify.com", access_token=new_token()).json()
    patched = api(
        "PATCH", f"{STORES}/{store['id']}", json={"access_token": bad_token}, headers=admin
    )
    assert patched.status_code == 422
    for response in api.seen:
        assert "0123456789abcdef" not in response.text
        assert not bad_token.strip() or bad_token[:14] not in response.text


def test_credentials_in_an_admin_url_are_refused_and_not_echoed(
    api: Responses, login: LoginHeaders
) -> None:
    response = create(api, login(Role.ADMIN), admin_url="https://user:hunter2@proxy.example/gql")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_admin_url"
    assert "hunter2" not in response.text


@pytest.mark.parametrize(
    ("shop_domain", "admin_url"),
    [
        ("cowans.myshopify.com", "http://169.254.169.254/latest/meta-data"),  # cloud metadata
        ("cowans.myshopify.com", "http://db.internal:5432/graphql.json"),
        ("cowans.myshopify.com", "https://myshopify.com.evil.example/graphql.json"),
        ("intranet.corp", None),  # Shopify's address derived from the domain
    ],
)
def test_a_store_cannot_point_at_a_host_not_allowed(
    api: Responses, login: LoginHeaders, engine: Engine, shop_domain: str, admin_url: str | None
) -> None:
    """Where a store points, the server sends its token and reports what answered."""
    admin = login(Role.ADMIN)
    response = create(api, admin, shop_domain=shop_domain, admin_url=admin_url)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "store_host_not_allowed"
    assert "SHOPIFY_ALLOWED_HOSTS" in error["message"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM stores")).scalar_one() == 0

    store = create(api, admin).json()
    moved = api("PATCH", f"{STORES}/{store['id']}", json={"admin_url": admin_url}, headers=admin)
    if admin_url is not None:
        assert moved.status_code == 422
        assert moved.json()["error"]["code"] == "store_host_not_allowed"


def test_a_store_outside_a_narrowed_list_is_refused_before_any_request(
    settings: Settings, login: LoginHeaders, api: Responses, shop: RunningEmulator
) -> None:
    """The list is checked again when connecting: a store saved before it shrank sends nothing."""
    admin = login(Role.ADMIN)
    store = create_connected(api, admin, shop).json()
    counters = f"{shop.base_url}/_emulator/demo/counters"
    before = shop.http.get(counters).json()["requests"]
    narrowed = settings.model_copy(update={"shopify_allowed_hosts": "*.myshopify.com"})
    with TestClient(create_app(narrowed)) as client:
        response = client.post(f"{STORES}/{store['id']}/test-connection", headers=admin)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "store_host_not_allowed"
    assert shop.http.get(counters).json()["requests"] == before


def test_production_allows_only_shopify_hosts_unless_told(settings: Settings) -> None:
    production = settings.model_copy(update={"environment": Environment.PRODUCTION})
    assert production.shopify_allowed_host_patterns == ("*.myshopify.com",)
    assert "127.0.0.1" in settings.shopify_allowed_host_patterns  # development: the emulator
    listed = settings.model_copy(update={"shopify_allowed_hosts": "*.myshopify.com, Proxy.Lan"})
    assert listed.shopify_allowed_host_patterns == ("*.myshopify.com", "proxy.lan")


def test_the_shop_domain_cannot_be_changed(api: Responses, login: LoginHeaders) -> None:
    admin = login(Role.ADMIN)
    store = create(api, admin).json()
    response = api(
        "PATCH", f"{STORES}/{store['id']}", json={"shop_domain": "x.myshopify.com"}, headers=admin
    )
    assert response.status_code == 422
    assert api("GET", f"{STORES}/{store['id']}", headers=admin).json()["shop_domain"] == (
        "cowans.myshopify.com"
    )


# -- connection test -------------------------------------------------------------------------


def test_connection_to_the_emulator(
    api: Responses, login: LoginHeaders, shop: RunningEmulator
) -> None:
    admin = login(Role.ADMIN)
    store = create_connected(api, admin, shop, name="Demo").json()
    response = api("POST", f"{STORES}/{store['id']}/test-connection", headers=admin)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is True
    assert (result["shop_name"], result["plan"]) == ("demo", "Basic")
    assert result["myshopify_domain"] == "demo.myshopify.com"
    assert result["error"] is None
    throttle = result["throttle"]
    assert (throttle["maximum_available"], throttle["restore_rate"]) == (2000, 100)
    assert 0 < throttle["currently_available"] <= 2000
    # The plan is kept on the store.
    assert api("GET", f"{STORES}/{store['id']}", headers=admin).json()["plan"] == "Basic"
    shop.shop().set_plan("plus")
    again = api("POST", f"{STORES}/{store['id']}/test-connection", headers=admin).json()
    assert (again["plan"], again["shopify_plus"]) == ("Shopify Plus", True)
    assert again["throttle"]["maximum_available"] == 20000
    assert api("GET", f"{STORES}/{store['id']}", headers=admin).json()["plan"] == "Shopify Plus"
    api.assert_never_contain(EMULATOR_TOKEN)


def test_a_wrong_token_then_the_replaced_one(
    api: Responses, login: LoginHeaders, shop: RunningEmulator, engine: Engine
) -> None:
    admin, wrong = login(Role.ADMIN), new_token()
    store = create_connected(api, admin, shop, access_token=wrong).json()
    test_url = f"{STORES}/{store['id']}/test-connection"
    failed = api("POST", test_url, headers=admin)
    assert failed.status_code == 200
    result = failed.json()
    assert result["ok"] is False
    assert result["error_code"] == "shopify_unauthorized"
    assert "refused the access token" in result["error"]
    assert (result["shop_name"], result["plan"], result["throttle"]) == (None, None, None)
    assert api("GET", f"{STORES}/{store['id']}", headers=admin).json()["plan"] == ""

    replaced = api(
        "PATCH", f"{STORES}/{store['id']}", json={"access_token": EMULATOR_TOKEN}, headers=admin
    )
    assert replaced.status_code == 200
    assert api("POST", test_url, headers=admin).json()["ok"] is True
    api.assert_never_contain(wrong, EMULATOR_TOKEN)
    entries = audit_rows(engine)
    assert any("test-connection" in entry and "shopify_unauthorized" in entry for entry in entries)
    assert any("PATCH" in entry and "access_token" in entry for entry in entries)  # its name
    assert not any(wrong in entry or EMULATOR_TOKEN in entry for entry in entries)


def test_an_unreachable_store_fails_quickly(api: Responses, login: LoginHeaders) -> None:
    admin = login(Role.ADMIN)
    closed = free_port()  # nothing listens there
    store = create(
        api,
        admin,
        shop_domain="demo.myshopify.com",
        admin_url=f"http://127.0.0.1:{closed}{API_PATH}",
        access_token=new_token(),
    ).json()
    started = time.monotonic()
    response = api("POST", f"{STORES}/{store['id']}/test-connection", headers=admin)
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    result = response.json()
    assert (result["ok"], result["error_code"]) == (False, "shopify_unreachable")
    assert f"127.0.0.1:{closed}" in result["error"]


def test_a_hanging_store_times_out_quickly(
    api: Responses,
    login: LoginHeaders,
    shop: RunningEmulator,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "shopify_timeout_seconds", 0.3)
    faults = shop.shop().faults
    faults.hang, faults.hang_seconds = 1.0, 2.0
    admin = login(Role.ADMIN)
    store = create_connected(api, admin, shop).json()
    started = time.monotonic()
    result = api("POST", f"{STORES}/{store['id']}/test-connection", headers=admin).json()
    assert time.monotonic() - started < 5
    assert (result["ok"], result["error_code"]) == (False, "shopify_timeout")
    assert "did not answer within 0.3 seconds" in result["error"]
    assert shop.shop().counters["faults_hang"] == 2  # one retry, not six


def test_a_failing_store_is_retried_once_and_explained(
    api: Responses, login: LoginHeaders, shop: RunningEmulator
) -> None:
    shop.shop().faults.http_5xx = 1.0
    admin = login(Role.ADMIN)
    store = create_connected(api, admin, shop).json()
    result = api("POST", f"{STORES}/{store['id']}/test-connection", headers=admin).json()
    assert (result["ok"], result["error_code"]) == (False, "shopify_unavailable")
    assert "kept failing (http_5" in result["error"]
    assert shop.shop().counters["faults_5xx"] == 2


# -- the token never leaks -------------------------------------------------------------------


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


def test_the_token_never_leaks(
    api: Responses,
    login: LoginHeaders,
    shop: RunningEmulator,
    engine: Engine,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    admin, first = login(Role.ADMIN), new_token()
    store = create_connected(api, admin, shop, access_token=first).json()
    url = f"{STORES}/{store['id']}"
    api("POST", f"{url}/test-connection", headers=admin)  # refused
    api("PATCH", url, json={"access_token": EMULATOR_TOKEN, "name": "Demo"}, headers=admin)
    assert api("POST", f"{url}/test-connection", headers=admin).json()["ok"] is True
    api("GET", url, headers=admin)
    api("GET", STORES, headers=admin)
    create(api, admin, shop_domain="demo.myshopify.com", access_token=first)  # 409
    create(api, admin, shop_domain="bad domain", access_token=first)  # 422
    api("PATCH", url, json={"access_token": first, "bogus": 1}, headers=admin)  # 422
    api(
        "POST",
        STORES,
        content=f'{{"access_token": "{first}", broken',
        headers={**admin, "Content-Type": "application/json"},
    )  # malformed JSON
    assert [r.status_code for r in api.seen] == [201, 200, 200, 200, 200, 200, 409, 422, 422, 422]

    api.assert_never_contain(first, EMULATOR_TOKEN)
    entries = audit_rows(engine)
    assert len(entries) >= 7
    assert not any(first in entry or EMULATOR_TOKEN in entry for entry in entries)
    assert all_logs.records, "the logs were captured"
    assert "test-connection" in all_logs.text
    assert first not in all_logs.text
    assert EMULATOR_TOKEN not in all_logs.text


# -- webhook secret and subscriptions --------------------------------------------------------

WEBHOOK_SECRET = "shpss_" + "5e" * 16
CALLBACK = "http://127.0.0.1:5000/api/shopify/webhooks"  # PUBLIC_URL's default
WEBHOOK_TOPICS = [
    "INVENTORY_LEVELS_UPDATE",
    "PRODUCTS_CREATE",
    "PRODUCTS_DELETE",
    "PRODUCTS_UPDATE",
]


def emulator_subscriptions(shop: RunningEmulator) -> list[tuple[str, str, str]]:
    subscriptions = shop.shop().data.webhook_subscriptions.values()
    return sorted((s.topic, s.uri, s.id) for s in subscriptions)


def test_a_store_created_with_a_webhook_secret_is_subscribed_once(
    api: Responses, login: LoginHeaders, shop: RunningEmulator, engine: Engine
) -> None:
    admin = login(Role.ADMIN)
    created = create_connected(api, admin, shop, webhook_secret=WEBHOOK_SECRET)
    assert created.status_code == 201, created.text
    store = created.json()
    assert store["has_webhook_secret"] is True
    assert "webhook_secret" not in store
    assert store["webhooks"] == {
        "subscribed": WEBHOOK_TOPICS,
        "callback_url": CALLBACK,
        "error": None,
        "error_code": None,
    }
    made = emulator_subscriptions(shop)
    assert [(topic, uri) for topic, uri, _ in made] == [(t, CALLBACK) for t in WEBHOOK_TOPICS]
    url = f"{STORES}/{store['id']}"
    assert api("GET", url, headers=admin).json()["webhooks"]["subscribed"] == WEBHOOK_TOPICS

    # A connection test checks them in Shopify and reuses them: nothing is made twice.
    tested = api("POST", f"{url}/test-connection", headers=admin).json()
    assert tested["ok"] is True
    assert tested["webhooks"]["subscribed"] == WEBHOOK_TOPICS
    assert tested["webhooks"]["error"] is None
    assert emulator_subscriptions(shop) == made

    # Deleted in Shopify by someone: the next test makes the missing one again.
    gone = next(number for number, s in shop.shop().data.webhook_subscriptions.items())
    del shop.shop().data.webhook_subscriptions[gone]
    api("POST", f"{url}/test-connection", headers=admin)
    assert len(emulator_subscriptions(shop)) == len(WEBHOOK_TOPICS)
    api.assert_never_contain(WEBHOOK_SECRET, EMULATOR_TOKEN)
    assert not any(WEBHOOK_SECRET in entry for entry in audit_rows(engine))


def test_a_store_without_a_webhook_secret_is_not_subscribed(
    api: Responses, login: LoginHeaders, shop: RunningEmulator
) -> None:
    admin = login(Role.ADMIN)
    store = create_connected(api, admin, shop).json()
    assert store["has_webhook_secret"] is False
    assert store["webhooks"]["subscribed"] == []
    tested = api("POST", f"{STORES}/{store['id']}/test-connection", headers=admin).json()
    assert tested["ok"] is True
    assert tested["webhooks"]["error_code"] == "webhook_secret_missing"
    assert emulator_subscriptions(shop) == []

    # Given a secret later, the store is subscribed at once.
    patched = api(
        "PATCH",
        f"{STORES}/{store['id']}",
        json={"webhook_secret": WEBHOOK_SECRET},
        headers=admin,
    ).json()
    assert patched["has_webhook_secret"] is True
    assert patched["webhooks"]["subscribed"] == WEBHOOK_TOPICS
    assert len(emulator_subscriptions(shop)) == len(WEBHOOK_TOPICS)
    api.assert_never_contain(WEBHOOK_SECRET)


def test_a_failure_to_subscribe_does_not_fail_the_store(
    api: Responses, login: LoginHeaders
) -> None:
    admin = login(Role.ADMIN)
    closed = free_port()  # nothing listens there
    created = create(
        api,
        admin,
        shop_domain="demo.myshopify.com",
        admin_url=f"http://127.0.0.1:{closed}{API_PATH}",
        access_token=new_token(),
        webhook_secret=WEBHOOK_SECRET,
    )
    assert created.status_code == 201, created.text
    webhooks = created.json()["webhooks"]
    assert (webhooks["subscribed"], webhooks["error_code"]) == ([], "shopify_unreachable")
    assert f"127.0.0.1:{closed}" in webhooks["error"]
    listed = api("GET", STORES, headers=admin).json()
    assert [s["has_webhook_secret"] for s in listed] == [True]
    assert listed[0]["webhooks"]["error"] is None  # only the answer that tried says why


def test_a_new_public_url_moves_the_subscriptions(
    api: Responses,
    login: LoginHeaders,
    shop: RunningEmulator,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = login(Role.ADMIN)
    store = create_connected(api, admin, shop, webhook_secret=WEBHOOK_SECRET).json()
    theirs = shop.gql(
        "mutation { webhookSubscriptionCreate(topic: PRODUCTS_UPDATE, "
        'webhookSubscription: {uri: "https://elsewhere.example/hooks"}) '
        "{ webhookSubscription { id } } }"
    )["data"]["webhookSubscriptionCreate"]["webhookSubscription"]["id"]
    monkeypatch.setattr(settings, "public_url", "https://pim.cowans.example")
    url = f"{STORES}/{store['id']}"
    assert api("GET", url, headers=admin).json()["webhooks"]["subscribed"] == []  # not here
    tested = api("POST", f"{url}/test-connection", headers=admin).json()
    moved = "https://pim.cowans.example/api/shopify/webhooks"
    assert tested["webhooks"] == {
        "subscribed": WEBHOOK_TOPICS,
        "callback_url": moved,
        "error": None,
        "error_code": None,
    }
    left = emulator_subscriptions(shop)
    # Ours moved to the new address; someone else's subscription is left alone.
    assert sorted((topic, uri) for topic, uri, _ in left) == sorted(
        [(t, moved) for t in WEBHOOK_TOPICS]
        + [("PRODUCTS_UPDATE", "https://elsewhere.example/hooks")]
    )
    assert theirs in {subscription_id for _, _, subscription_id in left}


@pytest.mark.parametrize("bad_secret", ["has a space", "ünïcödé-secret", "x" * 256, "   "])
def test_a_bad_webhook_secret_is_refused_without_being_echoed(
    api: Responses, login: LoginHeaders, bad_secret: str
) -> None:
    admin = login(Role.ADMIN)
    response = create(api, admin, webhook_secret=bad_secret)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in ("invalid_webhook_secret", "validation_error")
    store = create(api, admin, shop_domain="ok.myshopify.com").json()
    patched = api(
        "PATCH", f"{STORES}/{store['id']}", json={"webhook_secret": bad_secret}, headers=admin
    )
    assert patched.status_code == 422
    assert (
        api("GET", f"{STORES}/{store['id']}", headers=admin).json()["has_webhook_secret"] is False
    )
    if bad_secret.strip():
        api.assert_never_contain(bad_secret)
