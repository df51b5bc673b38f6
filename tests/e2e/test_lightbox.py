"""The lightbox does things: download, favourite, copy prompt, remix,
use as a reference for the next job, add to a collection, share; arrows, Esc and swipe;
the address names the open image, so it can be linked and Back closes it."""

import io
import re

import pytest
from django.test import Client
from PIL import Image as PILImage
from PIL import ImageChops
from playwright.sync_api import expect

from flux2web.jobs.models import Job
from tests.e2e.helpers import ARTIFACTS, PHONE, batch_of_four, use_session, wait_until

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
    expect(page.locator("#messages")).to_contain_text("reference for your next job")
    reference_is_a_tile(page)


def test_an_image_opened_just_as_the_last_one_closed_keeps_its_address(
    live_server, new_page, owner, providers, media
):
    # Closing the lightbox leaves the image's address, in the dialog's "close" event,
    # which comes a moment later. An image opened in between (Back then Forward, or a
    # linked address followed at once) is open when that event comes: its address stays.
    images = [job.images.get() for job in batch_of_four(owner)]
    page = new_page()
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")
    box = page.locator("#lightbox")
    page.locator(f".tile[data-image-id='{images[-1].pk}'] a[data-lightbox]").click()
    expect(box).to_be_visible()

    page.evaluate(
        """(hash) => {
            document.getElementById("lightbox").close();  // its "close" event comes later
            location.hash = hash;  // another image is asked for before it does
        }""",
        f"#image-{images[0].pk}",
    )

    expect(box).to_be_visible()
    expect(box.locator("img")).to_have_attribute("src", f"/media/{images[0].original.name}")
    page.wait_for_timeout(300)
    expect(page).to_have_url(f"{live_server.url}/gallery/#image-{images[0].pk}")
    page.reload()
    expect(box).to_be_visible()


def reference_is_a_tile(page):
    """The image is a tile with its thumbnail, like an upload, not an address to read."""
    tile = page.locator(".references .previews.carried li")
    expect(tile).to_have_count(1)
    expect(tile.locator("img")).to_be_visible()
    wait_until(page, "() => document.querySelector('.carried img').naturalWidth > 0")
    expect(tile.get_by_label("Use reference image 1")).to_be_checked()
    expect(page.get_by_label("Reference image URLs")).to_have_value("")


def test_use_as_reference_on_a_phone_gives_a_tile_that_goes_with_the_job(
    live_server, new_page, owner, providers, media
):
    jobs = batch_of_four(owner)
    page = new_page(viewport=PHONE)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")
    page.locator(f".tile[data-image-id='{jobs[0].images.get().pk}'] a[data-lightbox]").click()
    page.locator("#lightbox").get_by_role("button", name="Use as reference").click()
    expect(page).to_have_url(live_server.url + "/")
    reference_is_a_tile(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator(".references").screenshot(path=ARTIFACTS / "use-as-reference-phone.png")
    page.get_by_label("Prompt", exact=True).fill("the same coast at night")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#job-list .job-card").first).to_contain_text("the same coast at night")
    (url,) = Job.objects.get(prompt="the same coast at night").reference_urls
    assert "/refs/" in url


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


HITS = """([x0, y0, x1, y1]) => {
  const found = [];
  for (let x = x0 + 1; x < x1; x += 4) for (let y = y0 + 1; y < y1; y += 4) {
    const hit = document.elementFromPoint(x, y);
    if (hit && !hit.closest('#lightbox')) found.push(hit.outerHTML.slice(0, 80));
  }
  return found;
}"""


def changed_area(a: bytes, b: bytes):
    """The box where two screenshots differ, None where they are the same picture."""
    one, other = (PILImage.open(io.BytesIO(png)).convert("RGB") for png in (a, b))
    return ImageChops.difference(one, other).getbbox()


FONT = "e => getComputedStyle(e).fontSize + ' ' + getComputedStyle(e).fontFamily"
HIDE_PAGE = """() => document.querySelectorAll('.topbar, .gallery, .footer')
  .forEach(part => { part.style.visibility = 'hidden'; })"""


DRAWN = """() => Promise.all([...document.querySelectorAll('#lightbox img')]
  .filter((img) => img.getClientRects().length)
  .map((img) => img.decode().catch(() => null)))
  .then(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))))"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 850}, PHONE], ids=["1366", "390"])
def test_nothing_of_the_page_shows_through_the_open_lightbox(
    live_server, new_page, owner, providers, media, viewport, scheme
):
    jobs = batch_of_four(owner, prompt="a lighthouse at golden hour, cinematic " * 4)
    page = new_page(viewport=viewport)
    page.emulate_media(color_scheme=scheme)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")
    page.locator(f".tile[data-image-id='{jobs[-1].images.get().pk}'] a[data-lightbox]").click()
    box = page.locator("#lightbox")
    expect(box.get_by_role("button", name="Share")).to_be_visible()
    page.mouse.move(0, 0)  # no hover marks on either picture
    # The picture loaded and drawn before the first shot (a busy machine draws it late).
    page.evaluate(DRAWN)
    shown = page.screenshot(path=ARTIFACTS / f"lightbox-{scheme}-{viewport['width']}.png")
    # The same picture with the page under the lightbox hidden: the bulk buttons (the red
    # Delete among them) and the header's avatar do not show between its buttons or by Close.
    page.evaluate(HIDE_PAGE)
    assert changed_area(page.screenshot(), shown) is None
    tools = box.locator(".lb-tools").bounding_box()
    edge = [tools["x"], tools["y"], tools["x"] + tools["width"], tools["y"] + tools["height"]]
    assert page.evaluate(HITS, edge) == []  # and a press between them reaches no bulk button
    # Every tool, and Close, can be pressed where it is shown.
    for control in box.locator(".lb-tools > *:visible, .lb-close").all():
        middle = control.bounding_box()
        x, y = middle["x"] + middle["width"] / 2, middle["y"] + middle["height"] / 2
        assert page.evaluate(HITS, [x - 2, y - 2, x + 2, y + 2]) == []


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 850}, PHONE], ids=["1366", "390"])
def test_the_lightbox_buttons_are_one_size_and_open_job_stays_on_one_line(
    live_server, new_page, owner, providers, media, viewport
):
    jobs = batch_of_four(owner, prompt="a lighthouse at golden hour, cinematic " * 6)
    page = new_page(viewport=viewport)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")
    page.locator(f".tile[data-image-id='{jobs[-1].images.get().pk}'] a[data-lightbox]").click()
    box = page.locator("#lightbox")
    expect(box.get_by_role("button", name="Share")).to_be_visible()
    tools = box.locator(".lb-tools a:visible, .lb-tools button:visible")
    sizes = {
        name: (round(b["height"]), style)
        for name, b, style in (
            (tool.inner_text(), tool.bounding_box(), tool.evaluate(FONT)) for tool in tools.all()
        )
    }
    assert len(sizes) >= 7
    assert len(set(sizes.values())) == 1, sizes
    lines = box.get_by_role("link", name="Open job").evaluate("a => a.getClientRects().length")
    assert lines == 1
    page.screenshot(path=ARTIFACTS / f"lightbox-tools-{viewport['width']}.png")
