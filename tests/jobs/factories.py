"""Jobs for tests: made through the service, finished by hand, or run to the end here."""

import threading
import time

from django.core.files.base import ContentFile
from django.db import connections
from django.utils import timezone

from flux2web.accounts.models import gallery_changed
from flux2web.jobs import following, mirroring, services
from flux2web.jobs.models import Image, Job
from flux2web.jobs.transitions import transition
from flux2web.providers.types import GenerationRequest, Model
from tests.helpers import wait_for

S = Job.State
DONE = (*Job.FINAL, S.UNCERTAIN)


def make_jobs(owner, *, prompt="a lighthouse at dusk", provider=None, count=1, **fields):
    fields.setdefault("model", Model.PRO)
    request = GenerationRequest(prompt=prompt, **fields)
    spec = services.JobSpec(request=request, provider=provider, count=count)
    return services.create_jobs(owner=owner, spec=spec, idempotency_key=prompt + str(fields))


def cancel_soon(job_id, delay=0.3) -> threading.Thread:
    """Cancel a queued job from another thread after `delay` seconds (join the thread)."""

    def run():
        time.sleep(delay)
        transition(job_id, from_states=[Job.State.QUEUED], to=Job.State.CANCELLED, message="test")
        connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_until_done(jobs, *, timeout=40, cluster=None):
    ids = [j.pk for j in jobs]

    def done():
        found = list(Job.objects.filter(pk__in=ids).order_by("pk"))
        return found if all(j.state in DONE for j in found) else None

    def why():
        states = list(Job.objects.filter(pk__in=ids).values_list("pk", "state", "error_message"))
        return f"jobs to finish: {states}\n{cluster.output() if cluster else ''}"

    return wait_for(done, timeout=timeout, interval=0.2, message=why)


def wait_for_state(job, state, *, timeout=20):
    return wait_for(
        lambda: Job.objects.filter(pk=job.pk, state=state).first(),
        timeout=timeout,
        interval=0.05,
        message=lambda: f"job {job.pk} to be {state}; it is {Job.objects.get(pk=job.pk).state}",
    )


def finish(job, *, state=Job.State.SUCCEEDED, with_image=True):
    if with_image:
        image = Image(
            job=job,
            owner_id=job.owner_id,
            index=0,
            provider_url="http://x/1.png",
            width=64,
            height=64,
            status=Image.Status.MIRRORED,
            content_type="image/png",
        )
        image.original.save("a.png", ContentFile(b"png-bytes"), save=False)
        image.thumbnail.save("a.jpg", ContentFile(b"jpg-bytes"), save=False)
        image.save()
        gallery_changed(job.owner_id)  # as mirroring does
    Job.objects.filter(pk=job.pk).update(
        state=state, finished_at=timezone.now(), updated_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def run_to_the_end(job, *, rounds=200):
    """What the worker would do, done here: submit, poll until done, mirror."""
    services.submit_job(job_id=job.pk)
    for _ in range(rounds):
        job.refresh_from_db()
        if job.state == S.RUNNING:
            following.poll_due(job_ids=[job.pk], due_only=False)
        elif job.state == S.MIRRORING:
            mirroring.mirror_job(job_id=job.pk)
        else:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job.pk} stuck in {job.state}")


# ---- S3-compatible storage over real HTTP (the s3_* fixtures in tests/jobs/conftest.py). --

S3_REGION = "us-east-1"


S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def s3_storage_options(bucket: str, endpoint: str) -> dict:
    """What settings.py builds from FLUX2WEB_S3_BUCKET and FLUX2WEB_S3_ENDPOINT_URL."""
    return {"bucket_name": bucket, "endpoint_url": endpoint, "region_name": S3_REGION,
            "location": "media", "default_acl": "private", "file_overwrite": False,
            "querystring_auth": True}  # fmt: skip


def s3_worker_env(bucket: str, endpoint: str) -> dict:
    return {"FLUX2WEB_S3_BUCKET": bucket, "FLUX2WEB_S3_ENDPOINT_URL": endpoint,
            "FLUX2WEB_S3_REGION": S3_REGION, "FLUX2WEB_S3_PREFIX": "media", **S3_KEYS}  # fmt: skip
