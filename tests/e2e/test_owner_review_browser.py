"""A link's review from the owner's side, in Debian's Chromium against a live server: from
the collection's Sharing panel the owner opens the review of a link whose guests picked and
commented, shows the picked images only, moves the picks into a new collection and
downloads the list of picked files; on a desktop and on a phone, at full speed and at a
person's, and with JavaScript off. Also the link form's proofing switches on a phone
without JavaScript."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from flux2web.collections.models import Collection
from flux2web.links.models import ShareLink
from tests.collections.factories import make_collection, make_image
from tests.e2e.helpers import ARTIFACTS, PHONE, console_errors, use_session
from tests.review.owner_helpers import reviewed_link

pytestmark = pytest.mark.django_db(transaction=True)

WIDE = {"width": 1366, "height": 860}


def seeded(owner):
    images = [make_image(owner, size=(120 + 40 * n, 90)) for n in range(3)]
    collection = make_collection(owner, images)
    link, _ana, _ben = reviewed_link(owner, collection, images)
    return collection, link, images


def fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def review_story(page, live_server, owner, tmp_path, *, width, pause_ms=0, js=True):
    collection, link, images = seeded(owner)
    errors = console_errors(page) if js else []
    use_session(page, live_server, Client(), owner)
    page.goto(f"{live_server.url}/collections/{collection.pk}/sharing")
    summary = page.locator(f'[data-review="{link.pk}"]')
    expect(summary).to_contain_text("2 reviewers · 3 picks of 2 images · 2 comments")
    fits(page, width)
    page.wait_for_timeout(pause_ms)
    summary.get_by_role("link", name=re.compile("^Review")).click()
    expect(page.get_by_role("heading", name="Review of “Client A”")).to_be_visible()
    expect(page.get_by_role("link", name="Ana · guest")).to_be_visible()
    expect(page.locator(".review-image")).to_have_count(3)
    expect(
        page.get_by_text("the second, but warmer https://evil.example/x <b>bold</b>")
    ).to_be_visible()
    expect(page.locator(".review-comment a")).to_have_count(0)  # no clickable address
    fits(page, width)

    page.get_by_label("Show picked only").check()
    page.wait_for_timeout(pause_ms)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"\?picked=1"))
    expect(page.locator(".review-image")).to_have_count(2)
    expect(page.locator(".review-image").nth(1)).to_contain_text(
        "2 picks: Ana · guest, Ben · guest"
    )
    names = page.get_by_label("File names, as the client's downloads name them")
    expect(names).to_have_value(f"{link.slug}-{images[0].pk}.jpg\n{link.slug}-{images[1].pk}.jpg")
    fits(page, width)
    page.screenshot(
        path=ARTIFACTS / f"owner-review-{width}{'' if js else '-nojs'}.png", full_page=True
    )

    with page.expect_download() as download:
        page.get_by_role("link", name="List of picked files").click()
    assert download.value.suggested_filename == f"{link.slug}-picks.txt"
    saved = tmp_path / f"picks-{width}.txt"
    download.value.save_as(saved)
    assert saved.read_text() == (
        f"{link.slug}-{images[0].pk}.jpg\n{link.slug}-{images[1].pk}.jpg\n"
    )

    page.wait_for_timeout(pause_ms)
    page.get_by_role("button", name="Add picks to a new collection").click()
    expect(page.locator("#messages")).to_contain_text(
        "Made “Spring campaign — round 2 — picks” with 2 picked images"
    )
    made = Collection.objects.get(title="Spring campaign — round 2 — picks")
    expect(page).to_have_url(f"{live_server.url}/collections/{made.pk}/")
    assert list(made.items.order_by("position").values_list("image_id", flat=True)) == [
        images[0].pk,
        images[1].pk,
    ]
    fits(page, width)
    assert errors == []


@pytest.mark.parametrize("pause_ms", [0, 300], ids=["full-speed", "user-speed"])
def test_the_owner_reviews_picks_collects_them_and_downloads_the_list(
    live_server, new_page, owner, media, tmp_path, pause_ms
):
    page = new_page(viewport=WIDE)
    page.context.set_default_timeout(10_000)
    review_story(page, live_server, owner, tmp_path, width=WIDE["width"], pause_ms=pause_ms)


def test_the_same_on_a_phone(live_server, new_page, owner, media, tmp_path):
    page = new_page(viewport=PHONE)
    review_story(page, live_server, owner, tmp_path, width=PHONE["width"])


def test_the_same_without_javascript(live_server, browser, owner, media, tmp_path):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, accept_downloads=True)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        review_story(page, live_server, owner, tmp_path, width=PHONE["width"], js=False)
    finally:
        context.close()


def test_the_proofing_switches_on_a_phone_without_javascript(live_server, browser, owner, media):
    collection = make_collection(owner, [make_image(owner) for _ in range(5)])
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        use_session(page, live_server, Client(), owner)
        page.goto(f"{live_server.url}/collections/{collection.pk}/sharing")
        proofing = page.locator("fieldset", has=page.get_by_text("Client proofing"))
        for box in proofing.get_by_role("checkbox").all():
            expect(box).not_to_be_checked()
        fits(page, PHONE["width"])
        page.get_by_label("Visitors pick their favourites").check()
        page.get_by_label("At least").fill("5")
        page.get_by_label("At most").fill("3")
        page.get_by_role("button", name="Make link").click()
        expect(page.get_by_text("The minimum (5) is more than the maximum (3).")).to_be_visible()
        assert not ShareLink.objects.exists()
        page.get_by_label("At most").fill("8")
        deadline = timezone.localtime(timezone.now() + timedelta(days=2))
        page.get_by_label("Picking closes at").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Visitors comment on images and on the whole set").check()
        page.get_by_role("button", name="Make link").click()
        expect(page.locator("#messages")).to_contain_text("Made the link")
        link = ShareLink.objects.get()
        assert link.allow_picks and link.allow_comments and not link.show_reviewers
        assert (link.picks_min, link.picks_max) == (5, 8)
        assert abs(link.picks_deadline - deadline) < timedelta(minutes=1)
        fits(page, PHONE["width"])
    finally:
        context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_link_form_s_checkboxes_and_counts_line_up_on_a_phone(
    live_server, browser, owner, media, theme
):
    collection = make_collection(owner, [make_image(owner)])
    context = browser.new_context(viewport=PHONE, color_scheme=theme)
    try:
        page = context.new_page()
        use_session(page, live_server, Client(), owner)
        page.goto(f"{live_server.url}/collections/{collection.pk}/sharing")
        form = page.locator("form", has=page.get_by_text("Client proofing"))
        # A two-line label does not squeeze its box: every box keeps its size.
        sizes = {round(box.bounding_box()["width"]) for box in form.get_by_role("checkbox").all()}
        assert len(sizes) == 1 and min(sizes) >= 13, sizes
        low = page.get_by_label("At least").bounding_box()
        high = page.get_by_label("At most").bounding_box()
        assert abs(low["y"] - high["y"]) < 1 and abs(low["height"] - high["height"]) < 1
        fits(page, PHONE["width"])
        ARTIFACTS.mkdir(exist_ok=True)
        form.screenshot(path=str(ARTIFACTS / f"link-form-390-{theme}.png"))
    finally:
        context.close()
