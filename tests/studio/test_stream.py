"""The studio's event stream: a person's pages hear at once that one of their jobs changed."""

import time

import pytest
from django.db import connections

from flux2web.jobs import changes
from flux2web.jobs.models import Comparison, Job
from flux2web.studio import stream
from tests.jobs.factories import cancel_soon, make_jobs
from tests.studio.helpers import compare_data

pytestmark = pytest.mark.django_db(transaction=True)
S = Job.State
URL = "/updates/stream"


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.4)
    monkeypatch.setattr(stream, "STREAM_SECONDS", 3.0)


def chunks(response):
    for chunk in response.streaming_content:
        yield chunk.decode()


def test_it_tells_the_owner_at_once_when_their_job_changes(signed_in, owner, quick):
    job = make_jobs(owner)[0]
    response = signed_in.get(URL, {"cards": f"{job.pk}:queued--0"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-store"
    events = chunks(response)
    assert next(events).startswith("retry:")
    thread = cancel_soon(job.pk)
    started = time.monotonic()
    assert next(e for e in events if e != ": heartbeat\n\n") == "data: changed\n\n"
    assert time.monotonic() - started < 0.3 + 0.5
    thread.join()
    response.close()


def test_it_sends_a_heartbeat_while_nothing_changes_and_ends_in_time(signed_in, owner, quick):
    job = make_jobs(owner)[0]
    response = signed_in.get(URL, {"cards": str(job.pk)})
    started = time.monotonic()
    events = chunks(response)
    first, heartbeat = next(events), next(events)
    # Idle, the stream holds no database connection.
    assert connections["default"].connection is None
    events = [first, heartbeat, *events]
    assert events[0].startswith("retry:")
    assert set(events[1:]) == {": heartbeat\n\n"}
    assert len(events[1:]) >= 5
    assert 3.0 <= time.monotonic() - started < 3.0 + 1.5


def test_another_persons_job_is_never_watched(signed_in, owner, outsider, quick):
    mine = make_jobs(owner)[0]
    theirs = make_jobs(outsider, prompt="theirs")[0]
    response = signed_in.get(URL, {"cards": f"{mine.pk}:queued--0,{theirs.pk}:queued--0"})
    events = chunks(response)
    next(events)
    thread = cancel_soon(theirs.pk, delay=0.1)
    assert next(events) == ": heartbeat\n\n"
    assert next(events) == ": heartbeat\n\n"
    thread.join()
    response.close()


def test_with_none_of_their_jobs_in_flight_there_is_nothing_to_stream(signed_in, owner, outsider):
    theirs = make_jobs(outsider, prompt="theirs")[0]
    mine = make_jobs(owner)[0]
    Job.objects.filter(pk=mine.pk).update(state=S.SUCCEEDED)
    assert signed_in.get(URL, {"cards": f"{theirs.pk},{mine.pk}"}).status_code == 204
    assert signed_in.get(URL).status_code == 204
    assert signed_in.get(URL, {"cards": "x,,-1:a"}).status_code == 204


def test_it_needs_a_signed_in_person(client, owner, providers):
    job = make_jobs(owner)[0]
    response = client.get(URL, {"cards": str(job.pk)})
    assert response.status_code == 302 and "/login" in response["Location"]


def test_it_answers_only_get(signed_in):
    assert signed_in.post(URL).status_code == 405


def test_the_pages_name_the_stream_while_a_job_is_in_flight(signed_in, owner):
    job = make_jobs(owner)[0]
    home = signed_in.get("/").content.decode()
    assert f'data-push="/updates/stream?cards={job.pk}' in home
    assert "f2w:changed" in home and "js/push.js" in home
    page = signed_in.get(f"/jobs/{job.pk}/").content.decode()
    assert f'data-push="/updates/stream?cards={job.pk}"' in page
    assert "f2w:changed" in page and "js/push.js" in page


def test_a_comparison_page_names_the_stream_for_its_own_jobs(signed_in, owner, providers):
    signed_in.post("/generate", compare_data(providers, names=("LiangXin", "KIE.ai")))
    comparison = Comparison.objects.get(owner=owner)
    ids = sorted(comparison.jobs.values_list("pk", flat=True), reverse=True)
    page = signed_in.get(f"/comparisons/{comparison.pk}/").content.decode()
    assert f'data-push="/updates/stream?cards={ids[0]}%3A' in page and "js/push.js" in page
    assert f"{ids[1]}%3A" in page.split("data-push=")[1].split(" ")[0]


def test_with_the_change_feed_unreachable_the_stream_ends_and_the_page_refreshes(
    signed_in, owner, quick, settings, monkeypatch
):
    # Redis away (nothing listens on port 9): a stream would hear nothing while the page,
    # taking it as live, refreshed only every 10 s. It says "changed" once and ends, asking
    # the browser to come back later; meanwhile the page refreshes every 2 s (push.js).
    monkeypatch.setattr(changes, "SUBSCRIBE_WAIT_SECONDS", 0.3)
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    job = make_jobs(owner)[0]
    response = signed_in.get(URL, {"cards": str(job.pk)})
    started = time.monotonic()
    events = list(chunks(response))
    assert time.monotonic() - started < 0.3 + 1.0
    assert events[0] == "retry: 1000\n\n"
    assert events[1:] == ["data: changed\n\n", f"retry: {stream.AWAY_RETRY_MS}\n\n"]
