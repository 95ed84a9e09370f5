"""Pushing to Shopify in a real browser: the prediction on /push, a push started from it and
watched live on /workers, and its record on /history. The app runs under uvicorn with its own job
workers, the Shopify emulator over HTTP (slowed down so the push can be watched), no mocks."""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from cowans.db.models import JobState, Product, Role, StagedChangeStatus, SyncJob, SyncStaging, User
from cowans.db.session import session_scope
from cowans.jobs.push import KIND as PUSH_KIND
from tests.e2e.conftest import auth_headers, navigate, screenshot, sign_in
from tests.emulator import conftest as emulator_fixtures
from tests.emulator.conftest import RunningEmulator
from tests.jobs.conftest import job_finished, wait_for
from tests.jobs.test_live_events import Served
from tests.sync.test_push_job import approved_store, connect_store, stage_and_approve

make_emulator = emulator_fixtures.make_emulator  # the fixture, for these tests

# Under the `speed` strategy's bulk threshold for these products (the planner would otherwise
# send one bulk mutation, a single request), so every product is a request of its own.
PRODUCTS = 100
LATENCY_MS = [250, 400]  # per request: a hundred requests over three workers take a while
PUSH_TIMEOUT_MS = 180_000  # a guard against a hang, not a measure


def figure(page: Page, label: str) -> str:
    return page.get_by_label(label, exact=True).inner_text()


