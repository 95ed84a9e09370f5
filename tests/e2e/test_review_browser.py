"""The review page in a real browser, against a store on the Shopify emulator: filters kept in
the URL, approving a selection, rejecting with the keyboard, settling a conflict with a typed
value, approving "all matching" by filter, live updates, and what a viewer may not do
(fixtures: tests/e2e/conftest.py).

The changes are real: staplers pushed to the emulator by the app's own job workers, then edited
in the catalog, edited by a "merchant" in the emulator (one price on both sides: a conflict),
and pulled back.
"""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine, select

from cowans.db.models import (
    JobState,
    Product,
    Role,
    StagedChangeStatus,
    Store,
    SyncStaging,
    User,
)
from cowans.db.session import session_scope
from cowans.sync.staging import stage_push
from tests.conftest import PASSWORD
from tests.e2e.conftest import notice, screenshot, sign_in
from tests.emulator.conftest import RunningEmulator

# A fixture: re-exported so pytest finds it here.
from tests.emulator.conftest import make_emulator as make_emulator
from tests.jobs.conftest import job_finished, wait_for
from tests.jobs.test_live_events import Served
from tests.sync.test_push_job import connect_store
from tests.sync.test_staging import add_product

# Pushes and pulls run in the served app's job workers: give them time on a busy machine.
JOB_TIMEOUT = 120.0


