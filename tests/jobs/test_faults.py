"""Each sandbox fault ends honestly, through a real qcluster: failover, uncertain, failed."""

import pytest

from flux2web.credentials.models import ProviderCredential
from flux2web.jobs.models import Job
from flux2web.providers.types import ErrorClass
from tests.jobs.factories import make_jobs, wait_until_done

pytestmark = pytest.mark.django_db(transaction=True)
S = Job.State


def notes(job):
    return [e.message for e in job.events.filter(kind="note")]


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [("429", "rate_limited"), ("455", "maintenance"), ("500", "provider_error"),
     ("402", "credits")],
)  # fmt: skip
def test_refusals_before_acceptance_fail_over_to_the_next_provider(
    owner, providers, sandbox, cluster, media, fault, error_class
):
    # LiangXin is first by priority; the fault turns its create away.
    sandbox.inject(fault, dialect="liangxin")
    jobs = make_jobs(owner, prompt=f"failover {fault}", aspect_ratio="1:1")
    worker = cluster()

    (finished,) = wait_until_done(jobs, cluster=worker)

    assert finished.state == S.SUCCEEDED
    assert finished.provider.name == "KIE.ai"
    assert f"LiangXin refused: {error_class}" in " ".join(notes(finished))
    assert sandbox.snapshot()["create_requests:liangxin"] == 1
    assert sandbox.snapshot()["create_requests:kie"] == 1
    assert sandbox.snapshot().get("tasks_created:liangxin", 0) == 0
    assert ProviderCredential.objects.get(name="LiangXin").last_error_class == error_class


def test_a_refused_key_is_recorded_against_the_credential_and_routed_around(
    owner, providers, sandbox, cluster, media
):
    liangxin = providers["LiangXin"]
    liangxin.set_api_key("revoked-key")
    liangxin.save()
    (job,) = make_jobs(owner, aspect_ratio="1:1")
    cluster()
    (job,) = wait_until_done([job])
    assert job.state == S.SUCCEEDED
    assert job.provider.name == "KIE.ai"
    liangxin.refresh_from_db()
    assert liangxin.last_error_class == ErrorClass.AUTH
    assert liangxin.last_error_at is not None


@pytest.mark.parametrize("fault", ["drop", "lost"])
def test_a_lost_answer_makes_the_job_uncertain_and_it_is_never_resent(
    owner, providers, sandbox, cluster, media, fault
):
    (job,) = make_jobs(owner, prompt=f"a fox [sandbox:{fault}]", provider=providers["Apixo"],
                       aspect_ratio="1:1")  # fmt: skip
    cluster()
    (job,) = wait_until_done([job])

    assert job.state == S.UNCERTAIN
    assert job.error_class == ErrorClass.AMBIGUOUS
    assert "Not sent again automatically" in job.error_message
    assert job.provider.name == "Apixo"
    assert sandbox.snapshot()["create_requests:apixo"] == 1
    assert sandbox.snapshot().get("tasks_created:apixo", 0) == (1 if fault == "lost" else 0)


@pytest.mark.parametrize(
    ("tag", "error_class"),
    [("content_violation", ErrorClass.CONTENT_POLICY), ("fail", ErrorClass.GENERATION_FAILED)],
)
def test_a_failed_task_fails_the_job_with_its_reason(
    owner, providers, cluster, media, tag, error_class
):
    jobs = []
    for name in ("KIE.ai", "LiangXin", "APIMart"):
        jobs += make_jobs(owner, prompt=f"{name} [sandbox:{tag}]", provider=providers[name])
    cluster()
    for job in wait_until_done(jobs):
        assert job.state == S.FAILED
        assert job.error_class == error_class
        assert job.error_message
        assert not job.images.exists()


def test_a_named_provider_is_not_swapped_for_another(owner, providers, sandbox, cluster, media):
    sandbox.inject("429", dialect="kie", times=10, retry_after=1)
    (job,) = make_jobs(owner, provider=providers["KIE.ai"], aspect_ratio="1:1")
    cluster()
    from tests.helpers import wait_for

    job = wait_for(lambda: Job.objects.filter(pk=job.pk, attempts=1).first(), timeout=20)
    assert job.state == S.QUEUED
    assert job.next_attempt_at is not None
    assert sandbox.snapshot()["create_requests:kie"] == 1
    assert not any(k.startswith("create_requests:") and not k.endswith(":kie")
                   for k in sandbox.snapshot())  # fmt: skip
