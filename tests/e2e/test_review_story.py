"""The whole review story in Chromium, from the issue's "done when": a team lead shares a
collection with a client; the client, in a fresh browser on a phone, picks four images,
comments on one and confirms; the team lead gets one notification, sees the picks and the
comment on the images, moves the picks into a new collection and copies the list of file
names; an art director inside the team marks two images approved."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from flux2web.collections.models import Collection
from flux2web.links.models import ShareLink
from tests.e2e.helpers import ARTIFACTS, PHONE, console_errors, stored_image, use_session
from tests.review.team_helpers import team_add

pytestmark = pytest.mark.django_db(transaction=True)


def fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_client_proofs_on_a_phone_and_the_team_acts_on_it(
    new_page, live_server, owner, teammate, providers, media
):
    owner.first_name, teammate.first_name = "Olivia", "Tomas"
    owner.save()
    teammate.save()
    images = [stored_image(owner, f"a harbour, take {n}", (30 * n, 90, 200)) for n in range(6)]
    collection = team_add(owner, images, title="Harbour — round 2")

    # The team lead makes a link with picks (4 to 6) and comments.
    lead = new_page()
    errors = console_errors(lead)
    use_session(lead, live_server, Client(), owner)
    lead.goto(f"{live_server.url}/collections/{collection.pk}/sharing")
    lead.get_by_label("Visitors pick their favourites").check()
    lead.get_by_label("At least").fill("4")
    lead.get_by_label("At most").fill("6")
    lead.get_by_label("Visitors comment on images and on the whole set").check()
    lead.get_by_role("button", name="Make link").click()
    expect(lead.locator("#messages")).to_contain_text("Made the link")
    address = lead.locator("input.copy").first.input_value()
    assert address.startswith(live_server.url + "/s/")

    # The client, in a fresh browser on a phone.
    client = new_page(viewport=PHONE)
    client.goto(address)
    client.get_by_label("Give your name to pick and comment").fill("Ana")
    client.get_by_role("button", name="Start").click()
    expect(client.get_by_text("Reviewing as Ana (guest)")).to_be_visible()
    for n in (0, 2, 3, 5):
        button = client.locator("figure.tile .pick-button").nth(n)
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true")
    expect(client.locator("[data-proof-status]")).to_have_text("4 picked · choose 4 to 6")
    client.locator("figure.tile").nth(2).get_by_role("link", name="Comment").click()
    client.get_by_label("Your comment on this image").fill("This one, but warmer")
    client.get_by_role("button", name="Send comment").click()
    expect(client.locator(".comment-body")).to_have_text("This one, but warmer")
    client.get_by_role("link", name="← All images").click()
    client.get_by_role("button", name="Confirm picks").click()
    expect(client.locator("[data-proof-status]")).to_have_text("4 picked · confirmed")
    fits(client, PHONE["width"])

    # The team lead: one notification, which opens the link's review.
    lead.goto(f"{live_server.url}/collections/{collection.pk}/")
    expect(lead.locator(".bell")).to_contain_text("1 unread notification")
    lead.locator(".bell").click()
    expect(lead.locator(".notification")).to_have_count(1)
    lead.locator(".notification-open").click()
    link = ShareLink.objects.get()
    expect(lead).to_have_url(f"{live_server.url}/links/{link.pk}/review")
    expect(lead.get_by_role("link", name="Ana · guest")).to_be_visible()
    expect(lead.get_by_text("This one, but warmer")).to_be_visible()
    lead.get_by_label("Show picked only").check()
    lead.get_by_role("button", name="Show").click()
    expect(lead.locator(".review-image")).to_have_count(4)
    names = lead.get_by_label("File names, as the client's downloads name them").input_value()
    picked = [images[n].pk for n in (0, 2, 3, 5)]
    assert names.splitlines() == [f"{link.slug}-{pk}.png" for pk in picked]
    lead.screenshot(path=ARTIFACTS / "review-story-lead.png", full_page=True)
    lead.get_by_role("button", name="Add picks to a new collection").click()
    expect(lead.locator("#messages")).to_contain_text("with 4 picked images")
    made = Collection.objects.get(title__endswith="— picks")
    assert list(made.items.order_by("position").values_list("image_id", flat=True)) == picked
    expect(lead.locator(".bell")).not_to_contain_text("unread")
    assert errors == []

    # The art director marks two images approved, on a phone.
    director = new_page(viewport=PHONE)
    use_session(director, live_server, Client(), teammate)
    director.goto(f"{live_server.url}/collections/{collection.pk}/")
    for n in (1, 3):
        director.get_by_label(f"Mark for image {n}", exact=True).select_option("approved")
        director.get_by_role("button", name=f"Mark image {n}", exact=True).click()
        expect(director.locator("#messages")).to_contain_text("Marked the image: Approved.")
    director.get_by_role("link", name="Approved", exact=True).click()
    expect(director.locator(".jitem")).to_have_count(2)
    expect(director.locator(".jitem .mark-approved").first).to_have_attribute(
        "title", re.compile(r"^Approved by Tomas, ")
    )
    fits(director, PHONE["width"])
