"""Callbacks finish jobs early, but only ever as a hint: the job is then polled with our key."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings as settings_module
from django.db import connection, transaction

from flux2web.jobs import callbacks, following, tasks
from flux2web.jobs.models import Job, JobEvent
from flux2web.lib import holding
from flux2web.providers.dialects.kie.client import sign
from flux2web.providers.sandbox import callback_body
from tests.helpers import wait_for
from tests.jobs.factories import make_jobs, wait_for_state, wait_until_done

pytestmark = pytest.mark.django_db(transaction=True)
S = Job.State


@pytest.fixture
def public_cluster(cluster, live_server):
    """A qcluster that sends callback URLs pointing at the live server."""
    return lambda **env: cluster(FLUX2WEB_PUBLIC_URL=live_server.url, **env)


def callback_url(live_server, job):
    return f"{live_server.url}/callbacks/{job.pk}/{job.callback_secret}/"


def test_a_callback_finishes_a_job_long_before_the_next_poll(
    owner, providers, sandbox, public_cluster, media
):
    # Apixo's first poll is 15 s after submission; the sandbox is done in 0.3 s.
    (job,) = make_jobs(owner, provider=providers["Apixo"], aspect_ratio="1:1")
    started = time.monotonic()
    public_cluster()

    (job,) = wait_until_done([job], timeout=12)

    assert job.state == S.SUCCEEDED
    assert time.monotonic() - started < 12
    assert (job.provider_finished_at - job.submitted_at).total_seconds() < 10
    # The site stores the pictures before it answers the callback, and the sandbox counts
    # the callback once it has that answer: the job may end a moment before it is counted.
    wait_for(lambda: sandbox.snapshot().get("callbacks_sent"), timeout=5)
    # One status read, made because of the callback: the body itself decided nothing.
    assert sandbox.snapshot()["status_reads:apixo"] == 1
    assert "callback says success" in " ".join(job.events.values_list("message", flat=True))


def test_a_forged_callback_cannot_finish_a_job(
    owner, providers, sandbox, public_cluster, live_server
):
    (job,) = make_jobs(owner, prompt="a fox [sandbox:never]", provider=providers["LiangXin"])
    public_cluster()
    job = wait_for_state(job, S.RUNNING)
    forged = {"code": 200, "msg": "success", "data": {
        "taskId": job.provider_task_id, "state": "success",
        "resultJson": json.dumps({"resultUrls": ["https://evil.example/x.png"]})}}  # fmt: skip

    response = httpx.post(callback_url(live_server, job), json=forged)

    assert response.status_code == 200
    wait_for(lambda: sandbox.snapshot().get("status_reads:liangxin", 0) >= 1, timeout=10)
    time.sleep(0.5)
    job.refresh_from_db()
    assert job.state == S.RUNNING
    assert not job.images.exists()


def test_a_wrong_secret_or_unknown_job_learns_nothing(owner, providers, live_server):
    (job,) = make_jobs(owner, provider=providers["LiangXin"])
    body = {"code": 200, "data": {"taskId": "x", "state": "success"}}
    wrong = httpx.post(f"{live_server.url}/callbacks/{job.pk}/not-the-secret/", json=body)
    unknown = httpx.post(f"{live_server.url}/callbacks/999999/{job.callback_secret}/", json=body)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    assert httpx.get(callback_url(live_server, job)).status_code == 405


def test_kie_callbacks_must_be_signed_when_the_credential_has_a_key(
    owner, providers, sandbox, public_cluster, live_server, media
):
    credential = providers["KIE.ai"]
    credential.set_hmac_key("whsec-shared")
    credential.save()
    sandbox.config.hmac_key = "whsec-shared"
    (never,) = make_jobs(owner, prompt="a fox [sandbox:never]", provider=credential)
    (real,) = make_jobs(owner, prompt="a real fox", provider=credential)
    public_cluster()
    never = wait_for_state(never, S.RUNNING)
    body = {"code": 200, "msg": "success", "data": {"taskId": never.provider_task_id,
                                                    "state": "success"}}  # fmt: skip

    unsigned = httpx.post(callback_url(live_server, never), json=body)
    stamp = str(int(time.time()))
    guessed = sign("guess", never.provider_task_id, stamp)
    headers = {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": guessed}
    badly_signed = httpx.post(callback_url(live_server, never), json=body, headers=headers)

    assert unsigned.status_code == badly_signed.status_code == 401
    # The sandbox's properly signed callback for the real job is accepted.
    (real,) = wait_until_done([real], timeout=12)
    assert real.state == S.SUCCEEDED
    assert "callback says success" in " ".join(real.events.values_list("message", flat=True))


def test_late_and_repeated_callbacks_change_nothing(
    owner, providers, public_cluster, live_server, media
):
    (job,) = make_jobs(owner, provider=providers["LiangXin"])
    public_cluster()
    (job,) = wait_until_done([job], timeout=12)
    states = job.events.filter(kind="state").count()
    data = {"taskId": job.provider_task_id, "state": "fail", "failMsg": "late"}
    body = {"code": 200, "msg": "success", "data": data}
    for _ in range(3):
        assert httpx.post(callback_url(live_server, job), json=body).status_code == 200
    job.refresh_from_db()
    assert job.state == S.SUCCEEDED
    assert job.events.filter(kind="state").count() == states


def test_a_callback_for_a_provider_without_callbacks_is_refused(owner, providers, live_server):
    (job,) = make_jobs(owner, provider=providers["APIMart"])
    Job.objects.filter(pk=job.pk).update(provider=providers["APIMart"], provider_task_id="t")
    response = httpx.post(callback_url(live_server, job), json={"data": {"taskId": "t"}})
    assert response.status_code == 404


def submit_here(job, settings, live_server):
    """Send the job from this process (no worker runs), with the live server's callback URL."""
    settings.PUBLIC_URL = live_server.url
    tasks.submit(job_id=job.pk)
    return wait_for_state(job, S.RUNNING)


