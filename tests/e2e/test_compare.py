"""Compare: two images chosen in the gallery open side by side; + and - zoom both at once,
the arrow keys pan both, 0 resets, and the before/after slider moves by mouse and keyboard;
at a laptop's width and a phone's (stacked, no sideways scroll), and without JavaScript."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.e2e.helpers import ARTIFACTS, PHONE, console_errors, stored_image, use_session

pytestmark = pytest.mark.django_db(transaction=True)
LAPTOP = {"width": 1366, "height": 800}
# Each image's zoom and pan: as drawn, or for one hidden on a phone (one image at a time), as
# it will be drawn when swiped to.
TRANSFORMS = """() => [...document.querySelectorAll('[data-view] img')]
  .map(i => i.getClientRects().length ? getComputedStyle(i).transform
                                      : new DOMMatrix(i.style.transform).toString())"""
TOPS = """() => [...document.querySelectorAll('.compare-pane')]
  .map(p => p.getBoundingClientRect().top)"""


def choose_two_in_the_gallery(page, live_server, owner, count=2, *, javascript=True):
    images = [stored_image(owner, f"a lighthouse, take {n}", c) for n, c in
              enumerate([(220, 90, 60), (60, 140, 220), (90, 180, 110)])]  # fmt: skip
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")
    for image in images[:count]:
        page.get_by_label(f"Select image {image.pk}", exact=True).check()
    page.get_by_role("button", name="Compare", exact=True).click()
    chosen = "&".join(f"image={image.pk}" for image in reversed(images[:count]))  # newest first
    expect(page).to_have_url(re.compile(rf"/compare\?{chosen}$"))
    expect(page.locator(".compare-pane")).to_have_count(count)
    # The zoom tools show once compare.js runs: keys pressed before then are the browser's.
    if javascript:
        expect(page.locator("[data-compare-tools]")).to_be_visible()
    return images


def no_sideways_scroll(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366px", "390px"])
def test_two_images_zoom_pan_and_slide_together(
    live_server, paced_browser, owner, providers, media, viewport
):
    context = paced_browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = console_errors(page)
    choose_two_in_the_gallery(page, live_server, owner)
    no_sideways_scroll(page, viewport["width"])
    if viewport is PHONE:  # one at a time, swiped between (see below)
        expect(page.locator(".compare-pane").nth(1)).to_be_hidden()
    else:
        tops = page.evaluate(TOPS)
        assert tops[0] == tops[1]  # side by side

    page.keyboard.press("+")
    page.keyboard.press("+")
    expect(page.locator("[data-zoom-level]")).to_have_text("156%")
    zoomed = page.evaluate(TRANSFORMS)
    assert zoomed[0] == zoomed[1] and zoomed[0] not in ("none", "matrix(1, 0, 0, 1, 0, 0)")
    page.keyboard.press("ArrowRight")
    panned = page.evaluate(TRANSFORMS)
    assert panned[0] == panned[1] != zoomed[0]
    page.screenshot(path=ARTIFACTS / f"compare-zoomed-{viewport['width']}.png")
    page.keyboard.press("0")
    expect(page.locator("[data-zoom-level]")).to_have_text("100%")
    page.get_by_role("button", name="Zoom in").click()  # the buttons do the same
    assert len(set(page.evaluate(TRANSFORMS))) == 1
    view = page.locator("[data-view]").first.bounding_box()
    x, y = view["x"] + view["width"] / 2, view["y"] + view["height"] / 2
    page.mouse.move(x, y)
    page.mouse.wheel(0, -100)  # the wheel zooms, a drag pans: every image alike
    expect(page.locator("[data-zoom-level]")).to_have_text("156%")
    before = page.evaluate(TRANSFORMS)
    page.mouse.down()
    page.mouse.move(x - 30, y - 20, steps=3)
    page.mouse.up()
    dragged = page.evaluate(TRANSFORMS)
    assert dragged[0] == dragged[1] != before[0]

    page.get_by_role("button", name="Before / after slider").click()
    slider = page.get_by_label(re.compile("Before / after"))
    expect(slider).to_be_visible()
    box = slider.bounding_box()
    middle = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, middle)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.2, middle, steps=5)
    page.mouse.up()
    value = int(slider.input_value())
    assert value < 35
    clip = "() => getComputedStyle(document.querySelectorAll('[data-view]')[1]).clipPath"
    assert page.evaluate(clip) == f"inset(0px 0px 0px {value}%)"
    slider.press("ArrowRight")
    assert int(slider.input_value()) == value + 1
    assert page.evaluate(clip) == f"inset(0px 0px 0px {value + 1}%)"
    no_sideways_scroll(page, viewport["width"])
    page.screenshot(path=ARTIFACTS / f"compare-slider-{viewport['width']}.png")
    assert not errors
    context.close()


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366px", "390px"])
def test_without_javascript_the_images_are_side_by_side_with_links(
    live_server, browser, owner, providers, media, viewport
):
    context = browser.new_context(viewport=viewport, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    images = choose_two_in_the_gallery(page, live_server, owner, javascript=False)
    expect(page.get_by_role("button", name="Zoom in")).to_be_hidden()
    expect(page.get_by_role("button", name="Next image")).to_be_hidden()
    tops = page.evaluate(TOPS)
    assert tops[0] < tops[1] if viewport is PHONE else tops[0] == tops[1]  # stacked on a phone
    expect(page.get_by_role("link", name="Full size")).to_have_count(2)
    expect(page.get_by_role("link", name="Full size").first).to_have_attribute(
        "href", f"/media/{images[1].original.name}"
    )
    no_sideways_scroll(page, viewport["width"])
    context.close()


def test_one_image_is_refused_with_the_reason(live_server, new_page, owner, providers, media):
    page = new_page()
    image = stored_image(owner, "a lone lighthouse", (220, 90, 60))
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")
    page.get_by_label(f"Select image {image.pk}", exact=True).check()
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Choose 2 to 4 images to compare")


def test_the_team_gallery_and_a_collection_open_a_comparison_too(
    live_server, new_page, owner, teammate, providers, media
):
    from flux2web.collections.services import collection_add_images, collection_create
    from flux2web.jobs.models import Image

    mine = stored_image(owner, "my harbour at dawn", (220, 90, 60))
    theirs = stored_image(teammate, "their harbour at dusk", (60, 140, 220))
    Image.objects.filter(pk__in=[mine.pk, theirs.pk]).update(team_visible=True)
    page = new_page(viewport=PHONE)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/team/")
    for image in (mine, theirs):
        page.get_by_label(f"Select image {image.pk}", exact=True).check()
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator(".compare-pane")).to_have_count(2)
    expect(page.locator(".compare-pane", has_text="their harbour")).to_contain_text(
        f"by {teammate}"
    )
    expect(page.locator(".compare-pane", has_text="my harbour")).not_to_contain_text("by ")
    no_sideways_scroll(page, PHONE["width"])

    collection = collection_create(owner=owner, title="Harbours")
    more = stored_image(owner, "my harbour at noon", (90, 180, 110))
    collection_add_images(collection=collection, user=owner, image_ids=[mine.pk, more.pk])
    page.goto(f"{live_server.url}/collections/{collection.pk}/")
    page.get_by_label("Select image 1 to Compare").check()
    page.get_by_label("Select image 2 to Compare").check()
    page.get_by_role("button", name="Compare selected").click()
    expect(page.locator(".compare-pane")).to_have_count(2)
    expect(page.locator("[data-zoom-level]")).to_have_text("100%")


PINCH = """() => {
  const view = document.querySelector('[data-view]');
  const at = (id, x) => ({pointerId: id, pointerType: 'touch', clientX: x, clientY: 150,
                          bubbles: true, isPrimary: id === 1});
  view.dispatchEvent(new PointerEvent('pointerdown', at(1, 150)));
  view.dispatchEvent(new PointerEvent('pointerdown', at(2, 200)));
  view.dispatchEvent(new PointerEvent('pointermove', at(2, 250)));
  view.dispatchEvent(new PointerEvent('pointerup', at(2, 250)));
  view.dispatchEvent(new PointerEvent('pointerup', at(1, 150)));
}"""


def test_two_fingers_pinch_every_image_on_a_phone(live_server, new_page, owner, providers, media):
    page = new_page(viewport=PHONE)
    choose_two_in_the_gallery(page, live_server, owner)
    page.evaluate(PINCH)  # fingers 50 px apart, then 100: twice the size
    expect(page.locator("[data-zoom-level]")).to_have_text("200%")
    pinched = page.evaluate(TRANSFORMS)
    assert pinched[0] == pinched[1] == "matrix(2, 0, 0, 2, 0, 0)"


def fingers(page, request):
    """Touches as a phone's screen sends them (through Chromium's own input, so the page's
    touch-action decides what scrolls), each gesture taking a person's time at user speed."""
    cdp = page.context.new_cdp_session(page)
    pause = request.node.callspec.params["paced_browser"]

    def send(kind, points):
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": x, "y": y, "id": n} for n, (x, y) in enumerate(points)]})  # fmt: skip

    def gesture(starts, ends, steps=8):
        send("touchStart", starts)
        for step in range(1, steps + 1):
            page.wait_for_timeout(pause / steps) if pause else None
            along = zip(starts, ends, strict=True)
            send("touchMove", [(x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps)
                               for (x0, y0), (x1, y1) in along])  # fmt: skip
        send("touchEnd", [])

    return gesture


