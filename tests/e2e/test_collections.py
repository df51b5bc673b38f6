"""Collections and the team gallery in Chromium: make a collection from the gallery's bulk
selection; a teammate finds a team-visible image in the Team view and remixes it, while an
image nobody shared stays out of sight."""

import re
import time
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from playwright.sync_api import expect

from flux2web.collections.models import Collection
from flux2web.jobs.models import Job
from flux2web.studio import references
from tests.collections.factories import made
from tests.e2e.helpers import ARTIFACTS, PHONE, png_bytes, use_session, wait_until
from tests.helpers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def pictured(user, prompt, *, team=False, size=(640, 480), colour=(40, 90, 200)):
    """An image with real pixels, so the browser lays it out at its own shape."""
    image = made(user, prompt, team=team, size=size)
    for name, kind in ((image.original.name, "PNG"), (image.thumbnail.name, "JPEG")):
        with default_storage.open(name, "wb") as handle:
            handle.write(png_bytes(size, colour, kind))
    return image


def test_make_a_collection_from_the_gallery_and_browse_it(
    live_server, page, owner, providers, media
):
    wide = pictured(owner, "a wide harbour at dawn", size=(960, 540))
    tall = pictured(owner, "a tall tower in fog", size=(540, 960), colour=(200, 80, 60))
    pictured(owner, "not chosen")
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")

    # The lightbox shows one's own image to the team, and says so.
    page.locator(f".tile[data-image-id='{wide.pk}'] a[data-lightbox]").click()
    lightbox = page.locator("#lightbox")
    lightbox.get_by_role("button", name="Show to the team").click()
    expect(lightbox.get_by_role("button", name="Make private")).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("now visible to the team")
    wide.refresh_from_db()
    assert wide.team_visible
    page.keyboard.press("Escape")

    page.get_by_label(f"Select image {wide.pk}").check()
    page.get_by_label(f"Select image {tall.pk}").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    page.get_by_role("button", name="Add to collection").click()

    expect(page.get_by_role("heading", name="Add to a collection")).to_be_visible()
    page.get_by_label("New collection's title").fill("Spring campaign — round 2")
    page.get_by_role("button", name="Add 2 images").click()

    expect(page).to_have_url(re.compile(r"/collections/\d+/$"))
    expect(page.get_by_role("heading", name="Spring campaign — round 2")).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("Added 2 images")
    tiles = page.locator(".jgrid .jitem")
    expect(tiles).to_have_count(2)
    collection = Collection.objects.get()
    assert list(collection.items.values_list("image_id", flat=True)) == [tall.pk, wide.pk]

    # Real aspect ratios: the wide tile is wider than the tall one, and both keep their shape.
    wide_box = page.locator(f".jitem[data-image-id='{wide.pk}'] img").bounding_box()
    tall_box = page.locator(f".jitem[data-image-id='{tall.pk}'] img").bounding_box()
    assert wide_box["width"] > tall_box["width"]
    assert abs(wide_box["width"] / wide_box["height"] - 16 / 9) < 0.05
    assert abs(tall_box["width"] / tall_box["height"] - 9 / 16) < 0.05

    # The lightbox opens on a tile and moves with the arrow keys.
    tiles.first.locator("a[data-lightbox]").click()
    box = page.locator("#lightbox")
    expect(box).to_be_visible()
    expect(box.locator(".lb-caption")).to_have_text("a tall tower in fog")
    page.keyboard.press("ArrowRight")
    expect(box.locator(".lb-caption")).to_have_text("a wide harbour at dawn")
    page.keyboard.press("Escape")
    expect(box).to_be_hidden()

    # Reorder without dragging: the ↑ button of the second tile.
    page.get_by_role("button", name="Move image 2 earlier").click()
    expect(tiles.first).to_have_attribute("data-image-id", str(wide.pk))
    assert list(collection.items.order_by("position").values_list("image_id", flat=True)) == [
        wide.pk, tall.pk]  # fmt: skip
    # And by dragging: the script sends the new order, the grid comes back with it.
    tiles.nth(1).drag_to(tiles.first)
    expect(tiles.first).to_have_attribute("data-image-id", str(tall.pk))
    order = collection.items.order_by("position").values_list("image_id", flat=True)
    wait_for(lambda: list(order.all()) == [tall.pk, wide.pk], message="the dragged order saved")
    expect(page.get_by_role("button", name="Move image 2 earlier")).to_be_visible()
    expect(page.get_by_role("link", name="Share")).to_have_attribute(
        "href", f"/collections/{collection.pk}/sharing"
    )
    page.screenshot(path=ARTIFACTS / "collection.png", full_page=True)


