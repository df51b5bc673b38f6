"""The lightbox does things (issue 12, deliver 2): download, favourite, copy prompt, remix,
use as a reference for the next job, add to a collection, share; arrows, Esc and swipe;
the address names the open image, so it can be linked and Back closes it."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from flux2web.jobs.models import Job
from tests.e2e.helpers import ARTIFACTS, PHONE, batch_of_four, use_session

pytestmark = pytest.mark.django_db(transaction=True)
TOOLS = ["Download", "Favourite", "Copy prompt", "Remix", "Use as reference",
         "Add to (a new )?collection", "Share", "Show to the team"]  # fmt: skip


def test_the_lightbox_acts_on_the_open_image_and_the_address_follows_it(
    live_server, new_page, owner, providers, media
):
    jobs = batch_of_four(owner)
    images = [job.images.get() for job in jobs]
    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")
    newest = images[-1]
    page.locator(f".tile[data-image-id='{newest.pk}'] a[data-lightbox]").click()
    box = page.locator("#lightbox")
    expect(box).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/gallery/#image-{newest.pk}")
    for tool in TOOLS:
        name = re.compile(tool)
        control = box.get_by_role("button", name=name).or_(box.get_by_role("link", name=name))
        expect(control).to_be_visible()
    expect(box.get_by_role("link", name="Download")).to_have_attribute(
        "href", f"/media/{newest.original.name}?download=1"
    )
    page.screenshot(path=ARTIFACTS / "lightbox-actions.png")

    box.get_by_role("button", name="Favourite").click()
    expect(box.get_by_role("button", name="★ Favourite")).to_be_visible()
    assert Job.objects.get(pk=newest.job_id).favourite

    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(f"{live_server.url}/gallery/#image-{images[-2].pk}")
    page.go_back()  # Back closes the lightbox, it does not leave the gallery
    expect(box).to_be_hidden()
    expect(page).to_have_url(f"{live_server.url}/gallery/")

    # A linked image opens by itself.
    page.goto(f"{live_server.url}/gallery/#image-{images[0].pk}")
    page.reload()
    expect(box).to_be_visible()
    expect(box.locator("img")).to_have_attribute("src", f"/media/{images[0].original.name}")
    page.keyboard.press("Escape")
    expect(box).to_be_hidden()

    page.locator(f".tile[data-image-id='{images[1].pk}'] a[data-lightbox]").click()
    box.get_by_role("button", name="Use as reference").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_label("Reference image URLs")).to_have_value(re.compile("/refs/"))
    expect(page.locator("#messages")).to_contain_text("reference for your next job")


def test_swipe_moves_through_the_images_on_a_phone(live_server, new_page, owner, providers, media):
    jobs = batch_of_four(owner)
    images = [job.images.get() for job in jobs]
    page = new_page(viewport=PHONE)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")
    page.locator(f".tile[data-image-id='{images[-1].pk}'] a[data-lightbox]").click()
    page.evaluate("""() => {
      const box = document.getElementById('lightbox');
      const touch = x => [new Touch({identifier: 1, target: box, clientX: x, clientY: 300})];
      box.dispatchEvent(new TouchEvent('touchstart', {touches: touch(300), bubbles: true}));
      box.dispatchEvent(new TouchEvent('touchend', {changedTouches: touch(120), bubbles: true}));
    }""")
    expect(page).to_have_url(f"{live_server.url}/gallery/#image-{images[-2].pk}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=ARTIFACTS / "lightbox-phone.png")