def middle_of(locator):
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_on_a_phone_a_swipe_moves_between_the_images_and_a_zoomed_drag_pans(
    live_server, paced_browser, owner, providers, media, request
):
    context = paced_browser.new_context(viewport=PHONE, has_touch=True, color_scheme="dark")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = console_errors(page)
    choose_two_in_the_gallery(page, live_server, owner, count=3)
    gesture = fingers(page, request)
    panes, at = page.locator(".compare-pane"), page.locator("[data-swipe-at]")
    expect(at).to_have_text("1 of 3")
    expect(panes.nth(0)).to_be_visible()
    expect(panes.nth(1)).to_be_hidden()
    no_sideways_scroll(page, PHONE["width"])

    x, y = middle_of(panes.nth(0).locator("[data-view]"))
    gesture([(x + 100, y)], [(x - 100, y)])  # a swipe left: the next image
    expect(at).to_have_text("2 of 3")
    expect(panes.nth(1)).to_be_visible()
    expect(panes.nth(0)).to_be_hidden()
    gesture([(x - 100, y)], [(x + 100, y)])  # and right: back
    expect(at).to_have_text("1 of 3")
    gesture([(x + 10, y)], [(x - 10, y)])  # a nudge is not a swipe
    gesture([(x, y + 80)], [(x - 30, y - 80)])  # nor is scrolling the page
    expect(at).to_have_text("1 of 3")

    page.get_by_role("button", name="Next image").click()
    expect(at).to_have_text("2 of 3")
    page.get_by_role("button", name="Next image").press("Enter")  # by keyboard too
    expect(at).to_have_text("3 of 3")
    page.get_by_role("button", name="Previous image").press("Enter")
    expect(at).to_have_text("2 of 3")
    page.keyboard.press("ArrowRight")  # not zoomed, the arrows move between images
    expect(at).to_have_text("3 of 3")
    page.keyboard.press("ArrowLeft")
    expect(at).to_have_text("2 of 3")

    gesture([(x - 25, y), (x + 25, y)], [(x - 50, y), (x + 50, y)])  # a pinch: twice the size
    expect(page.locator("[data-zoom-level]")).to_have_text("200%")
    zoomed = page.evaluate(TRANSFORMS)
    gesture([(x + 40, y)], [(x - 40, y)])  # zoomed, the same swipe pans instead
    panned = page.evaluate(TRANSFORMS)
    expect(at).to_have_text("2 of 3")
    assert panned[0] == panned[1] == panned[2] != zoomed[0]
    gesture([(x + 150, y)], [(x - 150, y)])  # at the image's edge a swipe moves on
    expect(at).to_have_text("3 of 3")
    expect(page.locator("[data-zoom-level]")).to_have_text("200%")  # at the same zoom and pan
    moved = page.evaluate(TRANSFORMS)
    assert moved[0] == moved[1] == moved[2] != zoomed[0]
    page.keyboard.press("0")
    gesture([(x - 100, y)], [(x + 100, y)])
    expect(at).to_have_text("2 of 3")
    no_sideways_scroll(page, PHONE["width"])
    page.screenshot(path=ARTIFACTS / "compare-swipe-390.png")
    assert not errors
    context.close()


