"""A vendor's answers do not always come in the order we asked: a task's callback can come
before the answer to its create, the answer can come after the job was held as uncertain,
and a task the vendor said it no longer knew can call back. Whatever the order, the task's
id is never lost, the job is followed to its picture, nothing is sent twice and the money
is settled once. The sandbox's `late` fault makes the task at once and answers the create
later; its callback comes first."""

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from django.db import connection
from django.utils import timezone

from flux2web.billing.models import LedgerEntry
from flux2web.jobs import charges, recovery, submitting
from flux2web.jobs.models import Job, JobEvent
from flux2web.jobs.transitions import hold, transition
from flux2web.providers.base import DialectClient
from flux2web.providers.sandbox import callback_body
from flux2web.providers.types import ErrorClass
from tests.helpers import wait_for
from tests.jobs.factories import make_jobs, run_to_the_end, wait_for_state

pytestmark = pytest.mark.django_db(transaction=True)
S = Job.State
K = LedgerEntry.Kind


def kinds(job):
    return sorted(LedgerEntry.objects.filter(job=job).values_list("kind", flat=True))


def said(job) -> str:
    return " ".join(JobEvent.objects.filter(job=job).values_list("message", flat=True))


def in_thread(pool, function, **kwargs):
    def run():
        try:
            return function(**kwargs)
        finally:
            connection.close()

    return pool.submit(run)


def only_task(sandbox, prompt):
    return wait_for(lambda: next((t for t in sandbox.tasks.values() if t.prompt == prompt), None))


def test_a_callback_that_comes_before_the_creates_answer_is_followed_at_once(
    owner, providers, sandbox, worker_env, live_server, settings
):
    # Apixo's first poll is 15 s after the create; its answer here comes 6 s late, after
    # the vendor's callback and every retry of it.
    settings.PUBLIC_URL = live_server.url
    sandbox.config.slow_seconds = 6
    prompt = "a heron at dawn [sandbox:late]"
    (job,) = make_jobs(owner, prompt=prompt, provider=providers["Apixo"], aspect_ratio="1:1")
    with ThreadPoolExecutor(1) as pool:
        sending = in_thread(pool, submitting.submit_job, job_id=job.pk)
        # The callback is followed by the site that heard it: the picture is stored while
        # the create's answer is still on its way.
        done = wait_for_state(job, S.SUCCEEDED, timeout=5)
        assert not sending.done()
        assert sending.result(timeout=20) == "submitted"
    task = only_task(sandbox, prompt)
    job.refresh_from_db()
    assert job.state == S.SUCCEEDED and job.provider_task_id == task.id == done.provider_task_id
    assert job.images.get().original.name
    assert sandbox.snapshot()["create_requests:apixo"] == 1
    assert kinds(job) == [K.RESERVE, K.SETTLE]
    assert "callback named task" in said(job) and "before the answer to our create came" in said(
        job
    )


@contextmanager
def held_while_sending(owner, providers, sandbox, settings, prompt):
    """A KIE job whose create is sent from another thread and answered 2 s late, past a
    submit lease of 0 s: the minute's repair holds it as uncertain meanwhile (as when a
    worker pauses, or a vendor is slow). Yields the job once the task is made, then waits
    for the answer."""
    settings.SUBMIT_LEASE_SECONDS = 0
    sandbox.config.slow_seconds = 2
    (job,) = make_jobs(owner, prompt=prompt, provider=providers["KIE.ai"])
    with ThreadPoolExecutor(1) as pool:
        sending = in_thread(pool, submitting.submit_job, job_id=job.pk)
        only_task(sandbox, prompt)
        assert recovery.reconcile()["uncertain"] == 1
        assert Job.objects.get(pk=job.pk).state == S.UNCERTAIN
        yield job
        assert sending.result(timeout=20) == "submitted"


def test_a_create_answered_after_the_job_was_held_as_uncertain_is_followed(
    owner, providers, sandbox, worker_env, settings
):
    prompt = "a heron at dawn [sandbox:late] [sandbox:no_callback]"
    with held_while_sending(owner, providers, sandbox, settings, prompt) as job:
        pass
    job.refresh_from_db()
    assert job.state == S.RUNNING and job.provider_task_id == only_task(sandbox, prompt).id
    assert "after this job was held as uncertain" in said(job)
    job = run_to_the_end(job)
    assert job.state == S.SUCCEEDED and job.images.get().original.name
    assert kinds(job) == [K.HOLD, K.RESERVE, K.SETTLE]  # settled once, from the hold
    assert sandbox.snapshot()["create_requests:kie"] == 1


def test_an_admins_decision_on_a_held_job_stands_when_the_answer_comes(
    owner, providers, sandbox, worker_env, settings, staff
):
    prompt = "a fox at dusk [sandbox:late] [sandbox:no_callback]"
    with held_while_sending(owner, providers, sandbox, settings, prompt) as job:
        charges.resolve_uncertain(job_id=job.pk, charged=False, by=staff)
    job.refresh_from_db()
    assert job.state == S.UNCERTAIN and kinds(job) == [K.HOLD, K.REFUND, K.RESERVE]
    task = only_task(sandbox, prompt)
    assert f"accepted it as task {task.id}, but the job was uncertain by then" in said(job)


