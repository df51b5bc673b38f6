"""A create whose answer was lost leaves the job uncertain, task id unknown; the vendor's
callback for that job still arrives at its secret URL and names the task. Checked with our
own key, the task is adopted: the image is saved, the ledger settles once, nothing is sent
twice, and the job page says what happened."""

import json

import pytest

from flux2web.billing.models import LedgerEntry
from flux2web.jobs import queue, services
from flux2web.jobs.models import Job
from flux2web.providers.sandbox import callback_body
from flux2web.providers.types import GenerationRequest, Model
from tests.helpers import wait_for
from tests.jobs.factories import make_jobs, run_to_the_end

pytestmark = pytest.mark.django_db
S = Job.State
K = LedgerEntry.Kind


@pytest.fixture(autouse=True)
def setup(settings, sandbox, monkeypatch):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})
    settings.PUBLIC_URL = "http://testserver"
    followed = []
    monkeypatch.setattr(queue, "enqueue", lambda func, job_id: followed.append(job_id))
    return followed


def kinds(job):
    return sorted(LedgerEntry.objects.filter(job=job).values_list("kind", flat=True))


def lost(owner, providers, sandbox, prompt="a heron at dawn"):
    # no_callback: the sandbox cannot reach http://testserver; the test posts its body.
    (job,) = make_jobs(owner, prompt=f"{prompt} [sandbox:lost] [sandbox:no_callback]",
                       provider=providers["KIE.ai"])  # fmt: skip
    assert services.submit_job(job_id=job.pk) == "uncertain"
    job.refresh_from_db()
    assert job.provider_task_id == "" and kinds(job) == [K.HOLD, K.RESERVE]
    (task,) = [t for t in sandbox.tasks.values() if t.prompt.startswith(prompt)]
    wait_for(lambda: task.phase(task.created + task.duration + 0.01)[0] == "success"
             and task.refs_checked.is_set())  # fmt: skip
    return job, task


def post_callback(client, job, body):
    return client.post(f"/callbacks/{job.pk}/{job.callback_secret}/", json.dumps(body),
                       content_type="application/json")  # fmt: skip


def test_the_callback_recovers_the_task_and_the_job_ends_as_usual(
    client, owner, providers, sandbox, media, setup
):
    job, task = lost(owner, providers, sandbox)

    response = post_callback(client, job, callback_body(task, sandbox))

    assert response.status_code == 200
    job.refresh_from_db()
    assert job.state == S.RUNNING and job.provider_task_id == task.id
    # Followed at once, as any callback's job: asked about again, here in the site.
    assert sandbox.snapshot()["status_reads:kie"] == 2 and setup == []
    job = run_to_the_end(job)
    assert job.state == S.SUCCEEDED
    assert job.images.get().original.name
    assert kinds(job) == [K.HOLD, K.RESERVE, K.SETTLE]  # settled once, from the hold
    assert sandbox.snapshot()["create_requests:kie"] == 1  # nothing sent twice
    client.force_login(owner)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "recovered: the answer to our create was lost" in page

    again = post_callback(client, job, callback_body(task, sandbox))
    assert again.status_code == 200
    assert kinds(job) == [K.HOLD, K.RESERVE, K.SETTLE]


def test_a_task_the_vendor_does_not_know_leaves_the_job_uncertain(
    client, owner, providers, sandbox
):
    job, task = lost(owner, providers, sandbox)
    body = callback_body(task, sandbox)
    forged = {**body, "taskId": "task_kie_nobody_made"}
    forged["data"] = {k: v for k, v in body["data"].items() if k not in ("taskId", "task_id")}

    assert post_callback(client, job, forged).status_code == 400

    job.refresh_from_db()
    assert job.state == S.UNCERTAIN and job.provider_task_id == ""
    assert "did not confirm it" in job.events.last().message


def test_a_task_made_for_another_request_is_not_adopted(
    client, owner, providers, sandbox, make_client
):
    job, _ = lost(owner, providers, sandbox)
    other = make_client("kie").create(
        GenerationRequest(model=Model.PRO, prompt="someone else's fox")
    )

    body = {"code": 200, "msg": "Playground task completed successfully.",
            "data": {"taskId": other.task_id, "state": "success"}}  # fmt: skip
    assert post_callback(client, job, body).status_code == 400

    job.refresh_from_db()
    assert job.state == S.UNCERTAIN
    assert kinds(job) == [K.HOLD, K.RESERVE]


def test_an_admins_decision_stands(client, owner, providers, sandbox, staff):
    from flux2web.jobs import charges

    job, task = lost(owner, providers, sandbox)
    charges.resolve_uncertain(job_id=job.pk, charged=False, by=staff)

    assert post_callback(client, job, callback_body(task, sandbox)).status_code == 200

    job.refresh_from_db()
    assert job.state == S.UNCERTAIN
    assert kinds(job) == [K.HOLD, K.REFUND, K.RESERVE]