def test_a_push_from_its_prediction_to_the_history(
    page: Page,
    served: Served,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
    engine: Engine,
) -> None:
    emulator = make_emulator()
    approved_store(engine, emulator, PRODUCTS)
    emulator.http.patch(
        f"{emulator.base_url}/_emulator/demo/config", json={"faults": {"latency_ms": LATENCY_MS}}
    )
    sign_in(page, served, make_user(Role.APPROVER))
    navigate(page, "Push to Shopify")
    expect(page.get_by_role("heading", name="Push to Shopify")).to_be_visible()

    # The prediction for the defaults (balanced: one bulk operation for so many products) ...
    expect(page.get_by_text(f"{PRODUCTS} approved changes (100 creates)")).to_be_visible()
    expect(page.get_by_label("Bulk operations", exact=True)).to_have_text("1")
    # ... follows the form: one product a request, no bulk, up to three workers.
    page.get_by_label("Minimum workers").fill("2")
    page.get_by_label("Maximum workers").fill("3")
    page.get_by_label("Batch size").fill("1")
    page.get_by_label("Speed", exact=True).check()
    expect(page.get_by_label("Requests", exact=True)).to_have_text(str(PRODUCTS))
    expect(page.get_by_label("Bulk operations", exact=True)).to_have_text("0")
    expect(page.get_by_text("with up to 3 workers")).to_be_visible()
    points = int(figure(page, "API points").replace(",", ""))
    assert points > PRODUCTS * 10  # a productSet costs at least a mutation's 10
    # Minimum above maximum: said in words, and nothing can start.
    page.get_by_label("Minimum workers").fill("5")
    expect(page.get_by_text("Must be at least the minimum")).to_be_visible()
    expect(page.get_by_role("button", name="Start push")).to_be_disabled()
    page.get_by_label("Minimum workers").fill("2")
    expect(page.get_by_role("button", name="Start push")).to_be_enabled()
    screenshot(page, "push")
    page.set_viewport_size({"width": 900, "height": 800})  # a narrow laptop: one column
    assert not horizontal_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Start push").click()
    expect(page.get_by_text("Push started")).to_be_visible()
    with session_scope(engine) as session:
        job = session.scalars(select(SyncJob).where(SyncJob.kind == PUSH_KIND)).one()
        assert job.config["maxWorkers"] == 3
        assert (job.config["strategy"], job.config["batchSize"]) == ("speed", 1)
        job_id = job.id
    expect(page.get_by_role("heading", name="Running push")).to_be_visible()

    # The workers, live: cards, figures and charts appear, and the counters move on their own.
    navigate(page, "Workers")
    expect(page.get_by_test_id("workers-job")).to_contain_text(f"Push #{job_id}")
    expect(page.get_by_test_id("worker-card").first).to_be_visible()
    progress = page.get_by_test_id("workers-progress")
    expect(progress).to_contain_text(f"of {PRODUCTS} changes finished")
    first = progress.inner_text()
    expect(progress).not_to_have_text(first)  # no reload: polling and events move it
    expect(page.get_by_role("meter", name="Points available in Shopify's bucket")).to_be_visible()
    expect(page.get_by_test_id("throttle-points")).to_contain_text("of 2,000 points")
    charts = page.get_by_test_id("worker-chart")
    expect(charts).to_have_count(6)
    expect(page.locator("[data-testid=worker-chart] .recharts-surface").first).to_be_visible()
    expect(page.get_by_label("Throughput", exact=True)).not_to_have_text("0.0/s")
    cards = page.get_by_test_id("worker-card")
    # Waited for, not counted at once: the cards are redrawn as the figures arrive.
    expect(cards.first).to_be_visible()
    assert cards.count() <= 3  # never more workers than the push allows
    # Well into the run (a third of it done, not all), the charts have a history to show.
    expect(progress).to_have_text(re.compile(r"^[3-9]\d of 100 changes"), timeout=PUSH_TIMEOUT_MS)
    screenshot(page, "workers")

    # The end: said so, with the last push's summary.
    expect(page.get_by_text("No push is running")).to_be_visible(timeout=PUSH_TIMEOUT_MS)
    summary = page.get_by_label("Last push")
    expect(summary).to_contain_text(f"#{job_id}")
    expect(summary).to_contain_text("Completed")

    navigate(page, "Sync history")
    row = page.get_by_test_id("history-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"Push #{job_id}")
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text(f"{PRODUCTS} / {PRODUCTS}")
    page.get_by_role("button", name=f"Show details of Push #{job_id}").click()
    details = page.get_by_test_id("history-details")
    expect(details).to_contain_text("Requests")
    expect(details).to_contain_text("Applied")
    expect(details).to_contain_text("No errors.")
    expect(details.get_by_label("Request latency")).to_contain_text("productSet")
    screenshot(page, "history")

    nodes = emulator.gql("{ products(first: 250) { nodes { handle } } }")["data"]["products"]
    assert sorted(node["handle"] for node in nodes["nodes"]) == sorted(
        f"stapler-{number}" for number in range(PRODUCTS)
    )


def test_what_each_role_sees_when_nothing_is_waiting(
    page: Page,
    served: Served,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
    engine: Engine,
) -> None:
    """Nothing approved: the approver is told so and cannot start; a viewer gets no form at all.
    The three pages fit a narrow laptop screen."""
    connect_store(engine, make_emulator())
    sign_in(page, served, make_user(Role.APPROVER))
    navigate(page, "Push to Shopify")
    expect(page.get_by_text("Nothing approved to push").first).to_be_visible()
    expect(page.get_by_role("button", name="Start push")).to_be_disabled()
    expect(page.get_by_test_id("start-blocker")).to_have_text("Nothing approved to push.")
    page.get_by_role("button", name="Log out").click()

    sign_in(page, served, make_user(Role.VIEWER))
    page.set_viewport_size({"width": 900, "height": 800})
    navigate(page, "Push to Shopify")
    expect(page.get_by_text("Pushing needs the approver role")).to_be_visible()
    expect(page.get_by_role("button", name="Start push")).to_have_count(0)
    assert not horizontal_scroll(page)
    navigate(page, "Workers")
    expect(page.get_by_text("No push is running")).to_be_visible()
    expect(page.get_by_text(re.compile("No push has run yet"))).to_be_visible()
    assert not horizontal_scroll(page)
    navigate(page, "Sync history")
    expect(page.get_by_text("No pull or push has run yet.")).to_be_visible()
    assert not horizontal_scroll(page)


def horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))


