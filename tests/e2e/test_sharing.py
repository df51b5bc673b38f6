"""Sharing a collection by link, in Debian's Chromium against a live server: the owner makes
a link with a password and an expiry on the collection's Sharing page; a visitor in a
fresh browser (a phone) unlocks it, uses the lightbox, downloads all; the owner revokes
it and the visitor gets the 404 page."""

import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from flux2web.links.models import ShareLink
from tests.collections.factories import make_collection, make_image
from tests.e2e.helpers import ARTIFACTS, PHONE, use_session, wait_until
from tests.links.factories import share

pytestmark = pytest.mark.django_db(transaction=True)

# A finger moving 150 px to the left across the lightbox.
SWIPE_LEFT = """() => {
  const box = document.getElementById('share-lightbox');
  const at = (x) => new Touch({identifier: 1, target: box, clientX: x, clientY: 300});
  box.dispatchEvent(new TouchEvent('touchstart', {touches: [at(300)], changedTouches: [at(300)]}));
  box.dispatchEvent(new TouchEvent('touchend', {touches: [], changedTouches: [at(150)]}));
}"""


def test_share_a_collection_with_a_password_unlock_browse_download_and_revoke(
    live_server, new_page, owner, media, tmp_path
):
    images = [make_image(owner, size=(120 + 40 * n, 90)) for n in range(3)]
    collection = make_collection(owner, images)

    page = new_page()
    use_session(page, live_server, Client(), owner)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server.url}/collections/{collection.pk}/sharing")
    expect(page.get_by_role("heading", name="Sharing “Spring campaign — round 2”")).to_be_visible()
    page.get_by_label("Label").fill("Client A")
    default = (timezone.localdate() + timedelta(days=30)).isoformat()
    expect(page.get_by_label("Expires after")).to_have_value(default)
    expiry = (timezone.localdate() + timedelta(days=7)).isoformat()
    page.get_by_label("Expires after").fill(expiry)
    page.get_by_label("Password", exact=True).fill("open sesame")
    page.get_by_label("Downloads").select_option("original")
    page.get_by_role("button", name="Make link").click()
    expect(page.locator("#messages")).to_contain_text("Made the link “Client A”")
    address = page.locator("input.copy").first.input_value()
    assert address.startswith(live_server.url + "/s/spring-campaign-round-2-")
    assert "open sesame" not in page.content()
    expect(page.locator("tr.link-row").first).to_contain_text(expiry + " 23:59")
    page.screenshot(path=ARTIFACTS / "share-panel.png", full_page=True)

    visitor = new_page(viewport=PHONE)
    blocked = []
    visitor.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else 0)
    first = visitor.goto(address)
    assert first.headers["x-robots-tag"] == "noindex, nofollow"
    # Locked: nothing of the link, not even its title (README: previews and the locked page).
    expect(visitor.get_by_role("heading", name="Shared images")).to_be_visible()
    expect(visitor.get_by_text("Spring campaign")).to_have_count(0)
    visitor.get_by_label("Password").fill("not it")
    visitor.get_by_role("button", name="View images").click()
    expect(visitor.get_by_role("alert")).to_have_text("That password is not right.")
    visitor.get_by_label("Password").fill("open sesame")
    visitor.get_by_role("button", name="View images").click()
    expect(visitor.get_by_role("heading", name="Spring campaign — round 2")).to_be_visible()
    expect(visitor.locator("figure.tile")).to_have_count(3)
    # Every picture arrives (each is its own request to the access-checked media view).
    wait_until(
        visitor,
        "() => [...document.querySelectorAll('figure.tile img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
    )
    # Real aspect ratios, and nothing wider than the phone.
    assert visitor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    visitor.screenshot(path=ARTIFACTS / "share-phone.png", full_page=True)

    visitor.locator("figure.tile a[data-lb]").first.click()
    lightbox = visitor.locator("#share-lightbox")
    expect(lightbox).to_be_visible()
    expect(lightbox.locator(".lb-count")).to_have_text("1 / 3")
    visitor.keyboard.press("ArrowRight")
    expect(lightbox.locator(".lb-count")).to_have_text("2 / 3")
    expect(lightbox.locator("img")).to_have_attribute("src", re.compile(r"/i/\d+/web$"))
    visitor.keyboard.press("ArrowLeft")
    expect(lightbox.locator(".lb-count")).to_have_text("1 / 3")
    visitor.evaluate(SWIPE_LEFT)
    expect(lightbox.locator(".lb-count")).to_have_text("2 / 3")
    visitor.keyboard.press("ArrowLeft")
    lightbox.get_by_role("button", name="Slideshow (space)").click()
    expect(lightbox.locator(".lb-count")).to_have_text("2 / 3", timeout=6_000)
    expect(lightbox.get_by_role("link", name="Download")).to_be_visible()
    visitor.screenshot(path=ARTIFACTS / "share-lightbox-phone.png")
    visitor.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()

    with visitor.expect_download() as download:
        visitor.get_by_role("link", name="Download all (3)").click()
    saved = tmp_path / "all.zip"
    download.value.save_as(saved)
    archive = zipfile.ZipFile(io.BytesIO(saved.read_bytes()))
    assert len(archive.namelist()) == 3
    assert all(b"BLUEBIRD" not in archive.read(name) for name in archive.namelist())
    assert not blocked, blocked

    link = ShareLink.objects.get()
    assert link.views >= 1 and link.downloads_count == 1 and link.failed_passwords == 1
    page.reload()
    row = page.locator(f'tr[data-link-id="{link.pk}"]')
    expect(row).to_contain_text("Client A")
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator("#messages")).to_contain_text("Revoked “Client A”")

    gone = visitor.goto(address)
    assert gone.status == 404
    expect(visitor.get_by_role("heading", name="This link does not work")).to_be_visible()
    image = visitor.request.get(f"{address}i/{collection.images.first().pk}/thumb")
    assert image.status == 404


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 850}, PHONE], ids=["1366", "390"])
def test_an_expired_link_is_extended_from_its_row_and_its_address_opens_again(
    live_server, new_page, owner, media, viewport
):
    collection = make_collection(owner, [make_image(owner) for _ in range(2)])
    page = new_page(viewport=viewport)
    use_session(page, live_server, Client(), owner)
    page.goto(f"{live_server.url}/collections/{collection.pk}/sharing")
    page.get_by_label("Label").fill("Client A")
    page.get_by_role("button", name="Make link").click()
    expect(page.locator("#messages")).to_contain_text("Made the link “Client A”")
    address = page.locator("input.copy").first.input_value()
    ShareLink.objects.update(
        created_at=timezone.now() - timedelta(days=40), expires_at=timezone.now() - timedelta(1)
    )

    visitor = new_page(viewport=PHONE)
    assert visitor.goto(address).status == 404
    page.goto(f"{live_server.url}/links/")
    row = page.locator("tr.link-row", has_text="Client A")
    expect(row).to_contain_text("expired")
    # Its title once, though the collection has the same one.
    assert row.locator("td").first.inner_text().count("Spring campaign — round 2") == 1
    until = (timezone.localdate() + timedelta(days=14)).isoformat()
    row.get_by_label("Works until").fill(until)
    extend = row.get_by_role("button", name="Extend")
    extend.scroll_into_view_if_needed()
    expect(extend).to_be_in_viewport()
    page.screenshot(path=ARTIFACTS / f"share-expired-{viewport['width']}.png", full_page=True)
    extend.click()
    expect(page.locator("#messages")).to_contain_text(
        f"“Client A” works again until {until}, at the same address."
    )
    expect(row).to_contain_text("live")
    assert page.locator("input.copy").first.input_value() == address
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.wait_for_load_state()  # app.js, deferred, has run
    row.get_by_role("button", name="Copy").click()
    expect(row.locator("button[data-copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == address
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=ARTIFACTS / f"share-extended-{viewport['width']}.png", full_page=True)
    assert visitor.goto(address).status == 200
    expect(visitor.get_by_role("heading", name="Spring campaign — round 2")).to_be_visible()


TILES_SPAN = """() => {
  const grid = document.getElementById('share-grid').getBoundingClientRect();
  const tiles = [...document.querySelectorAll('#share-grid figure.tile')]
    .map(t => t.getBoundingClientRect());
  return {left: Math.min(...tiles.map(t => t.left)) - grid.left,
          right: grid.right - Math.max(...tiles.map(t => t.right))};
}"""


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 850}, PHONE], ids=["1366", "390"])
@pytest.mark.parametrize("count", [1, 2, 3])
def test_a_share_page_of_few_images_fills_its_width(
    live_server, new_page, owner, media, viewport, count
):
    sizes = [(160, 90), (90, 160), (120, 120)][:count]
    collection = make_collection(owner, [make_image(owner, size=size) for size in sizes])
    _, path = share(owner, collection=collection)
    page = new_page(viewport=viewport)
    page.goto(live_server.url + path)
    expect(page.locator("figure.tile")).to_have_count(count)
    wait_until(page, "() => [...document.images].every(i => i.complete)")
    span = page.evaluate(TILES_SPAN)
    assert span["left"] <= 1 and span["right"] <= 1, span  # no empty band on either side
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    # A tall image is not taller than the screen.
    tallest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('figure.tile img')]"
        ".map(i => i.getBoundingClientRect().height))"
    )
    assert tallest <= viewport["height"]
    name = f"share-{count}-images-{viewport['width']}.png"
    page.screenshot(path=ARTIFACTS / name, full_page=True)


