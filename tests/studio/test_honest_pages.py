"""Back never shows a stale studio, a waiting card says who it
waits for and why, failures name the providers really asked, and without JavaScript a
value the new provider does not take is dropped with a notice, not a failed Generate."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from flux2web.jobs.models import Job, JobEvent
from tests.jobs.factories import finish, make_jobs

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def card_html(html: str, job) -> str:
    return html.split(f'id="job-{job.pk}"')[1].split("</article>")[0]


@pytest.mark.parametrize("path", ["/", "/gallery/", "/collections/", "/gallery/team/", "/usage/"])
def test_live_pages_are_never_kept_for_back(signed_in, path):
    response = signed_in.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_job_page_is_never_kept_for_back(signed_in, owner):
    (job,) = make_jobs(owner)
    assert "no-store" in signed_in.get(f"/jobs/{job.pk}/")["Cache-Control"]


def test_a_card_waiting_out_a_rate_limit_says_who_asked_and_when_it_tries_again(
    signed_in, owner, providers
):
    apimart = providers["APIMart"]
    (job,) = make_jobs(owner, provider=apimart, aspect_ratio="1:1")
    again = timezone.now() + timedelta(seconds=70)
    JobEvent.objects.create(job=job, kind="state", from_state="queued", to_state="submitting")
    JobEvent.objects.create(
        job=job, kind="note", provider="APIMart",
        message="APIMart refused: rate_limited: Too many requests",
    )  # fmt: skip
    JobEvent.objects.create(
        job=job, kind="state", from_state="submitting", to_state="queued",
        message="every provider refused (rate_limited: Too many requests); trying again in 60s",
    )  # fmt: skip
    Job.objects.filter(pk=job.pk).update(attempts=1, next_attempt_at=again)

    card = card_html(signed_in.get("/").content.decode(), job)
    local = timezone.localtime(again).strftime("%H:%M:%S")
    assert "APIMart asked us to wait (rate limited)" in card
    assert f"next try {local}, attempt 2 of 4" in card
    assert ">Cancel<" in card


def test_a_card_being_sent_offers_cancel_and_says_to_whom(signed_in, owner, providers):
    (job,) = make_jobs(owner, provider=providers["KIE.ai"], aspect_ratio="1:1")
    Job.objects.filter(pk=job.pk).update(state=Job.State.SUBMITTING, provider=providers["KIE.ai"])
    card = card_html(signed_in.get("/").content.decode(), job)
    assert "Sending to KIE.ai" in card
    assert ">Cancel<" in card


def test_a_second_cancel_while_sending_is_not_offered(signed_in, owner, providers):
    (job,) = make_jobs(owner, provider=providers["KIE.ai"], aspect_ratio="1:1")
    Job.objects.filter(pk=job.pk).update(state=Job.State.SUBMITTING, provider=providers["KIE.ai"])
    response = signed_in.post(f"/jobs/{job.pk}/cancel", follow=True)
    html = response.content.decode()
    assert "Cancelling: it is being sent right now" in html
    card = card_html(signed_in.get("/").content.decode(), job)
    assert "Cancelling: it was being sent to KIE.ai" in card
    assert ">Cancel<" not in card


def test_a_running_card_gives_an_eta_from_the_providers_recent_median(signed_in, owner, providers):
    # The median is kept a minute per provider id: an earlier test's provider had this id.
    cache.clear()
    kie = providers["KIE.ai"]
    now = timezone.now()
    for n, seconds in enumerate([10, 14, 20]):
        (done,) = make_jobs(owner, prompt=f"earlier {n}", provider=kie, aspect_ratio="1:1",
                            resolution="1K")  # fmt: skip
        Job.objects.filter(pk=done.pk).update(
            state=Job.State.SUCCEEDED, provider=kie, submitted_at=now - timedelta(minutes=5),
            provider_finished_at=now - timedelta(minutes=5) + timedelta(seconds=seconds),
            finished_at=now,
        )  # fmt: skip
    (job,) = make_jobs(owner, provider=kie, aspect_ratio="1:1", resolution="1K")
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING, provider=kie, submitted_at=now - timedelta(seconds=4)
    )
    card = card_html(signed_in.get("/").content.decode(), job)
    assert "KIE.ai is generating" in card
    # Median 14 s, 4 s gone (a second more if the page took one to draw, on a busy machine).
    assert re.search(r"about (10|9) s left", card), card


def test_a_failure_after_rounds_of_refusals_names_the_one_provider_asked(
    client, admin_user, providers
):
    client.force_login(admin_user)
    apimart = providers["APIMart"]
    (job,) = make_jobs(admin_user, provider=apimart, aspect_ratio="1:1")
    for _ in range(4):
        said = "APIMart refused: rate_limited: Too many requests"
        JobEvent.objects.create(job=job, kind="note", provider="APIMart", message=said)
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.FAILED, error_class="rate_limited", finished_at=timezone.now(),
        error_message="Every provider refused 4 times; last: rate_limited: Too many requests",
    )  # fmt: skip
    for html in (client.get("/").content.decode(), client.get(f"/jobs/{job.pk}/").content.decode()):
        assert "Every provider refused" not in html
        assert "APIMart refused 4 times" in html


def test_cards_refresh_without_javascript_only_while_something_is_in_flight(signed_in, owner):
    html = signed_in.get("/").content.decode()
    assert 'http-equiv="refresh"' not in html
    (job,) = make_jobs(owner)
    html = signed_in.get("/").content.decode()
    noscript = html.split("<noscript>")[1].split("</noscript>")[0]
    assert 'http-equiv="refresh"' in noscript
    assert html.count('http-equiv="refresh"') == 1
    finish(job)
    assert 'http-equiv="refresh"' not in signed_in.get("/").content.decode()


def test_without_javascript_a_value_the_new_provider_does_not_take_is_dropped_with_a_notice(
    signed_in, owner, providers
):
    # The form showed LiangXin's options (seed, upsampling); the person switched to KIE.ai
    # and pressed Generate without the options refreshing.
    response = signed_in.post("/generate", {
        "prompt": "a fox in the snow", "model": "pro", "provider": providers["KIE.ai"].pk,
        "count": "1", "aspect_ratio": "16:9", "seed": "42", "prompt_upsampling": "on",
        "width": "1024", "height": "768", "idempotency_key": "nojs-1",
    }, follow=True)  # fmt: skip
    job = Job.objects.get()
    assert job.requested_provider == providers["KIE.ai"] and job.seed is None
    assert job.aspect_ratio == "16:9"
    page = response.content.decode()
    assert "KIE.ai takes no seed" in page
    assert "Queued 1 image" in page
