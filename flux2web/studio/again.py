"""Retry and Rerun: a job's request queued again as a new job (this one stays as it is)."""

from __future__ import annotations

import dataclasses

from flux2web.jobs import services
from flux2web.jobs.models import Job
from flux2web.studio import references


def job_again(job: Job, *, user, key: str, same_seed: bool, base: str) -> tuple[list[Job], bool]:
    """(the new jobs, whether this call made them) for `job` asked again by `user`; once
    per `key`, the page's one-time action key. The seed is kept for Rerun, and for a job
    whose seed was chosen rather than drawn. Raises JobRefused naming what stops it."""
    request = job.generation_request()
    # Only the owner's own uploads are re-signed; every other link is judged again.
    refs = references.take_references(job.reference_urls, owner=job.owner, base=base)
    if refs.problems:
        raise services.JobRefused(refs.problems)
    keep_seed = same_seed or not job.seed_random
    spec = services.JobSpec(
        request=dataclasses.replace(
            request, reference_urls=refs.urls, seed=request.seed if keep_seed else None
        ),
        provider=job.requested_provider,
        count=1,
        random_seed=not keep_seed,
        trusted_references=refs.ours,
    )
    return services.create_or_get_jobs(
        owner=user, spec=spec, idempotency_key=f"again-{job.pk}-{key}"
    )
