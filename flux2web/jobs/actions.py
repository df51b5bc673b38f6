"""What a person does to their own jobs: cancel, delete, favourite, keep one compared."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from flux2web.accounts.models import gallery_changed
from flux2web.jobs import states
from flux2web.jobs.models import Comparison, Image, Job
from flux2web.jobs.transitions import add_note, transition

State = Job.State


# ---- Cancelling. -----------------------------------------------------------------------

UPSTREAM_CANCEL_NOTE = (
    "No provider offers a way to cancel a task once accepted: it may still finish and be "
    "charged, but it is no longer followed."
)


def cancel_job(*, job_id: int) -> tuple[bool, str]:
    """(cancelled or going to be?, what to tell the person)."""
    # A worker may move the job between two of these steps: then look again.
    for _ in range(3):
        if transition(
            job_id,
            from_states=[State.QUEUED],
            to=State.CANCELLED,
            message="cancelled before sending",
        ):
            return True, "Cancelled before anything was sent to a provider."
        if transition(
            job_id,
            from_states=[State.RUNNING],
            to=State.CANCELLED,
            message="cancelled while running",
        ):
            return True, f"Cancelled. {UPSTREAM_CANCEL_NOTE}"
        # A worker holds it and is sending the create: it cannot be called back, so the
        # worker is asked to stop, and it does so at the first moment it safely can.
        now = timezone.now()
        if Job.objects.filter(pk=job_id, state=State.SUBMITTING).update(
            cancel_requested_at=now, updated_at=now
        ):
            add_note(job_id, "cancel asked for while sending")
            honour_cancel_request(job_id=job_id)  # the worker may have let go of it just now
            return True, (
                "Cancelling: it is being sent right now. If the provider has not taken it yet "
                f"it will not be sent; if it has, it is no longer followed. {UPSTREAM_CANCEL_NOTE}"
            )
        state = Job.objects.filter(pk=job_id).values_list("state", flat=True).first()
        if state not in states.CANCELLABLE:
            return False, f"A {state} job cannot be cancelled."
    return False, "It is changing state right now; try again in a moment."


def honour_cancel_request(*, job_id: int) -> bool:
    """Cancel a job whose owner asked while it was being sent, once the worker let go of
    it (back in the queue, or accepted by the provider)."""
    asked = Q(cancel_requested_at__isnull=False)
    for from_state, what in (
        (State.QUEUED, "nothing was sent"),
        (State.RUNNING, "the provider had taken it"),
    ):
        message = f"cancelled as asked while sending; {what}"
        if transition(
            job_id, from_states=[from_state], to=State.CANCELLED, where=asked, message=message
        ):
            return True
    return False


# ---- Deleting. -------------------------------------------------------------------------


def delete_job(*, job_id: int) -> bool:
    """Hide a finished job and delete its images. The row stays: it records what was spent."""
    now = timezone.now()
    with transaction.atomic():
        hidden = Job.objects.filter(pk=job_id, state__in=states.DELETABLE, deleted_at__isnull=True)
        if not hidden.update(deleted_at=now, favourite=False, updated_at=now):
            return False
        add_note(job_id, "deleted by its owner")
        images = list(Image.objects.filter(job_id=job_id))
        Image.objects.filter(job_id=job_id).delete()
        for owner_id in {i.owner_id for i in images}:
            gallery_changed(owner_id)
        # Once committed: a caller's transaction (keep-only's) that rolls back keeps them.
        transaction.on_commit(lambda: delete_files(images))
    return True


def delete_images(*, owner, image_ids) -> int:
    """Delete some of a person's images (the gallery's "delete selected")."""
    with transaction.atomic():
        images = list(Image.objects.owned_by(owner).filter(pk__in=list(image_ids)))
        Image.objects.filter(pk__in=[i.pk for i in images]).delete()
        gallery_changed(owner.pk)
    delete_files(images)
    return len(images)


# ---- A comparison's choice. ----------------------------------------------------------


class KeepRefused(Exception):
    """Why one image of a comparison cannot be kept (or kept alone) now, in the person's words."""


def _keepable(comparison_id: int, job_id: int) -> Job:
    """The job to keep, read with its comparison's row locked: presses on one comparison
    (two tabs, a phone and a desktop) take their turn, and each sees what the last did."""
    Comparison.objects.select_for_update().filter(pk=comparison_id).exists()
    job = Job.objects.filter(pk=job_id, comparison_id=comparison_id).first()
    if job is None or job.deleted_at is not None:
        raise KeepRefused("That image was deleted meanwhile (from another tab?); nothing changed.")
    if job.state != State.SUCCEEDED:
        raise KeepRefused(f"Only a finished image can be kept; this job is {job.state_words}.")
    return job


def keep_compared(*, comparison_id: int, job_id: int) -> None:
    """Mark one succeeded job of a comparison as the one kept; the others stay."""
    with transaction.atomic():
        _keepable(comparison_id, job_id)
        Comparison.objects.filter(pk=comparison_id).update(kept_id=job_id)


# A provider that took a job charges for it whatever we do: no provider can be told to stop.
AT_THE_PROVIDER = (State.SUBMITTING, State.RUNNING, State.MIRRORING, State.UNCERTAIN)


def keep_only_compared(*, comparison_id: int, job_id: int) -> tuple[int, int]:
    """Keep one job of a comparison and delete the others: (deleted, still in flight).
    Refused while another is at its provider (it will be charged, so its image is not
    thrown away unseen); one not yet sent is cancelled (nothing spent) and deleted."""
    with transaction.atomic():
        _keepable(comparison_id, job_id)
        others = list(
            Job.objects.visible()
            .filter(comparison_id=comparison_id)
            .exclude(pk=job_id)
            .select_related("requested_provider")
        )
        busy = [o.requested_provider.name for o in others if o.state in AT_THE_PROVIDER]
        if busy:
            who = " and ".join(busy)
            raise KeepRefused(
                f"{who} {'is' if len(busy) == 1 else 'are'} still generating and will be "
                "charged; keep-only once it has finished, or Keep without deleting."
            )
        Comparison.objects.filter(pk=comparison_id).update(kept_id=job_id)
        deleted = left = 0
        for other in others:
            if other.state == State.QUEUED:
                cancel_job(job_id=other.pk)
            if delete_job(job_id=other.pk):
                deleted += 1
            elif Job.objects.filter(pk=other.pk, deleted_at__isnull=True).exists():
                left += 1
    return deleted, left


def set_favourite(*, job_id: int, favourite: bool) -> None:
    with transaction.atomic():
        job = Job.objects.filter(pk=job_id).only("owner_id").first()
        if job and Job.objects.filter(pk=job_id).update(favourite=favourite):
            gallery_changed(job.owner_id)


def delete_files(images) -> None:
    # After the rows are gone: a file left by a crash here is unreachable, never a row
    # pointing at nothing.
    for image in images:
        # The web-size and metadata-free copies share links made go with it.
        for name in (image.original.name, image.thumbnail.name, *image.derived_names()):
            if name:
                image.original.storage.delete(name)
