"""Job cards: the refresh that costs nothing when nothing changed, and each action."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flux2web.jobs.models import Image, Job
from tests.jobs.factories import finish, make_jobs

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def refresher_url(html: str) -> str:
    return html.split('id="refresher"')[1].split('hx-get="')[1].split('"')[0].replace("&amp;", "&")


def test_cards_carry_their_id_and_state_newest_first(signed_in, owner):
    first = make_jobs(owner, prompt="first one")[0]
    second = make_jobs(owner, prompt="second one")[0]
    html = signed_in.get("/").content.decode()
    assert html.index(f'data-job-id="{second.pk}"') < html.index(f'data-job-id="{first.pk}"')
    assert 'data-state="queued"' in html
    assert 'hx-trigger="every 2s, f2w:changed"' in html


def test_an_unchanged_refresh_is_a_204_and_a_change_comes_back_out_of_band(signed_in, owner):
    job = make_jobs(owner)[0]
    url = refresher_url(signed_in.get("/").content.decode())
    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get(url, headers=HX)
    assert response.status_code == 204 and response.content == b""
    assert len(queries) <= 3  # session, user, one query for every card's state

    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, progress=40)
    html = signed_in.get(url, headers=HX).content.decode()
    assert f'id="job-{job.pk}"' in html and 'hx-swap-oob="outerHTML"' in html
    assert (
        'data-state="running"' in html and '<progress class="progress" max="100" value="40"' in html
    )
    assert "every 2s" in html  # still in flight: keep following

    finish(job)
    html = signed_in.get(refresher_url(html), headers=HX).content.decode()
    assert 'data-state="succeeded"' in html and "<img" in html
    assert "every 2s" not in html  # nothing in flight: the refresher stops


def test_a_job_that_finishes_while_the_refresh_is_answered_stops_the_refresher_with_it(
    signed_in, owner, monkeypatch
):
    # The worker stores the last image between the refresh's two reads: the card comes
    # back finished, so the refresher must not keep following it as if still in flight.
    from flux2web.studio import views

    job = make_jobs(owner)[0]
    url = refresher_url(signed_in.get("/").content.decode())
    Job.objects.filter(pk=job.pk).update(state=Job.State.MIRRORING)
    read_states = views._fingerprints

    def then_the_worker_finishes(*args, **kwargs):
        states = read_states(*args, **kwargs)
        finish(job)
        return states

    monkeypatch.setattr(views, "_fingerprints", then_the_worker_finishes)
    html = signed_in.get(url, headers=HX).content.decode()
    assert 'data-state="succeeded"' in html
    assert "every 2s" not in html


def test_the_refresher_is_absent_when_nothing_is_in_flight(signed_in, owner):
    finish(make_jobs(owner)[0])
    html = signed_in.get("/").content.decode()
    assert "every 2s" not in html


def test_a_job_from_elsewhere_appears_on_the_next_refresh(signed_in, owner):
    make_jobs(owner, prompt="here")
    url = refresher_url(signed_in.get("/").content.decode())
    other = make_jobs(owner, prompt="made by the CLI")[0]
    html = signed_in.get(url, headers=HX).content.decode()
    assert 'hx-swap-oob="afterbegin:#job-list"' in html and f'data-job-id="{other.pk}"' in html


def test_the_refresh_ignores_other_peoples_jobs_and_junk(signed_in, outsider):
    theirs = make_jobs(outsider)[0]
    response = signed_in.get(f"/updates?cards={theirs.pk}:x,abc,:,9999999:q", headers=HX)
    assert response.status_code == 204
    assert signed_in.post("/updates").status_code == 405


def test_cancel_from_a_card(signed_in, owner):
    job = make_jobs(owner)[0]
    html = signed_in.post(f"/jobs/{job.pk}/cancel", headers=HX).content.decode()
    assert 'data-state="cancelled"' in html and 'id="messages" ' in html
    assert "Cancelled before anything was sent" in html
    again = signed_in.post(f"/jobs/{job.pk}/cancel", headers=HX).content.decode()
    assert "A cancelled job cannot be cancelled." in again


def test_cancel_without_javascript_redirects_back(signed_in, owner):
    job = make_jobs(owner)[0]
    response = signed_in.post(f"/jobs/{job.pk}/cancel", {"next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    response = signed_in.post(f"/jobs/{job.pk}/cancel", {"next": "https://evil.example/"})
    assert response["Location"] == f"/jobs/{job.pk}/"


def test_retry_makes_a_new_job_with_the_same_parameters_once(signed_in, owner, providers):
    job = make_jobs(owner, prompt="retry me", aspect_ratio="16:9", provider=providers["KIE.ai"])[0]
    finish(job, state=Job.State.FAILED, with_image=False)
    html = signed_in.post(f"/jobs/{job.pk}/retry", {"key": "k"}, headers=HX).content.decode()
    new = Job.objects.exclude(pk=job.pk).get()
    assert (new.prompt, new.aspect_ratio, new.requested_provider) == (
        "retry me",
        "16:9",
        providers["KIE.ai"],
    )
    assert f'data-job-id="{new.pk}"' in html and "afterbegin:#job-list" in html
    signed_in.post(f"/jobs/{job.pk}/retry", {"key": "k"}, headers=HX)  # the same press again
    assert Job.objects.count() == 2


def test_rerun_keeps_the_seed_and_retry_draws_a_new_one(signed_in, owner, providers):
    signed_in.post(
        "/generate",
        {
            "prompt": "seeded",
            "model": "pro",
            "count": "1",
            "provider": providers["LiangXin"].pk,
            "aspect_ratio": "1:1",
            "idempotency_key": "s",
        },
    )
    job = finish(Job.objects.get(), with_image=False)
    signed_in.post(f"/jobs/{job.pk}/rerun", {"key": "a"})
    signed_in.post(f"/jobs/{job.pk}/retry", {"key": "b"})
    rerun, retry = Job.objects.exclude(pk=job.pk).order_by("pk")
    assert rerun.seed == job.seed
    assert retry.seed != job.seed and retry.seed_random


def test_delete_hides_the_job_and_removes_its_files(
    signed_in, owner, media, django_capture_on_commit_callbacks
):
    job = finish(make_jobs(owner)[0])
    files = [media / Image.objects.get().original.name, media / Image.objects.get().thumbnail.name]
    assert all(f.exists() for f in files)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(f"/jobs/{job.pk}/delete", headers=HX)
    assert response.status_code == 200 and "data-job-id" not in response.content.decode()
    assert not any(f.exists() for f in files)
    assert Image.objects.count() == 0
    assert Job.objects.get().deleted_at is not None  # kept as the record of what was spent
    assert signed_in.get(f"/jobs/{job.pk}/").status_code == 404
    assert f'data-job-id="{job.pk}"' not in signed_in.get("/").content.decode()


def test_a_job_in_flight_cannot_be_deleted(signed_in, owner):
    job = make_jobs(owner)[0]
    html = signed_in.post(f"/jobs/{job.pk}/delete", headers=HX).content.decode()
    assert "cancel it first" in html
    assert Job.objects.get().deleted_at is None


def test_favourite_toggles(signed_in, owner):
    job = make_jobs(owner)[0]
    html = signed_in.post(f"/jobs/{job.pk}/favourite", headers=HX).content.decode()
    assert 'aria-pressed="true"' in html and Job.objects.get().favourite
    signed_in.post(f"/jobs/{job.pk}/favourite")
    assert not Job.objects.get().favourite


@pytest.mark.parametrize("action", ["cancel", "retry", "rerun", "delete", "favourite"])
def test_actions_on_another_users_job_are_404_and_need_post(signed_in, outsider, action):
    theirs = make_jobs(outsider)[0]
    assert signed_in.post(f"/jobs/{theirs.pk}/{action}").status_code == 404
    assert signed_in.get(f"/jobs/{theirs.pk}/{action}").status_code == 405
    assert Job.objects.get().state == "queued" and not Job.objects.get().favourite


def test_errors_read_in_plain_words(signed_in, owner):
    job = make_jobs(owner)[0]
    Job.objects.filter(pk=job.pk).update(
        state="failed", error_class="credits", error_message="Apixo: 402 insufficient balance"
    )
    html = signed_in.get("/").content.decode()
    assert "The provider account has run out of credit." in html
    assert "Ask an admin to top it up" in html
    # The provider's own words are for admins (they may carry what they shouldn't).
    assert "402 insufficient balance" not in html


def test_an_admin_sees_the_providers_words_and_a_member_those_they_act_on(
    client, owner, providers, media, django_user_model
):
    admin = django_user_model.objects.create_user("ada", is_team_admin=True)
    credits, validation = make_jobs(owner, count=2)
    Job.objects.filter(pk=credits.pk).update(
        state="failed", error_class="credits", error_message="Apixo: 402 insufficient balance"
    )
    Job.objects.filter(pk=validation.pk).update(
        state="failed", error_class="validation", error_message="Apixo: prompt is too short"
    )
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "prompt is too short" in html and "insufficient balance" not in html
    Job.objects.filter(owner=owner).update(owner=admin)
    client.force_login(admin)
    html = client.get("/").content.decode()
    assert "prompt is too short" in html and "insufficient balance" in html


def test_older_jobs_page_in(signed_in, owner):
    for n in range(23):
        make_jobs(owner, prompt=f"job number {n}")
    html = signed_in.get("/").content.decode()
    assert html.count('data-job-id="') == 20 and 'id="older-jobs"' in html
    older = html.split('id="older-jobs"')[1].split('href="')[1].split('"')[0]
    more = signed_in.get(older, headers={**HX, "HX-Target": "older-jobs"}).content.decode()
    assert more.count('data-job-id="') == 3 and "<html" not in more


@pytest.mark.parametrize("junk", ["99999999999999999999999", "²", "-1", "1e5", ""])
def test_no_id_a_client_sends_makes_a_500(signed_in, owner, junk):
    make_jobs(owner)
    assert signed_in.get(f"/updates?cards={junk}:x", headers=HX).status_code in (200, 204)
    assert signed_in.get(f"/?before={junk}").status_code == 200
    assert signed_in.get(f"/?remix={junk}").status_code in (200, 404)
    assert signed_in.get(f"/gallery/?before={junk}").status_code == 200
    response = signed_in.post("/gallery/zip", {"image": [junk]}, follow=True)
    assert "Select at least one image" in response.content.decode()
