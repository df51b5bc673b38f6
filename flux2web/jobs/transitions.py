"""Moving a job between states: one conditional update, its event, and the ledger's entry."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from flux2web.billing import ledger
from flux2web.jobs import changes, charges, states, tallies
from flux2web.jobs.models import Job, JobEvent
from flux2web.jobs.states import IllegalTransition
from flux2web.providers.redact import scrub
from flux2web.providers.transport import CallRecord

log = logging.getLogger(__name__)


def check_allowed(from_states: Iterable[str], to: str) -> None:
    """Refuse a move the table does not allow: loudly where JOB_TRANSITIONS_STRICT is on
    (the tests), else logged, so a slip in production never strands a job."""
    for from_state in from_states:
        if not states.allowed(from_state, to):
            if getattr(settings, "JOB_TRANSITIONS_STRICT", False):
                raise IllegalTransition(f"{from_state} -> {to} is not in jobs/states.py")
            log.error("job transition %s -> %s is not in jobs/states.py", from_state, to)


def transition(
    job_id: int,
    *,
    from_states: Iterable[str],
    to: str,
    message: str = "",
    where: Q | None = None,
    **fields,
) -> bool:
    """Move a job on only if it is still in one of `from_states` (and matches `where`);
    True if this call won."""
    from_states = list(from_states)
    check_allowed(from_states, to)
    now = timezone.now()
    # Messages carry providers' words; the client scrubbed its key out, this is the net.
    message = scrub(message)
    if "error_message" in fields:
        fields["error_message"] = scrub(fields["error_message"])
    if to in states.FINAL:
        fields.setdefault("finished_at", now)
    if to in states.STOPS_POLLING:
        fields.setdefault("next_poll_at", None)
    with transaction.atomic():
        for from_state in from_states:
            rows = Job.objects.filter(pk=job_id, state=from_state)
            if where is not None:
                rows = rows.filter(where)
            if rows.update(state=to, updated_at=now, **fields):
                JobEvent.objects.create(
                    job_id=job_id,
                    kind=JobEvent.Kind.STATE,
                    from_state=from_state,
                    to_state=to,
                    message=message,
                )
                charges.follow(job_id, to)  # settle, refund or hold, in this transaction
                tallies.follow(job_id, from_state, to)  # the provider's record, likewise
                changes.announce([job_id])  # pages showing it learn on commit
                log.info("job %s: %s -> %s %s", job_id, from_state, to, message)
                return True
    return False


def hold(job_id: int, *, from_state: str, error_class: str, why: str, message: str) -> bool:
    """Move a job that may have been charged to `uncertain`: it is never sent again, and
    its money stays reserved until a callback names its task or an admin decides."""
    return transition(
        job_id,
        from_states=[from_state],
        to=states.State.UNCERTAIN,
        error_class=error_class,
        error_message=why,
        message=message,
    )


def adopt(job_id: int, *, task_id: str, provider_id: int, message: str, **fields) -> str:
    """Follow a task the vendor turns out to have made for this job while it was being sent
    or held as uncertain (its id not known, or this one): "adopted"; "followed" where the
    job follows that task already (its create's answer or callback came first); "decided"
    where an admin has settled a held job's money meanwhile; else the job's state, as it
    moved on. The row is locked for the check and the move, as an admin's decision locks
    it."""
    waiting = [states.State.SUBMITTING, states.State.UNCERTAIN]
    adoptable = Q(provider_id=provider_id) & (Q(provider_task_id="") | Q(provider_task_id=task_id))
    with transaction.atomic():
        found = Job.objects.select_for_update().filter(pk=job_id)
        row = found.values("state", "provider_task_id").first()
        if row is None:
            return "gone"
        if row["state"] in waiting and ledger.resolved(job_id):
            return "decided"
        if transition(
            job_id, from_states=waiting, to=states.State.RUNNING, where=adoptable,
            provider_task_id=task_id, message=message, **fields,
        ):  # fmt: skip
            return "adopted"
    return "followed" if row["provider_task_id"] == task_id else row["state"]


def fail_job(
    job_id: int,
    error_class: str,
    message: str,
    *,
    from_states=(states.State.SUBMITTING,),
    event: str | None = None,
) -> bool:
    """Fail the job with `message` for the person; the event log gets `event` (e.g. the
    provider's own words) if given, else the same message."""
    return transition(
        job_id,
        from_states=from_states,
        to=states.State.FAILED,
        error_class=error_class,
        error_message=message,
        message=message if event is None else event,
    )


def add_note(job_id: int, message: str, *, provider: str = "") -> None:
    """An event that moves nothing: what happened, in words (scrubbed of keys)."""
    JobEvent.objects.create(
        job_id=job_id, kind=JobEvent.Kind.NOTE, message=scrub(message), provider=provider
    )


def call_events(job_id: int, provider: str, calls: Iterable[CallRecord]) -> list[JobEvent]:
    return [
        JobEvent(
            job_id=job_id,
            kind=JobEvent.Kind.CALL,
            provider=provider,
            method=c.method,
            path=c.path[:300],
            http_status=c.status,
            duration_ms=c.duration_ms,
            message=c.outcome,
        )
        for c in calls
    ]
