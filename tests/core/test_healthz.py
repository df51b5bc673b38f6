"""/healthz tells a load balancer, or a person, whether the database and worker are alive."""

from datetime import timedelta

import pytest
from django.utils import timezone

from flux2web.core.models import Heartbeat
from flux2web.core.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_it_answers_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "worker": "never seen", "worker_seen_at": None}
    assert "no-cache" in response["Cache-Control"]


def test_it_reports_a_live_worker_after_a_heartbeat(client):
    heartbeat()
    body = client.get("/healthz").json()
    assert body["worker"] == "ok"
    assert body["worker_seen_at"]


def test_it_reports_a_stale_worker(client):
    Heartbeat.objects.create(name="worker", seen_at=timezone.now() - timedelta(minutes=3))
    assert client.get("/healthz").json()["worker"] == "stale"


def test_it_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
