"""What a job's moves do to its owner's money: the jobs app tells billing, in its own
transaction, and hands over what only it knows (the job's price, what was made, where)."""

from __future__ import annotations

import logging

from django.db import transaction

from flux2web.billing import ledger
from flux2web.billing.models import LedgerEntry
from flux2web.jobs.models import Image, Job
from flux2web.jobs.states import State

log = logging.getLogger(__name__)
Kind = LedgerEntry.Kind


def follow(job_id: int, to: str) -> None:
    """Keep the ledger in step with a job's state; `transition()` calls it in the move's
    transaction, after the move won."""
    if to == State.SUCCEEDED:
        settle(job_id)
    elif to in (State.FAILED, State.CANCELLED, State.TIMED_OUT):
        refund(job_id)
    elif to == State.UNCERTAIN:
        ledger.hold(job_id)


def settle(job_id: int, *, note: str = "") -> bool:
    """Charge what was made, at the job's price per image. False if nothing to do."""
    job = Job.objects.only("price", "provider_id").get(pk=job_id)
    # The provider charged for every image it made, kept or not.
    made = max(1, Image.objects.filter(job_id=job_id).count())
    return ledger.settle(job_id, price=job.price, made=made, provider_id=job.provider_id, note=note)


def refund(job_id: int, *, note: str = "") -> bool:
    job = Job.objects.only("provider_id").get(pk=job_id)
    return ledger.refund(job_id, provider_id=job.provider_id, note=note)


def unresolved_uncertain():
    """Uncertain jobs an admin has not yet marked charged or refunded."""
    return (
        Job.objects.filter(state=State.UNCERTAIN)
        .exclude(ledger__kind__in=[Kind.SETTLE, Kind.REFUND])
        .select_related("owner", "provider")
        .order_by("created_at")
    )


def resolve_uncertain(*, job_id: int, charged: bool, by) -> bool:
    """An admin's decision on an uncertain job, after checking with the provider."""
    with transaction.atomic():
        # Locked, as transitions.adopt locks it: a task found meanwhile and this decision
        # take their turn, and the second sees what the first did.
        if not Job.objects.select_for_update().filter(pk=job_id, state=State.UNCERTAIN).exists():
            return False
        who = f"by {by.get_username()}"
        done = (
            settle(job_id, note=f"marked charged {who}")
            if charged
            else refund(job_id, note=f"marked refunded {who}")
        )
    if done:
        log.info("uncertain job %s marked %s %s", job_id, "charged" if charged else "refunded", who)
    return done


def usage(user, *, period=None, in_flight: int | None = None) -> ledger.Usage:
    """The person's month as billing keeps it, with their jobs in flight counted here
    unless the caller counted them already."""
    if in_flight is None:
        in_flight = Job.objects.for_user(user).in_flight().count()
    return ledger.usage(user, period=period, in_flight=in_flight)
