"""A day of the catalog team's work, in one browser session, as docs/USER_GUIDE.md tells it.

An admin signs in, connects the store (the Shopify emulator, over HTTP) in Settings, imports the
Xorosoft export and the Etilize feed from the shared samples and reads the report, reviews the
staged changes (approves three, rejects one), pushes with chosen workers and strategy while the
Workers page follows live, finds the products in the emulator; then the next morning's prices
meet a merchant's edit in Shopify: a pull, a conflict settled on the review page, a push. Last,
a product edited by hand (and so locked), a batch of tags by pasted SKUs, an export downloaded,
and the sync history. Each step asserts on what the server or the emulator now holds; the
screenshots (`guide-*.png`) are the user guide's pictures (`make screenshots` copies them).

Everything runs for real: the app under uvicorn with its own job workers, the emulator over
HTTP. The only side doors are the emulator's own: its latency (so the push lasts long enough
to be watched) and the merchant's edit in Shopify admin.
"""

import csv
import io
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine, select

from cowans.db.models import (
    Product,
    Role,
    Store,
    SyncJob,
    SyncStaging,
    User,
)
from cowans.db.session import session_scope
from cowans.jobs.push import KIND as PUSH_KIND
from tests.conftest import PASSWORD
from tests.e2e.conftest import SCREENSHOTS, navigate, notice, settle
from tests.e2e.test_home_browser import SAMPLES, import_file, import_row, open_tab
from tests.emulator.conftest import TOKEN, RunningEmulator
from tests.emulator.conftest import make_emulator as make_emulator  # a fixture, for pytest
from tests.jobs.test_live_events import Served

# Imports, pulls and pushes run in the served app's job workers: time for a busy CI machine.
# These guard against a hang; nothing here measures time.
JOB_TIMEOUT_MS = 90_000
# Per Shopify request while the first push runs: three products, one a request over two
# workers, last several seconds, which the Workers page shows as they happen.
PUSH_LATENCY_MS = [2_000, 2_500]

HANDLES = {
    "postit": "post-it-notes-3x3-canary",
    "ink": "hp-64xl-black-ink",
    "pens": "bic-round-stic-blue-60",
    "flair": "papermate-flair-felt-tip-12",
}
REMOTE_PRODUCTS = """
{ products(first: 20) { nodes { handle title status tags
    variants(first: 1) { nodes { sku price inventoryItem { inventoryLevels(first: 5) {
      nodes { location { name } quantities(names: ["available"]) { quantity } } } } } } } } }
"""


