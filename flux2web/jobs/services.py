"""Creating, submitting and cancelling jobs. Every state change is a conditional update.

Money rule: a create call that may have reached the provider is never sent again. A job is
claimed (queued -> submitting) before the call, so two workers cannot both send it, and a
crash while sending leaves it `uncertain`, never queued.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from flux2web.accounts.models import gallery_changed
from flux2web.credentials import pacing
from flux2web.credentials.health import record_error, record_success
from flux2web.credentials.models import ProviderCredential
from flux2web.jobs import queue, states
from flux2web.jobs.models import Image, Job, JobEvent
from flux2web.jobs.transitions import add_note, transition
from flux2web.lib.addresses import ReferenceRule, fetch_problem, reference_problem
from flux2web.providers import catalog
from flux2web.providers.transport import CallRecord
from flux2web.providers.types import (
    ErrorClass,
    GenerationRequest,
    ProviderError,
)
from flux2web.team import ledger

log = logging.getLogger(__name__)
S = Job.State

# Rounds of "every provider refused before accepting"; then the job fails with the reason.
SUBMIT_ROUNDS = 4
SUBMIT_BACKOFF_SECONDS = 30
# Refusals that switch a provider off until an admin acts (credentials/health.py).
SWITCHED_OFF = {
    ErrorClass.AUTH: "it refused our API key.",
    ErrorClass.CREDITS: "its account ran out of credit.",
    ErrorClass.KEY_CAP: "its API key's usage cap is used up.",
}


class JobRefused(Exception):
    """The request cannot be queued; `problems` say why, each naming its field."""

    def __init__(self, problems: list[catalog.Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


# ---- Events. -------------------------------------------------------------------------


def call_events(job_id: int, provider: str, calls: Iterable[CallRecord]) -> list[JobEvent]:
    return [
        JobEvent(
            job_id=job_id, kind=JobEvent.Kind.CALL, provider=provider, method=c.method,
            path=c.path[:300], http_status=c.status, duration_ms=c.duration_ms, message=c.outcome,
        )
        for c in calls
    ]  # fmt: skip


# ---- Creating jobs. --------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """What a person asked for, before it becomes one job per image."""

    request: GenerationRequest
    provider: ProviderCredential | None = None
    count: int = 1
    # Draw a seed per job (so a batch is not four copies, and each can be rerun exactly).
    random_seed: bool = False
    # Reference URLs this site signed itself (uploads, re-signed links): they lead to us,
    # so the address rule for URLs people give does not apply to them.
    trusted_references: frozenset[str] = frozenset()
    # None: the person's own choice for new images, else the team's default.
    team_visible: bool | None = None
    # The image this is a remix of (the caller checked that the person may see it).
    remix_of_id: int | None = None
    # Pasted reference URLs already fetched and found fit (by the form): not fetched again.
    fetched_references: frozenset[str] = frozenset()

    def visible_for(self, owner) -> bool:
        return owner.new_images_team_visible if self.team_visible is None else self.team_visible


class Attachments(Protocol):
    """Files that come with a request (uploaded references), stored only once it is
    accepted, in the transaction that creates its jobs."""

    def store(self, spec: JobSpec) -> JobSpec:
        """Write the files and their rows; the spec that refers to them."""

    def discard(self) -> None:
        """Remove the files `store` wrote (their rows roll back with the transaction)."""


def candidates(model: str, requested: ProviderCredential | None) -> list[ProviderCredential]:
    """Providers to try, in order. A named provider is tried alone: the person chose it,
    perhaps for its price, so we do not spend their money elsewhere. Auto fails over.
    Switched-off and cooling-down accounts are skipped."""
    now = timezone.now()
    if requested is not None:
        available = requested.enabled and not requested.cooling
        return [requested] if available and requested.offers(model) else []
    return [c for c in ProviderCredential.objects.available(now).by_priority() if c.offers(model)]


def check_spec(spec: JobSpec) -> list[catalog.Problem]:
    """Every reason this cannot be queued."""
    return _offer_problems(spec) + reference_problems(spec)


def reference_rule(spec: JobSpec) -> ReferenceRule:
    """The strictest reference rule among the providers this request may go to."""
    model = spec.request.model
    formats: set[str] | None = None
    max_bytes = settings.MAX_IMAGE_BYTES
    who = []
    for credential in candidates(model, spec.provider):
        caps = catalog.capabilities(credential.dialect, model)
        if caps is None or not (caps.ref_formats or caps.ref_max_bytes):
            continue
        who.append(credential.name)
        if caps.ref_formats:
            formats = set(caps.ref_formats) if formats is None else formats & set(caps.ref_formats)
        if caps.ref_max_bytes:
            max_bytes = min(max_bytes, caps.ref_max_bytes)
    names = " and ".join([", ".join(who[:-1]), who[-1]] if len(who) > 1 else who) or "providers"
    ordered = tuple(f for f in catalog.WEB_IMAGE_TYPES if formats and f in formats)
    return ReferenceRule(formats=ordered, max_bytes=max_bytes, who=names)


def fetch_references(spec: JobSpec, *, done: set[str] | None = None) -> list[catalog.Problem]:
    """Fetch each pasted reference once, as the provider will, before anything is queued
    or paid for: every reason one would fail there. Our own signed links, links fetched
    already (`spec.fetched_references`, `done`) and addresses refused anyway are skipped."""
    done = set() if done is None else done
    urls = [
        (number, url)
        for number, url in enumerate(spec.request.reference_urls, start=1)
        if url not in spec.trusted_references and url not in spec.fetched_references
        and url not in done and reference_problem(url, number=number) is None
        and url.lower().startswith(("http://", "https://"))
    ]  # fmt: skip
    if not urls:
        return []
    rule = reference_rule(spec)
    problems = []
    for number, url in urls:
        done.add(url)
        if message := fetch_problem(url, number=number, rule=rule):
            problems.append(catalog.Problem("reference_urls", message))
    return problems


def reference_problems(spec: JobSpec) -> list[catalog.Problem]:
    """Reference URLs people gave that lead to private addresses (the rule and allow-list
    of result downloads); our own signed links are exempt."""
    problems = []
    for number, url in enumerate(spec.request.reference_urls, start=1):
        trusted = url in spec.trusted_references
        if not trusted and (message := reference_problem(url, number=number)):
            problems.append(catalog.Problem("reference_urls", message))
    return problems


def _offer_problems(spec: JobSpec) -> list[catalog.Problem]:
    """Why no provider can take it; the first provider that would take it decides."""
    request = spec.request
    if not 1 <= spec.count <= 4:
        return [catalog.Problem("count", "Make 1 to 4 images at a time.")]
    named = spec.provider
    if named is not None and not named.enabled:
        return [catalog.Problem("provider", f"{named.name} is disabled.")]
    if named is not None and named.cooling:
        when = timezone.localtime(named.cooldown_until).strftime("%H:%M")
        return [catalog.Problem("provider", f"{named.name} is paused until {when} (rate limit "
                                            "or maintenance); choose Auto or wait.")]  # fmt: skip
    options = candidates(request.model, named)
    if not options:
        offered = "any available provider" if named is None else named.name
        return [catalog.Problem("model", f"FLUX.2 {request.model} is not offered by {offered}.")]
    first_problems = None
    for credential in options:
        problems = catalog.validate(credential.dialect, request, provider=credential.name)
        if not problems:
            return []
        first_problems = first_problems or problems
    return list(first_problems)


def chosen_provider(spec: JobSpec) -> ProviderCredential | None:
    """The provider this request would go to first."""
    request = spec.request
    options = candidates(request.model, spec.provider)
    return next((c for c in options if not catalog.validate(c.dialect, request)), None)


def price_for(spec: JobSpec) -> Decimal:
    """Price per image where the request would go first; what is reserved per job."""
    credential = chosen_provider(spec)
    if credential is None:
        return Decimal(0)
    return credential.price_for(spec.request.model, spec.request.resolution)


def _normal_key(key: str) -> str:
    if len(key) > 64 or ":" in key:
        # The column holds "<key>:<n>"; any key a client sends fits once hashed.
        return hashlib.sha256(key.encode()).hexdigest()
    return key


def existing_jobs(*, owner, idempotency_key: str) -> list[Job]:
    """The jobs an earlier request with this key made, in order; empty if none."""
    key = _normal_key(idempotency_key)
    return list(
        Job.objects.filter(owner=owner, idempotency_key__startswith=f"{key}:").order_by("pk")
    )


def create_jobs(*, owner, spec: JobSpec, idempotency_key: str) -> list[Job]:
    """Queue one job per image, or return the jobs this key already made. Raises JobRefused."""
    return create_or_get_jobs(owner=owner, spec=spec, idempotency_key=idempotency_key)[0]


def create_or_get_jobs(
    *, owner, spec: JobSpec, idempotency_key: str, attachments: Attachments | None = None
) -> tuple[list[Job], bool]:
    """(jobs, True) when this call queued them; (the earlier jobs, False) when the key had
    made them already (a double click). Raises JobRefused.

    Nothing is written before every check has passed: `attachments` are stored in the
    transaction that creates the jobs, and removed again if it does not commit. The rows
    are committed before any provider call; the submit tasks are enqueued only once they are.
    """
    return _create(owner=owner, specs=[spec], idempotency_key=idempotency_key,
                   attachments=attachments)  # fmt: skip


def create_batch(*, owner, specs: list[JobSpec], idempotency_key: str) -> list[Job]:
    """Queue several requests (the lines of a prompt file) all or nothing: every request
    is checked, and the quota for the whole batch, before any job is created. Raises
    JobRefused; a repeated key returns the jobs it made."""
    return _create(owner=owner, specs=specs, idempotency_key=idempotency_key)[0]


def _create(*, owner, specs, idempotency_key, attachments=None) -> tuple[list[Job], bool]:
    idempotency_key = _normal_key(idempotency_key)
    existing = existing_jobs(owner=owner, idempotency_key=idempotency_key)
    if existing:
        return existing, False
    problems = [p for spec in specs for p in check_spec(spec)]
    if not problems:
        fetched: set[str] = set()
        problems = [p for spec in specs for p in fetch_references(spec, done=fetched)]
    if problems:
        raise JobRefused(problems)
    prices = [price_for(spec) for spec in specs]
    count = sum(spec.count for spec in specs)
    cost = sum((price * spec.count for spec, price in zip(specs, prices, strict=True)), Decimal(0))
    try:
        with transaction.atomic():
            # Locked first, so simultaneous submissions see each other's reservations.
            ledger.lock_person(owner)
            over = ledger.over_quota(owner, price=prices[0], count=count, cost=cost)
            if over:
                raise JobRefused(over)
            if attachments is not None:
                specs = [attachments.store(spec) for spec in specs]
            jobs = []
            for spec, price in zip(specs, prices, strict=True):
                jobs += _new_jobs(owner, spec, price, f"{idempotency_key}:", first=len(jobs))
            JobEvent.objects.bulk_create(
                JobEvent(job=j, kind=JobEvent.Kind.STATE, to_state=S.QUEUED, message="queued")
                for j in jobs
            )
            ledger.reserve(jobs)
            transaction.on_commit(dispatch_submits)
    except IntegrityError:
        # The same key submitted twice at once (a double click): the other request won.
        if attachments is not None:
            attachments.discard()
        return existing_jobs(owner=owner, idempotency_key=idempotency_key), False
    except BaseException:
        if attachments is not None:
            attachments.discard()
        raise
    return jobs, True


def _new_jobs(owner, spec: JobSpec, price: Decimal, key: str, *, first: int) -> list[Job]:
    request = spec.request
    batch = Job(owner=owner).batch_id
    return [
        Job.objects.create(
            owner=owner, batch_id=batch, idempotency_key=f"{key}{first + n}",
            model=request.model, prompt=request.prompt.strip(),
            aspect_ratio=request.aspect_ratio or "", width=request.width,
            height=request.height, resolution=(request.resolution or "").upper(),
            seed=secrets.randbelow(catalog.SEED_MAX + 1) if spec.random_seed else request.seed,
            seed_random=spec.random_seed, prompt_upsampling=request.prompt_upsampling,
            reference_urls=list(request.reference_urls),
            requested_provider=spec.provider, price=price,
            team_visible=spec.visible_for(owner), remix_of_id=spec.remix_of_id,
        )
        for n in range(spec.count)
    ]  # fmt: skip


# The broker is first in, first out. Were a burst of submits all enqueued at once, every
# callback's follow-up and every mirror would wait behind them. So submits are dispatched
# only while the broker holds fewer than a window of tasks of any kind: work on jobs that
# already cost money (following, mirroring) goes first, new work waits. The window is
# topped up after commit, after each submit and by every poller pass.
DISPATCH_PER_WORKER = 4
DISPATCH_TIMEOUT = timedelta(minutes=2)


def broker_backlog() -> int:
    from django_q.brokers import get_broker

    return get_broker().queue_size() or 0


# With pacing on, each dispatched job gets its own moment to go out, 1/rate apart, up to
# this far ahead; the submit task waits for its moment. Tasks are in the broker before
# their moment, so workers never sit idle waiting for the next dispatch.
PACING_HORIZON = timedelta(seconds=1)

# Fair between people: waiting jobs go out round-robin by owner, so one person's batch of
# 200 cannot make a teammate's single image wait until the whole batch has gone out.
# Everyone's oldest waiting job comes before anyone's second; among people at the same
# turn, whoever was sent something least recently goes first; within a person, oldest
# first. Pacing and each provider's create window apply as before: this only decides
# whose job takes the next moment.
FAIRNESS_MEMORY = timedelta(minutes=1)


def _fair_order(due, *, now, limit: int) -> list[tuple[int, object]]:
    """(pk, dispatched_at) of up to `limit` due jobs, in round-robin order by owner."""
    turns = Window(RowNumber(), partition_by=[F("owner_id")], order_by=["created_at", "pk"])
    candidates = list(
        due.annotate(turn=turns)
        .filter(turn__lte=limit)
        .values_list("pk", "dispatched_at", "owner_id", "turn", "created_at")
    )
    last_sent = dict(
        Job.objects.filter(dispatched_at__gte=now - FAIRNESS_MEMORY)
        .order_by()
        .values("owner_id")
        .annotate(last=Max("dispatched_at"))
        .values_list("owner_id", "last")
    )
    long_ago = now - FAIRNESS_MEMORY
    candidates.sort(key=lambda c: (c[3], last_sent.get(c[2], long_ago), c[4], c[0]))
    return [(pk, dispatched_at) for pk, dispatched_at, *_ in candidates[:limit]]


def dispatch_submits(*, now=None) -> int:
    """Enqueue submit tasks for waiting jobs, keeping at most a window in the broker."""
    now = now or timezone.now()
    window = DISPATCH_PER_WORKER * settings.Q_CLUSTER["workers"]
    waiting = Job.objects.filter(state=S.QUEUED)
    in_broker = broker_backlog()
    if in_broker >= window:
        return 0
    due = _fair_order(
        waiting.filter(
            Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=now - DISPATCH_TIMEOUT)
        ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)),
        now=now,
        limit=window - in_broker,
    )
    rate = settings.SUBMIT_RATE
    step = timedelta(seconds=1 / rate) if rate else None
    slot = now
    if rate:
        latest = Job.objects.aggregate(latest=Max("dispatched_at"))["latest"]
        slot = max(now, latest + step) if latest else now
    sent = 0
    for job_id, dispatched_at in due:
        if rate and slot > now + PACING_HORIZON:
            break  # the rest wait for a later dispatch
        # Conditional, so two dispatchers (a web request, the poller) never both send it.
        if Job.objects.filter(pk=job_id, state=S.QUEUED, dispatched_at=dispatched_at).update(
            dispatched_at=slot
        ):
            queue.enqueue(queue.SUBMIT, job_id)
            sent += 1
            if rate:
                slot += step
    return sent


def wait_for_slot(job_id: int) -> None:
    """Paced submits wait for the moment the dispatcher gave them (never long)."""
    moment = Job.objects.filter(pk=job_id).values_list("dispatched_at", flat=True).first()
    if moment is None:
        return
    delay = (moment - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(min(delay, PACING_HORIZON.total_seconds()))


# ---- Submitting. -----------------------------------------------------------------------


def callback_url(job: Job) -> str | None:
    if not settings.PUBLIC_URL:
        return None
    return settings.PUBLIC_URL + reverse("jobs:callback", args=[job.pk, job.callback_secret])


def submit_job(*, job_id: int) -> str:
    """Claim a queued job and send it to the first provider that accepts it, exactly once."""
    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    if not transition(job_id, from_states=[S.QUEUED], to=S.SUBMITTING, where=due, claimed_at=now):
        return "not claimed"
    job = Job.objects.select_related("requested_provider").get(pk=job_id)
    options = candidates(job.model, job.requested_provider)
    if not options:
        resumes = _cooldown_ends(job)
        if resumes is not None:
            # Paused, not broken: wait for the pause to end rather than fail the job.
            transition(
                job_id, from_states=[S.SUBMITTING], to=S.QUEUED, next_attempt_at=resumes,
                dispatched_at=None, provider=None,
                message=f"every provider for it is paused; trying again at {resumes:%H:%M:%S}",
            )  # fmt: skip
            return "waiting for cooldown"
        named = job.requested_provider
        if named is not None and named.disabled_reason in SWITCHED_OFF:
            # Switched off because it refused our key or ran dry: say that, not "settings".
            fail(job_id, named.disabled_reason, f"{named.name} is switched off: "
                 f"{SWITCHED_OFF[named.disabled_reason]}")  # fmt: skip
            return "failed"
        who = named.name if named else "No enabled provider"
        fail(job_id, ErrorClass.VALIDATION, f"{who} cannot take FLUX.2 {job.model} now.")
        return "failed"
    last_error: ProviderError | None = None
    skipped: list[tuple[str, str]] = []  # (error class, why), one per provider passed by
    full: list[tuple[float, ProviderCredential]] = []  # (seconds until room, provider)
    for credential in options:
        outcome = _try_provider(job, credential, skipped, full)
        if isinstance(outcome, str):
            for wait, busy in full:  # Auto went past a provider whose window was full
                add_note(job_id, f"Skipped {busy.name}: it takes "
                     f"{catalog.limit_words(busy.create_limit)} and had sent them all "
                     f"(room again in {wait:.1f} s).", provider=busy.name)  # fmt: skip
            return outcome
        last_error = outcome or last_error
    if full:
        # Nobody took it, and some provider only lacked room: that frees within seconds,
        # sooner than any retry round would come.
        return _wait_for_room(job, *min(full, key=lambda pair: pair[0]))
    if last_error is None:
        # Nobody refused: nobody could take this request at all. Waiting will not help.
        priced_out = all(cls == ErrorClass.QUOTA for cls, _ in skipped)
        fail(job_id, ErrorClass.QUOTA if priced_out else ErrorClass.VALIDATION,
             "; ".join(why for _, why in skipped))  # fmt: skip
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
        job.pk, from_states=[S.SUBMITTING], to=S.QUEUED, next_attempt_at=when,
        dispatched_at=None, provider=None,
        message=f"{credential.name} takes {catalog.limit_words(credential.create_limit)}, "
        f"all sent; sending at {timezone.localtime(when):%H:%M:%S.%f}"[:-3],
    )  # fmt: skip
    return "waiting for room"


def _try_provider(
    job: Job,
    credential: ProviderCredential,
    skipped: list[tuple[str, str]],
    full: list[tuple[float, ProviderCredential]],
):
    """Send the create to one provider. Returns a final outcome as a string, the refusal
    to remember, or None when this provider cannot take the request (at all, or now:
    then `full` says when it can)."""
    caps = catalog.capabilities(credential.dialect, job.model)
    request = job.generation_request(callback_url=callback_url(job) if caps.callbacks else None)
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
    with transaction.atomic():
        # A job's price is what is reserved for it. At another price, the person's row is
        # locked and the reservation moved in one go, so a dearer failover cannot take
        # anyone past their limit.
        too_dear = ledger.reprice(job.pk, price, provider=credential) if price != job.price else ""
        if not too_dear:
            # Recorded before sending: if this worker dies mid-call we still know where
            # it went.
            Job.objects.filter(pk=job.pk, state=S.SUBMITTING).update(
                provider=credential, price=price
            )
            job.price = price
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
    transition(
        job.pk, from_states=[S.SUBMITTING], to=S.RUNNING,
        message=f"accepted by {credential.name} as {submission.task_id}",
        provider_task_id=submission.task_id, submitted_at=now, callback_sent=callback,
        next_poll_at=now + timedelta(seconds=poll_delay(caps.schedule, 0, callback)),
    )  # fmt: skip
    return "submitted"


def _refused(job: Job, credential: ProviderCredential, exc: ProviderError) -> str | ProviderError:
    record_error(credential, exc)
    if exc.accepted_maybe:
        transition(
            job.pk, from_states=[S.SUBMITTING], to=S.UNCERTAIN, error_class=exc.error_class,
            error_message=f"{credential.name}: {exc.message} Not sent again automatically.",
            message=f"answer lost from {credential.name}",
        )  # fmt: skip
        return "uncertain"
    add_note(job.pk, f"{credential.name} refused: {exc.error_class}: {exc.message}",
         provider=credential.name)  # fmt: skip
    if exc.error_class in SWITCHED_OFF and job.requested_provider_id == credential.pk:
        # The person named this provider, and it takes no work until an admin acts on
        # its key or credit: waiting and retrying would only hide the true reason.
        fail(job.pk, exc.error_class, f"{credential.name}: {exc.message}")
        return "failed"
    # Turned away before acceptance: another provider (or a later try) may take it.
    if exc.refused_before_acceptance or exc.error_class in SWITCHED_OFF:
        return exc
    fail(job.pk, exc.error_class, f"{credential.name}: {exc.message}")
    return "failed"


def _retry_later(job: Job, error: ProviderError | None) -> str:
    attempts = job.attempts + 1
    reason = f"{error.error_class}: {error.message}" if error else "no provider could take it"
    if attempts >= SUBMIT_ROUNDS:
        fail(job.pk, getattr(error, "error_class", ErrorClass.PROVIDER_ERROR),
             f"Every provider refused {attempts} times; last: {reason}")  # fmt: skip
        return "failed"
    delay = SUBMIT_BACKOFF_SECONDS * 2 ** (attempts - 1)
    if error is not None and error.retry_after:
        delay = max(delay, error.retry_after)
    transition(
        job.pk, from_states=[S.SUBMITTING], to=S.QUEUED, attempts=attempts,
        next_attempt_at=timezone.now() + timedelta(seconds=delay), provider=None,
        dispatched_at=None,
        message=f"every provider refused ({reason}); trying again in {delay:.0f}s",
    )  # fmt: skip
    return "retry later"


# When the provider will call back, polling is only the safety net for a lost callback:
# this often at most, rather than the vendor's full cadence for pollers.
CALLBACK_SAFETY_NET_SECONDS = 15


def poll_delay(schedule: catalog.PollSchedule, elapsed: float, callback_sent: bool) -> float:
    delay = schedule.next_poll_in(elapsed)
    return max(delay, CALLBACK_SAFETY_NET_SECONDS) if callback_sent else delay


def fail(job_id: int, error_class: str, message: str, *, from_states=(S.SUBMITTING,)) -> bool:
    return transition(job_id, from_states=from_states, to=S.FAILED, error_class=error_class,
                      error_message=message, message=message)  # fmt: skip


# ---- Cancelling. -----------------------------------------------------------------------

UPSTREAM_CANCEL_NOTE = (
    "No provider offers a way to cancel a task once accepted: it may still finish and be "
    "charged, but it is no longer followed."
)


def cancel_job(*, job_id: int) -> tuple[bool, str]:
    """(cancelled?, what to tell the person)."""
    if transition(
        job_id, from_states=[S.QUEUED], to=S.CANCELLED, message="cancelled before sending"
    ):
        return True, "Cancelled before anything was sent to a provider."
    if transition(
        job_id, from_states=[S.RUNNING], to=S.CANCELLED, message="cancelled while running"
    ):
        return True, f"Cancelled. {UPSTREAM_CANCEL_NOTE}"
    state = Job.objects.filter(pk=job_id).values_list("state", flat=True).first()
    if state == S.SUBMITTING:
        return False, "It is being sent to the provider right now; try again in a moment."
    return False, f"A {state} job cannot be cancelled."


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
    delete_files(images)
    return True


def delete_images(*, owner, image_ids) -> int:
    """Delete some of a person's images (the gallery's "delete selected")."""
    with transaction.atomic():
        images = list(Image.objects.filter(pk__in=list(image_ids), owner=owner))
        Image.objects.filter(pk__in=[i.pk for i in images]).delete()
        gallery_changed(owner.pk)
    delete_files(images)
    return len(images)


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
