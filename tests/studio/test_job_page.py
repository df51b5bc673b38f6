"""A job's own page: images, every parameter, timings, cost, events, actions."""

import pytest

from flux2web.jobs.models import Job
from tests.jobs.factories import finish, make_jobs

pytestmark = pytest.mark.django_db


def test_it_shows_everything_about_a_finished_job(signed_in, owner, providers):
    job = make_jobs(
        owner,
        prompt="a glass castle",
        aspect_ratio="16:9",
        resolution="2K",
        provider=providers["KIE.ai"],
    )[0]
    Job.objects.filter(pk=job.pk).update(provider=providers["KIE.ai"], provider_task_id="task-77")
    finish(job)
    html = signed_in.get(f"/jobs/{job.pk}/").content.decode()
    assert "a glass castle" in html and "task-77" in html and "KIE.ai" in html
    assert "16:9" in html and "2K" in html and "$0.08" in html
    assert "?download=1" in html and 'data-state="succeeded"' in html
    assert "queued" in html  # the event log
    assert "every 2s" not in html


def test_it_follows_a_job_in_flight_and_has_an_htmx_partial(signed_in, owner):
    job = make_jobs(owner)[0]
    html = signed_in.get(f"/jobs/{job.pk}/").content.decode()
    assert "every 2s" in html and ">Cancel<" in html
    partial = signed_in.get(
        f"/jobs/{job.pk}/", headers={"HX-Request": "true", "HX-Target": "job-detail"}
    )
    assert "<html" not in partial.content.decode() and 'id="job-detail"' in partial.content.decode()
    assert "HX-Request" in partial["Vary"]


def test_another_users_job_is_404(signed_in, outsider):
    theirs = make_jobs(outsider)[0]
    assert signed_in.get(f"/jobs/{theirs.pk}/").status_code == 404
    assert signed_in.get("/jobs/999999/").status_code == 404


def test_it_only_answers_get(signed_in, owner):
    job = make_jobs(owner)[0]
    assert signed_in.post(f"/jobs/{job.pk}/").status_code == 405


def test_it_needs_sign_in(client, owner, providers):
    job = make_jobs(owner)[0]
    response = client.get(f"/jobs/{job.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
