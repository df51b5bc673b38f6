"""The studio home page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from flux2web.core.models import Heartbeat

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
