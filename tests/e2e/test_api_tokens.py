"""API tokens in a browser: a person makes one from the account menu, copies it from the
one page that shows it, and revokes it, on a phone and a laptop, light and dark, with and
without JavaScript; an admin revokes a member's from their Team page."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from flux2web.accounts import api_tokens
from tests.e2e.helpers import ARTIFACTS, PHONE, use_session
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
LAPTOP = {"width": 1366, "height": 850}
TOKEN = re.compile(r"^f2w_[A-Za-z0-9_-]{43}$")


def open_page(browser, live_server, user, *, viewport, theme, javascript=True):
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    context.add_cookies([{"name": "theme", "value": theme, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())  # Revoke asks first, with JavaScript
    use_session(page, live_server, Client(), user)
    return page


def no_sideways_scrolling(page, viewport):
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1366px"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_person_makes_copies_and_revokes_a_token(
    browser, live_server, owner, viewport, theme, javascript
):
    page = open_page(
        browser, live_server, owner, viewport=viewport, theme=theme, javascript=javascript
    )
    page.goto(live_server.url + "/usage/")
    page.locator(".usermenu summary").click()
    page.get_by_role("menuitem", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()
    expect(page.get_by_text("You have no API tokens yet")).to_be_visible()
    no_sideways_scrolling(page, viewport)

    page.get_by_label("Name").fill("a rather long name for the nightly export script")
    page.get_by_label("Expires after (days)").fill("30")
    page.get_by_role("button", name="Make a token").click()
    shown = page.get_by_label("Your new API token")
    expect(shown).to_be_visible()
    raw = shown.input_value()
    assert TOKEN.match(raw)
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    no_sideways_scrolling(page, viewport)
    name = f"api-token-new-{viewport['width']}-{theme}-{'js' if javascript else 'nojs'}.png"
    page.screenshot(path=ARTIFACTS / name, full_page=True)
    assert api_tokens.authenticate(raw).owner == owner

    page.goto(live_server.url + "/api-tokens/")
    assert raw not in page.content()
    row = page.locator(".token-row", has_text="nightly export")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("expires")
    no_sideways_scrolling(page, viewport)
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("no longer works")).to_be_visible()
    expect(page.locator(".token-row", has_text="nightly export")).to_contain_text("revoked")
    assert api_tokens.authenticate(raw) is None
    page.context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_an_admin_revokes_a_members_token_from_their_team_page_on_a_phone(
    browser, live_server, owner, django_user_model, theme
):
    admin = django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)
    _, raw = api_tokens.token_create(owner=owner, name="olivia's laptop", days=7)
    page = open_page(browser, live_server, admin, viewport=PHONE, theme=theme)
    page.goto(f"{live_server.url}/team/{owner.pk}/")
    section = page.locator("#api-tokens")
    expect(section).to_contain_text("olivia's laptop")
    no_sideways_scrolling(page, PHONE)
    page.screenshot(path=ARTIFACTS / f"api-tokens-member-390-{theme}.png", full_page=True)
    section.get_by_role("button", name="Revoke").click()
    expect(page).to_have_url(f"{live_server.url}/team/{owner.pk}/")
    expect(page.locator("#api-tokens")).to_contain_text("revoked")
    assert api_tokens.authenticate(raw) is None

    page.goto(live_server.url + "/api-tokens/all/")
    expect(page.locator(".token-row", has_text="olivia's laptop")).to_contain_text("olivia")
    no_sideways_scrolling(page, PHONE)
    page.context.close()
