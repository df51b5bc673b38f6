"""The jobs app's services under one name for its many callers (views, forms, the CLI, tests).

Each concern has its module: routing (providers and prices), job_requests (jobs from a
request), dispatch (pacing the broker), submitting (sending to a provider), actions
(cancel, delete, favourite), charges (what a job's moves do to its owner's money, and a
person's month with their jobs in flight). Code inside jobs imports those directly.
"""

from flux2web.jobs.actions import (
    UPSTREAM_CANCEL_NOTE,
    KeepRefused,
    cancel_job,
    delete_files,
    delete_images,
    delete_job,
    keep_compared,
    keep_only_compared,
    set_favourite,
)
from flux2web.jobs.charges import resolve_uncertain, unresolved_uncertain, usage
from flux2web.jobs.dispatch import broker_backlog, dispatch_submits, wait_for_slot
from flux2web.jobs.job_requests import (
    create_batch,
    create_comparison,
    create_jobs,
    create_or_get_jobs,
    existing_jobs,
)
from flux2web.jobs.routing import (
    Attachments,
    JobRefused,
    JobSpec,
    OverQuota,
    candidates,
    check_spec,
    chosen_provider,
    fetch_references,
    price_for,
    provider_health,
    reference_problems,
    reference_rule,
    route,
)
from flux2web.jobs.submitting import (
    SUBMIT_ROUNDS,
    SWITCHED_OFF,
    callback_url,
    poll_delay,
    submit_job,
)
from flux2web.jobs.transitions import add_note, call_events, fail_job, transition

__all__ = [
    "SUBMIT_ROUNDS",
    "SWITCHED_OFF",
    "UPSTREAM_CANCEL_NOTE",
    "Attachments",
    "JobRefused",
    "JobSpec",
    "KeepRefused",
    "OverQuota",
    "add_note",
    "broker_backlog",
    "call_events",
    "callback_url",
    "cancel_job",
    "candidates",
    "check_spec",
    "chosen_provider",
    "create_batch",
    "create_comparison",
    "create_jobs",
    "create_or_get_jobs",
    "delete_files",
    "delete_images",
    "delete_job",
    "dispatch_submits",
    "existing_jobs",
    "fail_job",
    "fetch_references",
    "keep_compared",
    "keep_only_compared",
    "poll_delay",
    "price_for",
    "provider_health",
    "reference_problems",
    "reference_rule",
    "resolve_uncertain",
    "route",
    "set_favourite",
    "submit_job",
    "transition",
    "unresolved_uncertain",
    "usage",
    "wait_for_slot",
]
