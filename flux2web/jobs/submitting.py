"""Submitting: claim a queued job and send it to the first provider that accepts it.

Money rule: a create call that may have reached the provider is never sent again. A job is
claimed (queued -> submitting) before the call, so two workers cannot both send it, and a
crash while sending leaves it `uncertain`, never queued.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from flux2web.billing import ledger
from flux2web.credentials import pacing
from flux2web.credentials.health import record_error, record_success
from flux2web.credentials.models import ProviderCredential
from flux2web.jobs import actions, tallies
from flux2web.jobs.models import Job, JobEvent, attempt_due
from flux2web.jobs.routing import claim_trial, route, with_passed
from flux2web.jobs.transitions import add_note, adopt, call_events, fail_job, hold, transition
from flux2web.providers import catalog
from flux2web.providers.transport import CallRecord
from flux2web.providers.types import (
    ErrorClass,
    ProviderError,
)

log = logging.getLogger(__name__)
State = Job.State


# Rounds of "every provider refused before accepting"; then the job fails with the reason.
SUBMIT_ROUNDS = 4
SUBMIT_BACKOFF_SECONDS = 30
# Refusals that switch a provider off until an admin acts (credentials/health.py).
SWITCHED_OFF = {
    ErrorClass.AUTH: "it refused our API key.",
    ErrorClass.CREDITS: "its account ran out of credit.",
    ErrorClass.KEY_CAP: "its API key's usage cap is used up.",
}


def callback_url(job: Job) -> str | None:
    if not settings.PUBLIC_URL:
        return None
    return settings.PUBLIC_URL + reverse("jobs:callback", args=[job.pk, job.callback_secret])


def submit_job(*, job_id: int) -> str:
    """Claim a queued job and send it to the first provider that accepts it, exactly once;
    then honour a Cancel pressed while it was being sent."""
    outcome = _submit(job_id)
    if actions.honour_cancel_request(job_id=job_id):
        return "cancelled"
    return outcome


def _submit(job_id: int) -> str:
    now = timezone.now()
    if not transition(
        job_id,
        from_states=[State.QUEUED],
        to=State.SUBMITTING,
        where=attempt_due(now),
        claimed_at=now,
    ):
        return "not claimed"
    job = Job.objects.select_related("requested_provider").get(pk=job_id)
    options = route(job.model, job.requested_provider, resolution=job.resolution or None)
    if not options:
        resumes = _cooldown_ends(job)
        if resumes is not None:
            # Paused, not broken: wait for the pause to end rather than fail the job.
            transition(
                job_id,
                from_states=[State.SUBMITTING],
                to=State.QUEUED,
                next_attempt_at=resumes,
                dispatched_at=None,
                provider=None,
                message=f"every provider for it is paused; trying again at {resumes:%H:%M:%S}",
            )
            return "waiting for cooldown"
        named = job.requested_provider
        if named is not None and named.disabled_reason in SWITCHED_OFF:
            # Switched off because it refused our key or ran dry: say that, not "settings".
            fail_job(
                job_id,
                named.disabled_reason,
                f"{named.name} is switched off: {SWITCHED_OFF[named.disabled_reason]}",
            )
            return "failed"
        who = named.name if named else "No enabled provider"
        fail_job(job_id, ErrorClass.VALIDATION, f"{who} cannot take FLUX.2 {job.model} now.")
        return "failed"
    last_error: ProviderError | None = None
    skipped: list[tuple[str, str]] = []  # (error class, why), one per provider passed by
    full: list[tuple[float, ProviderCredential]] = []  # (seconds until room, provider)
    for n, choice in enumerate(options):
        # Why Auto sent it here, kept on the job (empty for a provider the person named).
        reason = with_passed(choice.reason, [c.credential.name for c in options[:n]])
        outcome = _try_provider(
            job, choice.credential, skipped, full, reason=reason, trial=choice.trial
        )
        if isinstance(outcome, str):
            for wait, busy in full:  # Auto went past a provider whose window was full
                add_note(
                    job_id,
                    f"Skipped {busy.name}: it takes "
                    f"{catalog.limit_words(busy.create_limit)} and had sent them all "
                    f"(room again in {wait:.1f} s).",
                    provider=busy.name,
                )
            return outcome
        last_error = outcome or last_error
    if full:
        # Nobody took it, and some provider only lacked room: that frees within seconds,
        # sooner than any retry round would come.
        return _wait_for_room(job, *min(full, key=lambda pair: pair[0]))
    if last_error is None:
        # Nobody refused: nobody could take this request at all. Waiting will not help.
        priced_out = all(cls == ErrorClass.QUOTA for cls, _ in skipped)
        fail_job(
            job_id,
            ErrorClass.QUOTA if priced_out else ErrorClass.VALIDATION,
            "; ".join(why for _, why in skipped),
        )
        return "failed"
    return _retry_later(job, last_error)


def _cooldown_ends(job: Job):
    """When the first paused provider that could take this job comes back, if any."""
    if job.requested_provider is not None:
        named = job.requested_provider
        return named.cooldown_until if named.enabled and named.cooling else None
    paused = [
        c.cooldown_until
        for c in ProviderCredential.objects.enabled().filter(cooldown_until__gt=timezone.now())
        if c.offers(job.model)
    ]
    return min(paused, default=None)


def _wait_for_room(job: Job, wait: float, credential: ProviderCredential) -> str:
    """Back to the queue until the provider's window has room; not a failed attempt."""
    when = timezone.now() + timedelta(seconds=wait)
    transition(
        job.pk,
        from_states=[State.SUBMITTING],
        to=State.QUEUED,
        next_attempt_at=when,
        dispatched_at=None,
        provider=None,
        message=f"{credential.name} takes {catalog.limit_words(credential.create_limit)}, "
        f"all sent; sending at {timezone.localtime(when):%H:%M:%S.%f}"[:-3],
    )
    return "waiting for room"


