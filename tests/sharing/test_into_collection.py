"""The studio's "Add to collection" through a real qcluster: the worker stores the images
and the collection receives them, though the jobs app knows nothing of collections."""

import pytest
from django.test import Client

from flux2web.jobs.models import Job
from flux2web.sharing import services
from flux2web.sharing.models import PendingAdd
from tests.jobs.conftest import wait_until_done

pytestmark = pytest.mark.django_db(transaction=True)


def test_generated_images_land_in_the_chosen_collection(owner, providers, sandbox, cluster, media):
    worker = cluster().ready()
    c = services.collection_create(owner=owner, title="Straight in")
    client = Client()
    client.force_login(owner)
    client.post("/generate", {
        "prompt": "a heron in the reeds", "model": "pro", "count": "2",
        "provider": providers["LiangXin"].pk, "aspect_ratio": "1:1",
        "idempotency_key": "into", "collection": c.pk, "visibility": "team",
    })  # fmt: skip
    jobs = wait_until_done(list(Job.objects.all()), cluster=worker)
    assert [j.state for j in jobs] == ["succeeded", "succeeded"], worker.output()
    stored = sorted(i.pk for j in jobs for i in j.images.all())
    assert sorted(c.items.values_list("image_id", flat=True)) == stored
    assert all(i.team_visible for j in jobs for i in j.images.all())
    assert not PendingAdd.objects.exists()
