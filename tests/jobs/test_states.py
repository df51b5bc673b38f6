"""The job's life as jobs/states.py tells it: illegal moves refused, the claim a real move."""

import pytest

from flux2web.billing.models import LedgerEntry
from flux2web.jobs import services, states
from flux2web.jobs.models import Job, JobEvent
from flux2web.jobs.states import IllegalTransition
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
S = Job.State


def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing(owner, providers):
    (job,) = make_jobs(owner, prompt="straight to done")
    with pytest.raises(IllegalTransition):
        services.transition(job.pk, from_states=[S.QUEUED], to=S.SUCCEEDED)
    job.refresh_from_db()
    assert job.state == S.QUEUED
    assert not LedgerEntry.objects.filter(job=job, kind=LedgerEntry.Kind.SETTLE).exists()


def test_outside_strict_mode_an_illegal_move_is_logged_not_raised(
    owner, providers, settings, caplog
):
    settings.JOB_TRANSITIONS_STRICT = False
    (job,) = make_jobs(owner, prompt="logged slip")
    assert services.transition(job.pk, from_states=[S.QUEUED], to=S.FAILED)
    assert "queued -> failed is not in jobs/states.py" in caplog.text


def test_a_finished_job_moves_nowhere():
    for end in states.FINAL:
        assert not states.ALLOWED[end]
    assert set(states.ALLOWED) == set(S)


def test_claiming_a_job_writes_its_state_event_through_the_table(owner, providers):
    (job,) = make_jobs(owner, prompt="claimed once")
    services.transition(
        job.pk, from_states=[S.QUEUED], to=S.SUBMITTING, where=None, claimed_at=job.created_at
    )
    event = JobEvent.objects.filter(job=job, kind=JobEvent.Kind.STATE).last()
    assert (event.from_state, event.to_state) == (S.QUEUED, S.SUBMITTING)


def test_the_job_says_what_a_person_may_do_with_it(owner, providers):
    (job,) = make_jobs(owner, prompt="what may I do")
    assert job.can_cancel and job.is_waiting and job.is_in_flight
    assert not (job.can_retry or job.can_delete or job.shows_error)
    job.state = S.SUBMITTING
    assert job.can_cancel and job.is_waiting
    job.cancel_requested_at = job.created_at
    assert not job.can_cancel
    job.cancel_requested_at = None
    job.state = S.RUNNING
    assert job.can_cancel and not job.is_waiting
    job.state = S.UNCERTAIN
    assert job.shows_error and not (job.can_retry or job.can_delete or job.is_in_flight)
    job.state = S.FAILED
    assert job.can_retry and job.can_delete and job.is_final
    job.state = S.SUCCEEDED
    assert job.can_delete and not job.can_retry and job.is_succeeded