def _try_provider(
    job: Job,
    credential: ProviderCredential,
    skipped: list[tuple[str, str]],
    full: list[tuple[float, ProviderCredential]],
    *,
    reason: str = "",
    trial: bool = False,
):
    """Send the create to one provider. Returns a final outcome as a string, the refusal
    to remember, or None when this provider cannot take the request (at all, or now:
    then `full` says when it can)."""
    caps = catalog.capabilities(credential.dialect, job.model)
    request = job.generation_request(callback_url=caps.callback_for(callback_url(job)))
    problems = caps.validate(request, provider=credential.name)
    if problems:
        why = "; ".join(str(p) for p in problems)
        skipped.append((ErrorClass.VALIDATION, why))
        add_note(job.pk, f"Skipped {credential.name}: {why}", provider=credential.name)
        return None
    # Its window is full: the vendor would refuse the create (KIE does not queue it), so
    # Auto tries the next provider with room now; the job waits only if none has.
    wait = pacing.take_create_slot(credential)
    if wait:
        full.append((wait, credential))
        return None
    price = credential.price_for(job.model, request.resolution)
    now = timezone.now()
    with transaction.atomic():
        # Still this worker's claim: one that stalled past the submit lease had the job
        # given back to the queue, and another worker may have claimed it since.
        mine = {"pk": job.pk, "state": State.SUBMITTING, "claimed_at": job.claimed_at}
        if not Job.objects.select_for_update().filter(**mine).exists():
            return "not claimed"
        if trial and not claim_trial(credential, job.pk):
            # Another job is already this failing provider's trial: one at a time.
            add_note(job.pk, f"Skipped {credential.name}: its trial job is already out.")
            return None
        # A job's price is what is reserved for it. At another price, the person's row is
        # locked and the reservation moved in one go, so a dearer failover cannot take
        # anyone past their limit.
        too_dear = ledger.reprice(job.pk, price, provider=credential) if price != job.price else ""
        if not too_dear:
            # Recorded before sending: if this worker dies mid-call we still know where
            # it went. Not if the person pressed Cancel meanwhile: then nothing is sent.
            # The submit lease counts from here: a failover's earlier tries do not use it up.
            ready = Job.objects.filter(**mine, cancel_requested_at__isnull=True).update(
                provider=credential, price=price, route_reason=reason, claimed_at=now
            )
            job.price, job.claimed_at = price, now
    if not too_dear and not ready:
        transition(
            job.pk,
            from_states=[State.SUBMITTING],
            to=State.CANCELLED,
            message=f"cancelled as asked; nothing was sent to {credential.name}",
        )
        return "cancelled"
    if too_dear:
        why = f"Skipped {credential.name}: {too_dear}"
        skipped.append((ErrorClass.QUOTA, why))
        add_note(job.pk, why, provider=credential.name)
        return None
    calls: list[CallRecord] = []
    try:
        with credential.client(observer=calls.append) as client:
            submission = client.create(request)
    except ProviderError as exc:
        JobEvent.objects.bulk_create(call_events(job.pk, credential.name, calls))
        return _refused(job, credential, exc)
    JobEvent.objects.bulk_create(call_events(job.pk, credential.name, calls))
    record_success(credential)
    now = timezone.now()
    callback = request.callback_url is not None
    accepted = {
        "provider_task_id": submission.task_id,
        "submitted_at": now,
        "callback_sent": callback,
        "next_poll_at": now + timedelta(seconds=poll_delay(caps.schedule, 0, callback)),
    }
    name, task_id = credential.name, submission.task_id
    if transition(
        job.pk,
        from_states=[State.SUBMITTING],
        to=State.RUNNING,
        message=f"accepted by {name} as {task_id}",
        **accepted,
    ):
        return "submitted"
    return _answered_late(job, credential, task_id, accepted)


