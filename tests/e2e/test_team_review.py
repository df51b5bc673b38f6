"""Review inside the team, in Chromium on a phone: an art director (who may add to a
team-can-add collection) marks two images approved and shows only those; a teammate
comments with a mention, without JavaScript and then with it."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from flux2web.review.models import Comment, Notification
from tests.e2e.helpers import ARTIFACTS, PHONE, stored_image, use_session
from tests.review.team_helpers import team_add

pytestmark = pytest.mark.django_db(transaction=True)


def phone(paced_browser, live_server, user, *, javascript=True, scheme="light"):
    context = paced_browser.new_context(
        viewport=PHONE, java_script_enabled=javascript, color_scheme=scheme
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    use_session(page, live_server, Client(), user)
    return page


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_an_art_director_approves_two_and_a_teammate_mentions_them(
    paced_browser, live_server, owner, teammate, django_user_model, providers, media
):
    teammate.first_name = "Tomas"
    teammate.save()
    maria = django_user_model.objects.create_user("maria", first_name="Maria")
    images = [stored_image(owner, f"a harbour, take {n}", (40 * n, 90, 200)) for n in (1, 2, 3)]
    collection = team_add(owner, images, title="Harbour — round 2")

    # The art director marks two images approved, on a phone.
    page = phone(paced_browser, live_server, teammate)
    page.goto(f"{live_server.url}/collections/{collection.pk}/")
    for n in (1, 2):
        page.get_by_label(f"Mark for image {n}", exact=True).select_option("approved")
        page.get_by_role("button", name=f"Mark image {n}", exact=True).click()
        expect(page.locator("#messages")).to_contain_text("Marked the image: Approved.")
    tiles = page.locator(".jitem .mark-approved")
    expect(tiles).to_have_count(2)
    expect(tiles.first).to_have_attribute("title", re.compile(r"^Approved by Tomas, "))
    fits(page)
    page.get_by_role("link", name="Approved", exact=True).click()
    expect(page.locator(".jitem")).to_have_count(2)
    assert "?mark=approved" in page.url
    fits(page)
    page.screenshot(path=ARTIFACTS / "team-review-approved.png", full_page=True)

    # A teammate without JavaScript opens the third image's review from its tile.
    plain = phone(paced_browser, live_server, maria, javascript=False, scheme="dark")
    plain.goto(f"{live_server.url}/collections/{collection.pk}/?mark=none")
    plain.get_by_role("link", name="Comments (0) · Likes").click()
    expect(plain.get_by_role("heading", name="Comments (0)")).to_be_visible()
    plain.get_by_label("Your comment").fill(
        "@TOMAS warmer light, please — see https://example.com/x"
    )
    plain.get_by_role("button", name="Post comment").click()
    expect(plain.get_by_role("heading", name="Comments (1)")).to_be_visible()
    expect(plain.locator("mark.mention")).to_have_text("@TOMAS")
    expect(plain.locator(".comment-body a")).to_have_count(0)  # no clickable address
    fits(plain)
    plain.screenshot(path=ARTIFACTS / "team-review-comment-dark.png", full_page=True)
    told = Notification.objects.get(recipient=teammate)
    assert told.kind == "mention" and "Maria" in told.text
    assert "harbour" not in told.text  # never the prompt

    # An empty comment is refused with a message, and nothing is written.
    plain.get_by_role("button", name="Post comment").click()
    expect(plain.get_by_role("alert")).to_contain_text("1 to 2000 characters")
    assert Comment.objects.count() == 1

    # With JavaScript the comments part is swapped in place; the art director likes it.
    page.goto(f"{live_server.url}/images/{images[2].pk}/review")
    page.get_by_label("Your comment").fill("Agreed, @maria.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("heading", name="Comments (2)")).to_be_visible()
    expect(page.get_by_label("Your comment")).to_have_value("")
    page.get_by_role("button", name="♡ Like").click()
    expect(page.locator("#review-likes")).to_contain_text("1 like: You")
    fits(page)
    assert Notification.objects.filter(recipient=maria, kind="mention").count() == 1

    # The art director takes their comment back, after saying yes to the question.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete the comment by Tomas").click()
    expect(page.get_by_role("heading", name="Comments (1)")).to_be_visible()
    assert list(Comment.objects.values_list("author__username", flat=True)) == ["maria"]
    assert not Notification.objects.filter(recipient=maria).exists()  # what it told went too
