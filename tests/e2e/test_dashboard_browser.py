"""Signing in and out of the dashboard in a real browser (fixtures: tests/e2e/conftest.py)."""

from collections.abc import Callable

from playwright.sync_api import Page, expect

from cowans.db.models import Role, User
from tests.e2e.conftest import sign_in
from tests.jobs.test_live_events import Served


def test_sign_in_shows_the_sync_overview_live(
    page: Page, served: Served, make_user: Callable[..., User]
) -> None:
    sign_in(page, served, make_user(Role.VIEWER))
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    expect(page.get_by_text("Add a Shopify store to start syncing.")).to_be_visible()
    expect(page.get_by_text("Nothing running.")).to_be_visible()
    expect(page.get_by_text("Live", exact=True)).to_be_visible()  # the WebSocket is up


def test_a_wrong_password_says_why(
    page: Page, served: Served, make_user: Callable[..., User]
) -> None:
    sign_in(page, served, make_user(Role.VIEWER), password="not the password")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_deep_link_survives_a_reload_and_logout_ends_the_session(
    page: Page, served: Served, make_user: Callable[..., User]
) -> None:
    sign_in(page, served, make_user(Role.VIEWER))
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    page.goto(served.base_url + "/no/such/page")  # served index.html, then the app's own route
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(served.base_url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_an_expired_session_returns_to_login_with_a_notice(
    page: Page, served: Served, make_user: Callable[..., User]
) -> None:
    sign_in(page, served, make_user(Role.VIEWER))
    expect(page.get_by_role("heading", name="Sync overview")).to_be_visible()
    # The server no longer accepts the token: the next request's 401 ends the session.
    page.evaluate(
        """() => {
            const session = JSON.parse(sessionStorage.getItem("cowans.session"));
            session.token = "revoked";
            sessionStorage.setItem("cowans.session", JSON.stringify(session));
        }"""
    )
    page.reload()
    expect(page.get_by_text("Your session expired. Please sign in again.")).to_be_visible()
