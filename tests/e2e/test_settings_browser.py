"""The settings page in a real browser: connecting a store to the Shopify emulator and testing
it, the location map, users and roles, approval rules, personal API tokens, and what a viewer
sees (fixtures: tests/e2e/conftest.py)."""

from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from cowans.db.models import Role, Store, User
from cowans.db.session import session_scope
from tests.e2e.conftest import screenshot, settle, sign_in
from tests.e2e.test_home_browser import connect_store_in_the_browser
from tests.emulator.conftest import TOKEN, RunningEmulator
from tests.emulator.conftest import make_emulator as make_emulator  # a fixture, for pytest
from tests.jobs.test_live_events import Served


def open_settings(page: Page, served: Served, user: User, tab: str = "Stores") -> None:
    sign_in(page, served, user)
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    if tab != "Stores":
        page.get_by_role("tab", name=tab).click()


def stored(engine: Engine) -> Store:
    with session_scope(engine) as session:
        store = session.scalars(select(Store)).one()
        session.expunge(store)
        return store


def test_an_admin_connects_the_emulator_tests_it_and_maps_locations(
    page: Page,
    served: Served,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
    engine: Engine,
) -> None:
    emulator = make_emulator()
    open_settings(page, served, make_user(Role.ADMIN))
    expect(page.get_by_text("No store is connected yet.")).to_be_visible()
    connect_store_in_the_browser(page, served, emulator)
    card = page.get_by_role("region", name="Demo")
    expect(card).to_contain_text("demo.myshopify.com")
    expect(card).to_contain_text("Access token: set")
    # The token went in once and is never shown again, not even in the page's source.
    assert TOKEN not in page.content()
    assert stored(engine).access_token == TOKEN

    card.get_by_role("button", name="Test the connection to Demo").click()
    result = card.get_by_role("alert")
    expect(result).to_contain_text("Connected to demo (demo.myshopify.com), on the Basic plan.")
    expect(result).to_contain_text("points available, refilling 100 per second")
    expect(card.get_by_text("Basic", exact=True)).to_be_visible()  # the plan is kept

    card.get_by_role("button", name="Edit Demo").click()
    dialog = page.get_by_role("dialog", name="Edit Demo")
    dialog.get_by_role("button", name="Add a location").click()
    dialog.get_by_label("Xorosoft location 1").fill("MAIN")
    dialog.get_by_label("Shopify location 1").fill("Main Warehouse")
    dialog.get_by_role("button", name="Add a location").click()
    dialog.get_by_label("Xorosoft location 2").fill("WEST")
    dialog.get_by_role("button", name="Save").click()
    # Half a pair is refused in words before anything is sent.
    expect(dialog.get_by_text("Location 2: fill in both")).to_be_visible()
    dialog.get_by_label("Shopify location 2").fill("Store Front")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(card).to_contain_text("MAIN → Main Warehouse, WEST → Store Front")
    assert stored(engine).location_map == {"MAIN": "Main Warehouse", "WEST": "Store Front"}
    settle(page)
    screenshot(page, "settings")