def test_the_site_stores_a_callbacks_pictures_before_answering_it(
    owner, providers, sandbox, worker_env, live_server, settings
):
    # No worker at all: the web process that hears the callback reads the task and stores
    # its picture itself, without waiting for a worker to take the job from the queue.
    (job,) = make_jobs(owner, provider=providers["Apixo"], aspect_ratio="1:1")
    submit_here(job, settings, live_server)

    # The sandbox counts a callback once it has our answer: by then the job has ended.
    wait_for(lambda: sandbox.snapshot().get("callbacks_sent"), timeout=8)
    job.refresh_from_db()

    assert job.state == S.SUCCEEDED
    assert job.images.get().status == "mirrored"
    assert sandbox.snapshot()["status_reads:apixo"] == 1
    assert sandbox.snapshot()["callbacks_sent"] == 1


def broken_follow(**kwargs):
    raise RuntimeError("a bug while following")


@pytest.mark.parametrize(
    "why", ["no thread to spare", "as many callbacks followed as allowed", "following it broke"]
)
def test_otherwise_a_worker_follows_the_job_at_once(
    owner, providers, sandbox, worker_env, live_server, settings, cluster, monkeypatch, why
):
    if why == "no thread to spare":
        monkeypatch.setattr(holding, "take", lambda: False)
    elif why == "as many callbacks followed as allowed":
        monkeypatch.setattr(callbacks, "CALLBACK_FOLLOWS", 0)
    else:
        monkeypatch.setattr(following, "follow_job", broken_follow)
    (job,) = make_jobs(owner, provider=providers["Apixo"], aspect_ratio="1:1")
    submitted = time.monotonic()
    submit_here(job, settings, live_server)
    wait_for(lambda: sandbox.snapshot().get("callbacks_sent"), timeout=5)
    job.refresh_from_db()
    assert job.state == S.RUNNING

    cluster().ready()
    (job,) = wait_until_done([job], timeout=12)

    # Long before Apixo's first poll (15 s after the create): the callback's follow-up
    # waited in the queue for the worker.
    assert job.state == S.SUCCEEDED
    assert time.monotonic() - submitted < 14
    assert sandbox.snapshot()["status_reads:apixo"] == 1


def test_a_callback_sent_again_while_its_job_is_followed_asks_the_provider_nothing_more(
    owner, providers, sandbox, worker_env, live_server, settings
):
    # A vendor that thinks we were too slow to answer calls back again, several times.
    # The live server outlives tests: an earlier test's follow may still hold a place, and
    # past CALLBACK_FOLLOWS the callback would go to a worker, and none runs here.
    wait_for(lambda: not callbacks._following, timeout=30, message="earlier follows to end")
    held_before = holding.held_now()
    (job,) = make_jobs(owner, prompt="a fox [sandbox:no_callback]", provider=providers["Apixo"])
    job = submit_here(job, settings, live_server)
    task = sandbox.get_task(job.provider_task_id)
    wait_for(lambda: time.time() > task.created + task.duration, timeout=5)
    body = json.dumps(callback_body(task, sandbox))
    sandbox.config.slow_seconds = 2
    sandbox.inject("slow", dialect="apixo", on="status")  # the first status read takes 2 s
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(
            lambda _: httpx.post(callback_url(live_server, job), content=body, timeout=30),
            range(4),
        ))  # fmt: skip

    assert [a.status_code for a in answers] == [200] * 4
    job.refresh_from_db()
    events = list(job.events.values_list("kind", "message"))
    assert job.state == S.SUCCEEDED, events
    assert sandbox.snapshot()["status_reads:apixo"] == 1
    assert holding.held_now() <= held_before  # given back (others' streams may have ended)


@pytest.mark.skipif(
    settings_module.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="row locks: PostgreSQL's",
)
def test_a_note_being_written_about_a_job_does_not_make_its_follow_skip_it(
    owner, providers, sandbox, worker_env, live_server, settings
):
    # Another callback's note about the job commits just as this one claims the job: its
    # foreign key's check share-locks the job's row meanwhile. The claim must still take it.
    (job,) = make_jobs(owner, prompt="a fox [sandbox:no_callback]", provider=providers["Apixo"])
    job = submit_here(job, settings, live_server)
    task = sandbox.get_task(job.provider_task_id)
    wait_for(lambda: time.time() > task.created + task.duration, timeout=5)
    locked, done = threading.Event(), threading.Event()

    def note_being_written():
        try:
            with transaction.atomic():
                JobEvent.objects.create(job_id=job.pk, kind=JobEvent.Kind.NOTE, message="…")
                with connection.cursor() as cursor:  # the check a commit runs, held open
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                locked.set()
                done.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=note_being_written)
    writer.start()
    try:
        assert locked.wait(5)
        assert following.follow_job(job_id=job.pk) == S.SUCCEEDED
    finally:
        done.set()
        writer.join()
