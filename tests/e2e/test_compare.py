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
TRANSFORMS = """() => [...document.querySelectorAll('[data-view] img')]
  .map(i => getComputedStyle(i).transform)"""
TOPS = """() => [...document.querySelectorAll('.compare-pane')]
  .map(p => p.getBoundingClientRect().top)"""


def choose_two_in_the_gallery(page, live_server, owner):
    images = [stored_image(owner, f"a lighthouse, take {n}", c) for n, c in
              enumerate([(220, 90, 60), (60, 140, 220), (90, 180, 110)])]  # fmt: skip
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")
    for image in images[:2]:
        page.get_by_label(f"Select image {image.pk}", exact=True).check()
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/compare\?image={images[1].pk}&image={images[0].pk}$"))
    expect(page.locator(".compare-pane")).to_have_count(2)
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
    tops = page.evaluate(TOPS)
    if viewport is PHONE:
        assert tops[0] < tops[1]  # stacked
    else:
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
    images = choose_two_in_the_gallery(page, live_server, owner)
    expect(page.get_by_role("button", name="Zoom in")).to_be_hidden()
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
