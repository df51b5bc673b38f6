"""Copy result images into our storage before the provider's links expire."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageOps

from flux2web.accounts.models import gallery_changed
from flux2web.jobs import queue
from flux2web.jobs.models import Image, Job
from flux2web.jobs.signals import job_images_stored
from flux2web.jobs.transitions import add_note, transition
from flux2web.lib.addresses import address_policy
from flux2web.providers import catalog
from flux2web.providers.download import DownloadError, download_image
from flux2web.providers.types import TaskStatus

log = logging.getLogger(__name__)
State = Job.State

THUMBNAIL_SIZE = (512, 512)
# Result URLs whose expiry the provider does not state live about a day (providers.md).
DEFAULT_URL_LIFETIME = timedelta(hours=24)


def start(job: Job, status: TaskStatus, now, *, enqueue: bool = True) -> None:
    """The provider is done: the job moves to mirroring with a pending image per result
    (once, whoever learns it first), and a mirror task is queued after commit."""
    finished = status.finished_at or now
    with transaction.atomic():
        won = transition(
            job.pk,
            from_states=[State.RUNNING],
            to=State.MIRRORING,
            progress=100,
            provider_state=status.provider_state,
            provider_finished_at=finished,
            message=f"{len(status.results)} result(s) ready",
        )
        if not won:
            return
        Image.objects.bulk_create(
            [
                Image(
                    job=job,
                    owner_id=job.owner_id,
                    index=n,
                    provider_url=result.url,
                    team_visible=job.team_visible,
                    provider_url_expires_at=result.expires_at or finished + DEFAULT_URL_LIFETIME,
                )
                for n, result in enumerate(status.results)
            ],
            ignore_conflicts=True,
        )
        if enqueue:
            transaction.on_commit(lambda: queue.enqueue(queue.MIRROR, job.pk))


def mirror_job(*, job_id: int) -> str:
    """Mirror every pending image of a job this worker can claim, then settle the job."""
    if not Job.objects.filter(pk=job_id, state=State.MIRRORING).exists():
        return "not mirroring"
    for image_id in Image.objects.filter(job_id=job_id, status=Image.Status.PENDING).values_list(
        "pk", flat=True
    ):
        if claim(image_id):
            mirror_image(image_id)
    return finish(job_id)


def claim(image_id: int) -> bool:
    now = timezone.now()
    return bool(
        Image.objects.filter(pk=image_id)
        .claimable(now)
        .attempt_due(now)
        .update(claimed_until=now + timedelta(seconds=settings.MIRROR_CLAIM_SECONDS))
    )


def mirror_image(image_id: int) -> None:
    image = Image.objects.select_related("job").get(pk=image_id)
    now = timezone.now()
    try:
        got = download_image(
            image.provider_url,
            policy=address_policy(),
            max_bytes=settings.MAX_IMAGE_BYTES,
            max_pixels=settings.MAX_IMAGE_PIXELS,
        )
    except DownloadError as exc:
        return _failed(image, exc, now)
    extension = catalog.EXTENSIONS[got.content_type]
    original_name = default_storage.save(
        image.original.field.generate_filename(image, f"original.{extension}"),
        ContentFile(got.data),
    )
    thumb_name = default_storage.save(
        image.thumbnail.field.generate_filename(image, "thumb.jpg"),
        ContentFile(thumbnail(got.data)),
    )
    won = Image.objects.filter(pk=image.pk, status=Image.Status.PENDING).update(
        status=Image.Status.MIRRORED,
        original=original_name,
        thumbnail=thumb_name,
        width=got.width,
        height=got.height,
        bytes=len(got.data),
        sha256=got.sha256,
        content_type=got.content_type,
        mirrored_at=timezone.now(),
        claimed_until=None,
        last_error="",
    )
    if not won:
        # Another worker finished it first (our claim had lapsed): keep one copy only.
        default_storage.delete(original_name)
        default_storage.delete(thumb_name)
        return
    gallery_changed(image.owner_id)


def thumbnail(data: bytes) -> bytes:
    """A JPEG at most 512 px a side: WebP looked no better here and took 5x the CPU."""
    with PILImage.open(io.BytesIO(data)) as source:
        source.draft("RGB", THUMBNAIL_SIZE)  # JPEG sources decode at reduced size
        picture = source.convert("RGB")
    ImageOps.exif_transpose(picture, in_place=True)
    picture.thumbnail(THUMBNAIL_SIZE, reducing_gap=2.0)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _failed(image: Image, error: DownloadError, now) -> None:
    # Written only while the download is still this worker's: one whose claim ran out may
    # have been taken over (due_mirrors), and stored or failed by the other worker since.
    ours = Image.objects.filter(
        pk=image.pk, status=Image.Status.PENDING, claimed_until=image.claimed_until
    )
    expired = image.provider_url_expires_at is not None and now >= image.provider_url_expires_at
    if error.permanent or expired:
        reason = error.message if not expired else f"The link expired ({error.message})"
        if ours.update(status=Image.Status.LOST, last_error=reason, claimed_until=None):
            add_note(image.job_id, f"result {image.index + 1} lost: {reason}")
        return
    attempts = image.attempts + 1
    delay = min(300, 5 * 2**attempts)
    if not ours.update(
        attempts=attempts,
        last_error=error.message,
        claimed_until=None,
        next_attempt_at=now + timedelta(seconds=delay),
    ):
        return
    add_note(
        image.job_id,
        f"download of result {image.index + 1} failed ({error.message}); trying again in {delay}s",
    )


def finish(job_id: int) -> str:
    statuses = list(Image.objects.filter(job_id=job_id).values_list("status", "last_error"))
    if any(status == Image.Status.PENDING for status, _ in statuses):
        return "pending"
    kept = sum(status == Image.Status.MIRRORED for status, _ in statuses)
    lost = [error for status, error in statuses if status == Image.Status.LOST]
    now = timezone.now()
    if kept:
        message = f"{kept} image(s) stored" + (f"; {len(lost)} lost: {lost[0]}" if lost else "")
        if transition(
            job_id,
            from_states=[State.MIRRORING],
            to=State.SUCCEEDED,
            mirrored_at=now,
            message=message,
        ):
            _announce_stored(job_id)
        return "succeeded"
    transition(
        job_id,
        from_states=[State.MIRRORING],
        to=State.FAILED,
        error_class="result_lost",
        error_message="The provider made the image but it could not be stored: "
        + (lost[0] if lost else "no result URL"),
        message="results lost",
    )
    return "lost"


def _announce_stored(job_id: int) -> None:
    # The studio's "put new images into this collection": the collections app listens.
    for receiver, outcome in job_images_stored.send_robust(sender=Job, job_id=job_id):
        if isinstance(outcome, Exception):
            log.error("job %s: %s failed after storing: %r", job_id, receiver, outcome)


def due_mirrors(now) -> list[int]:
    """Jobs with a failed download whose retry time has come, or a download whose claim ran
    out (its worker died holding it); handed out once."""
    due = Image.objects.claimable(now).filter(
        Q(next_attempt_at__lte=now) | Q(claimed_until__lt=now), job__state=State.MIRRORING
    )
    ids = list(due.values_list("pk", flat=True)[:200])
    if not ids:
        return []
    # Cleared, not consumed: claim() accepts an image with no retry time and no claim. Only
    # while still due: a claim a worker took meanwhile stands.
    due.filter(pk__in=ids).update(next_attempt_at=None, claimed_until=None)
    return sorted(set(Image.objects.filter(pk__in=ids).values_list("job_id", flat=True)))
