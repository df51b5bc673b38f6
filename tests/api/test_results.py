"""The image addresses the API answers with: ours, readable without a session for
FLUX2WEB_API_URL_MINUTES, then 404 for everyone; a forged or altered one is 404, and so is
one to an image deleted meanwhile."""

import time
from datetime import UTC, datetime

import pytest
from django.test import Client

from flux2web.api import results
from flux2web.jobs import services
from tests.jobs.factories import finish, make_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def image(owner, media, provider):
    job = finish(make_jobs(owner, provider=provider)[0])
    return job.images.get()


def test_anyone_with_the_address_reads_the_image_until_it_expires(image, monkeypatch, settings):
    settings.API_URL_MINUTES = 60
    path = results.path_for(image)
    response = Client().get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"png-bytes"
    assert response["Content-Type"] == "image/png"
    # No browser or proxy may keep it past its expiry.
    assert 3590 <= int(response["Cache-Control"].rpartition("=")[2]) <= 3600
    assert Client().head(path).status_code == 200
    soon = time.time() + 59 * 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: soon)
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime.fromtimestamp(soon, tz=UTC))
    assert int(Client().get(path)["Cache-Control"].rpartition("=")[2]) <= 60
    later = time.time() + 61 * 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert Client().get(path).status_code == 404


def test_a_forged_or_altered_address_is_404(image):
    path = results.path_for(image)
    token = path.split("/")[-1].rsplit(".", 1)[0]
    assert Client().get(path.replace(token, token[:-2] + "xx")).status_code == 404
    assert Client().get(path.replace(".png", ".jpg")).status_code == 404
    assert Client().get("/api/images/1.png").status_code == 404


def test_an_image_deleted_meanwhile_is_404(image, owner):
    path = results.path_for(image)
    services.delete_job(job_id=image.job_id)
    image.job.refresh_from_db()
    assert image.job.deleted_at is not None
    assert Client().get(path).status_code == 404
