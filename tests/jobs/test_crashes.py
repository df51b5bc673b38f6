"""A worker killed with SIGKILL in any state, then restarted, loses nothing and pays once."""

import time

import pytest

from flux2web.jobs.models import Image, Job
from tests.helpers import wait_for
from tests.jobs.factories import make_jobs, wait_for_state, wait_until_done

pytestmark = pytest.mark.django_db(transaction=True)
S = Job.State


def test_queued_jobs_wait_for_a_worker(owner, providers, sandbox, cluster, media):
    jobs = make_jobs(owner, provider=providers["KIE.ai"], count=3)
    time.sleep(1)
    assert set(Job.objects.values_list("state", flat=True)) == {S.QUEUED}

    cluster()
    finished = wait_until_done(jobs)

    assert {j.state for j in finished} == {S.SUCCEEDED}
    assert sandbox.snapshot()["create_requests:kie"] == 3


def test_killed_while_sending_the_job_becomes_uncertain_and_is_not_resent(
    owner, providers, sandbox, cluster, media
):
    sandbox.config.slow_seconds = 3
    (job,) = make_jobs(owner, prompt="a fox [sandbox:slow]", provider=providers["KIE.ai"])
    first = cluster()
    # Killed while the provider holds the request (the slow fault answers after 3 s).
    wait_for(lambda: sandbox.snapshot().get("create_requests:kie") == 1, timeout=20)
    first.kill()
    time.sleep(3.5)  # the restart comes after the submit lease (3 s here) has run out

    cluster()
    (job,) = wait_until_done([job], timeout=30)

    assert job.state == S.UNCERTAIN
    assert "while sending this job to KIE.ai" in job.error_message
    assert sandbox.snapshot()["create_requests:kie"] == 1
    # The provider did make (and would charge) the task: uncertain was the honest answer.
    assert sandbox.snapshot()["tasks_created:kie"] == 1


def test_killed_while_running_the_job_is_followed_to_the_end(
    owner, providers, sandbox, cluster, media
):
    (job,) = make_jobs(owner, prompt="a fox [sandbox:duration=4]", provider=providers["KIE.ai"])
    first = cluster()
    wait_for_state(job, S.RUNNING)
    first.kill()

    cluster()
    (job,) = wait_until_done([job], timeout=40)

    assert job.state == S.SUCCEEDED
    assert sandbox.snapshot()["create_requests:kie"] == 1


def test_killed_while_mirroring_the_images_are_stored_once(
    owner, providers, sandbox, cluster, media
):
    sandbox.config.slow_seconds = 4
    sandbox.inject("slow", on="file")
    (job,) = make_jobs(owner, provider=providers["LiangXin"])
    first = cluster()
    wait_for_state(job, S.MIRRORING, timeout=30)
    # Killed holding the download (the slow fault sends the file after 4 s).
    wait_for(lambda: job.images.filter(claimed_until__isnull=False).exists(), timeout=10)
    first.kill()

    cluster()
    (job,) = wait_until_done([job], timeout=60)

    assert job.state == S.SUCCEEDED
    assert job.images.get().status == Image.Status.MIRRORED
    assert sandbox.snapshot()["create_requests:liangxin"] == 1
    stored = [p for p in media.rglob("*") if p.is_file()]
    assert len(stored) == 2
