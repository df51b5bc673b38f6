"""What a job card says while it waits, runs or after it failed, in the person's words.

Derived only from the job's own fields and its event log (JobEvent), which the worker
writes anyway: the card says who it is waiting for and why, when the next try is, how long
is left going by the provider's recent times, and names the providers really asked.
"""

from __future__ import annotations

import re
import statistics
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from flux2web.jobs.models import Job, JobEvent

# Rounds of refusals before a job fails (jobs/services.py SUBMIT_ROUNDS); read lazily so a
# change there is followed.
DEFAULT_ROUNDS = 4
# How a refusal is said: (what the provider did, the reason in brackets).
REFUSALS = {
    "rate_limited": ("asked us to wait", "rate limited"),
    "maintenance": ("asked us to wait", "down for maintenance"),
    "provider_error": ("had an internal error", ""),
    "unreachable": ("could not be reached", ""),
    "auth": ("refused our API key", ""),
    "credits": ("ran out of credit", ""),
    "timeout": ("did not answer in time", ""),
}
REFUSED = re.compile(r"^(?P<who>.+?) refused: (?P<cls>[a-z_]+):")
RECENT_JOBS = 20
ETA_CACHE_SECONDS = 60


def _rounds() -> int:
    from flux2web.jobs import services

    return getattr(services, "SUBMIT_ROUNDS", DEFAULT_ROUNDS)


def _clock(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M:%S")


def _names(names: list[str]) -> str:
    names = list(dict.fromkeys(names))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def refusals(events) -> list[tuple[str, str]]:
    """(provider, error class) of each refusal the log records, oldest first."""
    found = []
    for event in events:
        if event.kind == JobEvent.Kind.NOTE and (m := REFUSED.match(event.message)):
            found.append((event.provider or m["who"], m["cls"]))
    return found


def _last_round(events) -> list:
    """The events since the job was last taken up for sending."""
    events = list(events)
    starts = [i for i, e in enumerate(events) if e.to_state == Job.State.SUBMITTING]
    return events[starts[-1] :] if starts else events


def _wanted(job: Job) -> str:
    if job.requested_provider_id:
        return job.requested_provider.name
    return "the first free provider (Auto)"


def waiting_line(job: Job, *, now: datetime | None = None) -> str:
    """Who the job is waiting for and why, or what it is doing; empty once it is final."""
    now = now or timezone.now()
    state = job.state
    if state == Job.State.QUEUED:
        if job.next_attempt_at and job.next_attempt_at > now:
            when = _clock(job.next_attempt_at)
            if job.attempts:
                events = _last_round(job.events.filter(at__lte=now).order_by("at", "id"))
                refused = refusals(events)
                if refused:
                    who = _names([name for name, _ in refused])
                    did, why = REFUSALS.get(refused[-1][1], ("turned it away", ""))
                    said = f"{who} {did}" + (f" ({why})" if why else "")
                else:
                    said = "No provider could take it yet"
                return f"{said}; next try {when}, attempt {job.attempts + 1} of {_rounds()}"
            return f"Waiting for {_wanted(job)}, paused for now; next try {when}"
        return f"Waiting to be sent to {_wanted(job)}"
    if state == Job.State.SUBMITTING:
        who = job.provider.name if job.provider_id else _wanted(job)
        if job.cancel_requested_at:
            return f"Cancelling: it was being sent to {who}; stopping as soon as it can"
        return f"Sending to {who}"
    if state == Job.State.RUNNING:
        who = job.provider.name if job.provider_id else "The provider"
        parts = [f"{who} is generating"]
        if job.progress is not None:
            parts.append(f"it reports {min(100, job.progress)}%")
        left = seconds_left(job, now=now)
        if left is not None:
            parts.append(f"about {left} s left" if left > 0 else "taking longer than usual")
        return "; ".join(parts)
    if state == Job.State.MIRRORING:
        return "Saving the images"
    return ""


def median_seconds(provider_id: int, model: str, resolution: str) -> float | None:
    """The provider's median time from accepted to finished, over its recent jobs for this
    model and resolution; cached for a minute."""
    key = f"eta:{provider_id}:{model}:{resolution}"
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    rows = (
        Job.objects.filter(
            provider_id=provider_id,
            model=model,
            resolution=resolution,
            state=Job.State.SUCCEEDED,
            submitted_at__isnull=False,
            provider_finished_at__isnull=False,
        )
        .order_by("-id")
        .values_list("submitted_at", "provider_finished_at")[:RECENT_JOBS]
    )
    took = [(end - start).total_seconds() for start, end in rows if end > start]
    median = statistics.median(took) if took else 0
    cache.set(key, median, ETA_CACHE_SECONDS)
    return median or None


def expected_end(job: Job) -> datetime | None:
    if job.state != Job.State.RUNNING or not job.provider_id or not job.submitted_at:
        return None
    median = median_seconds(job.provider_id, job.model, job.resolution)
    if median is None:
        return None
    return job.submitted_at + timezone.timedelta(seconds=median)


def seconds_left(job: Job, *, now: datetime | None = None) -> int | None:
    end = expected_end(job)
    if end is None:
        return None
    return max(0, round((end - (now or timezone.now())).total_seconds()))


EVERY_PROVIDER = re.compile(r"^Every provider refused (?P<n>\d+) times")


def failure_text(job: Job) -> str:
    """The job's error, naming the providers that were really asked."""
    if not EVERY_PROVIDER.match(job.error_message):
        return job.error_message
    return named_refusal(job.error_message, job.events.filter(kind=JobEvent.Kind.NOTE))


def named_refusal(message: str, events) -> str:
    """ "Every provider refused N times" with the providers the log says were asked (one,
    for a job sent to a named provider), where it says so; else the message as it is."""
    if not (m := EVERY_PROVIDER.match(message)):
        return message
    asked = [name for name, _ in refusals(events)]
    if not asked:
        return message
    return f"{_names(asked)} refused {m['n']} times" + message[m.end() :]
