"""The dashboard in a real browser: Debian's Chromium, driven by Playwright, against the app
served by uvicorn with the real build (web/dist, which `make test` builds first).

Only SQLite: the browser checks the dashboard, not the database. Without the build or Chromium
the tests are skipped with the command that provides them.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from cowans.config import Settings
from cowans.db.models import Role, User
from tests.conftest import PASSWORD
from tests.jobs.test_live_events import Served, serve

DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.skipif(not (DIST / "index.html").is_file(), reason="no web/dist: run `make web`"),
    pytest.mark.skipif(not CHROMIUM.is_file(), reason="no Chromium: run `make system-deps`"),
]


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    yield from serve(settings.model_copy(update={"web_dist_dir": DIST}))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, served: Served, user: User, password: str = PASSWORD) -> None:
    page.goto(served.base_url + "/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


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