def test_a_teammate_sees_a_team_visible_image_and_remixes_it_an_outsider_does_not(
    live_server, new_page, owner, teammate, outsider, providers, media
):
    shown = pictured(owner, "a lighthouse the team may see", team=True)
    hidden = pictured(outsider, "oscar's private sketch")
    page = new_page(viewport=PHONE)
    use_session(page, live_server, Client(), teammate)

    page.goto(live_server.url + "/gallery/")
    page.get_by_role("link", name="Team", exact=True).click()
    expect(page).to_have_url(re.compile(r"/gallery/team/$"))
    tile = page.locator(f"#team-grid .tile[data-image-id='{shown.pk}']")
    expect(tile).to_contain_text("a lighthouse the team may see")
    expect(tile).to_contain_text("olivia")
    expect(page.get_by_text("oscar's private sketch")).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "team-gallery-phone.png", full_page=True)

    tile.get_by_role("link", name="Remix").click()
    expect(page.get_by_role("status").filter(has_text="Remixing olivia's image")).to_be_visible()
    expect(page.get_by_label("Prompt", exact=True)).to_have_value("a lighthouse the team may see")
    expect(page.locator("#estimate")).not_to_have_text("–")  # the price, before spending
    page.locator(".sharing-choices").screenshot(path=ARTIFACTS / "studio-remix-phone.png")
    page.get_by_label("Prompt", exact=True).fill("the same lighthouse in a storm")
    page.get_by_role("button", name="Generate").click()

    card = page.locator("#job-list .job-card").first
    expect(card).to_contain_text("the same lighthouse in a storm")
    remix = Job.objects.get(owner=teammate)
    assert remix.remix_of_id == shown.pk
    page.goto(live_server.url + f"/jobs/{remix.pk}/")
    family = page.locator(".family")
    expect(family).to_contain_text("Remix of an image by olivia")
    expect(family).to_contain_text("a lighthouse the team may see")
    page.screenshot(path=ARTIFACTS / "remix-family-phone.png", full_page=True)

    # What nobody shared stays the same 404. (Files are checked through Django's client:
    # the live server's own media handler serves MEDIA_URL without our view.)
    assert page.goto(live_server.url + f"/?image={hidden.pk}").status == 404
    as_teammate = Client()
    as_teammate.force_login(teammate)
    for name in (hidden.thumbnail.name, hidden.original.name):
        assert as_teammate.get(f"/media/{name}").status_code == 404
    assert as_teammate.get(f"/media/{shown.thumbnail.name}").status_code == 200

    # The outsider, in a browser of their own, sees the team's image but not olivia's
    # private one, and cannot open a remix of it either.
    private = pictured(owner, "olivia's private draft")
    theirs = new_page()
    use_session(theirs, live_server, Client(), outsider)
    theirs.goto(live_server.url + "/gallery/team/")
    expect(theirs.locator(f"#team-grid .tile[data-image-id='{shown.pk}']")).to_be_visible()
    expect(theirs.get_by_text("olivia's private draft")).to_have_count(0)
    assert theirs.goto(live_server.url + f"/?image={private.pk}").status == 404


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 850}, PHONE], ids=["1366", "390"])
def test_the_team_gallery_shows_each_image_at_its_shape_as_mine_does(
    live_server, new_page, owner, teammate, providers, media, viewport
):
    wide = pictured(owner, "a lighthouse at golden hour, cinematic", team=True, size=(960, 540))
    tall = pictured(owner, "a tall tower in fog", team=True, size=(540, 960))

    def shapes(user, path):
        page = new_page(viewport=viewport)
        use_session(page, live_server, Client(), user)
        page.goto(live_server.url + path)
        found = {}
        for image in (wide, tall):
            img = page.locator(f".tile[data-image-id='{image.pk}'] img")
            expect(img).to_be_visible()
            box = img.bounding_box()
            found[image.pk] = box["width"] / box["height"]
        # Whose it is and what it says show over the picture, as on Mine, on a hover.
        page.locator(f".tile[data-image-id='{wide.pk}']").hover()
        caption = page.locator(f".tile[data-image-id='{wide.pk}'] figcaption")
        expect(caption).to_contain_text("a lighthouse at golden hour")
        shown = f".tile[data-image-id='{wide.pk}'] figcaption"
        wait_until(
            page, f'() => getComputedStyle(document.querySelector("{shown}")).opacity === "1"'
        )
        page.screenshot(
            path=ARTIFACTS / f"tiles-{path.strip('/').replace('/', '-')}-{viewport['width']}.png"
        )
        return found

    team, mine = shapes(teammate, "/gallery/team/"), shapes(owner, "/gallery/")
    for image, ratio in ((wide, 16 / 9), (tall, 9 / 16)):
        assert team[image.pk] == pytest.approx(ratio, rel=0.04)
        assert team[image.pk] == pytest.approx(mine[image.pk], rel=0.01)