def test_on_a_phone_the_slider_is_dragged_not_swiped(
    live_server, paced_browser, owner, providers, media, request
):
    context = paced_browser.new_context(viewport=PHONE, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    choose_two_in_the_gallery(page, live_server, owner)
    gesture = fingers(page, request)
    at = page.locator("[data-swipe-at]")
    expect(at).to_have_text("1 of 2")
    page.get_by_role("button", name="Before / after slider").click()
    expect(at).to_be_hidden()  # both images in one place: nothing to swipe between
    expect(page.locator(".compare-pane").nth(1)).to_be_visible()
    slider = page.get_by_label(re.compile("Before / after"))
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    gesture([(box["x"] + box["width"] / 2, y)], [(box["x"] + box["width"] * 0.2, y)])
    assert int(slider.input_value()) < 35
    x, y = middle_of(page.locator("[data-view]").first)
    gesture([(x + 100, y)], [(x - 100, y)])  # on the images: no swipe either
    expect(page.locator(".compare-pane").nth(0)).to_be_visible()
    expect(page.locator(".compare-pane").nth(1)).to_be_visible()
    no_sideways_scroll(page, PHONE["width"])
    page.get_by_role("button", name="Before / after slider").click()
    expect(at).to_have_text("1 of 2")
    expect(page.locator(".compare-pane").nth(1)).to_be_hidden()
    context.close()
