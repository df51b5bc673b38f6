"""What the notification tests share: notifying someone the real way, signed-in clients,
and a Chromium for the bell's browser test."""

import os
from pathlib import Path

import pytest
from django.test import Client

from flux2web.review.models import Notification
from flux2web.review.notifications import notify

CHROMIUM = Path(os.environ.get("FLUX2WEB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip


def tell(user, text="Tomas commented on your image", *, kind="image_comment", url="/jobs/1/",
         key="", actor=None) -> Notification:  # fmt: skip
    """Notify `user` through `notify`, and return their newest notification."""
    notify(recipients=[user], kind=kind, text=text, url=url, key=key, actor=actor)
    return Notification.objects.filter(recipient=user).first()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(name="chromium")
def chromium_browser(monkeypatch):
    """`chromium`: a Chromium for one test; pages opened with `chromium.new_context(...)`.
    Imported by a test module to be found there."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls between browser
    # steps are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not CHROMIUM.exists():
        pytest.fail(f"No Chromium at {CHROMIUM}; bin/test installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
