"""django-q2 tasks: keyword ids in, a domain function called, a word logged. All idempotent."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule, Success

from flux2web.core.tasks import heartbeat
from flux2web.jobs import dispatch, following, mirroring, queue, recovery, submitting, tallies
from flux2web.jobs.poller import ensure_poller

log = logging.getLogger(__name__)


def submit(*, job_id: int) -> str:
    dispatch.wait_for_slot(job_id)
    outcome = submitting.submit_job(job_id=job_id)
    log.info("submit job %s: %s", job_id, outcome)
    dispatch.dispatch_submits()  # one left the window: let the next one in
    return outcome


def mirror(*, job_id: int) -> str:
    outcome = mirroring.mirror_job(job_id=job_id)
    log.info("mirror job %s: %s", job_id, outcome)
    return outcome


def follow(*, job_id: int) -> str:
    outcome = following.follow_job(job_id=job_id)
    log.info("follow job %s: %s", job_id, outcome)
    return outcome


def maintenance() -> str:
    """Every minute (and when a worker starts): repair crash leftovers, restart the poller."""
    # A worker that just started is alive now, not at the heartbeat's next minute.
    heartbeat()
    ensure_schedules()
    fixed = recovery.reconcile()
    # Our jobs keep their own history; django-q2's task results are only for debugging.
    Success.objects.filter(stopped__lt=timezone.now() - timedelta(days=1)).delete()
    restarted = ensure_poller()
    tallies.forget_old_refusals()
    log.info("maintenance: %s%s", dict(fixed), "; poller thread restarted" if restarted else "")
    return f"{dict(fixed)}; poller {'restarted' if restarted else 'running'}"


SCHEDULES = {
    # name: (function, every N minutes)
    "jobs maintenance": (queue.MAINTENANCE, 1),
    "worker heartbeat": ("flux2web.core.tasks.heartbeat", 1),
    # Named, not imported: review stands above jobs (review/migrations/0002 creates it).
    "e-mail digests": ("flux2web.review.tasks.send_digests", 5),
}


def ensure_schedules():
    """The migrations create these; make sure nobody deleted them since. Names are not
    unique in django-q2, so two clusters starting together may both add one: keep one."""
    for name, (func, minutes) in SCHEDULES.items():
        ids = list(Schedule.objects.filter(name=name).order_by("id").values_list("id", flat=True))
        if not ids:
            Schedule.objects.create(
                name=name, func=func, schedule_type=Schedule.MINUTES, minutes=minutes, repeats=-1
            )
        elif len(ids) > 1:
            Schedule.objects.filter(id__in=ids[1:]).delete()


def on_worker_start(sender, proc_name=None, **kwargs):
    # An exception here would kill the worker, and django-q2 would start it again, and
    # again: log it instead. Maintenance (every minute) retries what failed.
    try:
        ensure_poller()
        queue.enqueue_maintenance()
    except Exception:
        log.exception("worker start hook failed")