def test_stop_ends_a_push_and_leaves_the_rest_approved(
    page: Page,
    served: Served,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
    engine: Engine,
) -> None:
    emulator = make_emulator()
    approved_store(engine, emulator, 40)
    emulator.http.patch(
        f"{emulator.base_url}/_emulator/demo/config", json={"faults": {"latency_ms": [300, 400]}}
    )
    sign_in(page, served, make_user(Role.APPROVER))
    navigate(page, "Push to Shopify")
    page.get_by_label("Maximum workers").fill("1")
    page.get_by_label("Batch size").fill("1")
    page.get_by_label("Speed", exact=True).check()
    expect(page.get_by_label("Requests", exact=True)).to_have_text("40")
    page.get_by_role("button", name="Start push").click()
    running = page.get_by_label("Running push")
    expect(running.get_by_test_id("push-processed")).to_have_text(re.compile(r"^[1-9]\d* of 40"))
    expect(page.get_by_test_id("start-blocker")).to_contain_text("A push of this store is running")
    running.get_by_role("button", name="Stop").click()
    last = page.get_by_label("Last push")
    expect(last).to_contain_text("Stopped", timeout=PUSH_TIMEOUT_MS)
    with session_scope(engine) as session:
        left = session.scalars(
            select(SyncStaging).where(SyncStaging.status == StagedChangeStatus.APPROVED)
        ).all()
        [job] = session.scalars(select(SyncJob).where(SyncJob.kind == PUSH_KIND)).all()
    assert job.state is JobState.CANCELLED
    assert 0 < len(left) < 40
    # What was not sent is still approved: the prediction says so, and a new push may start.
    expect(page.get_by_text(f"{len(left)} approved changes")).to_be_visible()
    expect(page.get_by_role("button", name="Start push")).to_be_enabled()


def test_the_history_tells_what_went_wrong(
    page: Page,
    served: Served,
    make_user: Callable[..., User],
    make_emulator: Callable[..., RunningEmulator],
    engine: Engine,
) -> None:
    """A pull, a clean push and a push with a failed change, each in the history; the failed
    change's reason in words."""
    emulator = make_emulator()
    store_id = approved_store(engine, emulator, 3)
    approver = make_user(Role.APPROVER)
    headers = auth_headers(served, approver)
    first = run(served, engine, "/api/sync/start", {"store_id": store_id}, headers)
    gone = emulator.gql('{ products(first: 10, query: "handle:stapler-1") { nodes { id } } }')
    [node] = gone["data"]["products"]["nodes"]
    emulator.gql(
        "mutation($id: ID!) { productDelete(input: {id: $id}) { userErrors { message } } }",
        {"id": node["id"]},
    )
    with session_scope(engine) as session:
        for product in session.scalars(select(Product)):
            product.variants[0].price = Decimal("11.75")
    stage_and_approve(engine, store_id)
    second = run(served, engine, "/api/sync/start", {"store_id": store_id}, headers)
    pull = run(served, engine, "/api/enhanced-sync/shopify-down", {"store_id": store_id}, headers)

    sign_in(page, served, approver)
    navigate(page, "Sync history")
    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text(f"Pull #{pull}")
    expect(rows.nth(1)).to_contain_text(f"Push #{second}")
    expect(rows.nth(1)).to_contain_text("Completed with errors")
    expect(rows.nth(2)).to_contain_text(f"Push #{first}")
    page.get_by_role("button", name=f"Show details of Push #{second}").click()
    errors = page.get_by_role("table", name="Errors by product")
    expect(errors).to_contain_text("stapler-1")
    expect(errors).to_contain_text("Deleted in Shopify")
    expect(page.get_by_text("1 change of 3 not applied.")).to_be_visible()
    page.get_by_role("button", name=f"Show details of Pull #{pull}").click()
    expect(page.get_by_test_id("history-details").first).to_contain_text("whole store")
    page.get_by_text("Pushes", exact=True).click()
    expect(rows).to_have_count(2)


def run(
    served: Served, engine: Engine, path: str, body: dict[str, Any], headers: dict[str, str]
) -> int:
    """Start a job through the API and wait until it has ended; its id."""
    response = served.http.post(path, json=body, headers=headers)
    assert response.status_code == 202, response.text
    job_id = int(response.json()["job_id"])
    wait_for(lambda: job_finished(engine, job_id), f"job {job_id}")
    return job_id
