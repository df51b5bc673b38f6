"""The studio's "Add to collection" through a real qcluster: the worker stores the images
and the collection receives them, though the jobs app knows nothing of collections."""

import pytest
from django.test import Client
from django.utils import timezone

from flux2web.collections import services
from flux2web.collections.models import PendingAdd
from flux2web.jobs.models import Job
from tests.collections.factories import make_image
from tests.helpers import wait_for
from tests.jobs.factories import wait_until_done

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
    # The collection is filled just after the job says "succeeded": wait, don't race.
    in_collection = lambda: sorted(c.items.values_list("image_id", flat=True)) == stored  # noqa: E731
    wait_for(in_collection, timeout=10, message=lambda: f"{list(c.items.all())} != {stored}")
    assert all(i.team_visible for j in jobs for i in j.images.all())
    assert not PendingAdd.objects.exists()


def test_a_job_stored_before_the_studio_names_the_collection_still_lands_in_it(owner, media):
    # The sandbox can finish a job before the view's next line runs: the worker's
    # "images stored" announcement then finds nothing pending.
    c = services.collection_create(owner=owner, title="Fast")
    image = make_image(owner)
    Job.objects.filter(pk=image.job_id).update(mirrored_at=timezone.now())
    services.pending_add(jobs=[image.job], collection=c, user=owner)
    assert list(c.items.values_list("image_id", flat=True)) == [image.pk]
    assert not PendingAdd.objects.exists()
