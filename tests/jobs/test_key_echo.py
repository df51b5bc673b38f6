"""A provider that repeats our key in its refusal must not get it stored, logged or shown."""

import logging

import pytest
from django.urls import reverse

from flux2web.credentials.models import CredentialError, ProviderCredential
from flux2web.credentials.services import add_credential
from flux2web.jobs import following, services
from flux2web.jobs.models import Job, JobEvent
from tests.helpers import PASSWORD
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
S = Job.State
CANARY = "sk-canary-7f3a9c2e5b1d4086aa42"


@pytest.fixture(autouse=True)
def private_sandbox(settings, sandbox):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})


@pytest.fixture
def echoing(sandbox):
    """A provider whose key the sandbox does not know, and repeats when refusing it."""
    sandbox.config.echo_key = True
    return add_credential(
        name="Echo", dialect="kie", base_url=sandbox.base_url("kie"), api_key=CANARY
    )


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)


def everything_stored() -> str:
    parts = [
        *JobEvent.objects.values_list("message", flat=True),
        *Job.objects.values_list("error_message", flat=True),
        *CredentialError.objects.values_list("message", flat=True),
        *ProviderCredential.objects.values_list("last_error_message", flat=True),
    ]
    return "\n".join(parts)


def test_a_key_echoed_in_a_refusal_is_never_stored_or_logged(owner, echoing, caplog):
    (job,) = make_jobs(owner, provider=echoing)

    with caplog.at_level(logging.DEBUG):
        services.submit_job(job_id=job.pk)

    echoing.refresh_from_db()
    assert echoing.last_error_class == "auth"
    assert "Invalid API key provided" in echoing.last_error_message
    assert CANARY not in everything_stored()
    assert CANARY[:12] not in everything_stored()
    assert CANARY not in caplog.text


def test_a_member_sees_the_reason_in_plain_words_and_an_admin_the_scrubbed_text(
    client, owner, admin, echoing
):
    (job,) = make_jobs(owner, provider=echoing)
    services.submit_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == S.FAILED
    url = reverse("studio:job", args=[job.pk])

    client.force_login(owner)
    page = client.get(url).content.decode()
    assert "The provider rejected our API key." in page
    assert CANARY not in page
    assert "Invalid API key provided" not in page.split("Event log")[0]
    home = client.get(reverse("studio:home")).content.decode()
    assert CANARY not in home
    assert "Invalid API key provided" not in home

    job.owner = admin
    Job.objects.filter(pk=job.pk).update(owner=admin)
    client.force_login(admin)
    page = client.get(url).content.decode()
    assert "Invalid API key provided" in page
    assert CANARY not in page


def test_a_key_echoed_in_a_status_answer_is_scrubbed_too(owner, providers, sandbox, caplog):
    (job,) = make_jobs(owner, provider=providers["KIE.ai"])
    services.submit_job(job_id=job.pk)
    sandbox.inject("401_echo", dialect="kie", on="status")

    with caplog.at_level(logging.DEBUG):
        following.poll_due(job_ids=[job.pk], due_only=False)

    assert "Invalid API key provided" in everything_stored()
    assert "sandbox-key" not in everything_stored()
    assert "sandbox-key" not in caplog.text


def test_test_connection_does_not_show_an_echoed_key(client, admin, echoing):
    client.force_login(admin)

    response = client.post(reverse("credentials:test", args=[echoing.pk]), follow=True)

    page = response.content.decode()
    assert "refused the key" in page
    assert "Invalid API key provided" in page
    assert CANARY not in page
    assert CANARY not in everything_stored()
