"""A status answer that cannot be read harms only its own job, and only for a few tries."""

import logging
import time

import pytest

from flux2web.jobs import following, services
from flux2web.jobs.models import Job
from flux2web.providers.types import ErrorClass
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
S = Job.State


@pytest.fixture(autouse=True)
def private_sandbox(settings, sandbox):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})


def submitted(owner, provider, *prompts):
    jobs = []
    for prompt in prompts:
        (job,) = make_jobs(owner, prompt=prompt, provider=provider, aspect_ratio="1:1")
        assert services.submit_job(job_id=job.pk) == "submitted"
        jobs.append(job)
    time.sleep(0.4)  # the sandbox finishes its tasks in 0.3 s
    return jobs


def poll(jobs):
    following.poll_due(job_ids=[j.pk for j in jobs], due_only=False, mirror_here=True)
    return [Job.objects.get(pk=j.pk) for j in jobs]


@pytest.mark.parametrize("mount", ["KIE.ai", "APIMart"])
@pytest.mark.parametrize("tag", ["bad_time", "inf_time"])
def test_a_time_out_of_range_in_one_answer_does_not_stall_the_other_jobs(
    owner, providers, media, mount, tag
):
    good, bad, other = submitted(
        owner, providers[mount], "a calm lake", f"a calm sea [sandbox:{tag}]", "a calm sky"
    )

    good, bad, other = poll([good, bad, other])

    assert good.state == other.state == S.MIRRORING
    # The time is nonsense, so it is ignored; the rest of the answer still counts.
    assert bad.state == S.MIRRORING
    assert bad.provider_finished_at is not None
    assert bad.provider_finished_at.year < 3000


@pytest.mark.parametrize("tag", ["deep_body", "not_json", "deep_result"])
def test_a_job_whose_answers_cannot_be_read_fails_after_three_tries_alone(
    owner, providers, media, tag, caplog
):
    good, bad = submitted(owner, providers["KIE.ai"], "a calm lake", f"a calm sea [sandbox:{tag}]")

    with caplog.at_level(logging.WARNING):
        good, bad = poll([good, bad])
    assert good.state == S.MIRRORING
    assert bad.state == S.RUNNING
    assert bad.polls == 1

    poll([bad])
    (bad,) = poll([bad])

    assert bad.state == S.FAILED
    assert bad.error_class == ErrorClass.PROVIDER_ERROR
    assert "the provider's answer could not be read" in bad.error_message.lower()
    # Unreadable answers are their own class of trouble, not a crash of the poller.
    assert "Traceback" not in caplog.text


def test_a_readable_answer_between_unreadable_ones_starts_the_count_again(
    owner, providers, media, sandbox
):
    (job,) = submitted(owner, providers["KIE.ai"], "a calm sea [sandbox:not_json]")
    poll([job])
    poll([job])
    Job.objects.filter(pk=job.pk).update(unreadable_answers=0)  # as a readable answer does
    (job,) = poll([job])
    assert job.state == S.RUNNING