def test_a_wrong_token_fails_the_connection_test_in_words(
    page: Page,
    served: Served,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emulator = make_emulator()
    open_settings(page, served, make_user(Role.ADMIN))
    form = page.get_by_role("form", name="Connect a store")
    form.get_by_label("Store name").fill("Wrong")
    form.get_by_label("Shop domain").fill("demo.myshopify.com")
    form.get_by_label("Access token").fill("shpat_not_the_token")
    form.get_by_label("GraphQL endpoint").fill(
        f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json"
    )
    form.get_by_role("button", name="Connect store").click()
    card = page.get_by_role("region", name="Wrong")
    card.get_by_role("button", name="Test the connection to Wrong").click()
    failure = card.get_by_role("alert")
    expect(failure).to_contain_text("Connection failed")
    expect(failure).not_to_contain_text("shpat_not_the_token")

    # A second store on the same shop is refused with the API's reason.
    page.get_by_role("button", name="Connect a store").click()
    form = page.get_by_role("form", name="Connect a store")
    form.get_by_label("Store name").fill("Again")
    form.get_by_label("Shop domain").fill("demo.myshopify.com")
    form.get_by_label("Access token").fill("shpat_x")
    form.get_by_role("button", name="Connect store").click()
    expect(form.get_by_role("alert")).to_contain_text("The store was not connected")


def test_an_admin_adds_a_user_changes_the_role_and_deactivates_them(
    page: Page, served: Served, make_user: Callable[..., User], engine: Engine
) -> None:
    open_settings(page, served, make_user(Role.ADMIN), tab="Users")
    form = page.get_by_role("form", name="Add a user")
    form.get_by_label("Email").fill("casey@cowans.example")
    form.get_by_label("Name").fill("Casey")
    form.get_by_label("Password").fill("short")
    form.get_by_role("button", name="Add user").click()
    expect(form.get_by_role("alert")).to_contain_text("A password needs 10 to")
    form.get_by_label("Password").fill("a long enough password")
    form.get_by_role("textbox", name="Role").click()
    page.get_by_role("option", name="Editor — edits the catalog, runs imports and batches").click()
    form.get_by_role("button", name="Add user").click()

    users = page.get_by_role("table", name="Users")
    role = users.get_by_role("textbox", name="Role of casey@cowans.example")
    expect(role).to_have_value("editor")
    role.click()
    page.get_by_role("option", name="approver", exact=True).click()
    expect(role).to_have_value("approver")
    users.get_by_role("button", name="Deactivate casey@cowans.example").click()
    expect(users.get_by_role("button", name="Reactivate casey@cowans.example")).to_be_visible()
    with session_scope(engine) as session:
        casey = session.scalars(select(User).where(User.email == "casey@cowans.example")).one()
        assert (casey.role, casey.is_active, casey.name) == (Role.APPROVER, False, "Casey")

    # The page survives a reload with what the server holds.
    page.reload()
    expect(role).to_have_value("approver")
    # The last admin cannot demote themselves: the API's reason is shown on the row.
    admin = users.get_by_role("row").filter(has_text="admin")
    admin.get_by_role("textbox").click()
    page.get_by_role("option", name="viewer", exact=True).click()
    expect(admin.get_by_role("alert")).to_contain_text("last active admin")


def test_an_admin_sets_approval_rules(
    page: Page,
    served: Served,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
    engine: Engine,
) -> None:
    emulator = make_emulator()
    open_settings(page, served, make_user(Role.ADMIN))
    connect_store_in_the_browser(page, served, emulator)
    page.get_by_role("tab", name="Approval rules").click()
    rules = page.get_by_role("form", name="Approval rules of Demo")
    expect(rules).to_contain_text("A person approves every change.")
    rules.get_by_label("Approve stock-only changes automatically").check()
    rules.get_by_label("Approve price changes automatically when within").check()
    percent = rules.get_by_label("Price change limit for Demo, percent")
    percent.fill("2.5")
    rules.get_by_role("button", name="Save the rules of Demo").click()
    expect(page.get_by_role("form", name="Approval rules of Demo")).to_contain_text(
        "Approved automatically: stock-only changes; "
        "price changes within 2.5% of the current price."
    )
    assert stored(engine).approval_rules == [
        {"kind": "stock_only"},
        {"kind": "price_within_percent", "percent": 2.5},
    ]


def test_a_person_makes_an_api_token_sees_it_once_and_revokes_it(
    page: Page, served: Served, make_user: Callable[..., User]
) -> None:
    open_settings(page, served, make_user(Role.EDITOR), tab="My API tokens")
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    form = page.get_by_role("form", name="Create an API token")
    form.get_by_label("Token name").fill("nightly export")
    form.get_by_label("Expires after (days)").fill("30")
    form.get_by_role("button", name="Create token").click()
    token = page.get_by_label("New API token").inner_text().strip()
    expect(page.get_by_role("button", name="Copy token")).to_be_visible()
    headers = {"Authorization": f"Bearer {token}"}
    assert served.http.get("/api/auth/me", headers=headers).status_code == 200

    tokens = page.get_by_role("table", name="My API tokens")
    row = tokens.get_by_role("row").filter(has_text="nightly export")
    expect(row).to_contain_text("active")
    assert token.startswith(row.get_by_role("code").inner_text().rstrip("…"))
    row.get_by_role("button", name="Revoke nightly export").click()
    row.get_by_role("button", name="Confirm revoking nightly export").click()
    expect(row).to_contain_text("revoked")
    assert served.http.get("/api/auth/me", headers=headers).status_code == 401

    # Shown once: after a reload only its first characters remain.
    page.reload()
    expect(page.get_by_label("New API token")).to_have_count(0)
    assert token not in page.content()


def test_a_viewer_sees_stores_and_rules_read_only_and_no_users(
    page: Page,
    served: Served,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
    engine: Engine,
) -> None:
    emulator = make_emulator()
    with session_scope(engine) as session:
        session.add(
            Store(
                name="Demo",
                shop_domain="demo.myshopify.com",
                access_token=TOKEN,
                admin_url=f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json",
                approval_rules=[{"kind": "stock_only"}],
            )
        )
    open_settings(page, served, make_user(Role.VIEWER))
    expect(page.get_by_text("Only admins can connect or change stores.")).to_be_visible()
    card = page.get_by_role("region", name="Demo")
    expect(card).to_contain_text("demo.myshopify.com")
    for button in ("Connect a store", "Connect store", "Test the connection to Demo", "Edit Demo"):
        expect(page.get_by_role("button", name=button)).to_have_count(0)

    page.get_by_role("tab", name="Users").click()
    expect(page.get_by_text("Only admins can see and manage users.")).to_be_visible()
    expect(page.get_by_role("table", name="Users")).to_have_count(0)

    page.get_by_role("tab", name="Approval rules").click()
    expect(page.get_by_text("Only admins can change approval rules.")).to_be_visible()
    rules = page.get_by_role("form", name="Approval rules of Demo")
    expect(rules).to_contain_text("Approved automatically: stock-only changes.")
    expect(rules.get_by_label("Approve stock-only changes automatically")).to_be_disabled()
    expect(rules.get_by_role("button", name="Save the rules of Demo")).to_have_count(0)

    # Tokens are everyone's own business.
    page.get_by_role("tab", name="My API tokens").click()
    expect(page.get_by_role("button", name="Create token")).to_be_enabled()


def test_settings_fit_a_narrow_laptop(
    page: Page, served: Served, make_user: Callable[..., User]
) -> None:
    page.set_viewport_size({"width": 900, "height": 800})
    open_settings(page, served, make_user(Role.ADMIN))
    expect(page.get_by_role("form", name="Connect a store")).to_be_visible()
    for tab in ("Users", "Approval rules", "My API tokens"):
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 900, f"the page scrolls sideways: {width}px wide"
        page.get_by_role("tab", name=tab).click()
    expect(page.get_by_role("form", name="Create an API token")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 900
