"""Share links lived in the `sharing` app until it was split into collections and links:
a database made before the split migrates across without losing a link, an image of a
frozen link or a visit, and can go back."""

import pytest
from django.contrib.contenttypes.models import ContentType

from flux2web.collections.models import Collection
from flux2web.links.models import ShareLink, ShareLinkImage, ShareVisit
from tests.collections.factories import make_collection, make_image
from tests.helpers import latest, migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("sharing", "0002_pending_add")]


def test_links_made_before_the_split_are_the_links_apps_after_it(owner, media, providers):
    image = make_image(owner)
    collection = make_collection(owner, [image])
    old = migrate(BEFORE)
    with pytest.raises(LookupError):
        old.get_model("links", "ShareLink")
    OldLink = old.get_model("sharing", "ShareLink")
    live = OldLink.objects.create(
        owner_id=owner.pk, collection_id=collection.pk, title="Live", token_hash="a" * 64,
        token_encrypted="x", views=7,
    )  # fmt: skip
    frozen = OldLink.objects.create(
        owner_id=owner.pk, title="Frozen", token_hash="b" * 64, token_encrypted="y"
    )
    old.get_model("sharing", "ShareLinkImage").objects.create(link=frozen, image_id=image.pk)
    old.get_model("sharing", "ShareVisit").objects.create(link=live, day="2026-12-01", visitor="v")
    ContentType.objects.get_or_create(app_label="sharing", model="sharelink")

    migrate(latest())

    assert ShareLink.objects.get(pk=live.pk).collection == Collection.objects.get()
    assert ShareLink.objects.get(pk=live.pk).views == 7
    assert list(ShareLinkImage.objects.values_list("link_id", "image_id")) == [
        (frozen.pk, image.pk)
    ]
    assert ShareVisit.objects.get().link_id == live.pk
    assert Collection.objects.get().links.get() == ShareLink.objects.get(pk=live.pk)
    # Permissions and admin history hang on the content type: it moved with the model.
    assert ContentType.objects.get_for_model(ShareLink).app_label == "links"
    assert not ContentType.objects.filter(app_label="sharing", model="sharelink").exists()

    # And back: the rows are still there for the code before the split.
    old = migrate(BEFORE)
    assert old.get_model("sharing", "ShareLink").objects.count() == 2
    migrate(latest())
