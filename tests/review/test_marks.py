"""Marks on a collection's images (approved, needs changes, rejected): who may set them,
what the tiles show, filtering the page by mark and by comments, and the entry points to an
image's review page."""

import pytest
from django.core.cache import cache

from flux2web.collections.models import Collection, CollectionItem
from flux2web.review.models import Comment, Pick, Reviewer
from tests.collections.factories import HX, make_collection, make_image
from tests.links.factories import share
from tests.review.team_helpers import guest_comment, signed_in, team_add

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def mark(client, collection, image, value):
    return client.post(f"/collections/{collection.pk}/mark", {"image": image.pk, "mark": value})


def item_of(collection, image):
    return CollectionItem.objects.get(collection=collection, image=image)


def test_the_owner_marks_an_image_and_the_tile_says_who_and_when(owner, images, collection):
    owner.first_name = "Olivia"
    owner.save()
    before = collection.updated_at
    response = mark(signed_in(owner), collection, images[0], "approved")
    assert response.status_code == 302 and response["Location"] == f"/collections/{collection.pk}/"
    item = item_of(collection, images[0])
    assert (item.mark, item.marked_by, item.marked_at is not None) == ("approved", owner, True)
    collection.refresh_from_db()
    assert collection.updated_at > before
    page = signed_in(owner).get(f"/collections/{collection.pk}/").content.decode()
    assert 'class="mark mark-approved"' in page and "Approved" in page
    assert "Olivia" in page  # who, in the tile's small line

    mark(signed_in(owner), collection, images[0], "")
    item = item_of(collection, images[0])
    assert (item.mark, item.marked_by, item.marked_at) == ("", None, None)


def test_in_a_team_add_collection_a_teammate_marks_too(owner, teammate, images):
    collection = team_add(owner, images)
    assert mark(signed_in(teammate), collection, images[1], "changes").status_code == 302
    assert item_of(collection, images[1]).marked_by == teammate


def test_a_team_view_or_private_collection_is_not_for_others_to_mark(owner, teammate, images,
                                                                    django_user_model):  # fmt: skip
    admin = django_user_model.objects.create_user("ada", is_team_admin=True)
    private = make_collection(owner, images)
    viewable = make_collection(owner, images, title="Seen",
                               visibility=Collection.Visibility.TEAM_VIEW)  # fmt: skip
    for user in (teammate, admin):
        for collection in (private, viewable):
            assert mark(signed_in(user), collection, images[0], "rejected").status_code == 404
    assert not CollectionItem.objects.exclude(mark="").exists()


@pytest.mark.parametrize("value", ["great", "APPROVED", "x" * 500])
def test_a_mark_that_is_not_one_is_refused_with_a_message(owner, images, collection, value):
    response = mark(signed_in(owner), collection, images[0], value)
    assert response.status_code == 400
    assert "approved, needs changes or rejected" in response.content.decode()
    assert not CollectionItem.objects.exclude(mark="").exists()


def test_an_image_not_in_the_collection_is_refused(owner, images, collection, media):
    other = make_image(owner)
    response = mark(signed_in(owner), collection, other, "approved")
    assert response.status_code == 400 and "not in this collection" in response.content.decode()
    response = signed_in(owner).post(f"/collections/{collection.pk}/mark", {"mark": "approved"})
    assert response.status_code == 400


def test_marking_with_htmx_returns_the_grid(owner, images, collection):
    response = signed_in(owner).post(
        f"/collections/{collection.pk}/mark",
        {"image": images[2].pk, "mark": "rejected"},
        headers={**HX, "HX-Target": "collection-grid"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="collection-grid"' in html
    assert "mark-rejected" in html and "Rejected" in html


def test_the_page_filters_by_mark_and_by_comments(owner, teammate, images):
    collection = team_add(owner, images)
    client = signed_in(owner)
    mark(client, collection, images[0], "approved")
    mark(client, collection, images[1], "rejected")
    Comment.objects.create(image=images[2], author=teammate, body="hm")

    def shown(query):
        page = client.get(f"/collections/{collection.pk}/?{query}").content.decode()
        return {i.pk for i in images if f'data-image-id="{i.pk}"' in page}

    assert shown("mark=approved") == {images[0].pk}
    assert shown("mark=rejected") == {images[1].pk}
    assert shown("mark=none") == {images[2].pk}
    assert shown("comments=1") == {images[2].pk}
    assert shown("") == {i.pk for i in images}
    assert shown("mark=bogus") == {i.pk for i in images}  # an unknown filter filters nothing
    page = client.get(f"/collections/{collection.pk}/").content.decode()
    assert f'href="/collections/{collection.pk}/?mark=approved"' in page  # works without JS
    filtered = client.get(f"/collections/{collection.pk}/?mark=approved").content.decode()
    assert "1 of 3 images" in filtered


def test_comments_only_counts_those_the_viewer_may_read(owner, teammate, images):
    collection = team_add(owner, images)
    guest_comment(owner, collection, images[0])
    mine = signed_in(owner).get(f"/collections/{collection.pk}/?comments=1").content.decode()
    theirs = signed_in(teammate).get(f"/collections/{collection.pk}/?comments=1").content.decode()
    assert f'data-image-id="{images[0].pk}"' in mine
    assert f'data-image-id="{images[0].pk}"' not in theirs


def test_tiles_show_comment_counts_and_to_the_owner_this_collection_s_picks(owner, teammate,
                                                                           images):  # fmt: skip
    collection = team_add(owner, images)
    other = make_collection(owner, images, title="Another")
    client = signed_in(owner)
    url = f"/collections/{collection.pk}/"
    assert "1 comment" not in client.get(url).content.decode()
    Comment.objects.create(image=images[0], author=teammate, body="nice")
    page = client.get(url).content.decode()  # the kept tiles are new
    assert "Comments (1)" in page and f'href="/images/{images[0].pk}/review"' in page
    link, _ = share(owner, collection=collection)
    elsewhere, _ = share(owner, collection=other)
    for n, on in enumerate((link, link, elsewhere)):
        guest = Reviewer.objects.create(link=on, name=f"G{n}", browser=str(n) * 64)
        Pick.objects.create(reviewer=guest, image=images[1])
    assert "2 guest picks" in client.get(url).content.decode()
    assert "guest pick" not in signed_in(teammate).get(url).content.decode()