def _answered_late(job: Job, credential: ProviderCredential, task_id: str, accepted) -> str:
    """The create was accepted, but the job moved on while we waited for the answer: never
    lose the task id. Held as uncertain (the call outlived the submit lease), it is followed
    now, unless an admin has decided it meanwhile; followed already (its callback came
    first, callbacks.py), nothing is left to do."""
    name = credential.name
    outcome = adopt(
        job.pk,
        task_id=task_id,
        provider_id=credential.pk,
        error_class="",
        error_message="",
        message=f"accepted by {name} as {task_id}, after this job was held as uncertain "
        "while we waited for the answer; following it (nothing was sent again)",
        **{k: v for k, v in accepted.items() if k != "provider_task_id"},
    )
    if outcome not in ("adopted", "followed"):
        state = "uncertain" if outcome == "decided" else outcome  # only a held job is decided
        add_note(
            job.pk,
            f"{name} accepted it as task {task_id}, but the job was {state} by then; "
            "that task is not followed.",
            provider=name,
        )
    return "submitted"


def _refused(job: Job, credential: ProviderCredential, exc: ProviderError) -> str | ProviderError:
    record_error(credential, exc)
    tallies.refused(job, credential, exc)  # counted for this provider, wherever the job goes
    if exc.accepted_maybe:
        hold(
            job.pk,
            from_state=State.SUBMITTING,
            error_class=exc.error_class,
            why=f"{credential.name}: {exc.message} Not sent again automatically.",
            message=f"answer lost from {credential.name}",
        )
        return "uncertain"
    add_note(
        job.pk,
        f"{credential.name} refused: {exc.error_class}: {exc.message}",
        provider=credential.name,
    )
    if exc.error_class in SWITCHED_OFF and job.requested_provider_id == credential.pk:
        # The person named this provider, and it takes no work until an admin acts on
        # its key or credit: waiting and retrying would only hide the true reason.
        fail_job(job.pk, exc.error_class, f"{credential.name}: {exc.message}")
        return "failed"
    # Turned away before acceptance: another provider (or a later try) may take it.
    if exc.refused_before_acceptance or exc.error_class in SWITCHED_OFF:
        return exc
    fail_job(job.pk, exc.error_class, f"{credential.name}: {exc.message}")
    return "failed"


def _retry_later(job: Job, error: ProviderError | None) -> str:
    attempts = job.attempts + 1
    reason = f"{error.error_class}: {error.message}" if error else "no provider could take it"
    if attempts >= SUBMIT_ROUNDS:
        named = job.requested_provider  # the one it was for: nothing else was asked
        who = f"{named.name} refused" if named else "Every provider refused"
        fail_job(
            job.pk,
            getattr(error, "error_class", ErrorClass.PROVIDER_ERROR),
            f"{who} {attempts} times; last: {reason}",
        )
        return "failed"
    delay = SUBMIT_BACKOFF_SECONDS * 2 ** (attempts - 1)
    if error is not None and error.retry_after:
        delay = max(delay, error.retry_after)
    transition(
        job.pk,
        from_states=[State.SUBMITTING],
        to=State.QUEUED,
        attempts=attempts,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        provider=None,
        dispatched_at=None,
        message=f"every provider refused ({reason}); trying again in {delay:.0f}s",
    )
    return "retry later"


# When the provider will call back, polling is only the safety net for a lost callback:
# this often at most, rather than the vendor's full cadence for pollers.
CALLBACK_SAFETY_NET_SECONDS = 15


def poll_delay(schedule: catalog.PollSchedule, elapsed: float, callback_sent: bool) -> float:
    delay = schedule.next_poll_in(elapsed)
    return max(delay, CALLBACK_SAFETY_NET_SECONDS) if callback_sent else delay