def test_no_page_asks_for_a_missing_icon(live_server, new_page, owner, media):
    collection = make_collection(owner, [make_image(owner)])
    _, path = share(owner, collection=collection)
    page = new_page()
    missing = []
    page.on("response", lambda r: r.status >= 400 and missing.append(f"{r.status} {r.url}"))
    for url in (path, "/accounts/login/", "/"):
        if url == "/":
            use_session(page, live_server, Client(), owner)
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
        assert missing == [], url
        icon = page.locator('link[rel="icon"]')
        expect(icon).to_have_count(1)
        assert page.request.get(live_server.url + icon.get_attribute("href")).ok
    assert page.request.get(live_server.url + "/favicon.ico").ok  # asked for by older clients
    assert missing == []


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 850}, PHONE], ids=["1366", "390"])
def test_a_link_viewed_a_moment_ago_says_just_now(live_server, new_page, owner, media, viewport):
    link, _ = share(owner, image_ids=[make_image(owner).pk])
    ShareLink.objects.filter(pk=link.pk).update(last_viewed_at=timezone.now())
    page = new_page(viewport=viewport)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/links/")
    row = page.locator("tr").filter(has_text=link.title)
    expect(row).to_contain_text("just now")
    expect(row).not_to_contain_text("0 minutes")
