"""Callback bodies no parser should choke on: each is a clear 400 that writes nothing."""

import json

import pytest

from flux2web.jobs.models import Job, JobEvent
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
S = Job.State
DEEP = 60_000


@pytest.fixture
def running(owner, providers):
    (job,) = make_jobs(owner, provider=providers["KIE.ai"])
    Job.objects.filter(pk=job.pk).update(
        state=S.RUNNING, provider=providers["KIE.ai"], provider_task_id="task_kie_1"
    )
    return Job.objects.get(pk=job.pk)


@pytest.fixture
def post(client, running):
    client.raise_request_exception = False

    def send(body, job_id=None):
        url = f"/callbacks/{job_id or running.pk}/{running.callback_secret}/"
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return client.post(url, data=data, content_type="application/json")

    return send


def body(**data):
    urls = json.dumps({"resultUrls": ["https://x.example/1.png"]})
    fields = {"taskId": "task_kie_1", "state": "success", "resultJson": urls, **data}
    return {"code": 200, "msg": "success", "data": fields}


def assert_nothing_written(running):
    assert JobEvent.objects.filter(job=running).count() == 1  # "queued"
    job = Job.objects.get(pk=running.pk)
    assert job.state == S.RUNNING
    assert job.provider_finished_at is None


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("[" * DEEP + "]" * DEEP, id="nested-60000-deep"),
        pytest.param(
            '{"data": ' + "{" * 10 + '"a": ' + "[" * DEEP + "]" * DEEP + "}" * 11,
            id="nested-inside-data",
        ),
        pytest.param(body(completeTime=1e20), id="completeTime-1e20"),
        pytest.param(json.dumps(body(completeTime=float("inf"))), id="completeTime-Infinity"),
        pytest.param(json.dumps(body(completeTime=float("nan"))), id="completeTime-NaN"),
        pytest.param(body(completeTime="tomorrow"), id="completeTime-text"),
        pytest.param(body(resultJson="[" * DEEP + "]" * DEEP), id="resultJson-nested-deep"),
        pytest.param(body(resultJson={"resultUrls": [[[["x"]]]]}), id="resultJson-odd-shape"),
    ],
)
def test_a_callback_body_no_parser_can_take_is_a_400_that_writes_nothing(post, running, payload):
    response = post(payload)

    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert response.json()["message"]
    assert_nothing_written(running)


def test_a_callback_for_an_id_too_large_for_the_database_is_unknown(post, running):
    response = post(body(), job_id=10**22)
    assert response.status_code == 404
