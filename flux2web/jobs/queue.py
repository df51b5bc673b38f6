"""Putting job tasks in the broker by their dotted name, so no domain module imports tasks."""

from __future__ import annotations

from django_q.tasks import async_task

SUBMIT = "flux2web.jobs.tasks.submit"
MIRROR = "flux2web.jobs.tasks.mirror"
FOLLOW = "flux2web.jobs.tasks.follow"
MAINTENANCE = "flux2web.jobs.tasks.maintenance"


def enqueue(task: str, job_id: int) -> None:
    """Ask a worker to run `task` (one of the names above) for one job: ids only, never a
    model instance or a secret."""
    async_task(task, job_id=job_id)


def enqueue_maintenance() -> None:
    async_task(MAINTENANCE)