def test_a_task_the_vendor_said_it_no_longer_knew_is_followed_when_it_calls_back(
    client, owner, providers, sandbox, worker_env, media, settings
):
    settings.PUBLIC_URL = "http://testserver"  # the test posts the callback itself
    prompt = "a heron at dawn [sandbox:no_callback]"
    (job,) = make_jobs(owner, prompt=prompt, provider=providers["KIE.ai"])
    assert submitting.submit_job(job_id=job.pk) == "submitted"
    job.refresh_from_db()
    # As _task_unknown leaves it after "recordInfo is null" twice: held, its task id kept.
    assert hold(job.pk, from_state=S.RUNNING, error_class=ErrorClass.NOT_FOUND,
                why="KIE.ai no longer knows the task", message="unknown")  # fmt: skip
    task = only_task(sandbox, prompt)
    wait_for(lambda: task.phase(time.time())[0] == "success", timeout=5)

    url = f"/callbacks/{job.pk}/{job.callback_secret}/"
    response = client.post(url, callback_body(task, sandbox), content_type="application/json")

    assert response.status_code == 200
    job.refresh_from_db()
    assert job.state == S.SUCCEEDED and job.images.get().original.name
    assert kinds(job) == [K.HOLD, K.RESERVE, K.SETTLE]
    assert "had said it no longer knew task" in said(job)
    assert sandbox.snapshot()["create_requests:kie"] == 1


def test_each_provider_tried_starts_the_submit_lease_afresh(owner, providers, sandbox):
    # LiangXin refuses, KIE.ai takes it: the lease counts from KIE.ai's create, so a chain
    # of slow refusals cannot use it up and have a job held while it is being accepted.
    sandbox.inject("500", dialect="liangxin")
    (job,) = make_jobs(owner, prompt="a heron at dawn")
    assert submitting.submit_job(job_id=job.pk) == "submitted"
    job.refresh_from_db()
    refused = JobEvent.objects.get(job=job, kind="call", provider="LiangXin")
    assert job.provider.name == "KIE.ai"
    assert job.claimed_at >= refused.at


def test_a_callback_read_while_its_create_times_out_still_adopts_the_task(
    client, owner, providers, sandbox, worker_env, media, settings, monkeypatch
):
    # The callback came just before our create gave up waiting: while the site asked the
    # vendor about the task, the worker held the job as uncertain. The task is still ours.
    settings.PUBLIC_URL = "http://testserver"  # the test posts the callback itself
    prompt = "a heron at dawn [sandbox:no_callback]"
    (job,) = make_jobs(owner, prompt=prompt, provider=providers["KIE.ai"])
    assert submitting.submit_job(job_id=job.pk) == "submitted"
    Job.objects.filter(pk=job.pk).update(state=S.SUBMITTING, provider_task_id="")
    task = only_task(sandbox, prompt)
    wait_for(lambda: task.phase(time.time())[0] == "success", timeout=5)
    status = DialectClient.status

    def timed_out_meanwhile(self, task_id):
        hold(job.pk, from_state=S.SUBMITTING, error_class=ErrorClass.AMBIGUOUS,
             why="read timeout", message="answer lost from KIE.ai")  # fmt: skip
        return status(self, task_id)

    monkeypatch.setattr(DialectClient, "status", timed_out_meanwhile)
    url = f"/callbacks/{job.pk}/{job.callback_secret}/"
    response = client.post(url, callback_body(task, sandbox), content_type="application/json")
    monkeypatch.undo()

    assert response.status_code == 200
    job.refresh_from_db()
    assert job.provider_task_id == task.id
    assert job.state == S.SUCCEEDED and job.images.get().original.name
    assert sandbox.snapshot()["create_requests:kie"] == 1


def test_a_worker_that_stalled_past_its_lease_sends_nothing(
    owner, providers, sandbox, settings, monkeypatch
):
    # It claimed the job, then stalled before choosing a provider: the minute's repair gave
    # the job back to the queue, and another worker claimed it. The first sends nothing.
    settings.SUBMIT_LEASE_SECONDS = 0
    (job,) = make_jobs(owner, prompt="a heron at dawn")
    route = submitting.route

    def stalled(*args, **kwargs):
        assert recovery.reconcile()["requeued"] == 1
        assert transition(job.pk, from_states=[S.QUEUED], to=S.SUBMITTING,
                          claimed_at=timezone.now())  # fmt: skip
        return route(*args, **kwargs)

    monkeypatch.setattr(submitting, "route", stalled)
    assert submitting.submit_job(job_id=job.pk) == "not claimed"
    assert not [k for k in sandbox.snapshot() if k.startswith("create_requests")]
    job.refresh_from_db()
    assert job.state == S.SUBMITTING and job.provider is None  # the other worker's to send
