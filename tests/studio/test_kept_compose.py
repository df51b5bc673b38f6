"""A plain visit's generation form is kept rendered (studio/cards.py render_compose). What
the person sees must still be current: a fresh idempotency key and a working CSRF token
each visit, today's spending, their collections, their default visibility, the options
the providers offer now."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from flux2web.billing.models import Quota
from flux2web.collections import services as sharing
from flux2web.credentials.models import ProviderCredential
from flux2web.jobs.models import Job
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db


def compose(html: str) -> str:
    return html.split('id="compose"')[1].split("</form>")[0]


def idempotency_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', compose(html))[1]


def test_each_visit_gets_its_own_key_and_a_form_that_queues_one_job(owner, providers, media):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    first, second = (client.get("/").content.decode() for _ in range(2))
    assert idempotency_key(first) != idempotency_key(second)
    assert "shell-" not in second  # no marker left unfilled
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', compose(second))[1]
    data = {
        "csrfmiddlewaretoken": token, "idempotency_key": idempotency_key(second),
        "prompt": "a kept form works", "model": "pro", "count": "1",
        "provider": providers["KIE.ai"].pk, "aspect_ratio": "1:1", "resolution": "1K",
    }  # fmt: skip
    assert client.post("/generate", data).status_code == 302
    assert client.post("/generate", data).status_code == 302  # the same press again
    assert Job.objects.filter(prompt="a kept form works").count() == 1


def test_the_quota_line_is_today_s_on_a_kept_form(signed_in, owner, providers):
    Quota.objects.create(user=owner, monthly_usd=Decimal("1.00"))
    assert "of $1.00 ($1.00 left)" in compose(signed_in.get("/").content.decode())
    make_jobs(owner, provider=providers["KIE.ai"], aspect_ratio="1:1")  # reserves its price
    line = compose(signed_in.get("/").content.decode()).split('id="quota-line"')[1]
    assert "($1.00 left)" not in line and " left)" in line.split("</p>")[0]


def test_a_new_collection_shows_at_once(signed_in, owner):
    assert "Birds" not in compose(signed_in.get("/").content.decode())
    sharing.collection_create(owner=owner, title="Birds")
    assert ">Birds</option>" in compose(signed_in.get("/").content.decode())


def test_a_new_default_visibility_shows_at_once(signed_in, owner):
    assert re.search(
        r'<option value="private" selected', compose(signed_in.get("/").content.decode())
    )
    owner.new_images_visibility = "team"
    owner.save(update_fields=["new_images_visibility"])
    assert re.search(r'<option value="team" selected', compose(signed_in.get("/").content.decode()))


def test_a_provider_switched_off_leaves_the_kept_form_at_once(signed_in, providers):
    assert ">KIE.ai</option>" in compose(signed_in.get("/").content.decode())
    ProviderCredential.objects.filter(pk=providers["KIE.ai"].pk).update(enabled=False)
    assert ">KIE.ai</option>" not in compose(signed_in.get("/").content.decode())
