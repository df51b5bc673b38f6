"""Findings of a hostile review of collections, share links and the team gallery.
Each test states what should hold; all hold since the fixes (see README, collections)."""

import logging

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.test import Client

from flux2web.accounts.models import TeamPolicy
from flux2web.collections.models import Collection
from flux2web.links.models import ShareLink
from tests.collections.factories import (
    SECRET_PROMPT,
    jpeg_with_metadata,
    make_collection,
    make_image,
)
from tests.links.factories import share

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def policy(**fields):
    TeamPolicy.objects.update_or_create(pk=1, defaults=fields)


# ---- Password throttling. --------------------------------------------------------------


def test_behind_the_proxy_one_guesser_does_not_lock_every_guest_out_of_a_link(
    settings, owner, collection
):
    settings.BEHIND_PROXY = True
    _, path = share(owner, collection=collection, password="open sesame")
    guesser = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for _ in range(10):
        guesser.post(path + "unlock", {"password": "guess"})
    guest = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert guest.post(path + "unlock", {"password": "open sesame"}).status_code == 302


def test_behind_the_proxy_two_visitors_on_the_same_browser_count_as_two(
    settings, owner, collection
):
    settings.BEHIND_PROXY = True
    link, path = share(owner, collection=collection)
    for address in ("203.0.113.66", "198.51.100.7"):
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=address, HTTP_USER_AGENT=BROWSER).get(
            path
        )
    assert link.visits.count() == 2


def test_password_guesses_from_one_ipv6_network_are_throttled_together(owner, collection):
    _, path = share(owner, collection=collection, password="open sesame")
    for n in range(1, 11):
        Client(REMOTE_ADDR=f"2001:db8:1:2::{n:x}").post(path + "unlock", {"password": "guess"})
    next_guess = Client(REMOTE_ADDR="2001:db8:1:2::ff").post(path + "unlock", {"password": "x"})
    assert next_guess.status_code == 429


# ---- Secrets in logs. ------------------------------------------------------------------


def test_a_live_token_never_appears_in_the_logs(client, owner, collection, images, caplog):
    _, path = share(owner, collection=collection, password="open sesame")
    token = path.rstrip("/").rsplit("/", 1)[-1][-43:]  # the token may hold "-" itself
    with caplog.at_level(logging.DEBUG):
        client.post(path + "unlock", {"password": "wrong"})
        client.post(path + "unlock", {"password": ""})
        client.get(path + f"i/{images[0].pk}/original")
    assert token not in caplog.text


# ---- Metadata in served files. ---------------------------------------------------------


def test_a_jpeg_original_with_a_second_picture_after_its_end_is_served_without_its_prompt(
    client, owner, media
):
    # Multi-picture JPEGs (MPO) and "motion photos" carry more data after the first EOI.
    data = jpeg_with_metadata() + jpeg_with_metadata(prompt=SECRET_PROMPT + " (second)")
    image = make_image(owner, kind="jpeg")
    with default_storage.open(image.original.name, "wb") as handle:
        handle.write(data)
    _, path = share(owner, image_ids=[image.pk], downloads=ShareLink.Downloads.ORIGINAL)
    served = body(client.get(f"{path}i/{image.pk}/original"))
    assert served.startswith(b"\xff\xd8")
    assert SECRET_PROMPT.encode() not in served


# ---- Stats. ----------------------------------------------------------------------------


def test_fediverse_link_previews_are_not_counted_as_views(owner, collection):
    link, path = share(owner, collection=collection)
    for agent in (
        "http.rb/5.1.1 (Mastodon/4.2.10; +https://mastodon.social/)",
        "Iframely/1.3.1 (+https://iframely.com/docs/about)",
    ):
        assert Client(HTTP_USER_AGENT=agent).get(path).status_code == 200
    link.refresh_from_db()
    assert link.views == 0


# ---- Team visibility through collections. ----------------------------------------------


def test_an_image_made_private_again_is_not_shown_to_teammates_through_a_team_collection(
    as_owner, as_teammate, owner
):
    image = make_image(owner)
    type(image).objects.filter(pk=image.pk).update(team_visible=True)
    collection = make_collection(owner, [image], visibility=Collection.Visibility.TEAM_VIEW)
    response = as_owner.post("/images/visibility", {"image": [image.pk], "team": "0"})
    assert response.status_code == 302
    assert as_teammate.get(f"/media/{image.original.name}").status_code == 404
    assert (
        image.original.name
        not in as_teammate.get(f"/collections/{collection.pk}/").content.decode()
    )


def test_a_teammate_cannot_download_someones_private_images_from_a_team_collection(
    as_teammate, owner
):
    image = make_image(owner)  # private: team_visible is False
    collection = make_collection(owner, [image], visibility=Collection.Visibility.TEAM_VIEW)
    response = as_teammate.post(f"/collections/{collection.pk}/zip")
    assert SECRET_PROMPT.encode() not in body(response)


