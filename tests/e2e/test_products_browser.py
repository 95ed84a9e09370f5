"""The Products pages and the batch page in a real browser, against the app served by uvicorn
with its in-process job workers, and the Shopify emulator over HTTP for the sync status
(fixtures: tests/e2e/conftest.py). Products come in through the catalog's own feed upsert, with
provenance and a first version, as an import writes them."""

import csv
import io
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from cowans.catalog.feed import FeedProduct
from cowans.catalog.upsert import apply_feed_product
from cowans.db.models import Product, ProductVariant, Role, User
from cowans.db.session import session_scope
from tests.e2e.conftest import auth_headers, screenshot, sign_in

# The emulator's fixtures, for this module (tests/e2e/conftest.py does not provide them).
from tests.emulator.conftest import RunningEmulator, emulator, make_emulator  # noqa: F401
from tests.jobs.test_live_events import Served
from tests.sync.test_push_job import connect_store

MakeUser = Callable[..., User]
SKU_OF = "OFF-{:03d}"


def feed(number: int, title: str, **values: Any) -> FeedProduct:
    base = {
        "title": title,
        "body_html": f"<p>{title}, for every office.</p>",
        "vendor": "3M" if number % 2 else "BIC",
        "product_type": "Staplers" if "Stapler" in title else "Notes",
        "tags": ["office"],
        "status": "active",
        "sku": SKU_OF.format(number),
        "price": Decimal("10.00") + number,
        "inventory": {"MAIN": number % 7},
        "images": [[f"https://img.example/{number}.jpg", 1, f"{title}, front"]],
        "specifications": [["color", ["Black"]], ["pack", [str(number)]]],
    }
    return FeedProduct(
        f"office-{number}", {**base, **values}, {"price": "xorosoft", "sku": "xorosoft"}
    )


def seed(engine: Engine, titles: dict[int, str], **values: Any) -> dict[int, int]:
    """Products numbered as given; returns number -> product id."""
    ids = {}
    with session_scope(engine) as session:
        for number, title in titles.items():
            apply_feed_product(
                session,
                None,
                feed(number, title, **values),
                source="etilize",
                import_id=None,
                moment=datetime.now(UTC),
            )
        session.flush()
        for number in titles:
            ids[number] = session.scalar(
                select(Product.id).where(Product.handle == f"office-{number}")
            )
    return ids


