"""Why Auto chose a provider: said in the studio before Generate, next to the estimate it
reserves, and kept on the job's page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from flux2web.accounts.models import TeamPolicy
from flux2web.jobs.models import Job
from flux2web.scores import tally
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def fastest_is_apixo(providers):
    TeamPolicy.objects.update_or_create(pk=1, defaults={"routing": "fastest"})
    for _ in range(5):
        tally.add(providers["Apixo"].pk, "pro", tally.Outcome("succeeded", seconds=14, images=1))
    providers["Apixo"].prices = {"pro": {"1K": "0.07", "2K": "0.11"}}
    providers["Apixo"].save()
    return providers["Apixo"]


def test_the_studio_says_where_auto_would_send_it_and_why(signed_in, fastest_is_apixo):
    html = signed_in.get("/").content.decode()

    assert "Auto → Apixo: fastest over the last day, 14 s median" in html
    assert 'data-each="0.07' in html  # the estimate is Apixo's price, as reserved


def test_the_reason_follows_the_form_when_it_changes(signed_in, fastest_is_apixo, providers):
    auto = signed_in.post("/generate/options", {"model": "pro", "provider": ""})
    named = signed_in.post(
        "/generate/options", {"model": "pro", "provider": str(providers["KIE.ai"].pk)}
    )

    assert "Auto → Apixo: fastest over the last day, 14 s median" in auto.content.decode()
    assert "Auto →" not in named.content.decode()


def test_the_studio_says_when_auto_goes_by_priority(signed_in):
    html = signed_in.get("/").content.decode()

    assert "Auto → LiangXin: first by priority" in html


def test_the_job_page_keeps_why_this_provider(signed_in, owner, fastest_is_apixo):
    (job,) = make_jobs(owner, aspect_ratio="1:1")
    assert job.price == Decimal("0.07")
    Job.objects.filter(pk=job.pk).update(
        provider=fastest_is_apixo, route_reason="Apixo: fastest over the last day, 14 s median"
    )

    html = signed_in.get(f"/jobs/{job.pk}/").content.decode()

    assert "Why this provider" in html
    assert "Apixo: fastest over the last day, 14 s median" in html


def test_a_job_for_a_named_provider_shows_no_reason(signed_in, owner, providers):
    (job,) = make_jobs(owner, provider=providers["KIE.ai"])
    Job.objects.filter(pk=job.pk).update(provider=providers["KIE.ai"])

    html = signed_in.get(f"/jobs/{job.pk}/").content.decode()

    assert "Why this provider" not in html


def test_the_studio_names_and_prices_where_jobs_go_not_a_trial_of_a_skipped_provider(
    signed_in, owner, providers, settings
):
    """A trial goes to one job of many: the studio's line and estimate follow the first
    choice that is not a trial, as the reservation does."""
    settings.ROUTING_TRIAL_SECONDS = 60
    TeamPolicy.objects.update_or_create(pk=1, defaults={"routing": "fastest"})
    for _ in range(5):
        tally.add(providers["KIE.ai"].pk, "pro", tally.Outcome("succeeded", seconds=20, images=1))
    apixo = providers["Apixo"]
    apixo.prices = {"pro": {"1K": "0.01", "2K": "0.01"}}
    apixo.save()
    long_ago = timezone.now() - timedelta(seconds=90)
    for n, state in enumerate([Job.State.FAILED] * 8 + [Job.State.SUCCEEDED] * 2):
        Job.objects.create(
            owner=owner,
            idempotency_key=f"failing-{n}",
            model="pro",
            prompt="failing at Apixo",
            provider=apixo,
            state=state,
            submitted_at=long_ago - timedelta(seconds=n + 10),
            finished_at=long_ago - timedelta(seconds=n),
        )
    kie_price = providers["KIE.ai"].price_for("pro", "1K")

    html = signed_in.get("/").content.decode()

    assert "Auto → KIE.ai: fastest over the last day, 20 s median" in html
    assert "trial" not in html
    assert f'data-each="{kie_price}' in html