def reference_of(image, owner, *, base):
    """A reference `owner` made an hour ago: of `image` ("Use as reference"), or from their
    disk. (Its link is signed an hour ago, so one signed afresh always differs from it.)"""
    upload = SimpleUploadedFile("ref.png", png_bytes((320, 240), (220, 120, 40)), "image/png")
    ref = references.store_upload(owner=owner, upload=upload, source_image=image)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3600):
        return references.public_url(ref, base=base)


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 850}, PHONE], ids=["1366", "390"])
def test_a_teammates_remix_carries_the_references_they_may_see_and_says_what_it_left(
    live_server, new_page, owner, teammate, providers, media, viewport
):
    sky = pictured(owner, "a team-visible sky", team=True)
    parent = pictured(owner, "a kite with two references", team=True)
    urls = [
        reference_of(sky, owner, base=live_server.url),
        reference_of(None, owner, base=live_server.url),
    ]
    Job.objects.filter(pk=parent.job_id).update(reference_urls=urls)
    page = new_page(viewport=viewport)
    use_session(page, live_server, Client(), teammate)
    page.goto(live_server.url + f"/?image={parent.pk}")

    tiles = page.locator(".references .previews.carried li")
    expect(tiles).to_have_count(1)
    thumb = tiles.locator("img")
    expect(thumb).to_be_visible()
    wait_until(page, "() => document.querySelector('.carried img').naturalWidth > 0")
    expect(tiles.get_by_label("Use reference image 1")).to_be_checked()
    expect(page.locator(".references")).to_contain_text(
        "1 reference of the original was not carried over: you may not see it."
    )
    expect(page.get_by_label("Reference image URLs")).to_have_value("")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.locator(".references").screenshot(
        path=ARTIFACTS / f"remix-references-{viewport['width']}.png"
    )

    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#job-list .job-card").first).to_contain_text("a kite with two references")
    (url,) = Job.objects.get(owner=teammate).reference_urls
    assert "/refs/" in url and url != urls[0]  # signed afresh for the remixer


def test_a_remix_carries_its_references_without_javascript(
    live_server, browser, owner, providers, media
):
    parent = pictured(owner, "my kite with a reference")
    (url,) = [reference_of(None, owner, base=live_server.url)]
    Job.objects.filter(pk=parent.job_id).update(reference_urls=[url])
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        use_session(page, live_server, Client(), owner)
        page.goto(live_server.url + f"/?remix={parent.job_id}")
        thumb = page.locator(".references .previews.carried img")
        expect(thumb).to_be_visible()
        assert thumb.evaluate("img => img.naturalWidth") > 0
        page.get_by_role("button", name="Generate").click()
        expect(page.locator("#messages")).to_contain_text("Queued 1 image")
        new = Job.objects.exclude(pk=parent.job_id).get()
        assert len(new.reference_urls) == 1 and "/refs/" in new.reference_urls[0]
    finally:
        context.close()
