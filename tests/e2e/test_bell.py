"""A person on a phone sees the bell's count, opens a notification and sees the count drop;
with JavaScript and without, in light and dark colours."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from flux2web.review import digests
from flux2web.review.models import EmailOptOut
from tests.e2e.helpers import ARTIFACTS, PHONE, use_session
from tests.review.notify_helpers import tell

pytestmark = pytest.mark.django_db(transaction=True)


def phone(browser, live_server, user, *, javascript=True, theme="light"):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    context.add_cookies([{"name": "theme", "value": theme, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    use_session(page, live_server, Client(), user)
    return page


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize(
    ("javascript", "theme", "pause"),
    [(True, "light", 0), (True, "dark", 400), (False, "light", 0), (False, "dark", 400)],
    ids=["js-light-fast", "js-dark-user-speed", "no-js-light-fast", "no-js-dark-user-speed"],
)
def test_two_unread_show_on_the_bell_and_opening_one_leaves_one(
    browser,
    live_server,
    owner,
    javascript,
    theme,
    pause,
):
    tell(owner, "Tomas commented on “Lighthouses”", url=reverse("sharing:collections"))
    tell(owner, "Ana (guest) confirmed 4 picks on “Spring”", kind="selection",
         url=reverse("sharing:collections"))  # fmt: skip
    page = phone(browser, live_server, owner, javascript=javascript, theme=theme)

    page.goto(live_server.url + "/")
    bell = page.get_by_role("link", name=re.compile(r"^Notifications"))
    expect(bell).to_be_visible()
    expect(bell).to_have_accessible_name(re.compile(r"2 unread notifications"))
    expect(bell.locator(".bell-count")).to_have_text("2")
    box = bell.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    fits(page)
    page.screenshot(path=ARTIFACTS / f"bell-{theme}-{'js' if javascript else 'nojs'}.png")

    page.wait_for_timeout(pause)
    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    fits(page)
    assert page.get_by_text("Unread:").count() == 2
    page.screenshot(path=ARTIFACTS / f"notifications-{theme}.png", full_page=True)
    page.wait_for_timeout(pause)
    page.get_by_role("button", name=re.compile("Ana \\(guest\\) confirmed 4 picks")).click()

    expect(page).to_have_url(live_server.url + reverse("sharing:collections"))
    expect(bell).to_have_accessible_name(re.compile(r"1 unread notification$"))
    expect(bell.locator(".bell-count")).to_have_text("1")

    bell.click()
    page.wait_for_timeout(pause)
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_text("1 notification marked as read.")).to_be_visible()
    expect(bell.locator(".bell-count")).to_have_count(0)
    expect(page.get_by_text("Unread:")).to_have_count(0)
    fits(page)


def test_email_settings_save_without_javascript_on_a_phone(browser, live_server, owner):
    page = phone(browser, live_server, owner, javascript=False, theme="dark")

    page.goto(live_server.url + reverse("review:notifications"))
    page.get_by_role("link", name="E-mail settings").click()
    page.get_by_label("Mentions of you").uncheck()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("E-mail settings saved.")).to_be_visible()
    expect(page.get_by_label("Mentions of you")).not_to_be_checked()
    expect(page.get_by_label("Comments on your images")).to_be_checked()
    fits(page)


def test_an_unsubscribe_link_works_in_a_fresh_browser_without_javascript(
    browser, live_server, owner
):
    token = digests.unsubscribe_token(user_id=owner.pk, kind="selection")
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()

    page.goto(live_server.url + reverse("review:unsubscribe", args=[token]))
    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_text("no more e-mails about clients' confirmed selections")).to_be_visible()
    assert list(EmailOptOut.objects.values_list("kind", flat=True)) == ["selection"]
    fits(page)
    context.close()
