"""Helpers for pipeline tests; sandbox, providers and clusters are fixtures in tests/conftest.py."""

from flux2web.jobs import services
from flux2web.jobs.models import Job
from flux2web.providers.types import GenerationRequest, Model
from tests.conftest import wait_for

S = Job.State
DONE = (*Job.FINAL, S.UNCERTAIN)


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
