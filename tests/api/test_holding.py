"""Requests that wait hold at most all but a few of a web process's threads: past that, an
API call is a 503 before anything is made and a page's stream a 204 (the page refreshes as
before), and each gives its thread back when it ends, read or not."""

import json

import pytest

from flux2web.jobs.models import Job
from flux2web.lib import holding
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_may_wait(settings):
    settings.WEB_THREADS, settings.HELD_SPARE_THREADS = 3, 1
    assert holding.held_now() == 0
    yield
    assert holding.held_now() == 0


@pytest.fixture
def others_waiting(two_may_wait):
    """Both places taken by requests waiting in other threads of this process."""
    assert holding.take() and holding.take()
    assert not holding.take()
    yield
    holding.give_back()
    holding.give_back()


def test_an_api_call_past_the_limit_is_a_503_before_anything_is_made(
    client, owner, make_token, provider, others_waiting, settings
):
    settings.API_WAIT_SECONDS = 0.2
    _, raw = make_token(owner)
    response = client.post(
        "/v1/images/generations",
        data=json.dumps({"prompt": "a heron at dawn"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "server_busy"
    assert response["Retry-After"] == "5"
    assert not Job.objects.exists()


def test_an_api_call_gives_its_place_back_when_it_answers(
    client, owner, make_token, provider, two_may_wait, settings
):
    settings.API_WAIT_SECONDS = 0.2
    _, raw = make_token(owner)
    for _ in range(3):  # more calls than places, one after the other
        response = client.post(
            "/v1/images/generations",
            data=json.dumps({"prompt": "a heron at dawn"}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}"},
        )
        assert response.status_code == 504  # waited (no worker here), then answered
    assert holding.held_now() == 0


def test_a_stream_past_the_limit_is_a_204(client, owner, provider, others_waiting):
    client.force_login(owner)
    job = make_jobs(owner)[0]
    assert client.get("/updates/stream", {"cards": str(job.pk)}).status_code == 204


def test_a_stream_gives_its_place_back_when_closed_even_unread(
    client, owner, provider, two_may_wait
):
    client.force_login(owner)
    job = make_jobs(owner)[0]
    response = client.get("/updates/stream", {"cards": str(job.pk)})
    assert response.status_code == 200
    assert holding.held_now() == 1
    response.close()
    assert holding.held_now() == 0
