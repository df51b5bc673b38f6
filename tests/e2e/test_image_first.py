"""Image-first results in Chromium: a generation of four 16:9 images is one block showing
four pictures at 16:9 (never square crops), two by two; the gallery and the job page show
real shapes too; dark mode follows the switch. Screenshots in tests/e2e/artifacts/."""

import time

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from flux2web.accounts.models import gallery_changed
from flux2web.jobs.models import Image, Job
from tests.e2e.conftest import ARTIFACTS, PHONE
from tests.e2e.test_studio import png_bytes, use_session
from tests.jobs.conftest import make_jobs

pytestmark = pytest.mark.django_db(transaction=True)
COLOURS = [(220, 90, 60), (60, 140, 220), (90, 180, 110), (200, 170, 60)]
LOADED = (
    "() => [...document.querySelectorAll('.job-visual img')]"
    ".every(i => i.complete && i.naturalWidth)"
)


def wait_until(page, predicate: str, seconds: float = 10) -> None:
    """Poll `predicate` (a JS function) from here: Playwright's wait_for_function evaluates
    its predicate with eval() inside the page, which our CSP (rightly) forbids."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(predicate):
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        page.wait_for_timeout(50)


SHAPE = """el => { const b = el.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; }"""


def batch_of_four(owner, prompt="a coastline at golden hour, four takes", size=(640, 360)):
    jobs = make_jobs(owner, prompt=prompt, count=4, aspect_ratio="16:9")
    for job, colour in zip(jobs, COLOURS, strict=True):
        image = Image(
            job=job, owner_id=owner.pk, provider_url="http://x/1.png", width=size[0],
            height=size[1], status=Image.Status.MIRRORED, content_type="image/png",
        )  # fmt: skip
        image.original.save("o.png", ContentFile(png_bytes(size, colour)), save=False)
        thumb = (size[0] // 2, size[1] // 2)
        image.thumbnail.save("t.jpg", ContentFile(png_bytes(thumb, colour, "JPEG")), save=False)
        image.save()
        Job.objects.filter(pk=job.pk).update(state="succeeded", finished_at=timezone.now())
    gallery_changed(owner.pk)
    return jobs


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