def guide_shot(page: Page, name: str) -> Path:
    """test-artifacts/screenshots/guide-<name>.png: what the window shows at 1280x800, with no
    notification over it (the user guide's pictures: the viewport, not the whole page)."""
    settle(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"guide-{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def review_row(page: Page, handle: str) -> Locator:
    return (
        page.get_by_role("table", name="Staged changes").get_by_role("row").filter(has_text=handle)
    )


def remote_products(emulator: RunningEmulator) -> dict[str, dict[str, Any]]:
    """What the emulated Shopify store holds, by handle, read through its Admin GraphQL API."""
    found = {}
    for node in emulator.gql(REMOTE_PRODUCTS)["data"]["products"]["nodes"]:
        [variant] = node["variants"]["nodes"]
        levels = variant["inventoryItem"]["inventoryLevels"]["nodes"]
        found[node["handle"]] = {
            "title": node["title"],
            "status": node["status"],
            "tags": sorted(node["tags"]),
            "sku": variant["sku"],
            "price": Decimal(variant["price"]),
            "stock": {lvl["location"]["name"]: lvl["quantities"][0]["quantity"] for lvl in levels},
        }
    return found


def staged_status(engine: Engine) -> dict[str, str]:
    """The newest staged change of each handle and direction: `handle:direction` -> status."""
    with session_scope(engine) as session:
        rows = session.scalars(select(SyncStaging).order_by(SyncStaging.id)).all()
        return {f"{row.handle}:{row.direction}": row.status.value for row in rows}


def product(engine: Engine, handle: str) -> Product:
    with session_scope(engine) as session:
        found = session.scalars(select(Product).where(Product.handle == handle)).one()
        found.variants  # loaded before the session ends  # noqa: B018
        session.expunge_all()
        return found


def next_xorosoft_export(path: Path, prices: dict[str, str]) -> Path:
    """The sample Xorosoft export with some prices changed: the next morning's file."""
    text = (SAMPLES / "xorosoft_sample.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        row["UnitPrice"] = prices.get(row["ItemNumber"], row["UnitPrice"])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    return path


# The whole day in one test: more than the suite's two minutes on a busy CI machine.
@pytest.mark.timeout(300)
def test_a_day_of_catalog_work_from_import_to_history(
    page: Page,
    served: Served,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
    engine: Engine,
    tmp_path: Path,
) -> None:
    emulator = make_emulator()  # a standard-plan shop "demo" with Main Warehouse and Store Front
    admin = make_user(Role.ADMIN, email="sam@cowans.example")

    # --- Signing in -------------------------------------------------------------------------
    page.goto(served.base_url + "/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    guide_shot(page, "sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    expect(page.get_by_text("Live", exact=True)).to_be_visible()  # the WebSocket is up
    expect(page.get_by_text("Add a Shopify store to start syncing.")).to_be_visible()

    # --- Settings: connect the store, test it, map the Xorosoft locations -------------------
    navigate(page, "Settings")
    form = page.get_by_role("form", name="Connect a store")
    form.get_by_label("Store name").fill("Cowan's Shop")
    form.get_by_label("Shop domain").fill("demo.myshopify.com")
    form.get_by_label("Access token").fill(TOKEN)
    form.get_by_label("GraphQL endpoint").fill(
        f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json"
    )
    form.get_by_role("button", name="Connect store").click()
    card = page.get_by_role("region", name="Cowan's Shop")
    expect(card).to_contain_text("Access token: set")
    card.get_by_role("button", name="Test the connection to Cowan's Shop").click()
    expect(card.get_by_role("alert")).to_contain_text("Connected to demo (demo.myshopify.com)")
    card.get_by_role("button", name="Edit Cowan's Shop").click()
    dialog = page.get_by_role("dialog", name="Edit Cowan's Shop")
    for number, (xorosoft, shopify) in enumerate(
        (("MAIN", "Main Warehouse"), ("WEST", "Store Front")), start=1
    ):
        dialog.get_by_role("button", name="Add a location").click()
        dialog.get_by_label(f"Xorosoft location {number}").fill(xorosoft)
        dialog.get_by_label(f"Shopify location {number}").fill(shopify)
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(card).to_contain_text("MAIN → Main Warehouse, WEST → Store Front")
    with session_scope(engine) as session:
        store = session.scalars(select(Store)).one()
        assert store.location_map == {"MAIN": "Main Warehouse", "WEST": "Store Front"}
        assert store.access_token == TOKEN
    assert TOKEN not in page.content()
    guide_shot(page, "settings")

    # --- The morning import: Xorosoft first, then the Etilize feed matched against it -------
    navigate(page, "Sync overview")
    open_tab(page, "Xorosoft")
    import_file(page, "Xorosoft export (CSV)", SAMPLES / "xorosoft_sample.csv")
    xorosoft = import_row(page, "Xorosoft imports", 1)
    expect(xorosoft.get_by_text("completed")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(xorosoft).to_contain_text("5 items")

    open_tab(page, "Etilize")
    import_file(page, "Etilize feed (CSV or zip)", SAMPLES / "etilize_sample.csv")
    etilize = import_row(page, "Etilize imports", 2)
    expect(etilize.get_by_text("completed")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(etilize).to_contain_text("4 matched, 1 unmatched, 1 duplicate, 1 row error")
    page.get_by_role("button", name="Report of import #2").click()
    report = page.get_by_role("dialog", name="Report of import #2")
    for figure in ("Matched: 4", "Unmatched: 1", "Duplicates: 1", "Row errors: 1", "Created: 4"):
        expect(report.get_by_role("group", name=figure)).to_be_visible()
    expect(report.get_by_role("table", name="Unmatched products")).to_contain_text(
        "acme-stapler-chrome"
    )
    expect(report.get_by_role("button", name="Download errors.csv")).to_be_enabled()
    guide_shot(page, "etilize-report")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    # With a store connected, an import stages what the store would now change by itself
    # (settings.stage_after_import): four new products wait for review, no "stage" step.
    expect(page.get_by_text("4 changes waiting for review.")).to_be_visible()
    open_tab(page, "Staged Changes")
    expect(
        page.get_by_role("table", name="Staged changes by status").get_by_role(
            "link", name="Review 4 pending in Cowan's Shop"
        )
    ).to_be_visible()
    assert staged_status(engine) == {f"{handle}:push": "pending" for handle in HANDLES.values()}
    guide_shot(page, "overview")

    # --- Review: approve three new products, reject the draft -------------------------------
    page.get_by_role("main").get_by_role("link", name="Review changes").click()  # "Next"
    expect(page.get_by_role("heading", name="Review changes")).to_be_visible()
    rows = page.get_by_role("table", name="Staged changes").get_by_role("row")
    expect(rows).to_have_count(5)  # the header and four creates
    review_row(page, HANDLES["postit"]).click()
    details = page.get_by_role("region", name="Change details")
    expect(details).to_contain_text("New product")
    expect(details).to_contain_text("MMM654YW")
    for key in ("postit", "ink", "pens"):
        review_row(page, HANDLES[key]).get_by_role("checkbox").check()
    expect(page.get_by_text("3 changes selected")).to_be_visible()
    guide_shot(page, "review")
    page.get_by_role("button", name="Approve 3").click()
    expect(notice(page, "3 approved.")).to_be_visible()
    expect(rows).to_have_count(2)
    # The Paper Mate pens are a draft in the feed: not for the store today. Focus, press r.
    review_row(page, HANDLES["flair"]).click()
    expect(review_row(page, HANDLES["flair"])).to_have_attribute("aria-current", "true")
    page.keyboard.press("r")
    expect(notice(page, "1 rejected.")).to_be_visible()
    expect(page.get_by_text("Nothing waiting for review: all caught up.")).to_be_visible()
    assert staged_status(engine) == {
        f"{HANDLES['postit']}:push": "approved",
        f"{HANDLES['ink']}:push": "approved",
        f"{HANDLES['pens']}:push": "approved",
        f"{HANDLES['flair']}:push": "rejected",
    }

    # --- Push: choose the workers and the strategy, read the prediction, start --------------
    emulator.http.patch(
        f"{emulator.base_url}/_emulator/demo/config",
        json={"faults": {"latency_ms": PUSH_LATENCY_MS}},
    ).raise_for_status()
    navigate(page, "Push to Shopify")
    expect(page.get_by_text("3 approved changes (3 creates)")).to_be_visible()
    page.get_by_label("Minimum workers").fill("1")
    page.get_by_label("Maximum workers").fill("2")
    page.get_by_label("Batch size").fill("1")
    page.get_by_label("Speed", exact=True).check()
    expect(page.get_by_text("with up to 2 workers")).to_be_visible()
    expect(page.get_by_label("Bulk operations", exact=True)).to_have_text("0")
    requests = int(page.get_by_label("Requests", exact=True).inner_text())
    assert requests >= 3  # one product a request at least
    guide_shot(page, "push")
    page.get_by_role("button", name="Start push").click()
    expect(page.get_by_text("Push started")).to_be_visible()
    with session_scope(engine) as session:
        job = session.scalars(select(SyncJob).where(SyncJob.kind == PUSH_KIND)).one()
        assert (job.config["maxWorkers"], job.config["strategy"]) == (2, "speed")
        assert job.config["batchSize"] == 1
        first_push = job.id

    # --- Workers: the pool live, with no reload ---------------------------------------------
    page.get_by_role("link", name="Watch the workers").click()
    expect(page.get_by_role("heading", name="Workers", exact=True)).to_be_visible()
    expect(page.get_by_test_id("workers-job")).to_contain_text(f"Push #{first_push}")
    expect(page.get_by_test_id("worker-card").first).to_be_visible(timeout=JOB_TIMEOUT_MS)
    progress = page.get_by_test_id("workers-progress")
    expect(progress).to_contain_text("of 3 changes finished")
    # Moved on by itself: one or two of the three done, the third still on its way.
    expect(progress).to_have_text(re.compile(r"^[12] of 3 changes"), timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_role("meter", name="Points available in Shopify's bucket")).to_be_visible()
    guide_shot(page, "workers")
    expect(page.get_by_text("No push is running")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    last = page.get_by_label("Last push")
    expect(last).to_contain_text(f"#{first_push}")
    expect(last).to_contain_text("Completed")
    emulator.http.patch(
        f"{emulator.base_url}/_emulator/demo/config", json={"faults": {"latency_ms": [0, 0]}}
    ).raise_for_status()

    # The products are in Shopify: Xorosoft's SKU, price and stock per mapped location.
    shop = remote_products(emulator)
    assert sorted(shop) == sorted([HANDLES["pens"], HANDLES["ink"], HANDLES["postit"]])
    assert shop[HANDLES["postit"]]["sku"] == "MMM654YW"
    assert shop[HANDLES["postit"]]["title"] == 'Post-it® Notes, 3" x 3", Canary Yellow, 12 Pads'
    assert (shop[HANDLES["postit"]]["status"], shop[HANDLES["postit"]]["tags"]) == (
        "ACTIVE",
        ["3M", "notes", "yellow"],
    )
    assert shop[HANDLES["postit"]]["price"] == Decimal("14.99")
    assert shop[HANDLES["postit"]]["stock"] == {"Main Warehouse": 120, "Store Front": 35}
    assert shop[HANDLES["ink"]]["price"] == Decimal("39.49")
    assert shop[HANDLES["pens"]]["sku"] == "BIC-GSM609-BE"
    assert set(staged_status(engine).values()) == {"applied", "rejected"}

    # --- The next morning: new Xorosoft prices, and a merchant's edit in Shopify ------------
    navigate(page, "Sync overview")
    open_tab(page, "Xorosoft")
    tomorrow = next_xorosoft_export(tmp_path / "xorosoft_export.csv", {"HEWN9J92AN": "41.99"})
    import_file(page, "Xorosoft export (CSV)", tomorrow)
    second = import_row(page, "Xorosoft imports", 3)
    expect(second.get_by_text("completed")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(second).to_contain_text("1 product updated")
    # The ink's new price waits for review; so does the draft rejected yesterday: a rejection
    # is a decision about one staging, and the catalog still differs from the store.
    expect(page.get_by_text("2 changes waiting for review.")).to_be_visible()
    assert staged_status(engine)[f"{HANDLES['flair']}:push"] == "pending"
    # Meanwhile someone lowered the same price by hand in Shopify admin.
    edited = emulator.http.post(
        f"{emulator.base_url}/_emulator/demo/merchant-edit",
        json={"handle": HANDLES["ink"], "fields": {"price": "37.99"}},
    )
    assert edited.status_code == 200, edited.text

    # --- Pull what changed in Shopify: the price changed on both sides is a conflict --------
    open_tab(page, "Shopify Down")
    page.get_by_role("button", name="Start pull").click()
    pulls = page.get_by_role("table", name="Recent pulls")
    expect(pulls.get_by_text("completed")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(pulls).to_contain_text("3 / 3")  # the three products in the store, compared
    expect(pulls).to_contain_text("1 conflict")
    expect(page.get_by_text("1 conflict needs a decision.")).to_be_visible()
    pulls.scroll_into_view_if_needed()
    guide_shot(page, "pull")
    assert staged_status(engine)[f"{HANDLES['ink']}:push"] == "conflict"

    # --- Settle the conflict on the review page: a price of our own, then push it -----------
    page.get_by_role("main").get_by_role("link", name="Resolve conflicts").click()  # "Next"
    expect(page.get_by_role("heading", name="Review changes")).to_be_visible()
    expect(review_row(page, HANDLES["ink"])).to_contain_text("conflict")
    details = page.get_by_role("region", name="Change details")
    expect(details).to_contain_text("Changed on both sides")
    expect(details).to_contain_text("Take remote (Shopify): 37.99")
    expect(details).to_contain_text("Keep local (catalog): 41.99")
    page.get_by_label("Enter a value").check()
    page.get_by_label("Value for Price (HEWN9J92AN)").fill("39.99")
    guide_shot(page, "conflict")
    page.get_by_role("button", name="Approve with these choices").click()
    expect(notice(page, "1 approved.")).to_be_visible()
    expect(page.get_by_text("No staged changes match these filters.")).to_be_visible()
    ink = product(engine, HANDLES["ink"])
    assert ink.variants[0].price == Decimal("39.99")
    assert "price" in ink.locks  # a person's choice: the next Xorosoft file will not undo it
    assert staged_status(engine)[f"{HANDLES['ink']}:push"] == "approved"

    navigate(page, "Sync overview")
    open_tab(page, "Shopify Up")
    page.get_by_role("button", name="Push 1 approved change to Cowan's Shop").click()
    pushes = page.get_by_role("table", name="Recent pushes")
    expect(pushes.get_by_role("row").nth(1)).to_contain_text("completed", timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_text("No approved changes waiting.")).to_be_visible()
    assert remote_products(emulator)[HANDLES["ink"]]["price"] == Decimal("39.99")

    # --- Products: find one, edit its title by hand (which locks it against the feed) -------
    navigate(page, "Products")
    expect(page.get_by_text("4 products in the catalog")).to_be_visible()
    page.get_by_label("Search products").fill("post-it")
    expect(page.get_by_text("1 product match")).to_be_visible()
    page.get_by_label("Search products").fill("")
    expect(page.get_by_text("4 products in the catalog")).to_be_visible()
    ink_row = page.locator("tbody tr").filter(has_text="HEWN9J92AN")
    expect(ink_row.get_by_label("1 locked field")).to_be_visible()  # the price chosen above
    guide_shot(page, "products")
    page.get_by_role("link", name=re.compile("^Post-it")).click()
    title_row = page.locator("tr[data-field=title]")
    expect(title_row).to_contain_text("Etilize feed")
    expect(page.locator("tr[data-field=price]")).to_contain_text("Xorosoft")
    page.get_by_role("button", name="Edit Title").click()
    edit = page.get_by_role("dialog")
    edit.get_by_label("Title").fill("Post-it Notes 3x3, Canary Yellow, 12 Pads")
    edit.get_by_role("button", name="Save and lock").click()
    expect(edit).to_be_hidden()
    expect(
        page.get_by_role("heading", name="Post-it Notes 3x3, Canary Yellow, 12 Pads")
    ).to_be_visible()
    expect(title_row.get_by_text("Locked")).to_be_visible()
    expect(title_row).to_contain_text("Edited by hand, by you")
    postit = product(engine, HANDLES["postit"])
    assert postit.title == "Post-it Notes 3x3, Canary Yellow, 12 Pads"
    assert "title" in (postit.locks or {})
    guide_shot(page, "product-detail")

    # --- Batch: tag products by pasted SKUs, then export them and download the file ---------
    navigate(page, "Batch edits")
    page.get_by_role("textbox", name="SKUs").fill("MMM654YW\nHEWN9J92AN, BIC-GSM609-BE")
    expect(page.get_by_text("3 of 3 SKUs found in the catalog")).to_be_visible()
    tags = page.get_by_role("textbox", name="Add tags")
    tags.fill("back-to-school")
    tags.press("Enter")
    page.get_by_role("button", name="Update 3 products").click()
    batch = page.get_by_label(re.compile(r"^Batch \d+$"))
    expect(batch.get_by_text("Completed", exact=True)).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(batch.get_by_text("3 of 3 products done · 3 succeeded · 0 failed")).to_be_visible()
    for key in ("postit", "ink", "pens"):
        assert "back-to-school" in product(engine, HANDLES[key]).tags
    assert "back-to-school" not in product(engine, HANDLES["flair"]).tags

    page.get_by_role("radiogroup", name="Operation").get_by_text("Export").click()
    page.get_by_role("button", name="Export 3 products").click()
    download_button = batch.get_by_role("button", name="Download CSV")
    expect(download_button).to_be_visible(timeout=JOB_TIMEOUT_MS)
    with page.expect_download() as download_info:
        download_button.click()
    download = download_info.value
    assert re.fullmatch(r"products-batch-\d+\.csv", download.suggested_filename)
    exported = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    by_sku = {row["SKU"]: row for row in exported if row.get("SKU")}
    assert sorted(by_sku) == ["BIC-GSM609-BE", "HEWN9J92AN", "MMM654YW"]
    assert "back-to-school" in by_sku["MMM654YW"]["Tags"]
    recent = page.get_by_role("table", name="Recent batches")
    expect(recent.locator("tbody tr")).to_have_count(2)
    guide_shot(page, "batch")

    # --- Sync history: the two pushes and the pull, newest first ----------------------------
    navigate(page, "Sync history")
    history = page.get_by_test_id("history-row")
    expect(history).to_have_count(3)
    expect(history.nth(0)).to_contain_text("Push #")
    expect(history.nth(1)).to_contain_text("Pull #")
    expect(history.nth(2)).to_contain_text(f"Push #{first_push}")
    expect(history.nth(2)).to_contain_text("3 / 3")
    page.get_by_role("button", name=f"Show details of Push #{first_push}").click()
    expect(page.get_by_test_id("history-details")).to_contain_text("No errors.")
    guide_shot(page, "history")
