"""Finished cards are kept rendered (studio/cards.py): they must still show every change at
once, give every button its own idempotency key, and carry a CSRF token that works."""

import re

import pytest
from django.test import Client

from flux2web.jobs.models import Job
from tests.jobs.factories import finish, make_jobs

pytestmark = pytest.mark.django_db


def keys(html: str) -> list[str]:
    return re.findall(r'name="key" value="([0-9a-f]{32})"', html)


def test_a_kept_card_shows_a_change_at_once(signed_in, owner):
    (job,) = make_jobs(owner)
    finish(job)
    assert "☆ Favourite" in signed_in.get("/").content.decode()
    Job.objects.filter(pk=job.pk).update(favourite=True)  # no updated_at: the key still moves
    assert "★ Favourite" in signed_in.get("/").content.decode()


def test_every_view_of_a_kept_card_has_fresh_keys(signed_in, owner):
    (job,) = make_jobs(owner)
    finish(job, state=Job.State.FAILED, with_image=False)
    Job.objects.filter(pk=job.pk).update(seed=7)
    first, second = (
        keys(signed_in.get("/").content.decode()),
        keys(signed_in.get("/").content.decode()),
    )
    assert len(first) == 2 and len(set(first)) == 2  # retry and rerun
    assert not set(first) & set(second)


def test_a_kept_cards_form_works_with_csrf_checks_on(owner, providers, media):
    (job,) = make_jobs(owner)
    finish(job)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    client.get("/")  # keeps the card
    html = client.get("/").content.decode()
    card = html.split(f'id="job-{job.pk}"')[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', card)[1]
    response = client.post(f"/jobs/{job.pk}/favourite", {"csrfmiddlewaretoken": token, "next": "/"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.favourite
