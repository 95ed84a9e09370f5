"""The dashboard under its Content-Security-Policy, and a login kept alive while someone works.

Every browser test fails on a CSP violation (the `page` fixture); this one walks every page with
the live WebSocket so the policy is exercised everywhere at least once.
"""

from collections.abc import Callable

from playwright.sync_api import Page, expect

from cowans.api.security_headers import DASHBOARD_POLICY
from cowans.db.models import Role, User
from tests.e2e.conftest import sign_in
from tests.jobs.test_live_events import Served


def test_the_dashboard_runs_under_its_content_security_policy(
    page: Page, served: Served, make_user: Callable[..., User]
) -> None:
    sign_in(page, served, make_user(Role.ADMIN))
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    expect(page.get_by_text("Live", exact=True)).to_be_visible()  # the WebSocket got through
    for name in ("Review changes", "Products", "Batch edits", "Sync history", "Settings"):
        page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", name=name).first).to_be_visible()
    assert served.http.get("/").headers["content-security-policy"] == DASHBOARD_POLICY


def test_the_dashboard_renews_its_token_while_someone_works(
    page: Page, served: Served, make_user: Callable[..., User]
) -> None:
    page.clock.install()
    sign_in(page, served, make_user(Role.VIEWER))
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    stored = "() => JSON.parse(sessionStorage.getItem('cowans.session'))"
    first = page.evaluate(stored)

    # Not yet due: a click renews nothing.
    page.clock.fast_forward("10:00")
    page.get_by_role("heading", name="Sync overview").click()
    # Past 80% of the token's life, the next click renews it.
    page.clock.fast_forward("40:00")
    with page.expect_response("**/api/auth/refresh") as renewal:
        page.get_by_role("heading", name="Sync overview").click()
    assert renewal.value.status == 200
    expect(page.get_by_text("Live", exact=True)).to_be_visible()
    renewed = page.evaluate(stored)
    assert renewed["token"] != first["token"]
    assert renewed["expiresAt"] > first["expiresAt"]
    me = served.http.get("/api/auth/me", headers={"Authorization": f"Bearer {renewed['token']}"})
    assert me.status_code == 200

    # Left alone, the renewed session still runs out, and says so.
    page.clock.fast_forward("01:01:00")
    expect(page.get_by_text("Your session expired. Please sign in again.")).to_be_visible()
