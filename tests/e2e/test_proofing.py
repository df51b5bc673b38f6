"""Client proofing in Debian's Chromium: a client in a fresh phone browser gives a name,
picks four images, comments on one and confirms, and the owner gets one notification; the
same with JavaScript off; and the lightbox's keys (Space picks, C comments, arrows move,
Escape closes where the grid was) pressed at full speed."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from flux2web.review.models import Comment, Notification, Pick, Reviewer
from tests.collections.factories import make_collection, make_image
from tests.e2e.helpers import ARTIFACTS, PHONE, console_errors
from tests.review.guest_helpers import proof_link

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def address(live_server, owner, media):
    images = [make_image(owner, size=(120 + 20 * n, 90)) for n in range(6)]
    collection = make_collection(owner, images)
    _, path = proof_link(owner, collection=collection, picks_min=4, picks_max=6)
    return live_server.url + path


def fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def the_client_story(page, address, owner, *, scripts: bool):
    page.goto(address)
    expect(page.locator("[data-proof-status]")).to_have_text("0 picked · choose 4 to 6")
    fits_the_phone(page)
    expect(page.locator("figure.tile .pick-button").first).to_be_disabled()  # a name first
    expect(page.get_by_role("button", name="Slideshow")).to_have_count(1 if scripts else 0)
    page.get_by_label("Give your name to pick and comment").fill("Olivia")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("alert")).to_contain_text("team member")
    page.go_back()
    page.reload()
    page.get_by_label("Give your name to pick and comment").fill("Ana")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Reviewing as Ana (guest)")).to_be_visible()

    for n in range(4):
        button = page.locator("figure.tile .pick-button").nth(n)
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-proof-status]")).to_have_text("4 picked · choose 4 to 6")
    fits_the_phone(page)
    page.screenshot(path=ARTIFACTS / f"proofing-phone-{'js' if scripts else 'nojs'}.png",
                    full_page=True)  # fmt: skip

    page.locator("figure.tile").nth(1).get_by_role("link", name="Comment").click()
    expect(page).to_have_url(re.compile(r"/p/\d+#comments$"))
    fits_the_phone(page)
    page.get_by_label("Your comment on this image").fill("Warmer, please <b>not</b> this")
    page.get_by_role("button", name="Send comment").click()
    expect(page.locator(".comment-body")).to_have_text("Warmer, please <b>not</b> this")
    fits_the_phone(page)
    page.screenshot(path=ARTIFACTS / f"proofing-image-phone-{'js' if scripts else 'nojs'}.png",
                    full_page=True)  # fmt: skip
    page.get_by_role("link", name="← All images").click()
    expect(page).to_have_url(re.compile(r"/#i-\d+$"))

    page.get_by_role("button", name="Confirm picks").click()
    expect(page.locator("[data-proof-status]")).to_have_text("4 picked · confirmed")
    assert Pick.objects.count() == 4 and Comment.objects.count() == 1
    unread = Notification.objects.filter(recipient=owner, read_at__isnull=True)
    assert unread.count() == 1
    assert unread.get().text == (
        "Ana (guest) confirmed 4 picks and left 1 comment on “Spring campaign — round 2”"
    )


def test_a_client_on_a_phone_names_themselves_picks_four_comments_and_confirms(
    new_page, address, owner
):
    page = new_page(viewport=PHONE)
    errors = console_errors(page)
    the_client_story(page, address, owner, scripts=True)
    # The refused name's page is a 400 on purpose; Chromium logs any such answer.
    assert [e for e in errors if "status of 400" not in e] == []


def test_the_same_story_without_javascript(browser, address, owner):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        the_client_story(page, address, owner, scripts=False)
    finally:
        context.close()


def test_the_lightbox_keys_at_full_speed(new_page, address, owner):
    page = new_page()
    errors = console_errors(page)
    page.goto(address)
    page.get_by_label("Give your name to pick and comment").fill("Ana")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Reviewing as Ana (guest)")).to_be_visible()

    page.locator("figure.tile a[data-lb]").first.click()
    lightbox = page.locator("#share-lightbox")
    expect(lightbox).to_be_visible()
    for key in [" ", "ArrowRight", " ", "ArrowRight", " ", "ArrowRight", " "]:
        page.keyboard.press(key)
    expect(lightbox.locator(".lb-count")).to_have_text("4 / 6")
    expect(page.locator('figure.tile .pick-button[aria-pressed="true"]')).to_have_count(4)
    expect(lightbox.locator(".lb-pick")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-proof-status]")).to_have_text("4 picked · choose 4 to 6")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press(" ")  # unpick the third
    expect(lightbox.locator(".lb-pick")).to_have_attribute("aria-pressed", "false")
    expect(page.locator('figure.tile .pick-button[aria-pressed="true"]')).to_have_count(3)
    page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    # The grid is where the viewer left it: the third image's tile has the focus.
    third = page.locator("figure.tile a[data-lb]").nth(2)
    expect(third).to_be_focused()
    assert Reviewer.objects.get().picks.count() == 3

    third.press("Enter")
    expect(lightbox).to_be_visible()
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(r"/p/\d+#comments$"))
    expect(page.get_by_label("Your comment on this image")).to_be_focused()
    page.keyboard.type("Crop tighter")
    page.get_by_role("button", name="Send comment").click()
    expect(page.locator(".comment-body")).to_have_text("Crop tighter")
    page.keyboard.press("ArrowRight")  # the fourth, picked
    expect(page.get_by_text("4 of 6")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_text("5 of 6")).to_be_visible()
    page.keyboard.press(" ")
    expect(page.locator(".proof-pick .pick-button")).to_have_attribute("aria-pressed", "true")
    assert Pick.objects.count() == 4
    assert not errors, errors


def test_a_pick_answered_with_a_page_instead_of_json_is_not_sent_twice(new_page, address):
    """A proxy's or the server's error page where JSON was expected: the page is reloaded to
    show the true state; the pick is not posted again (a second post would unpick it)."""
    page = new_page()
    page.goto(address)
    page.get_by_label("Give your name to pick and comment").fill("Ana")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Reviewing as Ana (guest)")).to_be_visible()
    posts = []

    def proxy_page(route):
        posts.append(route.request.url)
        route.fulfill(status=502, content_type="text/html", body="<h1>Bad gateway</h1>")

    page.route("**/pick", proxy_page)
    with page.expect_navigation():
        page.locator("figure.tile .pick-button").first.click()
    expect(page.get_by_text("Reviewing as Ana (guest)")).to_be_visible()  # the page again
    assert len(posts) == 1


LONG_NAME = "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewis"  # 60, unbroken


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_long_unbroken_name_does_not_widen_the_phone_page(new_page, live_server, owner, media,
                                                             theme):  # fmt: skip
    images = [make_image(owner, size=(120, 90)) for _ in range(2)]
    _, path = proof_link(owner, collection=make_collection(owner, images), show_reviewers=True)
    page = new_page(viewport=PHONE)
    page.emulate_media(color_scheme=theme)
    page.goto(live_server.url + path)
    page.get_by_label("Give your name to pick and comment").fill(LONG_NAME)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text(f"Reviewing as {LONG_NAME} (guest)")).to_be_visible()
    page.get_by_label("A comment on the whole set").fill("Good " + "x" * 80)
    page.get_by_role("button", name="Send comment").click()
    expect(page.locator(".comment-meta strong")).to_have_text(f"{LONG_NAME} (guest)")
    fits_the_phone(page)
    page.goto(f"{live_server.url}{path}p/{images[0].pk}")
    page.get_by_label("Your comment on this image").fill("Warmer")
    page.get_by_role("button", name="Send comment").click()
    expect(page.locator(".comment-body")).to_have_text("Warmer")
    fits_the_phone(page)
    # Another visitor reads the name too (the owner shows reviewers).
    other = new_page(viewport=PHONE)
    other.goto(live_server.url + path)
    expect(other.locator(".comment-meta strong").first).to_have_text(f"{LONG_NAME} (guest)")
    fits_the_phone(other)
    other.goto(f"{live_server.url}{path}p/{images[0].pk}")
    fits_the_phone(other)


def test_a_form_posted_from_another_port_of_the_host_is_refused(new_page, address):
    """Cookie tossing from a sibling origin: a page on another port of the same host sets
    the form cookie to a value whose token it read, then posts a comment in the named
    guest's browser. Chromium says `Sec-Fetch-Site: same-site`, and nothing is written."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    tossed = "K" * 43
    answer = httpx.get(address, cookies={"f2w_proof": tossed})
    token = re.search(r'name="proof_token" value="([^"]+)"', answer.text)[1]
    form = (
        f'<form method="post" action="{address}comment"><input name="proof_token" '
        f'value="{token}"><input name="body" value="forged"></form>'
        "<script>document.forms[0].submit()</script>"
    ).encode()

    class Evil(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(form)

        def log_message(self, *args):
            pass

    evil = ThreadingHTTPServer(("localhost", 0), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        page = new_page()
        page.goto(address)
        page.get_by_label("Give your name to pick and comment").fill("Ana")
        page.get_by_role("button", name="Start").click()
        expect(page.get_by_text("Reviewing as Ana (guest)")).to_be_visible()
        page.context.add_cookies([{"name": "f2w_proof", "value": tossed,
                                   "url": address}])  # fmt: skip
        page.goto(f"http://localhost:{evil.server_address[1]}/")
        expect(page.get_by_text("sent from another site")).to_be_visible()
        assert Comment.objects.count() == 0
    finally:
        evil.shutdown()
