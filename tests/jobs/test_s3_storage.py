"""With FLUX2WEB_S3_BUCKET set, images go to S3-compatible storage, privately.

moto stands in for S3 inside this process (no network), behind the real boto3 and
django-storages code that production uses.
"""

import boto3
import pytest
from django.core.files.storage import default_storage
from moto import mock_aws

from flux2web.jobs import mirroring, services
from flux2web.jobs.management.commands.generate import describe
from flux2web.jobs.models import Image, Job
from tests.jobs.conftest import make_jobs
from tests.jobs.test_services import run_to_the_end

pytestmark = pytest.mark.django_db
BUCKET = "flux2web-media"


@pytest.fixture
def s3(settings, sandbox, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        # The same options settings.py builds from FLUX2WEB_S3_BUCKET and friends.
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bucket_name": BUCKET, "region_name": "us-east-1",
                            "location": "media", "default_acl": "private",
                            "file_overwrite": False, "querystring_auth": True},
            },
        }  # fmt: skip
        settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})
        yield client


def test_mirrored_images_are_stored_privately_in_the_bucket(s3, owner, providers):
    (job,) = make_jobs(owner, provider=providers["LiangXin"], width=320, height=256)
    job = run_to_the_end(job)

    assert job.state == Job.State.SUCCEEDED
    image = job.images.get()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {f"media/{image.original.name}", f"media/{image.thumbnail.name}"}
    assert default_storage.exists(image.original.name)
    grants = s3.get_object_acl(Bucket=BUCKET, Key=f"media/{image.original.name}")["Grants"]
    assert all(g["Grantee"].get("URI", "").endswith("AllUsers") is False for g in grants)
    body = s3.get_object(Bucket=BUCKET, Key=f"media/{image.original.name}")["Body"].read()
    assert len(body) == image.bytes
    # The CLI reports the object's name where there is no local path.
    assert describe(job)["images"] == [image.original.name]


def test_a_vanished_object_is_mirrored_again(s3, owner, providers):
    (job,) = make_jobs(owner, provider=providers["KIE.ai"])
    job = run_to_the_end(job)
    image = job.images.get()
    s3.delete_object(Bucket=BUCKET, Key=f"media/{image.original.name}")
    Job.objects.filter(pk=job.pk).update(state=Job.State.MIRRORING)
    Image.objects.filter(pk=image.pk).update(status=Image.Status.PENDING, original="")

    assert mirroring.mirror_job(job_id=job.pk) == "succeeded"
    image.refresh_from_db()
    assert default_storage.exists(image.original.name)
    assert services.cancel_job(job_id=job.pk)[0] is False
