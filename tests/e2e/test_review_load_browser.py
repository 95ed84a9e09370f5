"""The review page with more changes than one page holds, as it loads: the first page of the
list is asked for while the page's own code is still on its way, every loaded row is rendered
(the first ones at once, the rest just after) and the keyboard moves past the first rows
(fixtures: tests/e2e/conftest.py; bench/dashboard_bench.py times the same page with 10,000).

The store is never called: staging compares the catalog with the store's last-synced state,
which is empty here, so every product is a staged create.
"""

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, Route, expect
from sqlalchemy import Engine

from cowans.db.models import Role, Store, User
from cowans.db.session import session_scope
from cowans.sync.staging import stage_push
from tests.e2e.conftest import sign_in
from tests.jobs.test_live_events import Served
from tests.sync.test_staging import add_product

STAGED = 130  # more than the list's page of 100, and than the rows rendered at first (30)
PAGE = 100


@pytest.fixture
def staged(engine: Engine) -> int:
    with session_scope(engine) as session:
        store = Store(
            name="Demo",
            shop_domain="demo.myshopify.com",
            access_token="shpat_unused",
            admin_url="http://127.0.0.1:9/demo/admin/api/2026-10/graphql.json",
            location_map={"MAIN": "Main Warehouse", "WEST": "Store Front"},
        )
        session.add(store)
        for number in range(STAGED):
            add_product(session, number)
        session.flush()
        return stage_push(session, store).staged


@pytest.fixture
def approver(make_user: Callable[..., User]) -> User:
    return make_user(Role.APPROVER)


def rows(page: Page) -> Locator:
    """The body rows of the changes table (the header row is in its own group)."""
    return page.get_by_role("table", name="Staged changes").locator("tbody tr")


def test_the_first_changes_are_asked_for_while_the_page_code_loads(
    page: Page, served: Served, staged: int, approver: User
) -> None:
    assert staged == STAGED
    sign_in(page, served, approver)
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()

    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)  # answered below, once the list has been asked for

    page.route("**/assets/StagedChangesReview-*.js", hold)
    # A new load, as a bookmark opens the page: its code is held back, yet the list comes.
    with page.expect_request(
        lambda request: "staged-changes?status=pending&vendor=Acme" in request.url
    ):
        page.goto(served.base_url + "/review?vendor=Acme")
    for _ in range(200):  # Playwright hands the held request over on its own schedule
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1, "the review page's code was asked for once"
    expect(rows(page)).to_have_count(0)

    held[0].continue_()
    expect(rows(page)).to_have_count(PAGE)
    expect(page.get_by_text(f"Showing {PAGE} of {STAGED} changes")).to_be_visible()


def test_every_loaded_change_is_rendered_and_the_keyboard_goes_past_the_first_rows(
    page: Page, served: Served, staged: int, approver: User
) -> None:
    sign_in(page, served, approver)
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    page.goto(served.base_url + "/review")

    expect(rows(page)).to_have_count(PAGE)
    expect(rows(page).last).to_contain_text(f"stapler-{PAGE - 1}")
    expect(rows(page).first).to_have_attribute("aria-current", "true")

    for _ in range(40):
        page.keyboard.press("j")
    focused = rows(page).nth(40)
    expect(focused).to_have_attribute("aria-current", "true")
    expect(focused).to_contain_text("stapler-40")
    expect(focused).to_be_in_viewport()
    expect(page.locator("tbody tr[aria-current=true]")).to_have_count(1)

    # Selecting by the header box takes every loaded change, rendered first or after.
    page.get_by_role("checkbox", name="Select all loaded changes").check()
    expect(page.get_by_text(f"{PAGE} changes selected")).to_be_visible()
    expect(rows(page).get_by_role("checkbox", checked=True)).to_have_count(PAGE)

    page.get_by_role("button", name="Load more").click()
    expect(rows(page)).to_have_count(STAGED)
    expect(page.get_by_text(f"Showing {STAGED} of {STAGED} changes")).to_be_visible()
    expect(rows(page).last).to_contain_text(f"stapler-{STAGED - 1}")
