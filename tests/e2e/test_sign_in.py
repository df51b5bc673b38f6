"""A person signs in with a real browser and finds the studio, on a desktop and a phone."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.e2e.helpers import ARTIFACTS, PHONE, sign_in, use_session

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_person_signs_in_sees_the_studio_and_signs_out(live_server, page, owner):
    sign_in(page, live_server.url)

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", name="Studio")).to_be_visible()
    expect(page.get_by_role("heading", name="Your jobs")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "studio-desktop.png", full_page=True)

    page.get_by_label("Account menu for olivia").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_wrong_password_is_explained_and_keeps_the_person_out(live_server, page, owner):
    sign_in(page, live_server.url, password="wrong password")

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_the_studio_fits_a_phone(live_server, new_page, owner):
    page = new_page(viewport=PHONE)
    sign_in(page, live_server.url)
    expect(page.get_by_role("heading", name="Studio")).to_be_visible()

    # Nothing runs off the side of a 390 px screen, and the open menu stays on it.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("Account menu for olivia").click()
    menu = page.get_by_role("menu").bounding_box()
    assert menu["x"] >= 0
    assert menu["x"] + menu["width"] <= PHONE["width"]
    page.screenshot(path=ARTIFACTS / "studio-phone.png", full_page=True)


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 850}, PHONE], ids=["1366", "390"])
def test_an_invited_member_gets_a_copied_link_sets_a_password_and_is_signed_in(
    live_server, new_page, django_user_model, viewport
):
    admin = django_user_model.objects.create_user("ada", is_team_admin=True)
    page = new_page(viewport=viewport)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    use_session(page, live_server, Client(), admin)
    page.goto(live_server.url + "/team/")
    page.get_by_label("Username").fill("nadia")
    page.get_by_role("button", name="Invite").click()
    notice = page.get_by_role("region", name="One-time link for nadia")
    expect(notice).to_be_visible()
    page.wait_for_load_state()  # app.js, deferred, has run
    link = notice.get_by_label("Set-password link for nadia").input_value()
    copy = notice.get_by_role("button", name="Copy")
    copy.click()
    copy = notice.locator("button[data-copy]")  # its name changes
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=ARTIFACTS / f"invite-link-{viewport['width']}.png", full_page=True)

    member = new_page(viewport=viewport)
    member.goto(link)
    expect(member.get_by_role("heading", name="Set your password")).to_be_visible()
    member.get_by_label("New password", exact=True).fill("a long new pass 123")
    member.get_by_label("New password confirmation").fill("a long new pass 123")
    member.get_by_role("button", name="Set password").click()
    expect(member).to_have_url(live_server.url + "/")
    expect(member.get_by_role("heading", name="Studio")).to_be_visible()
    expect(member.locator("#messages")).to_contain_text("Your password is set")
    expect(member.get_by_label("Account menu for nadia")).to_be_visible()
    # The link was spent.
    member.goto(link)
    expect(member.get_by_role("heading", name="This link no longer works")).to_be_visible()
