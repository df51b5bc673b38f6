"""Each health policy, driven by the sandbox's faults: 401 and 402 switch a provider off
(with a banner for admins), 429 and 455 pause it; routing goes around both."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from flux2web.credentials.models import CredentialError, ProviderCredential
from flux2web.jobs import services
from flux2web.jobs.models import Job
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
S = Job.State


def liangxin():
    return ProviderCredential.objects.get(name="LiangXin")


def submit_one(owner, prompt, **fields):
    (job,) = make_jobs(owner, prompt=prompt, aspect_ratio="1:1", **fields)
    services.submit_job(job_id=job.pk)
    job.refresh_from_db()
    return job


@pytest.mark.parametrize(("fault", "reason", "banner"), [
    ("401", "auth", "its API key was refused (401)"),
    ("402", "credits", "has run out of credit (402). Top it up"),
])  # fmt: skip
def test_a_refused_key_or_empty_account_switches_the_provider_off(
    client, owner, staff, providers, sandbox, fault, reason, banner
):
    sandbox.inject(fault, dialect="liangxin")
    first = submit_one(owner, "first")
    assert first.provider.name == "KIE.ai"  # failed over at once
    assert (liangxin().enabled, liangxin().disabled_reason) == (False, reason)
    assert CredentialError.objects.get().error_class == ("auth" if fault == "401" else "credits")

    second = submit_one(owner, "second")
    assert second.provider.name == "KIE.ai"
    assert sandbox.snapshot()["create_requests:liangxin"] == 1  # not asked again

    owner.is_team_admin = True
    owner.save()
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "LiangXin is switched off:" in html and banner in html
    client.force_login(staff)  # staff without the team admin role: no banner
    assert "is switched off" not in client.get("/").content.decode()


def test_an_admin_switching_it_back_on_clears_the_reason(client, owner, providers, sandbox):
    sandbox.inject("402", dialect="liangxin")
    submit_one(owner, "drained")
    owner.is_team_admin = True
    owner.save()
    client.force_login(owner)
    client.post(f"/providers/{liangxin().pk}/on")
    assert (liangxin().enabled, liangxin().disabled_reason) == (True, "")
    assert submit_one(owner, "again").provider.name == "LiangXin"
    assert "is switched off" not in client.get("/").content.decode()


def test_a_rate_limit_pauses_the_provider_for_retry_after(owner, providers, sandbox):
    sandbox.inject("429", dialect="liangxin", retry_after=30)
    before = timezone.now()
    assert submit_one(owner, "limited").provider.name == "KIE.ai"
    paused = liangxin().cooldown_until
    assert before + timedelta(seconds=29) < paused < timezone.now() + timedelta(seconds=31)
    assert liangxin().enabled
    assert submit_one(owner, "while paused").provider.name == "KIE.ai"
    assert sandbox.snapshot()["create_requests:liangxin"] == 1

    ProviderCredential.objects.update(cooldown_until=timezone.now() - timedelta(seconds=1))
    assert submit_one(owner, "after the pause").provider.name == "LiangXin"


@override_settings(MAINTENANCE_COOLDOWN_SECONDS=600)
def test_maintenance_pauses_for_ten_minutes_by_default(owner, providers, sandbox):
    sandbox.inject("455", dialect="liangxin")
    assert submit_one(owner, "maintenance").provider.name == "KIE.ai"
    left = (liangxin().cooldown_until - timezone.now()).total_seconds()
    assert 590 < left <= 600


def test_a_job_for_a_paused_named_provider_waits_instead_of_failing(owner, providers, sandbox):
    sandbox.inject("429", dialect="liangxin", retry_after=120)
    submit_one(owner, "trips the limit", provider=providers["LiangXin"])
    job = submit_one(owner, "named", provider=providers["LiangXin"])
    assert job.state == S.QUEUED
    assert job.next_attempt_at == liangxin().cooldown_until
    assert "paused" in job.events.last().message


def test_a_paused_named_provider_is_refused_at_the_form(owner, providers):
    ProviderCredential.objects.filter(name="Apixo").update(
        cooldown_until=timezone.now() + timedelta(minutes=5)
    )
    with pytest.raises(services.JobRefused, match="Apixo is paused until"):
        make_jobs(owner, provider=ProviderCredential.objects.get(name="Apixo"))
