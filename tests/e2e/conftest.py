"""Playwright driving Debian's Chromium against pytest-django's live server."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still plain synchronous calls on their own connection.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import sync_playwright

from tests.e2e.helpers import ARTIFACTS, DESKTOP

CHROMIUM = Path(os.environ.get("FLUX2WEB_CHROMIUM", "/usr/bin/chromium"))
# What this machine's closed network needs: no background calls home, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def playwright():
    """One Playwright for the session: its sync API allows one per thread."""
    if not CHROMIUM.exists():
        pytest.fail(f"No Chromium at {CHROMIUM}; bin/test installs it (apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module", params=[150, 0], ids=["user-speed", "full-speed"])
def paced_browser(request, playwright):
    """A Chromium acting at a person's speed (a pause before each action) and one at full
    speed (the next click lands while the last answer may still be on its way): a test that
    takes it runs under both."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, slow_mo=request.param
    )
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser):
    """new_page(viewport=PHONE) opens a fresh browser context; all are closed at teardown."""
    contexts = []

    def open_page(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
