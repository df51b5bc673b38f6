"""Following running jobs: one batched poller for all of them, and callbacks as hints.

A poll pass claims the due jobs (FOR NO KEY UPDATE SKIP LOCKED on PostgreSQL; SQLite serializes
writers anyway), pushes their next poll out by a lease so no other poller takes them,
asks the providers concurrently, then writes the answers one job at a time.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from flux2web.credentials.health import record_error, record_success
from flux2web.credentials.models import ProviderCredential
from flux2web.jobs import changes, mirroring, tallies
from flux2web.jobs.models import Job, JobEvent
from flux2web.jobs.submitting import poll_delay
from flux2web.jobs.transitions import add_note, call_events, fail_job, hold, transition
from flux2web.providers import catalog
from flux2web.providers.transport import CallRecord
from flux2web.providers.types import (
    ErrorClass,
    InsufficientCredits,
    NotFound,
    ProviderError,
    RateLimited,
    TaskState,
    TaskStatus,
    TaskUnknown,
    Unreadable,
)

log = logging.getLogger(__name__)
State = Job.State

POLL_BATCH = 400
# Long enough for one pass; short, so a poller that died mid-pass delays little.
POLL_LEASE = timedelta(seconds=20)
POLL_THREADS = 16
FOLLOW_FIELDS = (
    "id",
    "state",
    "model",
    "owner_id",
    "provider_id",
    "provider_task_id",
    "callback_sent",
    "callback_secret",
    "submitted_at",
    "created_at",
    "unreadable_answers",
    "unknown_answers",
)
# Answers in a row that cannot be read before the job fails with that reason: one may be
# a provider's bad moment, three are a task we will never learn the outcome of.
UNREADABLE_LIMIT = 3
# A task the provider does not know yet may just be new; after this long it is gone.
NOT_FOUND_GRACE = timedelta(seconds=60)
# A task the provider says it has no record of is asked about once more, this soon, before
# the job ends: one answer may be a replica behind, two in a row are not.
UNKNOWN_CONFIRM_AFTER = timedelta(seconds=3)


@dataclass
class Outcome:
    job: Job
    status: TaskStatus | None = None
    error: ProviderError | None = None


def claim_due(now, *, limit: int = POLL_BATCH, job_ids=None, due_only=True) -> list[tuple]:
    """Take the running jobs due for a poll (or the given ones) away from other pollers:
    (job id, when its poll was due) for each."""
    with transaction.atomic():
        due = Job.objects.filter(state=State.RUNNING)
        if job_ids is not None:
            due = due.filter(pk__in=job_ids)
        if due_only:
            due = due.filter(next_poll_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            # NO KEY UPDATE, as the claim changes no key: a plain FOR UPDATE also skips a
            # row share-locked by the check of a foreign key to it (a note about the job
            # committing), and a callback's follow would then ask nothing, silently.
            no_key = connection.features.has_select_for_no_key_update
            due = due.select_for_update(skip_locked=True, no_key=no_key)
        rows = list(due.order_by("next_poll_at").values_list("pk", "next_poll_at")[:limit])
        if rows:
            Job.objects.filter(pk__in=[pk for pk, _ in rows]).update(next_poll_at=now + POLL_LEASE)
    return rows


def poll_due(*, now=None, job_ids=None, due_only=True, mirror_here=False) -> int:
    """One poller pass: returns how many jobs were asked about. With `mirror_here` the
    caller mirrors finished jobs itself instead of enqueueing mirror tasks."""
    now = now or timezone.now()
    ids = [pk for pk, _ in claim_due(now, job_ids=job_ids, due_only=due_only)]
    if not ids:
        return 0
    # Only what following reads, and each credential once rather than joined to every row:
    # building 400 full rows a pass was a fifth of a busy poller's time.
    jobs = list(Job.objects.filter(pk__in=ids).only(*FOLLOW_FIELDS))
    credentials = ProviderCredential.objects.in_bulk({job.provider_id for job in jobs})
    for job in jobs:
        job.provider = credentials[job.provider_id]
    by_credential = defaultdict(list)
    for job in jobs:
        by_credential[job.provider].append(job)
    outcomes, calls = _ask(by_credential)
    events = []
    for outcome in outcomes:
        name = outcome.job.provider.name
        events += call_events(outcome.job.pk, name, calls.get(outcome.job.pk, []))
    JobEvent.objects.bulk_create(events)
    now = timezone.now()
    still_running = defaultdict(list)
    for outcome in outcomes:
        # Each job on its own: one answer that breaks our code must not stall the others
        # claimed with it (they would be claimed together again, and again).
        try:
            key = _still_running(outcome, now)
            if key is not None:
                still_running[key].append(outcome.job.pk)
            else:
                apply_outcome(outcome, now, enqueue_mirror=not mirror_here)
        except Exception:
            log.exception("job %s: could not apply the provider's answer", outcome.job.pk)
    # Most answers in a pass are "still running": one conditional UPDATE per kind of
    # answer instead of one per job is what lets one poller keep up with thousands.
    for (progress, provider_state, delay), ids in still_running.items():
        Job.objects.filter(pk__in=ids, state=State.RUNNING).update(
            progress=progress,
            provider_state=provider_state,
            polls=F("polls") + 1,
            next_poll_at=now + timedelta(seconds=delay),
            updated_at=now,
            unreadable_answers=0,
            unknown_answers=0,
        )
        changes.announce(ids)  # progress on the cards
    _record_health(outcomes)
    return len(jobs)


def _still_running(outcome: Outcome, now) -> tuple | None:
    """(progress, provider state, seconds to the next poll) for a job that simply goes
    on; None when the answer needs `apply` (an end, an error, the give-up time)."""
    status, job = outcome.status, outcome.job
    if status is None or status.state.is_final:
        return None
    caps = catalog.capabilities(job.provider.dialect, job.model)
    elapsed = (now - (job.submitted_at or job.created_at)).total_seconds()
    if elapsed > caps.schedule.give_up_after:
        return None
    delay = round(poll_delay(caps.schedule, elapsed, job.callback_sent), 1)
    return status.progress, status.provider_state, delay


def _record_health(outcomes: list[Outcome]):
    """Once per credential per pass: every poll writing the same row would be a hot spot."""
    answered, failed = {}, {}
    for outcome in outcomes:
        # "No record of that task" is an answer about the task, given to a key that works.
        counts = outcome.error is not None and not isinstance(outcome.error, TaskUnknown)
        target = failed if counts else answered
        target[outcome.job.provider_id] = outcome
    for outcome in answered.values():
        record_success(outcome.job.provider)
    for outcome in failed.values():
        record_error(outcome.job.provider, outcome.error)


def _ask(by_credential) -> tuple[list[Outcome], dict[int, list[CallRecord]]]:
    """Ask every provider about its jobs, concurrently; no database work in the threads."""
    current = threading.local()
    calls: dict[int, list[CallRecord]] = defaultdict(list)

    def observer(record: CallRecord):
        calls[current.job_id].append(record)

    def ask(client, job: Job) -> Outcome:
        current.job_id = job.pk
        try:
            return Outcome(job, status=client.status(job.provider_task_id))
        except ProviderError as exc:
            return Outcome(job, error=exc)
        except Exception as exc:  # the dialects turn bad shapes into Unreadable; a net
            log.warning("job %s: unreadable status answer: %s", job.pk, type(exc).__name__)
            return Outcome(job, error=Unreadable(type(exc).__name__))

    clients = [credential.client(observer=observer) for credential in by_credential]
    try:
        with ThreadPoolExecutor(max_workers=POLL_THREADS) as pool:
            futures = [
                pool.submit(ask, client, job)
                for client, jobs in zip(clients, by_credential.values(), strict=True)
                for job in jobs
            ]
            outcomes = [f.result() for f in futures]
    finally:
        for client in clients:
            client.close()
    return outcomes, calls


def apply_outcome(outcome: Outcome, now, *, enqueue_mirror: bool = True) -> None:
    """Write what the provider said about one job; every change conditional on `running`."""
    job = outcome.job
    caps = catalog.capabilities(job.provider.dialect, job.model)
    elapsed = (now - (job.submitted_at or job.created_at)).total_seconds()
    if outcome.error is not None:
        return _poll_failed(job, outcome.error, caps, elapsed, now)
    status = outcome.status
    if status.state.is_final:
        tallies.keep_reported(job.pk, status)
    if status.state is TaskState.SUCCEEDED:
        return mirroring.start(job, status, now, enqueue=enqueue_mirror)
    if status.state is TaskState.FAILED:
        if status.error_class is ErrorClass.CREDITS:
            # The account ran dry under a task (Apixo's INSUFFICIENT_CREDITS): like a 402,
            # the provider is switched off until an admin tops it up.
            record_error(job.provider, InsufficientCredits(status.message, code=status.code))
        transition(
            job.pk,
            from_states=[State.RUNNING],
            to=State.FAILED,
            error_class=status.error_class or ErrorClass.GENERATION_FAILED,
            error_message=status.message,
            provider_state=status.provider_state,
            provider_finished_at=status.finished_at or now,
            message=status.message,
        )
        return None
    if status.state is TaskState.CANCELLED:
        transition(
            job.pk,
            from_states=[State.RUNNING],
            to=State.CANCELLED,
            provider_state=status.provider_state,
            message="cancelled by the provider",
        )
        return None
    if elapsed > caps.schedule.give_up_after:
        return _give_up(job, caps, now)
    Job.objects.filter(pk=job.pk, state=State.RUNNING).update(
        progress=status.progress,
        provider_state=status.provider_state,
        polls=F("polls") + 1,
        unreadable_answers=0,
        unknown_answers=0,
        next_poll_at=now + timedelta(seconds=poll_delay(caps.schedule, elapsed, job.callback_sent)),
        updated_at=now,
    )
    changes.announce([job.pk])
    return None


def _poll_failed(job: Job, error: ProviderError, caps, elapsed: float, now) -> None:
    if isinstance(error, TaskUnknown):
        return _task_unknown(job, error, now)
    fail = partial(
        fail_job, job.pk, error.error_class, from_states=[State.RUNNING], event=error.message
    )
    if isinstance(error, NotFound) and now - (job.submitted_at or now) > NOT_FOUND_GRACE:
        # Accepted a minute ago and now unknown: as with KIE's "recordInfo is null", it
        # may have been charged, so the money is held rather than refunded.
        return _task_unknown(job, error, now)
    unreadable = isinstance(error, Unreadable)
    if unreadable and job.unreadable_answers + 1 >= UNREADABLE_LIMIT:
        fail(f"{error.message} ({UNREADABLE_LIMIT} answers in a row from {job.provider.name}).")
        return
    if elapsed > caps.schedule.give_up_after:
        _give_up(job, caps, now)
        return
    wait = poll_delay(caps.schedule, elapsed, job.callback_sent)
    if isinstance(error, RateLimited) and error.retry_after:
        wait = max(wait, error.retry_after)
    add_note(
        job.pk,
        f"status read failed ({error.error_class}): {error.message}",
        provider=job.provider.name,
    )
    Job.objects.filter(pk=job.pk, state=State.RUNNING).update(
        polls=F("polls") + 1,
        next_poll_at=now + timedelta(seconds=wait),
        updated_at=now,
        unreadable_answers=F("unreadable_answers") + int(unreadable),
    )


def _task_unknown(job: Job, error: NotFound, now) -> None:
    """The provider says it has no record of the task. Polling it for 15 minutes would
    change nothing; failing it would refund a task that may have been charged. So: ask
    once more, and if it still does not know it, hold the money for an admin to decide."""
    name = job.provider.name
    if job.unknown_answers < 1:
        add_note(
            job.pk,
            f"{name} says it has no record of task {job.provider_task_id}; asking "
            "once more to be sure.",
            provider=name,
        )
        Job.objects.filter(pk=job.pk, state=State.RUNNING).update(
            polls=F("polls") + 1,
            unknown_answers=F("unknown_answers") + 1,
            next_poll_at=now + UNKNOWN_CONFIRM_AFTER,
            updated_at=now,
        )
        return
    hold(
        job.pk,
        from_state=State.RUNNING,
        error_class=ErrorClass.NOT_FOUND,
        why=f"{name} no longer knows task {job.provider_task_id} (asked twice). "
        "It may have been charged: the amount stays reserved until an admin decides.",
        message=f"the provider no longer knows this task: {error.message}",
    )


def _give_up(job: Job, caps, now) -> None:
    minutes = caps.schedule.give_up_after / 60
    transition(
        job.pk,
        from_states=[State.RUNNING],
        to=State.TIMED_OUT,
        error_class=ErrorClass.TIMEOUT,
        error_message=f"No result from {job.provider.name} after {minutes:g} minutes, the "
        "vendor's give-up time. It may still finish and be charged.",
        message="gave up waiting",
    )


def follow_job(*, job_id: int) -> str:
    """Poll one job now, whatever its schedule (after a callback), and if it is done,
    mirror it here too: a callback is when someone is waiting for the picture."""
    poll_due(job_ids=[job_id], due_only=False, mirror_here=True)
    if Job.objects.filter(pk=job_id, state=State.MIRRORING).exists():
        return mirroring.mirror_job(job_id=job_id)
    return Job.objects.filter(pk=job_id).values_list("state", flat=True).first() or "gone"