class Scenario:
    """A store on the emulator and the app's API, as an approver uses it."""

    def __init__(self, served: Served, engine: Engine, emulator: RunningEmulator, user: User):
        self.served, self.engine, self.emulator = served, engine, emulator
        token = served.http.post(
            "/api/auth/login", json={"email": user.email, "password": PASSWORD}
        ).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.store_id = connect_store(engine, emulator)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.served.http.request(method, path, headers=self.headers, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def run_job(self, path: str, body: dict[str, Any]) -> None:
        job_id = self.call("POST", path, json=body)["job_id"]
        job = wait_for(lambda: job_finished(self.engine, job_id), path, timeout=JOB_TIMEOUT)
        assert job.state is JobState.COMPLETED, (job.error, job.result)

    def merchant_edit(self, handle: str, **fields: Any) -> None:
        response = self.emulator.http.post(
            f"{self.emulator.base_url}/_emulator/demo/merchant-edit",
            json={"handle": handle, "fields": fields},
        )
        assert response.status_code == 200, response.text

    def rows(self) -> dict[str, dict[str, Any]]:
        """Every staged change by handle and direction, as the API lists them."""
        listed = self.call("GET", "/api/enhanced-sync/staged-changes?limit=500")
        return {f"{row['handle']}:{row['direction']}": row for row in listed["items"]}

    def status_of(self, key: str) -> str | None:
        with session_scope(self.engine) as session:
            handle, direction = key.split(":")
            row = session.scalars(
                select(SyncStaging)
                .where(SyncStaging.handle == handle, SyncStaging.direction == direction)
                .order_by(SyncStaging.id.desc())
            ).first()
            return row.status.value if row else None

    def wait_status(self, key: str, status: str) -> None:
        wait_for(lambda: self.status_of(key) == status, f"{key} to be {status}")


def prepare(served: Served, engine: Engine, emulator: RunningEmulator, user: User) -> Scenario:
    """Five staplers (Acme) pushed; then the catalog changes the prices of three, Shopify's
    merchant renames one and reprices another that the catalog repriced too, and a folder
    (Bolt) is new. After a full pull and staging: a pull update, a conflict, three push
    updates and a create."""
    shop = Scenario(served, engine, emulator, user)
    with session_scope(engine) as session:
        for number in range(5):
            add_product(session, number)
    shop.call("POST", "/api/sync/staged", json={})
    shop.call(
        "POST",
        "/api/enhanced-sync/approve-changes",
        json={"all_pending": True, "decision": "approve"},
    )
    shop.run_job("/api/sync/start", {"config": {"maxWorkers": 2}})

    with session_scope(engine) as session:
        for product in session.scalars(select(Product)):
            number = int(product.handle.rsplit("-", 1)[1])
            if number == 1:
                product.variants[0].price = Decimal("11.00")
            elif number >= 2:
                product.variants[0].price = Decimal("15.00")
        folder = add_product(session, 9)
        folder.handle, folder.title = "folder-9", "Report Folder"
        folder.vendor, folder.product_type = "Bolt", "Folders"
        folder.body_html = "<p>Holds 50 sheets.</p><ul><li>Blue</li><li>Letter size</li></ul>"
    shop.merchant_edit("stapler-0", title="Stapler Zero (merchant)")
    shop.merchant_edit("stapler-1", price="12.00")
    shop.run_job("/api/enhanced-sync/shopify-down", {"full": True})
    shop.call("POST", "/api/sync/staged", json={})

    rows = shop.rows()
    assert {key: row["status"] for key, row in rows.items() if row["status"] != "applied"} == {
        "stapler-0:pull": "pending",
        "stapler-1:push": "conflict",
        "stapler-2:push": "pending",
        "stapler-3:push": "pending",
        "stapler-4:push": "pending",
        "folder-9:push": "pending",
    }
    return shop


def signed_in_review(page: Page, served: Served, user: User, query: str = "") -> None:
    sign_in(page, served, user)
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    page.goto(served.base_url + "/review" + query)
    expect(page.get_by_role("heading", name="Review changes")).to_be_visible()


def table(page: Page) -> Locator:
    return page.get_by_role("table", name="Staged changes")


def row(page: Page, handle: str) -> Locator:
    return table(page).get_by_role("row").filter(has_text=handle)


def detail(page: Page) -> Locator:
    return page.get_by_role("region", name="Change details")


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a Mantine select the way a person does."""
    page.get_by_role("textbox", name=label, exact=True).click()
    page.get_by_role("option", name=option).click()


def toggle_conflicts_only(page: Page, on: bool) -> None:
    page.get_by_text("Conflicts only", exact=True).click()  # the switch's label
    switch = page.get_by_role("switch", name="Conflicts only")
    if on:
        expect(switch).to_be_checked()
    else:
        expect(switch).not_to_be_checked()


@pytest.fixture
def approver(make_user: Callable[..., User]) -> User:
    return make_user(Role.APPROVER)


def test_an_approver_reviews_filters_decides_and_settles_a_conflict(
    page: Page,
    served: Served,
    engine: Engine,
    approver: User,
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    shop = prepare(served, engine, make_emulator(), approver)
    signed_in_review(page, served, approver)

    # The default view: what waits for a decision, the first one's fields beside the list.
    rows = table(page).get_by_role("row")
    expect(rows).to_have_count(6)  # the header and five pending changes
    expect(page.get_by_text("Showing 5 of 5 changes")).to_be_visible()
    expect(page.get_by_role("button", name="Show conflict changes")).to_contain_text("conflict: 1")
    row(page, "stapler-0").click()
    expect(detail(page)).to_contain_text("Stapler Zero (merchant)")
    expect(detail(page)).to_contain_text("Made in Shopify")
    row(page, "folder-9").click()
    expect(detail(page)).to_contain_text("New product")
    expect(detail(page)).to_contain_text("Letter size")  # the description, readable
    row(page, "stapler-2").click()
    expect(detail(page)).to_contain_text("Price")
    expect(detail(page)).to_contain_text("10.00")
    expect(detail(page)).to_contain_text("15.00")
    screenshot(page, "review")

    # Filters are in the URL: a reload keeps them.
    choose(page, "Vendor", "Bolt (1)")
    expect(rows).to_have_count(2)
    expect(row(page, "folder-9")).to_be_visible()
    expect(page).to_have_url(re.compile(r"vendor=Bolt"))
    page.reload()
    expect(row(page, "folder-9")).to_be_visible()
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Clear filters").click()
    expect(rows).to_have_count(6)
    page.get_by_label("Search").fill("ACM-3")
    expect(rows).to_have_count(2)
    expect(row(page, "stapler-3")).to_be_visible()
    page.get_by_label("Search").fill("")
    expect(rows).to_have_count(6)

    # Select two, one by its checkbox, one with the keyboard (k moves up, x selects); approve
    # them: the outcome in words, the server changed, the list moved on.
    row(page, "stapler-3").get_by_role("checkbox").check()
    page.keyboard.press("k")
    expect(row(page, "stapler-2")).to_have_attribute("aria-current", "true")
    page.keyboard.press("x")
    expect(row(page, "stapler-2").get_by_role("checkbox")).to_be_checked()
    page.keyboard.press("j")
    expect(row(page, "stapler-3")).to_have_attribute("aria-current", "true")
    expect(page.get_by_text("2 changes selected")).to_be_visible()
    page.get_by_role("button", name="Approve 2").click()
    expect(notice(page, "2 approved.")).to_be_visible()
    shop.wait_status("stapler-2:push", "approved")
    shop.wait_status("stapler-3:push", "approved")
    expect(rows).to_have_count(4)

    # Reject one with the keyboard: focus the row, press r.
    row(page, "stapler-4").click()
    expect(row(page, "stapler-4")).to_have_attribute("aria-current", "true")
    page.keyboard.press("r")
    expect(notice(page, "1 rejected.")).to_be_visible()
    shop.wait_status("stapler-4:push", "rejected")
    expect(row(page, "stapler-4")).to_have_count(0)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_contain_text("Next change")
    page.keyboard.press("Escape")

    # The conflict: both sides changed the price. A typo is refused; a good value approves.
    toggle_conflicts_only(page, on=True)
    expect(rows).to_have_count(2)
    expect(detail(page)).to_contain_text("Changed on both sides")
    for side in ("Last synced", "Local (catalog)", "Remote (Shopify now)"):
        expect(detail(page)).to_contain_text(side)
    approve_choices = page.get_by_role("button", name="Approve with these choices")
    expect(approve_choices).to_be_disabled()
    page.get_by_label("Enter a value").check()
    value = page.get_by_label("Value for Price (ACM-1)")
    value.fill("twelve")
    expect(detail(page).get_by_text("Enter a number such as 12.50.")).to_be_visible()
    expect(approve_choices).to_be_disabled()
    value.fill("13.50")
    approve_choices.click()
    expect(notice(page, "1 approved.")).to_be_visible()
    shop.wait_status("stapler-1:push", "approved")
    with session_scope(engine) as session:
        stapler = session.scalars(select(Product).where(Product.handle == "stapler-1")).one()
        assert stapler.variants[0].price == Decimal("13.50")
    expect(page.get_by_text("No staged changes match these filters.")).to_be_visible()
    toggle_conflicts_only(page, on=False)

    # "Select all matching" sends the filter, after a confirmation; a pull reaches the catalog.
    expect(rows).to_have_count(3)
    page.get_by_role("button", name="Select all 2 matching").click()
    expect(page.get_by_text("All 2 matching changes selected")).to_be_visible()
    page.keyboard.press("a")
    confirm = page.get_by_role("dialog", name="Approve 2 changes?")
    expect(confirm).to_contain_text("every change matching the filters (status pending)")
    confirm.get_by_role("button", name="Approve 2 changes").click()
    expect(notice(page, "2 approved.")).to_be_visible()
    shop.wait_status("folder-9:push", "approved")
    shop.wait_status("stapler-0:pull", "applied")
    with session_scope(engine) as session:
        renamed = session.scalars(select(Product).where(Product.handle == "stapler-0")).one()
        assert renamed.title == "Stapler Zero (merchant)"
    expect(page.get_by_text("Nothing waiting for review: all caught up.")).to_be_visible()
    counts = shop.call("GET", "/api/enhanced-sync/status")["staged"]
    assert (counts["pending"], counts["conflict"], counts["rejected"]) == (0, 0, 1)
    assert counts["approved"] == 4  # stapler-1, -2, -3 and the folder, ready to push


def test_a_viewer_reads_the_review_live_but_cannot_decide(
    page: Page,
    served: Served,
    engine: Engine,
    approver: User,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    shop = prepare(served, engine, make_emulator(), approver)
    page.set_viewport_size({"width": 900, "height": 800})  # a narrow laptop
    signed_in_review(page, served, make_user(Role.VIEWER), "?status=all&op=update")
    rows = table(page).get_by_role("row")
    expect(rows).to_have_count(6)  # the header and five updates, conflicts among them
    expect(row(page, "folder-9")).to_have_count(0)  # a create
    expect(page.get_by_role("textbox", name="Status", exact=True)).to_have_value("Any status")
    expect(detail(page)).to_be_visible()
    expect(detail(page)).to_contain_text("Approving and rejecting need the approver role.")
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Reject"))).to_have_count(0)
    expect(table(page).get_by_role("checkbox")).to_have_count(0)
    row(page, "stapler-1").click()
    expect(detail(page)).to_contain_text("Changed on both sides")
    expect(detail(page).get_by_role("radio")).to_have_count(0)
    page.keyboard.press("a")  # nothing happens for a viewer
    assert shop.status_of("stapler-1:push") == "conflict"

    # Another reviewer rejects a change: the list follows without a reload.
    expect(row(page, "stapler-3")).to_contain_text("pending")
    stapler_3 = shop.rows()["stapler-3:push"]["id"]
    shop.call(
        "POST",
        "/api/enhanced-sync/approve-changes",
        json={"ids": [stapler_3], "decision": "reject"},
    )
    expect(row(page, "stapler-3")).to_contain_text("rejected")
    assert shop.status_of("stapler-3:push") == StagedChangeStatus.REJECTED.value
    screenshot(page, "review-narrow")


def test_a_long_list_comes_in_pages_and_all_matching_is_one_decision(
    page: Page, served: Served, engine: Engine, approver: User
) -> None:
    with session_scope(engine) as session:
        store = Store(name="Demo", shop_domain="demo.myshopify.com", access_token="shpat_x")
        session.add(store)
        session.flush()
        for number in range(120):
            add_product(session, number)
        assert stage_push(session, store).staged == 120
    signed_in_review(page, served, approver)
    rows = table(page).get_by_role("row")
    expect(page.get_by_text("Showing 100 of 120 changes")).to_be_visible()
    expect(rows).to_have_count(101)
    # j on the last loaded change loads the next page.
    row(page, "stapler-99").click()
    page.keyboard.press("j")
    expect(page.get_by_text("Showing 120 of 120 changes")).to_be_visible()
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)

    page.get_by_role("checkbox", name="Select all loaded changes").check()
    expect(page.get_by_text("120 changes selected")).to_be_visible()
    page.get_by_role("button", name="Reject 120").click()
    confirm = page.get_by_role("dialog", name="Reject 120 changes?")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_have_count(0)
    page.get_by_role("button", name="Approve 120").click()
    page.get_by_role("dialog", name="Approve 120 changes?").get_by_role(
        "button", name="Approve 120 changes"
    ).click()
    expect(notice(page, "120 approved.")).to_be_visible()
    expect(page.get_by_text("Nothing waiting for review: all caught up.")).to_be_visible()
    with session_scope(engine) as session:
        statuses = set(session.scalars(select(SyncStaging.status)))
        assert statuses == {StagedChangeStatus.APPROVED}
