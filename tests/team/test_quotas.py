"""Quotas: a team default, a person's own limits, refusals that say what it would cost,
what is left and when it resets; and 50 simultaneous submissions at the boundary."""

import threading
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection

from flux2web.billing import ledger
from flux2web.billing.models import LedgerEntry, Quota
from flux2web.jobs import services
from flux2web.jobs.models import Job
from flux2web.providers.types import GenerationRequest, Model
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db


def submit(user, key, *, count=1, provider=None):
    spec = services.JobSpec(
        GenerationRequest(model=Model.PRO, prompt="a quota test", aspect_ratio="1:1"),
        provider=provider, count=count,
    )  # fmt: skip
    return services.create_jobs(owner=user, spec=spec, idempotency_key=key)


def test_without_any_quota_there_is_no_limit(owner, providers):
    submit(owner, "a", count=4)
    assert Job.objects.count() == 4


def test_the_money_limit_refuses_before_anything_is_queued(owner, providers):
    Quota.objects.create(monthly_usd=Decimal("0.12"))  # the team default
    submit(owner, "a", count=2)  # $0.10
    with pytest.raises(services.JobRefused) as refused:
        submit(owner, "b", count=1)
    message = str(refused.value.problems[0].message)
    assert "this would cost $0.05 and you have $0.02 left of $0.12" in message
    assert "(it resets on 1 " in message
    assert Job.objects.count() == 2 and LedgerEntry.objects.count() == 2


def test_fractions_of_a_cent_count_against_the_limit(owner, providers):
    # $0.035 an image (prices run to 4 places): 3 images are $0.105, which reads as
    # $0.10 rounded; 2 more would make $0.175 against a limit of $0.17.
    kie = providers["KIE.ai"]
    kie.prices = {"pro": {"1K": "0.035"}}
    kie.save()
    Quota.objects.create(user=owner, monthly_usd=Decimal("0.17"))
    spec = services.JobSpec(
        GenerationRequest(model=Model.PRO, prompt="half a cent", aspect_ratio="1:1",
                          resolution="1K"),
        provider=kie, count=3,
    )  # fmt: skip
    services.create_jobs(owner=owner, spec=spec, idempotency_key="a")
    with pytest.raises(services.JobRefused) as refused:
        services.create_jobs(owner=owner, spec=replace(spec, count=2), idempotency_key="b")
    assert "cost $0.07 and you have $0.06 left of $0.17" in str(refused.value.problems[0].message)
    assert ledger.usage(owner).spent == Decimal("0.105")
    services.create_jobs(owner=owner, spec=replace(spec, count=1), idempotency_key="c")
    assert ledger.usage(owner).spent == Decimal("0.14") <= Decimal("0.17")


def test_refunds_give_the_room_back(owner, providers):
    Quota.objects.create(monthly_usd=Decimal("0.05"))
    (job,) = submit(owner, "a")
    services.cancel_job(job_id=job.pk)
    submit(owner, "b")  # allowed again
    assert Job.objects.count() == 2


def test_the_image_limit_and_the_in_flight_limit(owner, providers):
    Quota.objects.create(monthly_images=3, max_in_flight=2)
    submit(owner, "a", count=2)
    with pytest.raises(services.JobRefused, match="2 jobs in flight at once and have 2"):
        submit(owner, "b")
    Job.objects.update(state=Job.State.SUCCEEDED)
    with pytest.raises(services.JobRefused, match="make 2 images and you have 1 of 3 left"):
        submit(owner, "c", count=2)
    submit(owner, "d")


def test_a_persons_own_limits_replace_the_team_default(owner, teammate, providers):
    Quota.objects.create(monthly_usd=Decimal("0.05"))
    Quota.objects.create(user=teammate, monthly_usd=None)  # no limit for the teammate
    submit(teammate, "t", count=4)
    submit(owner, "o")
    with pytest.raises(services.JobRefused):
        submit(owner, "o2")
    assert ledger.quota_for(teammate).monthly_usd is None


def test_the_studio_shows_what_is_left_and_refuses_beside_the_count(client, owner, providers):
    Quota.objects.create(monthly_usd=Decimal("0.10"))
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "This month: $0.00 of $0.10 ($0.10 left)" in html and "resets 1 " in html
    data = {"prompt": "a fox", "model": "pro", "count": "3", "aspect_ratio": "1:1",
            "idempotency_key": "k"}  # fmt: skip
    html = client.post("/generate", data).content.decode()
    assert "this would cost $0.15 and you have $0.10 left of $0.10" in html
    assert 'class="field-error"' in html.split('name="count"')[1][:800]
    assert Job.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_submissions_at_the_boundary_never_overspend(owner, providers):
    # $1.00 at $0.05 an image: room for exactly 20 of the 50.
    Quota.objects.create(monthly_usd=Decimal("1.00"))
    start = threading.Barrier(50)
    outcomes = []

    def one(n):
        try:
            start.wait()
            submit(owner, f"race-{n}")
            outcomes.append("queued")
        except services.JobRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("queued") == 20 and outcomes.count("refused") == 30
    assert Job.objects.count() == 20
    assert ledger.usage(owner).spent == Decimal("1.00")


def test_make_jobs_helper_still_works_with_a_default(owner, providers):
    Quota.objects.create(monthly_images=100)
    assert make_jobs(owner)
