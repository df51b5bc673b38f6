"""The ledger: one reserve per job when it is created, then exactly one of settle, refund
or hold as it ends; balances are sums of entries."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from flux2web.billing import ledger
from flux2web.billing.models import LedgerEntry
from flux2web.jobs import charges, services
from flux2web.jobs.models import Image, Job
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
S = Job.State


def kinds(job):
    return sorted(LedgerEntry.objects.filter(job=job).values_list("kind", "amount", "delta"))


def end(job, to, **fields):
    assert services.transition(job.pk, from_states=[job.state], to=to, **fields)
    job.refresh_from_db()
    return job


def test_creating_a_job_reserves_its_price_in_the_same_transaction(owner, providers):
    (job,) = make_jobs(owner, provider=providers["Apixo"], resolution="2K", aspect_ratio="1:1")
    assert kinds(job) == [("reserve", Decimal("0.0800"), Decimal("0.0800"))]
    assert ledger.usage(owner).spent == Decimal("0.08")
    assert ledger.usage(owner).images == 1


def test_success_settles_at_the_price_of_what_was_made(owner, providers):
    (job,) = make_jobs(owner, provider=providers["Apixo"], aspect_ratio="1:1")
    for n in range(2):  # the provider made two images for this one task
        Image.objects.create(job=job, owner=owner, index=n, provider_url=f"http://x/{n}")
    end(job, S.SUCCEEDED, provider=providers["Apixo"])
    settle = LedgerEntry.objects.get(job=job, kind="settle")
    assert settle.amount == Decimal("0.10") and settle.provider == providers["Apixo"]
    assert ledger.usage(owner).spent == Decimal("0.10")
    assert ledger.usage(owner).images == 2


@pytest.mark.parametrize("state", [S.FAILED, S.CANCELLED, S.TIMED_OUT])
def test_failure_cancel_and_timeout_refund(owner, providers, state):
    (job,) = make_jobs(owner, aspect_ratio="1:1")
    end(job, state)
    assert [k for k, *_ in kinds(job)] == ["refund", "reserve"]
    assert ledger.usage(owner).spent == 0 and ledger.usage(owner).images == 0


def test_uncertain_holds_until_an_admin_decides(owner, providers, staff):
    jobs = [make_jobs(owner, prompt=f"maybe {n}", aspect_ratio="1:1")[0] for n in range(2)]
    for job in jobs:
        end(job, S.UNCERTAIN)
    assert ledger.usage(owner).spent == Decimal("0.10")  # still reserved
    assert set(charges.unresolved_uncertain()) == set(jobs)

    assert charges.resolve_uncertain(job_id=jobs[0].pk, charged=True, by=staff)
    assert charges.resolve_uncertain(job_id=jobs[1].pk, charged=False, by=staff)
    assert not charges.resolve_uncertain(job_id=jobs[1].pk, charged=True, by=staff)
    assert list(charges.unresolved_uncertain()) == []
    assert ledger.usage(owner).spent == Decimal("0.05")
    note = LedgerEntry.objects.get(job=jobs[0], kind="settle").note
    assert note == "marked charged by stella"


def test_settle_and_refund_are_idempotent(owner, providers):
    (job,) = make_jobs(owner, aspect_ratio="1:1")
    end(job, S.SUCCEEDED)
    assert not charges.settle(job.pk)
    assert not charges.refund(job.pk)  # never both
    assert ledger.usage(owner).spent == Decimal("0.05")
    assert LedgerEntry.objects.filter(job=job).count() == 2


def test_entries_are_append_only(owner, providers):
    (job,) = make_jobs(owner, aspect_ratio="1:1")
    entry = LedgerEntry.objects.get(job=job)
    entry.amount = 0
    with pytest.raises(ValueError, match="append-only"):
        entry.save()


@pytest.mark.django_db(transaction=True)
def test_racing_settles_and_refunds_write_one_entry(owner, providers):
    jobs = [make_jobs(owner, prompt=f"race {n}", aspect_ratio="1:1")[0] for n in range(2)]
    start = threading.Barrier(16)

    def settle_or_refund(job_id, fn):
        try:
            start.wait()
            fn(job_id)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=settle_or_refund, args=(jobs[n % 2].pk, fn))
        for n, fn in enumerate([charges.settle] * 8 + [charges.refund] * 8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for job in jobs:
        endings = LedgerEntry.objects.filter(job=job).exclude(kind="reserve").count()
        assert endings == 1, kinds(job)
