"""A real pipeline: the sandbox, the five seeded providers pointing at it, real qclusters."""

import pytest
from django.conf import settings

from flux2web.credentials.services import add_credential
from flux2web.jobs import services
from flux2web.jobs.models import Job
from flux2web.providers.types import GenerationRequest, Model
from tests.conftest import SEEDED, wait_for

S = Job.State
DONE = (*Job.FINAL, S.UNCERTAIN)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def providers(sandbox):
    """The five seeded providers, by name, in priority order (LiangXin first)."""
    return {
        name: add_credential(name=name, dialect=dialect, base_url=sandbox.base_url(mount),
                             api_key="sandbox-key", priority=10 * (n + 1))
        for n, (name, dialect, mount) in enumerate(SEEDED)
    }  # fmt: skip


@pytest.fixture
def worker_env(sandbox, media):
    """What a qcluster needs to follow sandbox jobs quickly and store their images."""
    host = sandbox.url.removeprefix("http://")
    return {
        "FLUX2WEB_ALLOW_PRIVATE_URLS": host,
        "FLUX2WEB_POLLER_LEASE": "2",
        "FLUX2WEB_SUBMIT_LEASE": "3",
        "FLUX2WEB_MIRROR_CLAIM": "3",
    }


@pytest.fixture
def cluster(start_qcluster, worker_env):
    """Start a qcluster on the configured broker (ORM, or Redis in the scale-out run)."""

    def start(workers=2, **extra):
        return start_qcluster(redis_url=settings.REDIS_URL, workers=workers,
                              env={**worker_env, **extra})  # fmt: skip

    return start


def make_jobs(owner, *, prompt="a lighthouse at dusk", provider=None, count=1, **fields):
    fields.setdefault("model", Model.PRO)
    request = GenerationRequest(prompt=prompt, **fields)
    spec = services.JobSpec(request=request, provider=provider, count=count)
    return services.create_jobs(owner=owner, spec=spec, idempotency_key=prompt + str(fields))


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
