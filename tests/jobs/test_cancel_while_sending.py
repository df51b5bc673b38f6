"""Cancel works in every state before the provider accepted the job, Sending included. The
create cannot be called back once on the wire, so a Cancel pressed then is honoured at
the first safe moment: before the call goes out, nothing is sent; after the provider
took it, it is no longer followed; either way the person is refunded."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from flux2web.billing.models import LedgerEntry
from flux2web.jobs import recovery, services, submitting
from flux2web.jobs.models import Job
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
S = Job.State


@pytest.fixture(autouse=True)
def private_sandbox(settings, sandbox):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})


def held(user) -> Decimal:
    return LedgerEntry.objects.filter(user=user).aggregate(s=Sum("delta"))["s"] or Decimal(0)


def press_cancel_during(monkeypatch, name, job, answers):
    """Press Cancel (as the person would, from the card) when the worker reaches `name`."""
    real = getattr(submitting, name)

    def pressed(*args, **kwargs):
        answers.append(services.cancel_job(job_id=job.pk))
        return real(*args, **kwargs)

    monkeypatch.setattr(submitting, name, pressed)


def test_cancel_pressed_while_the_create_is_readied_sends_nothing(
    owner, providers, sandbox, monkeypatch
):
    (job,) = make_jobs(owner, provider=providers["KIE.ai"], aspect_ratio="1:1")
    answers = []
    # Taking the provider's rate-limit slot is the last step before the call goes out.
    real_slot = submitting.pacing.take_create_slot

    def slot(credential):
        answers.append(services.cancel_job(job_id=job.pk))
        return real_slot(credential)

    monkeypatch.setattr(submitting.pacing, "take_create_slot", slot)

    assert services.submit_job(job_id=job.pk) == "cancelled"

    job.refresh_from_db()
    assert job.state == S.CANCELLED
    assert answers[0][0] is True and "Cancelling" in answers[0][1]
    assert sandbox.snapshot().get("create_requests:kie", 0) == 0
    assert held(owner) == 0


def test_cancel_pressed_while_the_create_is_on_the_wire_stops_following_the_accepted_task(
    owner, providers, sandbox, monkeypatch
):
    (job,) = make_jobs(owner, provider=providers["KIE.ai"], aspect_ratio="1:1")
    answers = []
    # record_success runs when the provider's "accepted" has come back, before the job
    # is moved on: the Cancel was pressed while the call was under way.
    press_cancel_during(monkeypatch, "record_success", job, answers)

    assert services.submit_job(job_id=job.pk) == "cancelled"

    job.refresh_from_db()
    assert job.state == S.CANCELLED
    assert job.provider_task_id  # it was taken: the record says which task it was
    assert sandbox.snapshot().get("create_requests:kie", 0) == 1
    assert answers[0][0] is True
    assert held(owner) == 0
    assert "the provider had taken it" in " ".join(job.events.values_list("message", flat=True))


def test_cancel_pressed_while_sending_a_refused_create_does_not_wait_for_another_round(
    owner, providers, sandbox, monkeypatch
):
    (job,) = make_jobs(owner, provider=providers["KIE.ai"], aspect_ratio="1:1")
    sandbox.inject("429", dialect="kie", retry_after=60)
    answers = []
    press_cancel_during(monkeypatch, "record_error", job, answers)

    assert services.submit_job(job_id=job.pk) == "cancelled"

    job.refresh_from_db()
    assert job.state == S.CANCELLED
    assert held(owner) == 0


def test_a_cancel_asked_while_a_lost_worker_was_sending_is_honoured_when_it_is_recovered(
    owner, providers, sandbox
):
    # The worker died before it chose a provider: nothing went out. Recovery puts the job
    # back; the person had pressed Cancel, so it is cancelled there and then.
    (job,) = make_jobs(owner, provider=providers["KIE.ai"], aspect_ratio="1:1")
    long_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(state=S.SUBMITTING, claimed_at=long_ago)
    assert services.cancel_job(job_id=job.pk)[0] is True
    recovery.reconcile()
    job.refresh_from_db()
    assert job.state == S.CANCELLED
    assert sandbox.snapshot().get("create_requests:kie", 0) == 0
    assert held(owner) == 0
