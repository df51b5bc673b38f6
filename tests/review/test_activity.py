"""A collection's activity: comments, marks, new images, and for its owner guests' picks,
confirmations and link events; newest first, a page at a time, in a fixed number of
queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from flux2web.collections.models import Collection, CollectionItem
from flux2web.review.models import Comment, Pick, Reviewer
from tests.collections.factories import make_collection, make_image
from tests.links.factories import share
from tests.review.team_helpers import guest_comment, signed_in, team_add

pytestmark = pytest.mark.django_db


def activity(client, collection, query=""):
    return client.get(f"/collections/{collection.pk}/activity{query}")


def test_the_owner_sees_everything_newest_first(owner, teammate, images):
    collection = team_add(owner, images)
    now = timezone.now()
    CollectionItem.objects.filter(collection=collection).update(added_at=now - timedelta(days=3))
    CollectionItem.objects.filter(collection=collection, image=images[0]).update(
        mark="approved", marked_by=teammate, marked_at=now - timedelta(hours=2)
    )
    Comment.objects.create(image=images[1], author=teammate, body="warmer, please",
                           created_at=now - timedelta(hours=1))  # fmt: skip
    link, _ = share(owner, collection=collection, label="Client A")
    guest = Reviewer.objects.create(link=link, name="Ana", browser="a" * 64,
                                    confirmed_at=now - timedelta(minutes=5))  # fmt: skip
    Pick.objects.create(reviewer=guest, image=images[2], created_at=now - timedelta(minutes=10))
    link.revoked_at, link.created_at = now - timedelta(minutes=1), now - timedelta(days=1)
    link.save(update_fields=["revoked_at", "created_at"])

    page = activity(signed_in(owner), collection).content.decode()
    order = [
        "revoked the link",
        "confirmed their picks",
        "picked an image",
        "warmer, please",
        "marked an image",
        "shared the collection by a link",
        "added an image",
    ]
    at = [page.find(words) for words in order]
    assert -1 not in at, dict(zip(order, at, strict=True))
    assert at == sorted(at)
    assert "Ana · guest · Client A" in page

    theirs = activity(signed_in(teammate), collection).content.decode()
    assert "warmer, please" in theirs and "marked an image" in theirs
    assert "added an image" in theirs
    for owner_only in ("picked an image", "confirmed their picks", "revoked the link", "Ana"):
        assert owner_only not in theirs


def test_a_private_collection_s_activity_is_the_same_404_for_anyone_else(
    owner, teammate, collection, django_user_model
):
    admin = django_user_model.objects.create_user("ada", is_team_admin=True)
    for user in (teammate, admin):
        assert activity(signed_in(user), collection).status_code == 404
    assert activity(signed_in(owner), collection).status_code == 200
    assert signed_in(owner).post(f"/collections/{collection.pk}/activity").status_code == 405


def test_a_guest_s_comment_is_only_in_the_owner_s_activity(owner, teammate, images):
    collection = make_collection(owner, images, visibility=Collection.Visibility.TEAM_VIEW)
    guest_comment(owner, collection, images[0], body="the blue one")
    assert "the blue one" in activity(signed_in(owner), collection).content.decode()
    assert "the blue one" not in activity(signed_in(teammate), collection).content.decode()


def test_guests_of_the_owner_s_other_links_are_not_in_this_collection_s_activity(owner, images):
    here = make_collection(owner, images[:2], title="Here")
    elsewhere = make_collection(owner, images[:2], title="Elsewhere")
    guest_comment(owner, here, images[0], name="Ana", body="said here", label="Link here")
    guest_comment(owner, elsewhere, images[0], name="Bea", body="said elsewhere",
                  label="Link elsewhere")  # fmt: skip
    lone, _ = share(owner, image_ids=[images[1].pk], label="Just one")
    guest = Reviewer.objects.create(link=lone, name="Cy", browser="c" * 64)
    Comment.objects.create(image=images[1], reviewer=guest, body="said on a lone link")

    page = activity(signed_in(owner), here).content.decode()
    assert "said here" in page
    assert "said elsewhere" not in page and "said on a lone link" not in page
    assert "said elsewhere" in activity(signed_in(owner), elsewhere).content.decode()


def test_the_last_page_offers_no_older_one(owner, teammate, images):
    collection = team_add(owner, images[:1])
    now = timezone.now()
    Comment.objects.bulk_create(
        Comment(image=images[0], author=teammate, body=f"note {n}",
                created_at=now - timedelta(seconds=n))
        for n in range(100 * 50 + 10)
    )  # fmt: skip
    ninety_nine = activity(signed_in(owner), collection, "?page=99").content.decode()
    assert 'href="?page=100"' in ninety_nine
    for query in ("?page=100", "?page=101"):
        last = activity(signed_in(owner), collection, query).content.decode()
        assert ">Older<" not in last and 'href="?page=101"' not in last
        assert 'href="?page=99"' in last


def test_fifty_a_page_with_an_older_link(owner, teammate, images):
    collection = team_add(owner, images)
    now = timezone.now()
    CollectionItem.objects.filter(collection=collection).update(added_at=now - timedelta(days=1))
    Comment.objects.bulk_create(
        Comment(image=images[0], author=teammate, body=f"note {n:03d}.",
                created_at=now - timedelta(minutes=n))
        for n in range(60)
    )  # fmt: skip
    first = activity(signed_in(owner), collection).content.decode()
    assert "note 000." in first and "note 049." in first and "note 050." not in first
    assert 'href="?page=2"' in first
    second = activity(signed_in(owner), collection, "?page=2").content.decode()
    assert "note 050." in second and "note 049." not in second and "added an image" in second
    assert activity(signed_in(owner), collection, "?page=abc").status_code == 200


def _queries(client, collection) -> int:
    with CaptureQueriesContext(connection) as seen:
        assert activity(client, collection).status_code == 200
    return len(seen)


def test_the_number_of_queries_does_not_grow_with_the_events(owner, teammate, media):
    small = team_add(owner, [make_image(owner)], title="Small")
    many = [make_image(owner) for _ in range(6)]
    large = team_add(owner, many, title="Large")
    for collection in (small, large):
        link, _ = share(owner, collection=collection)
        for n, image in enumerate(collection.images.all()):
            guest = Reviewer.objects.create(link=link, name=f"G{n}", browser=str(n) * 64,
                                            confirmed_at=timezone.now())  # fmt: skip
            Pick.objects.create(reviewer=guest, image=image)
            Comment.objects.create(image=image, author=teammate, body="ok")
            Comment.objects.create(image=image, reviewer=guest, body="yes")
            CollectionItem.objects.filter(image=image).update(
                mark="approved", marked_by=teammate, marked_at=timezone.now()
            )
    client = signed_in(owner)
    _queries(client, small)  # the session and the like, read once
    assert _queries(client, small) == _queries(client, large)


def test_the_collection_page_links_to_its_activity(owner, collection):
    page = signed_in(owner).get(f"/collections/{collection.pk}/").content.decode()
    assert f'href="/collections/{collection.pk}/activity"' in page
