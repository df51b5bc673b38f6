"""The studio home page."""

import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from flux2web.core.models import Heartbeat
from flux2web.studio import views
from tests.collections.factories import made
from tests.jobs.factories import finish, make_jobs

pytestmark = pytest.mark.django_db


def test_it_shows_the_empty_studio(client, owner):
    client.force_login(owner)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your jobs" in html
    assert "Nothing here yet" in html


def test_it_warns_when_no_worker_has_reported(client, owner):
    client.force_login(owner)
    assert "task worker has not reported" in client.get("/").content.decode()

    Heartbeat.objects.create(name="worker", seen_at=timezone.now() - timedelta(minutes=5))
    assert "task worker has not reported" in client.get("/").content.decode()


def test_it_stays_quiet_while_the_worker_is_alive(client, owner):
    Heartbeat.objects.create(name="worker", seen_at=timezone.now())
    client.force_login(owner)
    assert "task worker has not reported" not in client.get("/").content.decode()


def test_it_only_answers_get(client, owner):
    client.force_login(owner)
    assert client.post("/").status_code == 405


def test_the_body_carries_the_csrf_token_for_htmx(client, owner):
    client.force_login(owner)
    html = client.get("/").content.decode()
    token = client.cookies["csrftoken"].value
    assert token
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


# ---- The page asks each part below it once. ----------------------------------------------


def parts_asked(client, url) -> list[str]:
    """The studio home's request as the page sees it: each module of another part (the
    collections' studio part, billing, the form, the cards, a remix…) it goes into, one
    entry per stay, with "page" for the view, its template and its tags in between.
    Models and lib are data and helpers, not parts."""
    home = views.home.__wrapped__.__code__
    stays, inside = [], [False]

    def is_part(name: str) -> bool:
        return name.startswith("flux2web.") and not (
            name.endswith(".models")
            or name.startswith(("flux2web.lib.", "flux2web.studio.views"))
            or name.startswith("flux2web.studio.templatetags")
        )

    def profile(frame, event, arg):
        if frame.f_code is home and event in ("call", "return"):
            inside[0] = event == "call"
        if event != "call" or not inside[0]:
            return
        # The part the page called into: the outermost one between here and the view.
        part, f = "page", frame
        while f is not None and f.f_code is not home:
            if is_part(name := f.f_globals.get("__name__", "")):
                part = name.removeprefix("flux2web.")
            f = f.f_back
        if not stays or stays[-1] != part:
            stays.append(part)

    sys.setprofile(profile)
    try:
        assert client.get(url).status_code == 200
    finally:
        sys.setprofile(None)
    return stays


@pytest.mark.parametrize("visit", ["plain", "remix a job", "remix an image", "older cards"])
def test_the_page_asks_each_part_below_it_once(client, owner, teammate, providers, media, visit):
    done, running = make_jobs(owner, prompt="a heron", count=2)
    finish(done)
    image = made(teammate, team=True)
    url = {
        "plain": "/",
        "remix a job": f"/?remix={done.pk}",
        "remix an image": f"/?image={image.pk}",
        "older cards": f"/?before={running.pk + 1}",
    }[visit]
    client.force_login(owner)
    client.get(url)  # the kept card and form: the second visit is the usual one
    for _ in range(2):
        stays = parts_asked(client, url)
        parts = [s for s in stays if s != "page"]
        assert len(parts) == len(set(parts)), " -> ".join(stays)
