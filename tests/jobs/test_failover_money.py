"""Failing over to a dearer provider never takes a person past their monthly limit."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from flux2web.billing.models import LedgerEntry, Quota
from flux2web.credentials.services import add_credential
from flux2web.jobs import services
from flux2web.jobs.models import Job
from tests.jobs.factories import make_jobs, run_to_the_end

pytestmark = pytest.mark.django_db
S = Job.State


@pytest.fixture(autouse=True)
def private_sandbox(settings, sandbox):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})


def priced(name, mount, price, priority, sandbox):
    credential = add_credential(name=name, dialect=mount, base_url=sandbox.base_url(mount),
                                api_key="sandbox-key", priority=priority)  # fmt: skip
    credential.prices = {"pro": {"1K": price, "2K": price}}
    credential.save()
    return credential


@pytest.fixture
def cheap_then_dear(sandbox):
    return priced("Cheap", "kie", "0.05", 10, sandbox), priced("Dear", "apixo", "0.20", 20, sandbox)


def spent(user) -> Decimal:
    return LedgerEntry.objects.filter(user=user).aggregate(s=Sum("delta"))["s"] or Decimal(0)


def test_failover_skips_a_provider_whose_price_would_pass_the_limit(
    owner, cheap_then_dear, sandbox
):
    Quota.objects.create(user=owner, monthly_usd=Decimal("0.05"))
    (job,) = make_jobs(owner, aspect_ratio="1:1")
    assert job.price == Decimal("0.05")
    sandbox.inject("429", dialect="kie", retry_after=600)

    services.submit_job(job_id=job.pk)

    job.refresh_from_db()
    assert sandbox.snapshot().get("create_requests:apixo", 0) == 0
    assert job.provider is None or job.provider.name != "Dear"
    assert spent(owner) <= Decimal("0.05")
    notes = " ".join(job.events.values_list("message", flat=True))
    assert "Skipped Dear: $0.20 would pass your monthly limit" in notes

    # Next round Cheap is still paused and Dear still too dear: the job fails, refunded.
    Job.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
    assert services.submit_job(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.state == S.FAILED
    assert job.error_class == "quota"
    assert "$0.20 would pass your monthly limit" in job.error_message
    assert sandbox.snapshot().get("create_requests:apixo", 0) == 0
    assert spent(owner) == 0


def test_failover_to_a_dearer_provider_that_fits_raises_the_reservation(
    owner, cheap_then_dear, sandbox, media
):
    Quota.objects.create(user=owner, monthly_usd=Decimal("0.25"))
    (job,) = make_jobs(owner, aspect_ratio="1:1")
    sandbox.inject("429", dialect="kie", retry_after=600)

    assert services.submit_job(job_id=job.pk) == "submitted"

    job.refresh_from_db()
    assert job.provider.name == "Dear"
    assert job.price == Decimal("0.20")
    assert spent(owner) == Decimal("0.20")  # reserved at the price it will be charged
    job = run_to_the_end(job)
    assert job.state == S.SUCCEEDED
    assert spent(owner) == Decimal("0.20")


def test_a_raised_reservation_counts_against_the_next_submission(owner, cheap_then_dear, sandbox):
    Quota.objects.create(user=owner, monthly_usd=Decimal("0.25"))
    (job,) = make_jobs(owner, aspect_ratio="1:1")
    sandbox.inject("429", dialect="kie", retry_after=600)
    services.submit_job(job_id=job.pk)

    with pytest.raises(services.JobRefused, match="Over your monthly limit"):
        make_jobs(owner, prompt="another one", aspect_ratio="1:1")


def test_failover_to_a_cheaper_provider_lowers_the_reservation(owner, sandbox):
    priced("Dear", "apixo", "0.20", 10, sandbox)
    priced("Cheap", "kie", "0.05", 20, sandbox)
    Quota.objects.create(user=owner, monthly_usd=Decimal("1.00"))
    (job,) = make_jobs(owner, aspect_ratio="1:1")
    assert spent(owner) == Decimal("0.20")
    sandbox.inject("429", dialect="apixo", retry_after=600)

    assert services.submit_job(job_id=job.pk) == "submitted"

    job.refresh_from_db()
    assert (job.provider.name, job.price) == ("Cheap", Decimal("0.05"))
    assert spent(owner) == Decimal("0.05")