def wait_for_job(served: Served, headers: dict[str, str], job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120  # guards a hang only
    while True:
        job = served.http.get(f"/api/jobs/{job_id}", headers=headers).json()
        if job["state"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} did not finish"
        time.sleep(0.1)


def push_to_store(served: Served, headers: dict[str, str], store_id: int, ids: list[int]) -> None:
    """Stage, approve and push the products to the store through the API, as a person would."""
    staged = served.http.post(
        "/api/sync/staged", json={"product_ids": ids, "store_id": store_id}, headers=headers
    )
    assert staged.status_code == 200, staged.text
    approved = served.http.post(
        "/api/enhanced-sync/approve-changes",
        json={"all_pending": True, "decision": "approve"},
        headers=headers,
    )
    assert approved.status_code == 200, approved.text
    started = served.http.post(
        "/api/sync/start",
        json={"config": {"maxWorkers": 2}, "store_id": store_id},
        headers=headers,
    )
    assert started.status_code == 202, started.text
    assert wait_for_job(served, headers, started.json()["job_id"])["state"] == "completed"


@pytest.fixture
def catalog(
    served: Served,
    engine: Engine,
    emulator: RunningEmulator,  # noqa: F811
    make_user: MakeUser,
) -> dict[str, Any]:
    """24 products; three pushed to the emulator's store (synced), one staged (pending)."""
    titles = {n: f"Sticky Notes {n}" for n in range(1, 21)}
    titles |= {21: "Heavy Duty Stapler", 22: "Mini Stapler", 23: "Stapler Refills", 24: "Tape"}
    ids = seed(engine, titles)
    store_id = connect_store(engine, emulator)
    approver = auth_headers(served, make_user(Role.APPROVER))
    push_to_store(served, approver, store_id, [ids[21], ids[22], ids[23]])
    # Staged but not approved: pending.
    staged = served.http.post(
        "/api/sync/staged",
        json={"product_ids": [ids[24]], "store_id": store_id},
        headers=approver,
    )
    assert staged.json()["staged"] == 1, staged.text
    return {"ids": ids, "store_id": store_id}


def pick(page: Page, label: str, option: str) -> None:
    """Choose an option of a Mantine select."""
    page.get_by_role("textbox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def rows(page: Page) -> Any:
    return page.locator("tbody tr")


def test_search_filter_open_edit_lock_release_and_history(
    page: Page, served: Served, catalog: dict[str, Any], make_user: MakeUser
) -> None:
    ids = catalog["ids"]
    sign_in(page, served, make_user(Role.EDITOR))
    page.get_by_role("link", name="Products").click()
    expect(page.get_by_role("heading", name="Products")).to_be_visible()
    expect(page.get_by_text("24 products in the catalog")).to_be_visible()
    expect(rows(page)).to_have_count(24)
    expect(page.get_by_role("link", name="Heavy Duty Stapler")).to_be_visible()
    screenshot(page, "products")

    # Search, debounced, into the URL.
    page.get_by_label("Search products").fill("stapler")
    expect(page.get_by_text("3 products match")).to_be_visible()
    expect(rows(page)).to_have_count(3)
    assert "q=stapler" in page.url

    # Sync status: the three pushed staplers are synced, the staged tape is pending.
    page.get_by_label("Search products").fill("")
    expect(page.get_by_text("24 products in the catalog")).to_be_visible()
    pick(page, "Sync status", "Synced")
    expect(page.get_by_text("3 products match")).to_be_visible()
    assert "sync=synced" in page.url
    pick(page, "Sync status", "Pending (incl. conflicts)")
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_role("link", name="Tape")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()

    # Filter by vendor and status: the filters survive a reload (they are in the URL).
    pick(page, "Vendor", "BIC")
    expect(page.get_by_text("12 products match")).to_be_visible()
    page.reload()
    expect(page.get_by_text("12 products match")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()

    # The detail of a pushed product.
    page.get_by_label("Search products").fill("Heavy Duty")
    expect(rows(page)).to_have_count(1)
    page.get_by_role("link", name="Heavy Duty Stapler").click()
    expect(page.get_by_role("heading", name="Heavy Duty Stapler")).to_be_visible()
    assert page.url.endswith(f"/products/{ids[21]}")
    expect(page.get_by_text("office-21")).to_be_visible()
    price_row = page.locator("tr[data-field=price]")
    expect(price_row).to_contain_text("31.00")
    expect(price_row).to_contain_text("Xorosoft")
    expect(page.locator("tr[data-field=title]")).to_contain_text("Etilize feed")

    # Edit the title: it is saved and locked.
    title_row = page.locator("tr[data-field=title]")
    expect(title_row.get_by_text("Locked")).to_have_count(0)
    page.get_by_role("button", name="Edit Title").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Title").fill("Heavy Duty Stapler, 100 sheets")
    dialog.get_by_role("button", name="Save and lock").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Heavy Duty Stapler, 100 sheets")).to_be_visible()
    expect(title_row.get_by_text("Locked")).to_be_visible()
    expect(title_row).to_contain_text("Edited by hand, by you")

    # A bad value is refused in words, and nothing is saved.
    page.get_by_role("button", name="Edit Title").click()
    dialog.get_by_label("Title").fill("   ")
    dialog.get_by_role("button", name="Save and lock").click()
    expect(dialog.get_by_text("title: must be a non-empty string")).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()

    # The other tabs.
    page.get_by_role("tab", name=re.compile("Variants")).click()
    expect(page.get_by_text("MAIN: 0")).to_be_visible()
    page.get_by_role("tab", name=re.compile("Images")).click()
    expect(page.get_by_role("img", name="Heavy Duty Stapler, front")).to_be_visible()
    page.get_by_role("tab", name=re.compile("Specifications")).click()
    expect(page.get_by_role("cell", name="pack")).to_be_visible()
    page.get_by_role("tab", name="Sync by store").click()
    sync_row = page.locator("tbody tr").filter(has_text="Demo")
    expect(sync_row.get_by_text("Synced")).to_be_visible()
    expect(sync_row.get_by_text("none")).to_be_visible()

    # History: the edit is version 2, with its diff. The tab is in the URL.
    page.get_by_role("tab", name=re.compile("History")).click()
    assert "tab=history" in page.url
    latest = page.locator("[data-version='2']")
    expect(latest.get_by_text("Edited by hand, by you")).to_be_visible()
    diff = latest.get_by_role("table", name="Changes of version 2")
    expect(diff.get_by_role("cell", name="Heavy Duty Stapler", exact=True)).to_be_visible()
    expect(diff.get_by_role("cell", name="Heavy Duty Stapler, 100 sheets")).to_be_visible()
    expect(page.locator("[data-version='1']")).to_contain_text("Etilize feed")
    screenshot(page, "product-detail")

    # Release the lock: the feeds own the title again.
    page.get_by_role("tab", name="Fields & locks").click()
    page.get_by_role("button", name="Release the lock on Title").click()
    expect(title_row.get_by_text("Locked")).to_have_count(0)
    expect(title_row).to_contain_text("Feed-owned")

    # The locally edited product now differs from the store: staged from its page, it shows
    # as pending, and the change waits for review.
    page.get_by_role("tab", name="Sync by store").click()
    page.get_by_role("button", name="Stage now for Demo").click()
    expect(page.get_by_text("1 change staged for review.")).to_be_visible()
    expect(sync_row.get_by_text("Pending")).to_be_visible()
    expect(sync_row).to_contain_text("waiting for review")
    pending = served.http.get(
        "/api/enhanced-sync/staged-changes",
        params={"status": "pending"},
        headers=auth_headers(served, make_user(Role.VIEWER)),
    ).json()["items"]
    assert ids[21] in [change["product_id"] for change in pending]  # beside the fixture's tape


def test_a_viewer_reads_but_cannot_edit_and_a_missing_product_is_said_so(
    page: Page, served: Served, catalog: dict[str, Any], make_user: MakeUser
) -> None:
    sign_in(page, served, make_user(Role.VIEWER))
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    page.goto(f"{served.base_url}/products/{catalog['ids'][1]}")
    expect(page.get_by_role("heading", name="Sticky Notes 1")).to_be_visible()
    expect(page.locator("tr[data-field=title]")).to_be_visible()
    expect(page.get_by_role("button", name="Edit Title")).to_have_count(0)
    page.goto(f"{served.base_url}/products")
    expect(rows(page)).to_have_count(24)
    expect(page.get_by_role("checkbox")).to_have_count(0)  # no batch selection for a viewer
    page.goto(f"{served.base_url}/products/999999")
    expect(page.get_by_text("No such product")).to_be_visible()
    page.goto(f"{served.base_url}/batch")
    expect(page.get_by_text("Watching only")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Update"))).to_have_count(0)


def test_the_list_fits_a_narrow_laptop(
    page: Page, served: Served, catalog: dict[str, Any], make_user: MakeUser
) -> None:
    page.set_viewport_size({"width": 900, "height": 700})
    sign_in(page, served, make_user(Role.EDITOR))
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    page.goto(f"{served.base_url}/products")
    expect(rows(page)).to_have_count(24)
    # The page itself never scrolls sideways: the table scrolls inside its own box.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 900
    screenshot(page, "products-narrow")
    page.goto(f"{served.base_url}/products/{catalog['ids'][21]}")
    expect(page.locator("tr[data-field=title]")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 900
    screenshot(page, "product-detail-narrow")


def tag_input(page: Page, label: str, tag: str) -> None:
    field = page.get_by_role("textbox", name=label)
    field.fill(tag)
    field.press("Enter")


def test_batch_paste_skus_update_see_errors_retry_export_and_download(
    page: Page, served: Served, engine: Engine, make_user: MakeUser
) -> None:
    ids = seed(engine, {n: f"Marker {n}" for n in range(1, 7)})
    with session_scope(engine) as session:  # one product has no price: nothing to adjust
        variant = session.scalar(select(ProductVariant).where(ProductVariant.sku == "OFF-003"))
        assert variant is not None
        variant.price = None
    editor = make_user(Role.EDITOR)
    sign_in(page, served, editor)
    page.get_by_role("link", name="Batch edits").click()
    expect(page.get_by_role("heading", name="Batch edits")).to_be_visible()
    expect(page.get_by_text("No batches yet.")).to_be_visible()

    page.get_by_role("textbox", name="SKUs").fill("OFF-001\nOFF-002, OFF-003\nNOPE-9")
    expect(page.get_by_text("3 of 4 SKUs found in the catalog")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Not found \(1\): NOPE-9"))).to_be_visible()

    tag_input(page, "Add tags", "clearance")
    page.get_by_role("textbox", name="Adjust prices by %").fill("10")
    page.get_by_role("button", name="Update 3 products").click()

    card = page.get_by_label(re.compile(r"^Batch \d+$"))
    expect(card.get_by_text("Completed with errors")).to_be_visible()
    expect(card.get_by_text("3 of 3 products done · 2 succeeded · 1 failed")).to_be_visible()
    failures = card.get_by_role("table", name="Products that failed")
    expect(failures).to_contain_text(f"Product {ids[3]} has no price")
    assert re.search(r"batch=\d+", page.url)

    # Fix the product, then retry only what failed.
    headers = auth_headers(served, editor)
    fixed = served.http.patch(f"/api/products/{ids[3]}", json={"price": "5.00"}, headers=headers)
    assert fixed.status_code == 200, fixed.text
    card.get_by_role("button", name="Retry 1 failed product").click()
    expect(card.get_by_text("Completed", exact=True)).to_be_visible()
    expect(card.get_by_text("3 of 3 products done · 3 succeeded · 0 failed")).to_be_visible()
    expect(failures).to_have_count(0)
    with session_scope(engine) as session:
        products = {
            p.handle: p
            for p in session.scalars(select(Product).where(Product.id.in_(list(ids.values()))))
        }
        assert products["office-1"].tags == ["clearance", "office"]
        assert products["office-1"].variants[0].price == Decimal("12.10")
        assert products["office-3"].variants[0].price == Decimal("5.50")
        assert products["office-4"].tags == ["office"]  # not pasted, not touched

    # Export the same SKUs to CSV and download it with the session's token.
    page.get_by_role("radiogroup", name="Operation").get_by_text("Export").click()
    page.get_by_role("button", name="Export 3 products").click()
    expect(card.get_by_role("button", name="Download CSV")).to_be_visible()
    with page.expect_download() as download_info:
        card.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert re.fullmatch(r"products-batch-\d+\.csv", download.suggested_filename)
    text = download.path().read_text(encoding="utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    skus = sorted({row["SKU"] for row in table if row.get("SKU")})
    assert skus == ["OFF-001", "OFF-002", "OFF-003"]
    recent = page.get_by_role("table", name="Recent batches")
    expect(recent.locator("tbody tr")).to_have_count(2)
    expect(recent).to_contain_text("Export (CSV)")
    screenshot(page, "batch")


def test_rows_selected_on_the_products_page_become_a_batch_and_delete_asks_first(
    page: Page, served: Served, engine: Engine, make_user: MakeUser
) -> None:
    ids = seed(engine, {n: f"Binder {n}" for n in range(1, 5)})
    sign_in(page, served, make_user(Role.EDITOR))
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    page.goto(f"{served.base_url}/products")
    page.get_by_label("Select Binder 2").check()
    page.get_by_label("Select Binder 4").check()
    expect(page.get_by_text("2 products selected")).to_be_visible()
    page.get_by_role("button", name="Batch edit selected").click()
    expect(page.get_by_role("heading", name="Batch edits")).to_be_visible()
    assert f"ids={ids[2]},{ids[4]}" in page.url
    expect(page.get_by_text("2 products chosen on the Products page.")).to_be_visible()

    page.get_by_role("radiogroup", name="Operation").get_by_text("Delete").click()
    page.get_by_role("button", name="Delete 2 products").click()
    dialog = page.get_by_role("dialog", name="Delete 2 products?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep them").click()
    expect(dialog).to_be_hidden()
    with session_scope(engine) as session:
        assert session.scalar(select(Product.deleted_at).where(Product.id == ids[2])) is None

    page.get_by_role("button", name="Delete 2 products").click()
    dialog.get_by_role("button", name="Delete 2 products").click()
    card = page.get_by_label(re.compile(r"^Batch \d+$"))
    expect(card.get_by_text("Completed", exact=True)).to_be_visible()
    page.goto(f"{served.base_url}/products")
    expect(rows(page)).to_have_count(2)
    expect(page.get_by_role("link", name="Binder 2")).to_have_count(0)
