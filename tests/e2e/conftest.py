"""What every browser test needs: the app served by uvicorn with the real build, Debian's
Chromium driven by Playwright, a page per test, signing in, and screenshots kept as artifacts.

Only SQLite: the browser checks the dashboard, not the database. Without the build or Chromium
the tests are skipped with the command that provides them.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from cowans.config import Settings
from cowans.db.models import User
from tests.conftest import PASSWORD
from tests.jobs.test_live_events import Served, serve

ROOT = Path(__file__).resolve().parents[2]
# COWANS_WEB_DIST: another build to test (`vite build --outDir ...`), e.g. while web/dist is
# being rebuilt by someone else.
DIST = Path(os.environ.get("COWANS_WEB_DIST") or ROOT / "web" / "dist")
CHROMIUM = Path("/usr/bin/chromium")
# Every page records what its Content-Security-Policy refused; a test fails on any of it, so a
# policy that breaks the dashboard cannot pass the browser tests.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""
# Screenshots of each main page: CI keeps them as artifacts, docs/USER_GUIDE.md shows them.
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    build = pytest.mark.skipif(
        not (DIST / "index.html").is_file(), reason="no web/dist: run `make web`"
    )
    browser = pytest.mark.skipif(
        not CHROMIUM.is_file(), reason="no Chromium: run `make system-deps`"
    )
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(build)
            item.add_marker(browser)


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    yield from serve(settings.model_copy(update={"web_dist_dir": DIST}))


# Per module, not per session: Playwright's sync API keeps an event loop running in this thread
# while it is open, and the asyncio tests of the other folders cannot start theirs meanwhile.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    yield page
    violations = csp_violations(page)
    context.close()
    assert violations == [], f"the Content-Security-Policy refused: {violations}"


def csp_violations(page: Page) -> list[str]:
    """What the page's policy refused since it loaded (empty when the page is already gone)."""
    with contextlib.suppress(PlaywrightError):
        return page.evaluate("window.__cspViolations || []")
    return []


def sign_in(page: Page, served: Served, user: User, password: str = PASSWORD) -> None:
    page.goto(served.base_url + "/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def navigate(page: Page, name: str) -> None:
    """Follow the side navigation, as a person moves between pages (no reload)."""
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def notice(page: Page, text: str) -> Locator:
    """The newest notification saying `text` (an earlier one may still be fading)."""
    return page.get_by_role("alert").filter(has_text=text).last


def auth_headers(served: Served, user: User, password: str = PASSWORD) -> dict[str, str]:
    """A bearer header for `user`, for setting up or checking state beside the browser."""
    response = served.http.post("/api/auth/login", json={"email": user.email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def settle(page: Page) -> None:
    """Before a screenshot: no notification over the page, no dialog half faded in."""
    for close in page.locator(".mantine-Notification-closeButton").all():
        with contextlib.suppress(PlaywrightError):  # it may close by itself meanwhile
            close.click(timeout=2_000)
    expect(page.locator(".mantine-Notification-root")).to_have_count(0, timeout=10_000)
    for dialog in page.locator(".mantine-Modal-content").all():
        expect(dialog).to_have_css("opacity", "1")


def screenshot(page: Page, name: str) -> Path:
    """Save the page as test-artifacts/screenshots/<name>.png (full page) and return the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
