"""An API request's wait for its jobs (generating._wait) without a worker: what wakes it."""

import time

import pytest

from flux2web.api import generating
from flux2web.jobs import changes
from flux2web.jobs.models import Job
from tests.jobs.factories import cancel_soon, make_jobs

pytestmark = pytest.mark.django_db(transaction=True)
S = Job.State


def test_an_api_wait_reads_its_jobs_every_second_while_changes_cannot_be_heard(
    owner, providers, settings, monkeypatch
):
    (job,) = make_jobs(owner)
    monkeypatch.setattr(changes, "SUBSCRIBE_WAIT_SECONDS", 0.2)
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # Redis away: no change is heard
    thread = cancel_soon(job.pk, delay=0.5)
    started = time.monotonic()
    (ended,) = generating._wait([job], deadline=started + 30)
    thread.join()
    assert ended.state == S.CANCELLED
    assert time.monotonic() - started < 0.5 + 1.5  # not the 5 s it waits with Redis heard
