"""A person signs in with a real browser and finds the studio, on a desktop and a phone."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import ARTIFACTS, PHONE, sign_in

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
