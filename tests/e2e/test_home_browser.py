"""The home page in a real browser: imports of the sample feeds with their report and errors.csv,
a pull from the Shopify emulator started from the page, live progress without reloading, and
what a viewer may not do (fixtures: tests/e2e/conftest.py)."""

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine

from cowans.db.models import Role, User
from cowans.db.session import session_scope
from tests.e2e.conftest import screenshot, settle, sign_in
from tests.emulator.conftest import PRODUCT_SET, TOKEN, RunningEmulator, simple_product
from tests.emulator.conftest import make_emulator as make_emulator  # a fixture, for pytest
from tests.jobs.test_live_events import Served
from tests.sync.test_push_job import connect_store, remote, stage_and_approve
from tests.sync.test_staging import add_product

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
# Imports and pulls run in the served app's job workers: give them time on a busy machine.
JOB_TIMEOUT_MS = 60_000


def signed_in(page: Page, served: Served, user: User) -> None:
    """Sign in and wait for the overview, so a following goto keeps the session."""
    sign_in(page, served, user)
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    expect(page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")


def import_file(page: Page, label: str, path: Path) -> None:
    """Choose the file the way a person does (the file dialog), then start the import."""
    with page.expect_file_chooser() as chooser:
        page.get_by_label(label).click()
    chooser.value.set_files(str(path))
    page.get_by_role("button", name="Import file").click()


def import_row(page: Page, table: str, import_id: int) -> Locator:
    return (
        page.get_by_role("table", name=table)
        .get_by_role("row")
        .filter(has=page.get_by_role("cell", name=f"#{import_id}", exact=True))
    )


def test_the_sample_feeds_import_with_their_report_and_errors_csv(
    page: Page, served: Served, make_user: Callable[..., User], tmp_path: Path
) -> None:
    signed_in(page, served, make_user(Role.EDITOR))

    # Xorosoft first: the Etilize feed is matched against its items (DATA.md).
    open_tab(page, "Xorosoft")
    expect(page.get_by_text("No imports yet.")).to_be_visible()
    import_file(page, "Xorosoft export (CSV)", SAMPLES / "xorosoft_sample.csv")
    xorosoft = import_row(page, "Xorosoft imports", 1)
    # The list follows the import to its end with no reload.
    expect(xorosoft.get_by_text("completed")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(xorosoft).to_contain_text("5 items")
    expect(xorosoft).to_contain_text("xorosoft_sample.csv")

    open_tab(page, "Etilize")
    import_file(page, "Etilize feed (CSV or zip)", SAMPLES / "etilize_sample.csv")
    etilize = import_row(page, "Etilize imports", 2)
    expect(etilize.get_by_text("completed")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(etilize).to_contain_text("4 matched, 1 unmatched, 1 duplicate, 1 row error")

    page.get_by_role("button", name="Report of import #2").click()
    report = page.get_by_role("dialog", name="Report of import #2")
    expect(report).to_be_visible()
    # DATA.md's expected outcome: 4 to publish, Acme unmatched, the alternate Post-it listing a
    # duplicate, the main row without a title rejected.
    for figure in ("Matched: 4", "Unmatched: 1", "Duplicates: 1", "Row errors: 1", "Created: 4"):
        expect(report.get_by_role("group", name=figure)).to_be_visible()
    methods = report.get_by_role("table", name="Matched by method")
    for method, n in (("SKU", 2), ("CWS_A", 1), ("CWS_Catalog", 1), ("SPRC", 0)):
        expect(methods.get_by_role("row", name=f"{method} {n}")).to_be_visible()
    unmatched = report.get_by_role("table", name="Unmatched products")
    expect(unmatched.get_by_role("row")).to_have_count(2)  # the header and Acme
    expect(unmatched).to_contain_text("acme-stapler-chrome")
    duplicates = report.get_by_role("table", name="Duplicates")
    expect(duplicates).to_contain_text("post-it-notes-3x3-canary-alt")
    expect(duplicates).to_contain_text("post-it-notes-3x3-canary")
    row_errors = report.get_by_role("table", name="Row errors")
    expect(row_errors.get_by_role("row")).to_have_count(2)
    expect(row_errors).to_contain_text("Title")
    expect(report.get_by_text("No locked field differed from the feed.")).to_be_visible()
    settle(page)
    screenshot(page, "etilize-report")

    with page.expect_download() as download:
        report.get_by_role("button", name="Download errors.csv").click()
    assert download.value.suggested_filename == "import-2-errors.csv"
    saved = tmp_path / "errors.csv"
    download.value.save_as(saved)
    [header, *lines] = list(csv.reader(io.StringIO(saved.read_text())))
    assert header == ["row", "column", "reason"]
    assert len(lines) == 1, lines
    assert lines[0][1] == "Title", lines

    # The report is in the URL: a reload opens it again.
    page.reload()
    expect(page.get_by_role("dialog", name="Report of import #2")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert "report=" not in page.url


def test_imports_that_fail_say_why(
    page: Page, served: Served, make_user: Callable[..., User], tmp_path: Path
) -> None:
    junk = tmp_path / "notes.csv"
    junk.write_text("just,some\nwords,here\n")
    signed_in(page, served, make_user(Role.EDITOR))
    page.goto(served.base_url + "/?tab=etilize")
    import_file(page, "Etilize feed (CSV or zip)", junk)
    row = import_row(page, "Etilize imports", 1)
    expect(row.get_by_text("failed")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    row.get_by_role("button", name="Report of import #1").click()
    failed = page.get_by_role("dialog", name="Report of import #1")
    expect(failed.get_by_text("The import failed and changed nothing")).to_be_visible()
    page.keyboard.press("Escape")

    # No FTP server is configured here: the download fails, and the list says why in words.
    page.get_by_role("button", name="Fetch from FTP").click()
    ftp = import_row(page, "Etilize imports", 2)
    expect(ftp.get_by_text("failed")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(ftp).to_contain_text("FTP")
    expect(ftp).to_contain_text("ETILIZE_FTP_HOST is not set")


def connect_store_in_the_browser(page: Page, served: Served, emulator: RunningEmulator) -> None:
    """What an admin does on the settings page to connect the emulator's demo shop."""
    page.goto(served.base_url + "/settings")
    form = page.get_by_role("form", name="Connect a store")
    form.get_by_label("Store name").fill("Demo")
    form.get_by_label("Shop domain").fill("demo.myshopify.com")
    form.get_by_label("Access token").fill(TOKEN)
    form.get_by_label("GraphQL endpoint").fill(
        f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json"
    )
    form.get_by_role("button", name="Connect store").click()
    expect(page.get_by_role("heading", name="Demo", exact=True)).to_be_visible()


def test_a_pull_from_the_emulator_runs_from_the_home_page(
    page: Page,
    served: Served,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emulator = make_emulator()
    # Two products made by hand in Shopify: the pull stages them as creates for review.
    for handle, sku in (("desk-lamp", "LAMP-1"), ("office-chair", "CHAIR-1")):
        emulator.gql(PRODUCT_SET, {"input": simple_product(handle, sku, "49.00")})
    signed_in(page, served, make_user(Role.ADMIN))
    expect(page.get_by_text("Add a Shopify store to start syncing.")).to_be_visible()
    connect_store_in_the_browser(page, served, emulator)

    page.get_by_role("link", name="Sync overview").click()
    expect(page.get_by_text("Last pull: never")).to_be_visible()
    open_tab(page, "Shopify Down")
    expect(page.get_by_text("No pulls yet.")).to_be_visible()
    page.get_by_label("The whole store (slow on a large store)").check()
    page.get_by_role("button", name="Start pull").click()

    pulls = page.get_by_role("table", name="Recent pulls")
    expect(pulls.get_by_text("completed")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(pulls).to_contain_text("whole store")
    expect(pulls).to_contain_text("2 new in Shopify")
    expect(page.get_by_text("Last pull: never")).to_have_count(0)
    # The overview moved on by itself: two changes to review, linked to the review page.
    expect(page.get_by_text("2 changes waiting for review.")).to_be_visible()
    expect(page.get_by_text("Nothing running.")).to_be_visible()

    open_tab(page, "Staged Changes")
    staged = page.get_by_role("table", name="Staged changes by status")
    link = staged.get_by_role("link", name="Review 2 pending in Demo")
    expect(link).to_have_attribute("href", re.compile(r"^/review\?status=pending&store_id=\d+$"))
    # Staging by hand: the catalog is empty, so nothing differs from the store.
    page.get_by_role("button", name="Stage differences now for Demo").click()
    expect(page.get_by_text("0 changes staged for review.")).to_be_visible()
    settle(page)
    screenshot(page, "home")

    open_tab(page, "Shopify Up")
    expect(page.get_by_text("No approved changes waiting.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Push 0 approved changes"))).to_be_disabled()


def test_approved_changes_are_pushed_from_the_home_page(
    page: Page,
    served: Served,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
    engine: Engine,
) -> None:
    emulator = make_emulator()
    approver = make_user(Role.APPROVER)
    store_id = connect_store(engine, emulator)
    with session_scope(engine) as session:
        for number in range(3):
            add_product(session, number)
    assert stage_and_approve(engine, store_id) == 3
    signed_in(page, served, approver)
    expect(page.get_by_text("3 approved changes ready to push.")).to_be_visible()  # next action
    open_tab(page, "Shopify Up")
    expect(page.get_by_text("3 approved changes ready to push.")).to_have_count(2)  # and the store
    page.get_by_role("button", name="Push 3 approved changes to Demo").click()

    pushes = page.get_by_role("table", name="Recent pushes")
    expect(pushes.get_by_text("completed")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(pushes).to_contain_text("3 of 3 changes applied")
    expect(page.get_by_text("No approved changes waiting.")).to_be_visible()
    expect(page.get_by_text("All caught up: nothing waiting for review or push.")).to_be_visible()
    expect(page.get_by_text("Last push: never")).to_have_count(0)
    assert sorted(remote(emulator)) == ["stapler-0", "stapler-1", "stapler-2"]


def test_a_viewer_sees_the_work_but_no_controls(
    page: Page, served: Served, make_user: Callable[..., User]
) -> None:
    signed_in(page, served, make_user(Role.VIEWER))
    page.goto(served.base_url + "/?tab=etilize")
    expect(page.get_by_text("Only editors, approvers and admins can run imports.")).to_be_visible()
    expect(page.get_by_role("button", name="Import file")).to_have_count(0)
    expect(page.get_by_role("button", name="Fetch from FTP")).to_have_count(0)
    expect(page.get_by_text("No imports yet.")).to_be_visible()
    open_tab(page, "Xorosoft")
    expect(page.get_by_role("button", name="Refresh from API")).to_have_count(0)
    open_tab(page, "Shopify Down")
    expect(page.get_by_role("button", name="Start pull")).to_have_count(0)
    open_tab(page, "Shopify Up")
    expect(page.get_by_text("Only approvers and admins can push to Shopify.")).to_be_visible()


def test_the_home_page_fits_a_narrow_laptop(
    page: Page, served: Served, make_user: Callable[..., User]
) -> None:
    page.set_viewport_size({"width": 900, "height": 800})
    signed_in(page, served, make_user(Role.EDITOR))
    page.goto(served.base_url + "/?tab=etilize")
    expect(page.get_by_role("button", name="Fetch from FTP")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 900, f"the page scrolls sideways: {width}px wide"
