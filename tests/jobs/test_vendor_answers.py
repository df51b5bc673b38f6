"""Jobs against what the live vendors really answer (providers.md, "beyond the seeds"):
KIE's forgotten tasks and used-up key caps, Apixo's two 403s, its 400 detail and tasks
failing for want of credit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from flux2web.billing.models import LedgerEntry
from flux2web.credentials.models import CredentialError, ProviderCredential
from flux2web.jobs import following, services
from flux2web.jobs.models import Job
from flux2web.providers.types import ErrorClass
from tests.jobs.factories import make_jobs, run_to_the_end

pytestmark = pytest.mark.django_db
S = Job.State
K = LedgerEntry.Kind


@pytest.fixture(autouse=True)
def private_sandbox(settings, sandbox):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})


def credential(name):
    return ProviderCredential.objects.get(name=name)


def kinds(job):
    return sorted(LedgerEntry.objects.filter(job=job).values_list("kind", flat=True))


def events(job):
    return " | ".join(job.events.values_list("message", flat=True))


class TestATaskKieNoLongerKnows:
    def forgotten(self, owner, providers, sandbox):
        (job,) = make_jobs(owner, prompt="a heron [sandbox:never]", provider=providers["KIE.ai"])
        assert services.submit_job(job_id=job.pk) == "submitted"
        sandbox.tasks.clear()  # the vendor forgets it: recordInfo is null from now on
        return job

    def test_is_asked_about_once_more_then_held_for_an_admin(self, owner, providers, sandbox):
        job = self.forgotten(owner, providers, sandbox)

        following.poll_due(job_ids=[job.pk], due_only=False)
        job.refresh_from_db()
        assert job.state == S.RUNNING  # one answer may be a replica behind
        assert "asking once more" in events(job)

        following.poll_due(job_ids=[job.pk], due_only=False)
        job.refresh_from_db()
        assert job.state == S.UNCERTAIN
        assert job.error_class == ErrorClass.NOT_FOUND
        assert "no longer knows task" in job.error_message
        assert job.error_words[0] == "The provider no longer knows this task."
        assert "the provider no longer knows this task" in events(job)
        # Held, not refunded: it may have been charged; an admin decides.
        assert kinds(job) == [K.HOLD, K.RESERVE]
        assert sandbox.snapshot()["status_reads:kie"] == 2

    def test_is_not_a_credential_error(self, owner, providers, sandbox):
        job = self.forgotten(owner, providers, sandbox)
        following.poll_due(job_ids=[job.pk], due_only=False)
        following.poll_due(job_ids=[job.pk], due_only=False)
        assert not CredentialError.objects.exists()
        kie = credential("KIE.ai")
        assert kie.enabled and not kie.last_error_class

    def test_a_known_answer_in_between_starts_the_count_again(self, owner, providers, sandbox):
        (job,) = make_jobs(owner, prompt="a heron [sandbox:never]", provider=providers["KIE.ai"])
        services.submit_job(job_id=job.pk)
        task = sandbox.tasks.copy()
        sandbox.tasks.clear()
        following.poll_due(job_ids=[job.pk], due_only=False)
        sandbox.tasks.update(task)
        following.poll_due(job_ids=[job.pk], due_only=False)
        sandbox.tasks.clear()
        following.poll_due(job_ids=[job.pk], due_only=False)
        job.refresh_from_db()
        assert job.state == S.RUNNING


class TestAUsedUpKeyCap:
    def test_switches_kie_off_and_auto_moves_the_job_on(self, client, owner, providers, sandbox):
        ProviderCredential.objects.filter(name="LiangXin").update(enabled=False)
        sandbox.inject("433", dialect="kie")
        (job,) = make_jobs(owner, prompt="a lynx", aspect_ratio="1:1")

        assert services.submit_job(job_id=job.pk) == "submitted"

        job.refresh_from_db()
        assert job.provider.name == "Apikley"  # the next by priority
        kie = credential("KIE.ai")
        assert (kie.enabled, kie.disabled_reason) == (False, ErrorClass.KEY_CAP)
        owner.is_team_admin = True
        owner.save()
        client.force_login(owner)
        html = client.get("/").content.decode()
        assert "KIE.ai is switched off:" in html and "usage cap is used up (433)" in html

    def test_a_named_provider_fails_the_job_at_once_with_the_reason(
        self, owner, providers, sandbox
    ):
        (job,) = make_jobs(owner, prompt="a lynx [sandbox:433]", provider=providers["KIE.ai"])
        assert services.submit_job(job_id=job.pk) == "failed"
        job.refresh_from_db()
        assert job.error_class == ErrorClass.KEY_CAP
        assert job.error_words[1].startswith("Ask an admin")
        assert kinds(job) == [K.REFUND, K.RESERVE]


class TestApixo:
    def test_a_content_refusal_fails_the_job_and_leaves_the_provider_on(
        self, owner, providers, sandbox
    ):
        (job,) = make_jobs(owner, prompt="a wolf [sandbox:403_content]",
                           provider=providers["Apixo"], aspect_ratio="1:1")  # fmt: skip
        assert services.submit_job(job_id=job.pk) == "failed"
        job.refresh_from_db()
        assert job.error_class == ErrorClass.CONTENT_POLICY
        assert "Content violates policy" in job.error_message
        assert credential("Apixo").enabled

    def test_a_permission_refusal_counts_against_the_key(self, owner, providers, sandbox):
        (job,) = make_jobs(owner, prompt="a wolf [sandbox:403_key]",
                           provider=providers["Apixo"], aspect_ratio="1:1")  # fmt: skip
        services.submit_job(job_id=job.pk)
        job.refresh_from_db()
        assert job.error_class == ErrorClass.AUTH
        apixo = credential("Apixo")
        assert (apixo.enabled, apixo.disabled_reason) == (False, ErrorClass.AUTH)

    def test_the_400_detail_reaches_the_person(self, client, owner, providers, sandbox):
        (job,) = make_jobs(owner, prompt="a wolf [sandbox:400]",
                           provider=providers["Apixo"], aspect_ratio="1:1")  # fmt: skip
        services.submit_job(job_id=job.pk)
        job.refresh_from_db()
        assert job.error_class == ErrorClass.VALIDATION
        client.force_login(owner)
        page = client.get(f"/jobs/{job.pk}/").content.decode()
        assert "Missing required field: input.prompt" in page

    def test_a_task_failing_for_want_of_credit_switches_the_provider_off(
        self, client, owner, providers, sandbox, media
    ):
        (job,) = make_jobs(owner, prompt="a wolf [sandbox:insufficient_credits]",
                           provider=providers["Apixo"], aspect_ratio="1:1")  # fmt: skip
        job = run_to_the_end(job)
        assert job.state == S.FAILED
        assert job.error_class == ErrorClass.CREDITS
        apixo = credential("Apixo")
        assert (apixo.enabled, apixo.disabled_reason) == (False, ErrorClass.CREDITS)
        assert kinds(job) == [K.REFUND, K.RESERVE]
        owner.is_team_admin = True
        owner.save()
        client.force_login(owner)
        assert "Apixo is switched off:" in client.get("/").content.decode()


@pytest.mark.parametrize("name", ["Apixo", "APIMart", "LiangXin"])
def test_a_task_another_vendor_forgets_after_a_minute_is_held_like_kies(
    owner, providers, sandbox, name
):
    (job,) = make_jobs(owner, prompt="a heron [sandbox:never]", provider=providers[name])
    assert services.submit_job(job_id=job.pk) == "submitted"
    sandbox.tasks.clear()  # its status page now answers 404
    Job.objects.filter(pk=job.pk).update(submitted_at=timezone.now() - timedelta(seconds=90))
    following.poll_due(job_ids=[job.pk], due_only=False)
    job.refresh_from_db()
    assert job.state == S.RUNNING and "asking once more" in events(job)
    following.poll_due(job_ids=[job.pk], due_only=False)
    job.refresh_from_db()
    assert job.state == S.UNCERTAIN and job.error_class == ErrorClass.NOT_FOUND
    assert kinds(job) == [K.HOLD, K.RESERVE]  # may have been charged: an admin decides
