"""Share links from the owner's side: tokens and what the database keeps, team policy and
expiry, revoke / rotate / revoke all / deactivation, and the owner and admin pages with
who may open them."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from flux2web.accounts.models import TeamPolicy
from flux2web.lib import crypto
from flux2web.links import services as links
from flux2web.links.models import ShareLink, ShareLinkImage
from tests.collections.factories import make_image
from tests.links.factories import settings_for, share

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_user("ada", is_team_admin=True)


def policy(**fields):
    TeamPolicy.objects.update_or_create(pk=1, defaults=fields)


def form(**overrides):
    data = {
        "title": "Spring campaign — round 2", "label": "Client A", "readable_address": "on",
        "expires_on": (timezone.localdate() + timedelta(days=7)).isoformat(),
        "password": "", "downloads": "web", "allow_preview": "on",
    }  # fmt: skip
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# ---- Tokens. ---------------------------------------------------------------------------


def test_a_stolen_database_opens_no_link(owner, collection):
    link, path = share(owner, collection=collection, password="open sesame")
    token = path.strip("/")[-43:]
    assert len(token) == 43 and re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    stored = repr(list(ShareLink.objects.values()))
    assert token not in stored and "open sesame" not in stored
    assert link.token_hash == links.token_hash(token)
    assert crypto.decrypt(link.token_encrypted) == token
    assert link.password_hash.startswith("md5$")  # the test hasher; PBKDF2 in production


def test_every_link_gets_its_own_token_even_for_the_same_collection(owner, collection):
    paths = {share(owner, collection=collection)[1] for _ in range(5)}
    assert len(paths) == 5


def test_a_token_ending_in_dashes_is_read_from_the_last_43_characters():
    token = "-" * 10 + "a" * 33
    assert links.split_key(f"my-slug-{token}") == token
    assert links.split_key(token) == token
    assert links.split_key("short").startswith("!")
    assert links.split_key("x" + token).startswith("!")


# ---- Policy and expiry. ----------------------------------------------------------------


def test_never_expiring_links_only_when_the_team_allows_them(owner, collection):
    with pytest.raises(links.LinkError, match="never expire"):
        share(owner, collection=collection, expires_at=None)
    policy(link_never_allowed=True)
    link, _ = share(owner, collection=collection, expires_at=None)
    assert link.expires_at is None


def test_expiry_is_never_beyond_the_teams_longest_from_creation(owner, collection):
    policy(link_max_days=14)
    with pytest.raises(links.LinkError, match="at most 14 days"):
        share(owner, collection=collection, expires_at=timezone.now() + timedelta(days=20))
    link, _ = share(owner, collection=collection, expires_at=timezone.now() + timedelta(days=10))
    ShareLink.objects.filter(pk=link.pk).update(created_at=timezone.now() - timedelta(days=10))
    link.refresh_from_db()
    # Ten days later, editing cannot push it past day 14 of the link's life.
    later = settings_for(expires_at=timezone.now() + timedelta(days=10))
    with pytest.raises(links.LinkError, match="at most 14 days"):
        links.link_update(link=link, settings=later)


def test_editing_other_settings_keeps_the_expiry(owner, collection, signed_in_owner):
    link, _ = share(owner, collection=collection)
    before = link.expires_at
    day = timezone.localtime(before).date().isoformat()
    response = signed_in_owner.post(f"/links/{link.pk}/edit", form(expires_on=day, title="New"))
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.expires_at == before and link.title == "New" and link.version == 2


def test_a_password_is_required_when_the_team_says_so(owner, collection, signed_in_owner):
    policy(link_password_required=True)
    with pytest.raises(links.LinkError, match="requires a password"):
        share(owner, collection=collection)
    response = signed_in_owner.post(f"/collections/{collection.pk}/sharing", form())
    assert response.status_code == 400
    assert "The team requires a password on every link." in response.content.decode()
    assert not ShareLink.objects.exists()


def test_no_links_at_all_when_the_team_turns_them_off(owner, collection, signed_in_owner):
    _, path = share(owner, collection=collection)
    policy(public_links_allowed=False)
    with pytest.raises(links.LinkError, match="turned share links off"):
        share(owner, collection=collection)
    assert signed_in_owner.get(path).status_code == 404
    page = signed_in_owner.get(f"/collections/{collection.pk}/sharing").content.decode()
    assert "turned share links off" in page and "Make link" not in page


def test_the_default_expiry_is_thirty_days(owner, collection, signed_in_owner):
    page = signed_in_owner.get(f"/collections/{collection.pk}/sharing").content.decode()
    default = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert f'value="{default}"' in page


# ---- Revoke, rotate, revoke all, deactivation. -----------------------------------------


def test_rotating_kills_the_old_address_at_once(client, owner, collection):
    link, old = share(owner, collection=collection)
    new_token = links.link_rotate(link=link)
    assert client.get(old).status_code == 404
    # The bare token is one of the link's addresses; it leads to the link's own.
    assert client.get(f"/s/{new_token}/", follow=True).status_code == 200


def test_revoke_all_of_a_collection(client, owner, collection, signed_in_owner):
    paths = [share(owner, collection=collection)[1] for _ in range(3)]
    _, elsewhere = share(owner, image_ids=[collection.images.first().pk])
    signed_in_owner.post(f"/collections/{collection.pk}/sharing/revoke-all")
    assert all(client.get(p).status_code == 404 for p in paths)
    assert client.get(elsewhere).status_code == 200


def test_deactivating_a_member_revokes_their_links(client, owner, collection, admin):
    link, path = share(owner, collection=collection)
    client.force_login(admin)
    client.post(f"/team/{owner.pk}/deactivate")
    link.refresh_from_db()
    assert link.revoked_at is not None
    owner.is_active = True
    owner.save()
    assert client.get(path).status_code == 404  # reactivating does not bring links back


# ---- The owner's pages. ----------------------------------------------------------------


@pytest.fixture
def signed_in_owner(client, owner):
    client.force_login(owner)
    return client


def test_the_owner_makes_a_link_and_sees_its_address_and_stats(signed_in_owner, owner, collection):
    response = signed_in_owner.post(
        f"/collections/{collection.pk}/sharing", form(password="open sesame")
    )
    assert response.status_code == 302
    link = ShareLink.objects.get()
    assert link.collection == collection and link.downloads == "web" and link.password_hash
    assert link.label == "Client A" and link.slug == "spring-campaign-round-2"
    page = signed_in_owner.get(f"/collections/{collection.pk}/sharing").content.decode()
    address = re.search(r'value="(http://testserver/s/[^"]+/)"', page).group(1)
    assert address.endswith(links.address_key(link) + "/")
    assert "Made the link “Client A”" in page
    assert "open sesame" not in page
    for stat in ("Views", "Visitors", "Downloads", "Last viewed", "Failed passwords"):
        assert stat in page


def test_bad_settings_are_explained_and_nothing_is_made(signed_in_owner, collection):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    for data, message in [
        (form(title=""), "This field is required."),
        (form(expires_on="soon"), "Enter a valid date."),
        (form(expires_on=yesterday), "Pick an expiry in the future."),
        (form(expires_on=""), "Pick the last day the link works."),
        (form(downloads="everything"), "Select a valid choice."),
        # Guessed at 50 tries a quarter-hour, a PIN falls within days.
        (form(password="7"), "A link&#x27;s password needs at least 8 characters."),
    ]:
        response = signed_in_owner.post(f"/collections/{collection.pk}/sharing", data)
        assert response.status_code == 400 and message in response.content.decode(), message
    assert not ShareLink.objects.exists()


@pytest.mark.parametrize("who", ["teammate", "outsider"])
def test_nobody_else_can_see_or_touch_a_collections_links(client, owner, collection, who,
                                                          teammate, outsider):  # fmt: skip
    link, path = share(owner, collection=collection)
    client.force_login(teammate if who == "teammate" else outsider)
    assert client.get(f"/collections/{collection.pk}/sharing").status_code == 404
    assert client.post(f"/collections/{collection.pk}/sharing", form()).status_code == 404
    assert client.post(f"/collections/{collection.pk}/sharing/revoke-all").status_code == 404
    assert client.get(f"/links/{link.pk}/edit").status_code == 404
    assert client.post(f"/links/{link.pk}/edit", form(title="Mine now")).status_code == 404
    assert client.post(f"/links/{link.pk}/revoke").status_code == 404
    assert client.post(f"/links/{link.pk}/rotate").status_code == 404
    assert client.get("/team/links/").status_code == 403
    assert path.strip("/")[-43:] not in client.get("/links/").content.decode()
    link.refresh_from_db()
    assert link.revoked_at is None and link.version == 1 and link.title != "Mine now"
    assert ShareLink.objects.count() == 1


def test_signed_out_visitors_are_sent_to_sign_in_for_owner_pages(client, owner, collection):
    link, _ = share(owner, collection=collection)
    for url in (f"/collections/{collection.pk}/sharing", "/links/", f"/links/{link.pk}/edit",
                "/team/links/"):  # fmt: skip
        assert client.get(url).status_code == 302
    for url in (f"/links/{link.pk}/revoke", f"/links/{link.pk}/rotate", "/links/share"):
        assert client.post(url).status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is None


def test_wrong_methods_are_refused(signed_in_owner, owner, collection):
    link, _ = share(owner, collection=collection)
    assert signed_in_owner.get(f"/links/{link.pk}/revoke").status_code == 405
    assert signed_in_owner.get(f"/links/{link.pk}/rotate").status_code == 405
    assert signed_in_owner.get("/links/share").status_code == 405
    assert signed_in_owner.post("/links/").status_code == 405


def test_an_admin_sees_every_live_link_without_addresses_and_can_revoke_any(
    client, owner, teammate, collection, admin, media
):
    mine, _ = share(owner, collection=collection, label="For the client")
    theirs, _ = share(teammate, image_ids=[make_image(teammate, "t").pk], title="Tomas's")
    dead, _ = share(owner, collection=collection, label="Old one")
    links.link_revoke(link=dead)
    client.force_login(admin)
    page = client.get("/team/links/").content.decode()
    assert "For the client" in page and "Tomas&#x27;s" in page and "Old one" not in page
    assert "olivia" in page and "tomas" in page
    assert "/s/" not in page  # admins revoke; they do not get the addresses
    client.post(f"/links/{theirs.pk}/revoke", {"next": "/team/links/"})
    theirs.refresh_from_db()
    assert theirs.revoked_at is not None
    # An admin may look at a team-visible collection's panel and revoke, but not edit or
    # rotate.
    collection.visibility = collection.Visibility.TEAM_VIEW
    collection.save()
    assert client.get(f"/collections/{collection.pk}/sharing").status_code == 200
    assert client.post(f"/links/{mine.pk}/rotate").status_code == 404
    made = client.post(f"/collections/{collection.pk}/sharing", form(), follow=True)
    assert "Only the collection&#x27;s owner can make links to it." in made.content.decode()
    assert ShareLink.objects.filter(collection=collection).count() == 2


def test_a_members_private_collection_is_the_same_404_to_an_admin(
    client, owner, collection, admin, media
):
    link, _ = share(owner, collection=collection, label="For the client")
    client.force_login(admin)
    for url in (f"/collections/{collection.pk}/", f"/collections/{collection.pk}/sharing"):
        response = client.get(url)
        assert response.status_code == 404
        assert collection.title not in response.content.decode()
    assert client.post(f"/collections/{collection.pk}/sharing", form()).status_code == 404
    assert client.post(f"/collections/{collection.pk}/sharing/revoke-all").status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None
    # The team's list of live links still lets an admin revoke one that leaked (it is
    # public), without naming the private collection it shows.
    link.title = "Moodboard for the client"
    link.save()
    page = client.get("/team/links/").content.decode()
    assert "For the client" in page and "Moodboard for the client" in page
    assert collection.title not in page and "a private collection" in page
    collection.visibility = collection.Visibility.TEAM_VIEW
    collection.save()
    assert collection.title in client.get("/team/links/").content.decode()


def test_sharing_a_selection_from_the_gallery_makes_a_frozen_link_of_own_images_only(
    signed_in_owner, owner, teammate, images, media
):
    foreign = make_image(teammate, "not yours")
    ids = [images[0].pk, images[2].pk, foreign.pk, "junk"]
    first = signed_in_owner.post("/links/share", {"image": ids})
    assert first.status_code == 200 and "Share 2 images" in first.content.decode()
    assert not ShareLink.objects.exists()
    done = signed_in_owner.post("/links/share", {"image": ids, **form(title="Picks")})
    assert done.status_code == 302 and done["Location"] == "/links/"
    link = ShareLink.objects.get()
    assert link.collection is None
    assert list(ShareLinkImage.objects.filter(link=link).values_list("image_id", flat=True)) == [
        images[0].pk, images[2].pk,
    ]  # fmt: skip
    assert "Picks" in signed_in_owner.get("/links/").content.decode()


def test_sharing_nothing_says_so(signed_in_owner, owner, teammate, media):
    foreign = make_image(teammate, "not yours")
    response = signed_in_owner.post("/links/share", {"image": [foreign.pk]}, follow=True)
    assert "Select at least one image to share." in response.content.decode()
    assert not ShareLink.objects.exists()


def test_the_gallery_has_a_share_button(signed_in_owner):
    assert 'formaction="/links/share"' in signed_in_owner.get("/gallery/").content.decode()


def test_the_owner_edits_revokes_and_rotates_from_the_panel(
    client, signed_in_owner, owner, collection
):
    link, path = share(owner, collection=collection)
    response = signed_in_owner.post(f"/links/{link.pk}/rotate")
    assert response.status_code == 302
    assert client.get(path).status_code == 404
    link.refresh_from_db()
    new_path = f"/s/{links.address_key(link)}/"
    assert client.get(new_path).status_code == 200
    signed_in_owner.post(f"/links/{link.pk}/revoke")
    assert client.get(new_path).status_code == 404
    assert signed_in_owner.get(f"/links/{link.pk}/edit", follow=True).status_code == 200
    page = signed_in_owner.get(f"/collections/{collection.pk}/sharing").content.decode()
    assert "revoked" in page and new_path not in page


def test_a_short_password_is_refused_on_an_edit_and_the_old_one_still_opens(
    client, signed_in_owner, owner, collection
):
    link, path = share(owner, collection=collection, password="open sesame")
    response = signed_in_owner.post(f"/links/{link.pk}/edit", form(password="1234"))
    assert response.status_code == 400
    assert "needs at least 8 characters" in response.content.decode()
    assert client.post(path + "unlock", {"password": "1234"}).status_code == 403
    assert client.post(path + "unlock", {"password": "open sesame"}).status_code == 302


def test_a_collection_of_someone_else_cannot_be_shared_through_the_service(teammate, collection):
    with pytest.raises(links.LinkError):
        links.link_create(owner=teammate, settings=settings_for(), collection=collection)


def test_stats_on_the_panel(client, signed_in_owner, owner, collection, media):
    link, path = share(owner, collection=collection)
    from django.test import Client

    Client(HTTP_USER_AGENT="Mozilla/5.0 Firefox").get(path)
    page = signed_in_owner.get(f"/collections/{collection.pk}/sharing").content.decode()
    row = page[page.index(f'data-link-id="{link.pk}"') :]
    cells = re.findall(r'<td class="num">(\d+)</td>', row)[:4]
    assert cells == ["1", "1", "0", "0"]  # views, visitors, downloads, failed passwords


def test_an_admin_sets_the_teams_rules_for_links(client, owner, collection, admin):
    _, path = share(owner, collection=collection)
    client.force_login(admin)
    response = client.post("/team/links/", {"link_max_days": "0"})
    assert response.status_code == 400 and "from 1 to 3650" in response.content.decode()
    assert TeamPolicy.current().link_max_days is None
    client.post("/team/links/", {"link_max_days": "5", "link_password_required": "on"})
    rules = TeamPolicy.current()
    assert rules.link_max_days == 5 and rules.link_password_required
    assert not rules.public_links_allowed  # an unticked box: links off, and they stop
    assert client.get(path).status_code == 404


def test_a_tighter_longest_expiry_binds_links_made_before(client, owner, collection):
    link, path = share(owner, collection=collection, expires_at=timezone.now() + timedelta(30))
    ShareLink.objects.filter(pk=link.pk).update(created_at=timezone.now() - timedelta(days=6))
    policy(link_max_days=5)
    assert client.get(path).status_code == 404


def test_only_admins_set_the_rules(client, teammate):
    client.force_login(teammate)
    assert client.post("/team/links/", {"link_max_days": "1"}).status_code == 403
    assert TeamPolicy.current().link_max_days is None


def test_a_link_whose_key_was_retired_still_lists_and_can_get_a_new_address(
    signed_in_owner, owner, collection
):
    link, _ = share(owner, collection=collection)
    ShareLink.objects.filter(pk=link.pk).update(token_encrypted="gAAAA-not-ours")
    page = signed_in_owner.get(f"/collections/{collection.pk}/sharing")
    assert page.status_code == 200 and f'data-link-id="{link.pk}"' in page.content.decode()
    signed_in_owner.post(f"/links/{link.pk}/rotate")
    page = signed_in_owner.get(f"/collections/{collection.pk}/sharing").content.decode()
    assert "/s/spring-campaign-round-2-" in page


# ---- Extending an expired link. --------------------------------------------------------


def expire(link, *, made_days_ago=10):
    ShareLink.objects.filter(pk=link.pk).update(
        created_at=timezone.now() - timedelta(days=made_days_ago),
        expires_at=timezone.now() - timedelta(days=1),
    )
    link.refresh_from_db()


def in_days(days):
    return {"expires_on": (timezone.localdate() + timedelta(days=days)).isoformat()}


def test_the_owner_extends_an_expired_link_and_its_address_opens_again(
    client, signed_in_owner, owner, collection
):
    link, path = share(owner, collection=collection)
    expire(link)
    assert Client().get(path).status_code == 404
    page = signed_in_owner.get("/links/").content.decode()
    assert f'action="/links/{link.pk}/extend"' in page
    response = signed_in_owner.post(f"/links/{link.pk}/extend", in_days(7), follow=True)
    assert "works again until" in response.content.decode()
    link.refresh_from_db()
    assert timezone.localtime(link.expires_at).date() == timezone.localdate() + timedelta(days=7)
    assert Client().get(path).status_code == 200  # the same address


def test_nobody_else_can_extend_a_link(client, owner, teammate, outsider, admin, collection):
    link, _ = share(owner, collection=collection)
    expire(link)
    for person in (teammate, outsider, admin):
        client.force_login(person)
        assert client.post(f"/links/{link.pk}/extend", in_days(7)).status_code == 404
    link.refresh_from_db()
    assert link.expires_at < timezone.now() and link.version == 1


def test_an_extension_beyond_the_teams_rules_is_refused_and_says_why(
    signed_in_owner, owner, collection
):
    policy(link_max_days=14)
    link, path = share(owner, collection=collection)
    expire(link)  # made ten days ago: four days left of the team's fourteen
    response = signed_in_owner.post(f"/links/{link.pk}/extend", in_days(7), follow=True)
    assert "The team allows links for at most 14 days from when they were made" in (
        response.content.decode()
    )
    link.refresh_from_db()
    assert link.expires_at < timezone.now()
    signed_in_owner.post(f"/links/{link.pk}/extend", in_days(3))
    assert Client().get(path).status_code == 200
    # Never expiring only where the team allows it.
    expire(link)
    response = signed_in_owner.post(f"/links/{link.pk}/extend", {"never": "on"}, follow=True)
    assert "Pick the last day the link works." in response.content.decode()
    assert Client().get(path).status_code == 404


def test_bad_dates_are_explained(signed_in_owner, owner, collection):
    link, _ = share(owner, collection=collection)
    expire(link)
    for data, message in [
        ({}, "Pick the last day the link works."),
        ({"expires_on": "tomorrow"}, "Enter a valid date."),
        (in_days(-3), "Pick an expiry in the future."),
        (in_days(5000), "Pick a day within ten years"),
    ]:
        response = signed_in_owner.post(f"/links/{link.pk}/extend", data, follow=True)
        assert response.status_code == 200 and message in response.content.decode(), message
    link.refresh_from_db()
    assert link.expires_at < timezone.now()


def test_a_revoked_link_stays_dead(signed_in_owner, owner, collection):
    link, path = share(owner, collection=collection)
    expire(link)
    links.link_revoke(link=link)
    assert (
        f'action="/links/{link.pk}/extend"' not in signed_in_owner.get("/links/").content.decode()
    )
    response = signed_in_owner.post(f"/links/{link.pk}/extend", in_days(7), follow=True)
    assert "This link is revoked; make a new one instead." in response.content.decode()
    assert Client().get(path).status_code == 404
    with pytest.raises(links.LinkError, match="revoked"):
        links.link_extend(link=link, expires_at=timezone.now() + timedelta(days=7))


def test_extending_takes_a_post(signed_in_owner, owner, collection):
    link, _ = share(owner, collection=collection)
    assert signed_in_owner.get(f"/links/{link.pk}/extend").status_code == 405


def test_past_the_teams_longest_no_extension_is_offered_and_the_row_says_why(
    signed_in_owner, owner, collection
):
    policy(link_max_days=14)
    link, _ = share(owner, collection=collection)
    expire(link, made_days_ago=20)
    page = signed_in_owner.get("/links/").content.decode()
    assert f'action="/links/{link.pk}/extend"' not in page
    assert "expired at the team&#x27;s longest expiry; make a new link to share again" in page
