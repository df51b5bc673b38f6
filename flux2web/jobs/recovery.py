"""Repair what a crash left behind. Runs when a worker starts and every minute after."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from flux2web.jobs import actions, mirroring, queue
from flux2web.jobs.dispatch import dispatch_submits
from flux2web.jobs.models import Image, Job
from flux2web.jobs.transitions import hold, transition
from flux2web.providers.types import ErrorClass

State = Job.State
# Work younger than this is probably still in someone's hands or in the queue.
SETTLE = timedelta(seconds=30)


def reconcile(*, now=None) -> Counter:
    now = now or timezone.now()
    fixed: Counter = Counter()
    lease = timedelta(seconds=settings.SUBMIT_LEASE_SECONDS)

    for job_id, provider in Job.objects.filter(
        state=State.SUBMITTING, claimed_at__lt=now - lease
    ).values_list("pk", "provider__name"):
        if provider is None:
            # The provider is recorded before the create is sent: none means nothing left.
            if transition(
                job_id,
                from_states=[State.SUBMITTING],
                to=State.QUEUED,
                dispatched_at=None,
                message="worker stopped before sending; queued again",
            ):
                fixed["requeued"] += 1
                # Cancel was pressed while it was being sent: nothing went out, so now it can.
                actions.honour_cancel_request(job_id=job_id)
        elif hold(
            job_id,
            from_state=State.SUBMITTING,
            error_class=ErrorClass.AMBIGUOUS,
            why=f"A worker stopped while sending this job to {provider}; it may or "
            "may not have been accepted and charged. It is not sent again automatically.",
            message="worker lost while submitting",
        ):
            fixed["uncertain"] += 1

    fixed["due_now"] += Job.objects.filter(state=State.RUNNING, next_poll_at__isnull=True).update(
        next_poll_at=now
    )

    for image in Image.objects.filter(job__state=State.MIRRORING, status=Image.Status.MIRRORED):
        names = [image.original.name, image.thumbnail.name]
        if not all(name and default_storage.exists(name) for name in names):
            Image.objects.filter(pk=image.pk, status=Image.Status.MIRRORED).update(
                status=Image.Status.PENDING, original="", thumbnail="", claimed_until=None
            )
            fixed["missing_files"] += 1

    stuck = Job.objects.filter(state=State.MIRRORING, updated_at__lt=now - SETTLE)
    for job_id in stuck.values_list("pk", flat=True):
        if Image.objects.filter(job_id=job_id).claimable(now).exists():
            queue.enqueue(queue.MIRROR, job_id)
            fixed["mirror_again"] += 1
        elif not Image.objects.filter(job_id=job_id, status=Image.Status.PENDING).exists():
            mirroring.finish(job_id)
            fixed["finished"] += 1

    # Queued jobs survive restarts in the database; their submit task may not have. Past
    # the dispatch timeout, dispatch_submits sends them again (claims keep it once).
    fixed["dispatched"] += dispatch_submits(now=now)
    return fixed
