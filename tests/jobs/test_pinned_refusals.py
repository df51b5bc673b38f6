"""A provider the person named that refuses our key or is out of credit fails the job at
once, with the true reason and the advice that fits it."""

import pytest

from flux2web.jobs import services
from flux2web.jobs.models import Job
from flux2web.providers.types import ErrorClass
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
S = Job.State


def test_a_pinned_provider_out_of_credit_fails_the_job_at_once_as_credits(
    owner, providers, sandbox
):
    (job,) = make_jobs(owner, prompt="a fox [sandbox:402]", provider=providers["APIMart"])

    assert services.submit_job(job_id=job.pk) == "failed"

    job.refresh_from_db()
    assert job.state == S.FAILED
    assert job.error_class == ErrorClass.CREDITS
    assert job.error_words[1].startswith("Ask an admin")
    assert "APIMart" in job.error_message
    assert sandbox.snapshot()["create_requests:apimart"] == 1


def test_a_pinned_provider_refusing_the_key_fails_the_job_at_once_as_auth(
    owner, providers, sandbox
):
    kie = providers["KIE.ai"]
    kie.set_api_key("revoked-key")
    kie.save()
    first, second = (make_jobs(owner, prompt=p, provider=kie)[0] for p in ("a fox", "an owl"))

    assert services.submit_job(job_id=first.pk) == "failed"
    # The second was queued before the key was refused; the provider is off by now.
    assert services.submit_job(job_id=second.pk) == "failed"

    for job in Job.objects.filter(pk__in=[first.pk, second.pk]):
        assert job.error_class == ErrorClass.AUTH
        assert job.error_words == (
            "The provider rejected our API key.",
            "Ask an admin to check the key under Providers.",
        )
        assert "cannot take" not in job.error_message
    assert sandbox.snapshot()["auth_refused:kie"] == 1  # asked once, not again and again


def test_auto_still_fails_over_past_a_refused_key(owner, providers, sandbox):
    liangxin = providers["LiangXin"]
    liangxin.set_api_key("revoked-key")
    liangxin.save()
    (job,) = make_jobs(owner, aspect_ratio="1:1")

    assert services.submit_job(job_id=job.pk) == "submitted"
    job.refresh_from_db()
    assert job.provider.name == "KIE.ai"
