"""With FLUX2WEB_S3_BUCKET set, images go to S3-compatible storage, privately.

moto's standalone server plays the bucket over real HTTP on loopback (the s3_server
fixture): the real boto3 and django-storages code that production uses talks to it, from
this process and from the worker processes a test starts.
"""

import urllib.error
import urllib.request

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from flux2web.jobs import mirroring, services
from flux2web.jobs.models import Image, Job
from flux2web.studio.management.commands.generate import describe
from tests.helpers import PASSWORD
from tests.jobs.factories import make_jobs, run_to_the_end, s3_worker_env, wait_until_done


@pytest.fixture
def s3(s3_bucket, settings, sandbox):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})
    return s3_bucket


def keys(client, bucket) -> set[str]:
    return {o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def assert_nothing_public(client, bucket, endpoint):
    """No grant to everyone or to any signed-in AWS user, no bucket policy, and an
    unsigned GET of every object is refused."""
    public = ("AllUsers", "AuthenticatedUsers")
    acl = client.get_bucket_acl(Bucket=bucket)["Grants"]
    assert not [g for g in acl if g["Grantee"].get("URI", "").endswith(public)]
    with pytest.raises(client.exceptions.ClientError, match="NoSuchBucketPolicy"):
        client.get_bucket_policy(Bucket=bucket)
    for key in keys(client, bucket):
        grants = client.get_object_acl(Bucket=bucket, Key=key)["Grants"]
        assert not [g for g in grants if g["Grantee"].get("URI", "").endswith(public)], key
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{endpoint}/{bucket}/{key}", timeout=5)  # noqa: S310
        assert refused.value.code == 403


@pytest.mark.django_db
def test_mirrored_images_are_stored_privately_in_the_bucket(s3, s3_server, owner, providers):
    client, bucket = s3
    (job,) = make_jobs(owner, provider=providers["LiangXin"], width=320, height=256)
    job = run_to_the_end(job)

    assert job.state == Job.State.SUCCEEDED
    image = job.images.get()
    assert keys(client, bucket) == {f"media/{image.original.name}", f"media/{image.thumbnail.name}"}
    assert default_storage.exists(image.original.name)
    body = client.get_object(Bucket=bucket, Key=f"media/{image.original.name}")["Body"].read()
    assert len(body) == image.bytes
    assert_nothing_public(client, bucket, s3_server)
    # The CLI reports the object's name where there is no local path.
    assert describe(job)["images"] == [image.original.name]


@pytest.mark.django_db
def test_a_vanished_object_is_mirrored_again(s3, owner, providers):
    client, bucket = s3
    (job,) = make_jobs(owner, provider=providers["KIE.ai"])
    job = run_to_the_end(job)
    image = job.images.get()
    client.delete_object(Bucket=bucket, Key=f"media/{image.original.name}")
    Job.objects.filter(pk=job.pk).update(state=Job.State.MIRRORING)
    Image.objects.filter(pk=image.pk).update(status=Image.Status.PENDING, original="")

    assert mirroring.mirror_job(job_id=job.pk) == "succeeded"
    image.refresh_from_db()
    assert default_storage.exists(image.original.name)
    assert services.cancel_job(job_id=job.pk)[0] is False


@pytest.mark.django_db(transaction=True)
def test_a_worker_stores_into_the_bucket_the_owner_sees_it_and_deleting_removes_it(
    s3, s3_server, owner, outsider, providers, client, cluster
):
    s3_client, bucket = s3
    worker = cluster(**s3_worker_env(bucket, s3_server))
    (job,) = make_jobs(owner, provider=providers["LiangXin"], width=320, height=256)
    (job,) = wait_until_done([job], timeout=40, cluster=worker)
    assert job.state == Job.State.SUCCEEDED
    image = job.images.get()
    stored = {f"media/{image.original.name}", f"media/{image.thumbnail.name}"}
    assert keys(s3_client, bucket) == stored
    assert_nothing_public(s3_client, bucket, s3_server)

    # The owner's browser gets the bytes through our view; nobody else does.
    client.login(username=outsider.username, password=PASSWORD)
    assert client.get(reverse("gallery:media", args=[image.original.name])).status_code == 404
    client.login(username=owner.username, password=PASSWORD)
    for name in (image.original.name, image.thumbnail.name):
        response = client.get(reverse("gallery:media", args=[name]))
        assert response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content
        expected = s3_client.get_object(Bucket=bucket, Key=f"media/{name}")["Body"].read()
        assert body == expected

    response = client.post(reverse("gallery:delete"), {"image": [image.pk]})
    assert response.status_code in (200, 302)
    assert not Image.objects.filter(pk=image.pk).exists()
    assert keys(s3_client, bucket) & stored == set()
