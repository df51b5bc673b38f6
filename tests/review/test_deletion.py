"""Deleting an image removes what was said about it everywhere: teammates' comments and
likes, guests' picks and comments, and the notifications that pointed at it."""

import pytest

from flux2web.jobs import actions
from flux2web.review.models import Comment, Notification, Pick, Reaction, Reviewer
from flux2web.review.notifications import notify
from tests.collections.factories import make_collection, make_image
from tests.links.factories import share

pytestmark = pytest.mark.django_db


def _reviewed(owner, teammate, image, link):
    guest = Reviewer.objects.get_or_create(link=link, browser="b" * 64, name="Ana")[0]
    said = Comment.objects.create(image=image, author=teammate, body="warmer, please")
    Comment.objects.create(image=image, reviewer=guest, body="this one")
    Reaction.objects.create(image=image, user=teammate)
    Pick.objects.create(reviewer=guest, image=image)
    notify(recipients=[owner], kind="image_comment", text="Tomas commented", url="/x",
           image=image, comment=said)  # fmt: skip


def _left(image_id):
    return [
        Comment.objects.filter(image_id=image_id).count(),
        Reaction.objects.filter(image_id=image_id).count(),
        Pick.objects.filter(image_id=image_id).count(),
        Notification.objects.filter(image_id=image_id).count(),
    ]


def test_deleting_images_from_the_gallery_removes_their_review_everywhere(owner, teammate):
    gone, kept = make_image(owner), make_image(owner)
    link, _ = share(owner, collection=make_collection(owner, [gone, kept]))
    for image in (gone, kept):
        _reviewed(owner, teammate, image, link)
    assert _left(gone.pk) == [2, 1, 1, 1]

    assert actions.delete_images(owner=owner, image_ids=[gone.pk]) == 1

    assert _left(gone.pk) == [0, 0, 0, 0]
    assert _left(kept.pk) == [2, 1, 1, 1]
    # The guest and their comment on the whole set stay: only the image's items went.
    assert Reviewer.objects.filter(link=link).count() == 1


def test_deleting_a_job_removes_its_images_review(owner, teammate):
    image = make_image(owner)
    link, _ = share(owner, collection=make_collection(owner, [image]))
    _reviewed(owner, teammate, image, link)

    assert actions.delete_job(job_id=image.job_id)

    assert _left(image.pk) == [0, 0, 0, 0]