# ---- Policy. ---------------------------------------------------------------------------


def test_requiring_passwords_stops_links_made_without_one(client, owner, collection):
    _, path = share(owner, collection=collection)
    policy(link_password_required=True)
    response = client.get(path)
    assert response.status_code == 404 or 'name="password"' in response.content.decode()


# ---- Bad input. ------------------------------------------------------------------------


def test_a_far_future_expiry_in_a_western_time_zone_is_an_error_not_a_500(
    settings, as_owner, owner, collection
):
    settings.TIME_ZONE = "America/New_York"
    policy(link_max_days=None)
    data = {"title": "Spring", "expires_on": "9999-12-31", "password": "", "downloads": "web"}
    response = as_owner.post(f"/collections/{collection.pk}/sharing", data)
    assert response.status_code in (302, 400)


def test_a_collection_zip_with_a_missing_file_is_not_a_500(as_owner, owner, collection, images):
    default_storage.delete(images[1].original.name)
    response = as_owner.post(f"/collections/{collection.pk}/zip")
    assert response.status_code != 500


# ---- Someone else's link. --------------------------------------------------------------


def test_a_teammates_private_image_is_not_published_by_someone_elses_link(
    client, as_teammate, owner, teammate
):
    """A "Team can add" collection that its owner has shared by link: a teammate who adds
    their private image (told nothing of the link) does not publish it to the world."""
    collection = make_collection(owner, [], visibility=Collection.Visibility.TEAM_ADD)
    _, path = share(owner, collection=collection)
    theirs = make_image(teammate)  # private
    as_teammate.post("/collections/add", {"collection": collection.pk, "image": theirs.pk})
    assert collection.items.filter(image=theirs).exists()
    assert client.get(f"{path}i/{theirs.pk}/web").status_code == 404


def test_a_deactivated_members_images_leave_the_links_of_others(
    client, as_teammate, owner, teammate
):
    collection = make_collection(owner, [], visibility=Collection.Visibility.TEAM_ADD)
    _, path = share(owner, collection=collection)
    theirs = make_image(teammate)
    type(theirs).objects.filter(pk=theirs.pk).update(team_visible=True)
    as_teammate.post("/collections/add", {"collection": collection.pk, "image": theirs.pk})
    type(teammate).objects.filter(pk=teammate.pk).update(is_active=False)
    assert client.get(f"{path}i/{theirs.pk}/web").status_code == 404


# ---- Previews. -------------------------------------------------------------------------


def test_a_password_links_title_is_not_shown_to_preview_bots(client, owner, collection):
    _, path = share(owner, collection=collection, password="open sesame", title="Acme merger")
    response = Client(HTTP_USER_AGENT="Slackbot-LinkExpanding 1.0").get(path)
    assert response.status_code == 200
    assert "Acme merger" not in response.content.decode()


# ---- Taking back what one added. -------------------------------------------------------


def test_a_teammate_can_take_their_image_back_after_the_owner_closes_the_collection(
    as_owner, as_teammate, owner, teammate
):
    collection = make_collection(owner, [], visibility=Collection.Visibility.TEAM_ADD)
    theirs = make_image(teammate)
    as_teammate.post("/collections/add", {"collection": collection.pk, "image": theirs.pk})
    Collection.objects.filter(pk=collection.pk).update(visibility=Collection.Visibility.PRIVATE)
    as_teammate.post(f"/collections/{collection.pk}/remove", {"image": theirs.pk})
    assert not collection.items.filter(image=theirs).exists()


# ---- The team's policy. ----------------------------------------------------------------


def test_a_huge_longest_expiry_on_the_team_policy_page_is_refused_not_a_500_everywhere(
    as_owner, owner, collection
):
    _, path = share(owner, collection=collection)
    type(owner).objects.filter(pk=owner.pk).update(is_team_admin=True)
    data = {"public_links_allowed": "on", "link_max_days": "5000000"}
    response = as_owner.post("/team/policy", data)
    assert response.status_code in (302, 400)
    assert Client().get(path).status_code == 200
    assert as_owner.get(f"/collections/{collection.pk}/sharing").status_code == 200


def test_with_previews_off_a_preview_bot_gets_no_title(client, owner, collection):
    _, path = share(owner, collection=collection, allow_preview=False, title="Acme merger")
    response = Client(HTTP_USER_AGENT="Slackbot-LinkExpanding 1.0").get(path)
    assert response.status_code == 200
    assert "Acme merger" not in response.content.decode()


# ---- Access that can be taken back. ----------------------------------------------------


def test_a_teammates_view_of_a_team_visible_image_is_not_cached_for_a_year(as_teammate, owner):
    image = make_image(owner)
    type(image).objects.filter(pk=image.pk).update(team_visible=True)
    response = as_teammate.get(f"/media/{image.original.name}")
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
