"""Each sandbox fault ends honestly, through a real qcluster: failover, uncertain, failed."""

import pytest

from flux2web.credentials.models import ProviderCredential
from flux2web.jobs.models import Job
from flux2web.providers.types import ErrorClass
from tests.jobs.conftest import make_jobs, wait_until_done

pytestmark = pytest.mark.django_db(transaction=True)
S = Job.State


def notes(job):
    return [e.message for e in job.events.filter(kind="note")]


def test_refusals_before_acceptance_fail_over_to_the_next_provider(
    owner, providers, sandbox, cluster, media
):
    # LiangXin is first by priority; each of these turns one create away.
    for fault in ("429", "455", "500", "402"):
        sandbox.inject(fault, dialect="liangxin")
    jobs = []
    for n in range(4):
        jobs += make_jobs(owner, prompt=f"failover {n}", aspect_ratio="1:1")
    worker = cluster()

    finished = wait_until_done(jobs, cluster=worker)

    assert {j.state for j in finished} == {S.SUCCEEDED}
    assert {j.provider.name for j in finished} == {"KIE.ai"}
    refused = " ".join(" ".join(notes(j)) for j in finished)
    for error_class in ("rate_limited", "maintenance", "provider_error", "credits"):
        assert f"LiangXin refused: {error_class}" in refused
    assert sandbox.snapshot()["create_requests:liangxin"] == 4
    assert sandbox.snapshot()["create_requests:kie"] == 4
    assert sandbox.snapshot().get("tasks_created:liangxin", 0) == 0
    liangxin = ProviderCredential.objects.get(name="LiangXin")
    assert liangxin.last_error_class in {"rate_limited", "maintenance", "provider_error", "credits"}


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
    from tests.conftest import wait_for

    job = wait_for(lambda: Job.objects.filter(pk=job.pk, attempts=1).first(), timeout=20)
    assert job.state == S.QUEUED
    assert job.next_attempt_at is not None
    assert sandbox.snapshot()["create_requests:kie"] == 1
    assert not any(k.startswith("create_requests:") and not k.endswith(":kie")
                   for k in sandbox.snapshot())  # fmt: skip
