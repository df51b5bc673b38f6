"""Requests become stored images through a real qcluster and the sandbox, exactly once."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings

from flux2web.jobs.models import Image, Job, JobEvent
from flux2web.providers.types import Model
from tests.jobs.factories import make_jobs, wait_until_done

pytestmark = pytest.mark.django_db(transaction=True)
S = Job.State

# (provider, request fields, expected size)
EVERY_PROVIDER = [
    ("LiangXin", {"width": 1200, "height": 800, "seed": 42, "prompt_upsampling": True},
     (1200, 800)),
    ("LiangXin", {"aspect_ratio": "21:9", "refs": 2}, (1440, 616)),
    ("KIE.ai", {"model": Model.FLEX, "aspect_ratio": "16:9", "resolution": "2K"}, (2048, 1152)),
    ("KIE.ai", {"aspect_ratio": "auto", "resolution": "1K", "refs": 1}, (1664, 1248)),
    ("Apikley", {"aspect_ratio": "3:4", "resolution": "1K"}, (1248, 1664)),
    ("Apikley", {"model": Model.FLEX, "aspect_ratio": "1:1", "resolution": "1K", "refs": 8},
     (1440, 1440)),
    ("Apixo", {"model": Model.FLEX, "aspect_ratio": "3:2", "resolution": "2K"}, (1872, 1248)),
    ("Apixo", {"aspect_ratio": "4:3", "resolution": "1K", "refs": 3}, (1664, 1248)),
    ("APIMart", {"aspect_ratio": "9:16", "resolution": "2K"}, (1152, 2048)),
    ("APIMart", {"model": Model.FLEX, "aspect_ratio": "2:3", "resolution": "1K", "refs": 8},
     (1152, 1728)),
]  # fmt: skip


def test_every_provider_end_to_end(owner, providers, sandbox, cluster, image_host, media, settings):
    # The reference images are on loopback: allowed the way bin/run allows its sandbox.
    settings.ALLOWED_PRIVATE_HOSTS = {image_host.removeprefix("http://")}
    jobs = []
    for number, (name, fields, _) in enumerate(EVERY_PROVIDER):
        fields = dict(fields)
        refs = tuple(f"{image_host}/landscape-{n}.png" for n in range(fields.pop("refs", 0)))
        jobs += make_jobs(owner, prompt=f"picture {number}", provider=providers[name],
                          reference_urls=refs, **fields)  # fmt: skip
    worker = cluster()

    finished = wait_until_done(jobs, timeout=60, cluster=worker)

    for job, (name, _, size) in zip(finished, EVERY_PROVIDER, strict=True):
        assert job.state == S.SUCCEEDED, (name, job.error_message)
        assert job.provider.name == name
        assert job.provider_task_id
        assert job.submitted_at and job.provider_finished_at and job.mirrored_at
        (image,) = job.images.all()
        assert image.status == Image.Status.MIRRORED
        assert (image.width, image.height) == size
        data = Path(settings.MEDIA_ROOT, image.original.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == image.sha256
        assert image.bytes == len(data)
        assert image.content_type == "image/png"
        assert Path(settings.MEDIA_ROOT, image.thumbnail.name).stat().st_size > 0
        assert image.provider_url.startswith(sandbox.url)
    # Exactly one create per job, across every provider.
    stats = sandbox.snapshot()
    assert sum(v for k, v in stats.items() if k.startswith("create_requests:")) == len(jobs)


def test_the_event_log_tells_the_whole_story_without_a_key(owner, providers, cluster, media):
    (job,) = make_jobs(owner, provider=providers["KIE.ai"], aspect_ratio="1:1")
    cluster()
    (job,) = wait_until_done([job])

    events = list(JobEvent.objects.filter(job=job))
    states = [(e.from_state, e.to_state) for e in events if e.kind == "state"]
    assert states == [
        ("", "queued"), ("queued", "submitting"), ("submitting", "running"),
        ("running", "mirroring"), ("mirroring", "succeeded"),
    ]  # fmt: skip
    calls = [e for e in events if e.kind == "call"]
    assert calls[0].method == "POST" and calls[0].path == "/api/v1/jobs/createTask"
    assert calls[0].http_status == 200 and calls[0].duration_ms is not None
    assert any(e.path == "/api/v1/jobs/recordInfo" for e in calls[1:])
    assert all("sandbox-key" not in f"{e.message}{e.path}" for e in events)


def test_two_clusters_never_submit_or_mirror_a_job_twice(owner, providers, sandbox, cluster, media):
    jobs = []
    for n in range(12):
        jobs += make_jobs(owner, prompt=f"race {n}", provider=providers["KIE.ai"])
    first, second = cluster(workers=3), cluster(workers=3)

    finished = wait_until_done(jobs, timeout=60, cluster=first)

    assert {j.state for j in finished} == {S.SUCCEEDED}
    assert sandbox.snapshot()["create_requests:kie"] == 12
    for job in finished:
        kinds = list(job.events.filter(kind="state").values_list("to_state", flat=True))
        assert kinds.count("submitting") == 1
        assert kinds.count("mirroring") == 1
        assert job.images.count() == 1
    stored = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert len(stored) == 12 * 2  # one original and one thumbnail each, no strays
    assert first.proc.poll() is None and second.proc.poll() is None
