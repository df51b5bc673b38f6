"""Image-first results in Chromium: a generation of four 16:9 images is one block showing
four pictures at 16:9 (never square crops), two by two; the gallery and the job page show
real shapes too; dark mode follows the switch. Screenshots in tests/e2e/artifacts/."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.e2e.helpers import ARTIFACTS, PHONE, batch_of_four, use_session, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
LOADED = (
    "() => [...document.querySelectorAll('.job-visual img')]"
    ".every(i => i.complete && i.naturalWidth)"
)


SHAPE = """el => { const b = el.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; }"""


def ratio(box) -> float:
    return box[2] / box[3]


def test_a_batch_of_four_16_9_images_is_one_card_of_four_wide_pictures(
    live_server, new_page, owner, providers, media
):
    batch_of_four(owner)
    page = new_page()
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    batch = page.locator("#job-list .batch")
    expect(batch).to_have_count(1)
    expect(batch.locator(".job-card")).to_have_count(4)
    expect(batch).to_contain_text("4 images")
    pictures = batch.locator(".job-visual img")
    expect(pictures).to_have_count(4)
    wait_until(page, LOADED)
    boxes = [pictures.nth(n).evaluate(SHAPE) for n in range(4)]
    for box in boxes:
        assert abs(ratio(box) - 16 / 9) < 0.05, boxes  # the real shape, not a square crop
    rows = sorted({round(box[1]) for box in boxes})
    assert len(rows) == 2, boxes  # two by two
    batch.screenshot(path=ARTIFACTS / "batch-of-four-16x9.png")

    phone = new_page(viewport=PHONE)
    use_session(phone, live_server, Client(), owner)
    phone.goto(live_server.url + "/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.locator("#job-list .batch").screenshot(path=ARTIFACTS / "batch-of-four-phone.png")


def test_the_gallery_and_the_job_page_show_real_shapes(
    live_server, new_page, owner, providers, media
):
    wide = batch_of_four(owner, "wide ones")[0]
    tall = batch_of_four(owner, "tall ones", size=(360, 640))[0]
    page = new_page()
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")
    wait_until(page, LOADED.replace(".job-visual", "#gallery-grid"))
    wide_img = page.locator(f".tile[data-image-id='{wide.images.get().pk}'] img")
    tall_img = page.locator(f".tile[data-image-id='{tall.images.get().pk}'] img")
    assert abs(ratio(wide_img.evaluate(SHAPE)) - 16 / 9) < 0.1
    assert abs(ratio(tall_img.evaluate(SHAPE)) - 9 / 16) < 0.1
    page.screenshot(path=ARTIFACTS / "gallery-real-shapes.png")
    page.goto(live_server.url + f"/jobs/{tall.pk}/")
    shown = page.locator(".full-image img").first
    expect(shown).to_be_visible()
    assert abs(ratio(shown.evaluate(SHAPE)) - 9 / 16) < 0.05


def test_dark_mode_follows_the_switch_and_the_system(
    live_server, new_page, owner, providers, media
):
    batch_of_four(owner)
    page = new_page()
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    background = "getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    page.locator(".usermenu summary").click()
    page.get_by_role("button", name="Dark").click()
    expect(page.locator("html")).to_have_class("theme-dark")
    assert page.evaluate(background) != light
    page.screenshot(path=ARTIFACTS / "dark-studio.png", full_page=True)
    page.goto(live_server.url + "/gallery/")
    expect(page.locator("html")).to_have_class("theme-dark")  # remembered
    page.screenshot(path=ARTIFACTS / "dark-gallery.png")

    system = new_page()
    system.emulate_media(color_scheme="dark")
    use_session(system, live_server, Client(), owner)
    system.goto(live_server.url + "/")
    assert system.evaluate(background) == page.evaluate(background)
