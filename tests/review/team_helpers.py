"""What the team-side review tests share: a guest's comment through a share link, a
collection the team can add to, and signed-in clients."""

from django.test import Client

from flux2web.collections.models import Collection
from flux2web.jobs.models import Image
from flux2web.review.models import Comment, Reviewer
from tests.collections.factories import make_collection
from tests.links.factories import share


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def team_add(owner, images, title="Spring campaign"):
    """A collection of the owner's images that every teammate may add to (and mark); its
    images are shown to the team, as adding them there does."""
    Image.objects.filter(pk__in=[i.pk for i in images]).update(team_visible=True)
    return make_collection(owner, images, title=title, visibility=Collection.Visibility.TEAM_ADD)


def guest_comment(owner, collection, image, *, name="Ana", body="the third one, warmer",
                  label="Client A"):  # fmt: skip
    """A comment left by a guest of a link to `collection` (made by `owner`)."""
    link, _ = share(owner, collection=collection, label=label)
    guest = Reviewer.objects.create(link=link, name=name, browser=name.ljust(64, "0")[:64])
    return Comment.objects.create(image=image, reviewer=guest, body=body)
