"""Auto's choice of provider: the admin's strategy (priority, cheapest that works, fastest
that works by the providers' record), each provider's health over the last hour, and the
reason for each choice in plain words. routing.py asks it; the scoreboard reads health."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from flux2web.accounts.models import TeamPolicy
from flux2web.credentials.models import ProviderCredential
from flux2web.jobs.models import Job
from flux2web.providers.types import ErrorClass
from flux2web.scores import tally
from flux2web.scores.models import Refusal

# Health reads each provider's latest outcomes in this window: jobs that finished there
# (cancelled ones are the person's doing, not the vendor's) and jobs whose answer was lost.
HEALTH_WINDOW = timedelta(hours=1)
HEALTH_SAMPLE = 10  # its most recent outcomes, at most
HEALTH_MIN_FINISHED = 5  # fewer are too few to judge: one failure does not drop a provider
# Successes in a row, newest first, that bring a skipped provider back whatever its rate:
# its trial jobs, once the fault is over.
RECOVERY_STREAK = 3
# Refusals that pause the provider anyway (credentials/health.py): not weighed again.
PAUSING = (ErrorClass.RATE_LIMITED, ErrorClass.MAINTENANCE)
REFUSED = "refused"  # a refused create among a provider's outcomes


@dataclass(frozen=True)
class Health:
    """What Auto makes of a provider's last hour."""

    credential_id: int
    finished: int  # its recent outcomes counted (at most HEALTH_SAMPLE)
    succeeded: int
    skipped: bool  # Auto passes it by, whatever the strategy
    # Skipped, quiet for ROUTING_TRIAL_SECONDS and nothing in flight there: the next Auto
    # job may go to it, to find out whether it works again.
    trial_due: bool
    words: str  # "skipped by Auto: 2 of its last 10 jobs succeeded in the last hour"

    @property
    def rate_words(self) -> str:
        # "Jobs" here are its outcomes: jobs ended or lost there, and creates it refused.
        return f"{self.succeeded} of its last {self.finished} jobs succeeded in the last hour"

    @property
    def reason(self) -> str:
        """Why Auto skips it, for a list headed by that (the scoreboard's); else empty."""
        if not self.skipped:
            return ""
        if self.trial_due:
            return f"{self.rate_words}; one job goes to it now as a trial"
        return (
            f"{self.rate_words}; a trial job goes to it once no job has ended "
            "and no create been refused there for a while"
        )


@dataclass(frozen=True)
class Choice:
    credential: ProviderCredential
    reason: str  # in plain words; empty for a provider the person named
    # A provider Auto skips, sent this job to see whether it works again: one at a time
    # (claim_trial, in the transaction that records where the job goes).
    trial: bool = False


def provider_health(now=None, *, credentials=None, policy=None) -> dict[int, Health]:
    """{credential id: Health} for these providers (every one by default). A provider is
    skipped while fewer of its latest jobs succeeded than the team's threshold; a trial job
    after each quiet interval lets successes bring it back once its fault is over."""
    now = now or timezone.now()
    policy = policy or TeamPolicy.current()
    if credentials is None:
        credentials = ProviderCredential.objects.all()
    ids = [c.pk for c in credentials]
    # Each provider's latest outcomes: the jobs that finished there, in one query read off
    # the index job_provider_finished (provider, finished_at): an hour of jobs at most,
    # whatever the table holds.
    since = now - HEALTH_WINDOW
    newest_first = [F("finished_at").desc(), F("pk").desc()]
    rows = (
        Job.objects.filter(provider_id__in=ids, finished_at__gte=since)
        .exclude(state=Job.State.CANCELLED)
        # One it never accepted failed before reaching it (its refusal is Auto's to pass).
        .exclude(submitted_at__isnull=True)
        .annotate(n=Window(RowNumber(), partition_by=F("provider_id"), order_by=newest_first))
        .filter(n__lte=HEALTH_SAMPLE)
        .values_list("provider_id", "n", "state", "finished_at")
    )
    # The jobs whose answer was lost there (uncertain: never finished, the person's money
    # parked until an admin decides), from when they went uncertain; few, and found by
    # the index on state (job_due_polls).
    lost = Job.objects.filter(
        provider_id__in=ids, state=Job.State.UNCERTAIN, updated_at__gte=since
    ).values_list("provider_id", "state", "updated_at")
    # And the creates each refused (Auto passed the job on, but a refusal is a failure of
    # the provider's all the same), save a 429 or a maintenance answer: those pause it.
    refusals = (
        Refusal.objects.filter(credential_id__in=ids, at__gte=since)
        .exclude(error_class__in=PAUSING)
        .annotate(n=Window(RowNumber(), partition_by=F("credential_id"), order_by=F("at").desc()))
        .filter(n__lte=HEALTH_SAMPLE)
        .values_list("credential_id", "n", "at")
    )
    latest: dict[int, list] = {pk: [] for pk in ids}
    outcomes = [
        *((pk, state, at) for pk, _, state, at in rows),
        *lost,
        *((pk, REFUSED, at) for pk, _, at in refusals),
    ]
    for provider_id, state, at in outcomes:
        latest[provider_id].append((state, at))
    for pk, found_there in latest.items():
        latest[pk] = sorted(found_there, key=lambda o: o[1], reverse=True)[:HEALTH_SAMPLE]
    found = {pk: _verdict(pk, latest[pk], policy) for pk in ids}
    skipped = [pk for pk, health in found.items() if health.skipped]
    if skipped:
        quiet_since = now - timedelta(seconds=settings.ROUTING_TRIAL_SECONDS)
        busy = set(
            Job.objects.filter(provider_id__in=skipped, finished_at__isnull=True)
            .filter(state__in=Job.IN_FLIGHT)
            .values_list("provider_id", flat=True)
        )
        for pk in skipped:
            due = pk not in busy and latest[pk][0][1] <= quiet_since
            found[pk] = replace(found[pk], trial_due=due)
    return found


def _verdict(credential_id: int, latest: list, policy) -> Health:
    finished = len(latest)
    ok = [state == Job.State.SUCCEEDED for state, _ in latest]
    succeeded = sum(ok)
    recovered = len(ok) >= RECOVERY_STREAK and all(ok[:RECOVERY_STREAK])
    low = finished and succeeded * 100 < policy.routing_health_percent * finished
    skipped = bool(finished >= HEALTH_MIN_FINISHED and low and not recovered)
    health = Health(credential_id, finished, succeeded, skipped, False, "")
    if skipped:
        words = f"skipped by Auto: {health.rate_words}"
    elif finished >= HEALTH_MIN_FINISHED and low:
        words = (
            f"back in Auto: its last {RECOVERY_STREAK} jobs succeeded "
            f"({succeeded} of its last {finished} in the last hour)"
        )
    elif finished:
        words = health.rate_words
    else:
        words = "no jobs finished in the last hour"
    return replace(health, words=words)


def route(
    model: str,
    requested: ProviderCredential | None,
    *,
    resolution: str | None = None,
    now=None,
) -> list[Choice]:
    """Providers to try, in order, each with why. A named provider is tried alone and never
    skipped: the person chose it, perhaps for its price, so we do not spend their money
    elsewhere. Auto follows the team's strategy and fails over down the list; it passes
    by a provider failing lately (unless every one is), and sends one a trial job now and
    then to see whether it works again. Switched-off and cooling-down accounts are out."""
    now = now or timezone.now()
    if requested is not None:
        available = requested.enabled and not requested.cooling
        return [Choice(requested, "")] if available and requested.offers(model) else []
    offered = [
        c for c in ProviderCredential.objects.available(now).by_priority() if c.offers(model)
    ]
    if not offered:
        return []
    policy = TeamPolicy.current()
    health = provider_health(now, credentials=offered, policy=policy)
    sick = [c for c in offered if health[c.pk].skipped]
    well = [c for c in offered if not health[c.pk].skipped]
    everyone_sick = not well
    ranked = _rank(policy, well or sick, model, resolution, now)
    trials = [c for c in sick if health[c.pk].trial_due]
    if everyone_sick:
        ranked = [r for r in ranked if r[0] in trials] + [r for r in ranked if r[0] not in trials]
    choices = []
    for credential in [] if everyone_sick else trials:
        # The trial is a person's real job, not a probe: the words say so on its page.
        why = (
            "a trial job: yours is sent there to see whether it works again "
            f"({health[credential.pk].rate_words})"
        )
        choices.append(Choice(credential, _clip(f"{credential.name}: {why}"), trial=True))
    passed = "; ".join(f"{c.name} skipped: {health[c.pk].rate_words}" for c in sick)
    for credential, standing in ranked:
        if everyone_sick:
            reason = f"{standing}; every provider is failing lately, so Auto tries them anyway"
        else:
            reason = f"{standing} ({passed})" if passed else standing
        choices.append(Choice(credential, _clip(f"{credential.name}: {reason}")))
    return choices


def claim_trial(credential: ProviderCredential, job_id: int) -> bool:
    """Whether this job may be the trial sent to a provider Auto skips: none other is in
    flight there, and none was refused or ended there within the quiet interval. Call it
    in the transaction that records where the job goes: the provider's row is locked
    (SQLite's IMMEDIATE transactions lock anyway), so workers sending a batch at once
    cannot each send one."""
    ProviderCredential.objects.select_for_update().filter(pk=credential.pk).exists()
    others = Job.objects.filter(provider_id=credential.pk, finished_at__isnull=True)
    if others.filter(state__in=Job.IN_FLIGHT).exclude(pk=job_id).exists():
        return False
    # A trial refused or ended since this job was routed: quiet again for the interval.
    quiet_since = timezone.now() - timedelta(seconds=settings.ROUTING_TRIAL_SECONDS)
    refused = Refusal.objects.filter(credential_id=credential.pk, at__gt=quiet_since)
    ended = Job.objects.filter(provider_id=credential.pk, finished_at__gt=quiet_since)
    return not (refused.exclude(error_class__in=PAUSING).exists() or ended.exists())


def with_passed(reason: str, passed: list[str]) -> str:
    """An Auto choice's reason once the providers before it did not take the job."""
    if not reason or not passed:
        return reason
    return _clip(f"{reason}; {_and(passed)} did not take it")


def _rank(policy, offered, model, resolution, now) -> list[tuple[ProviderCredential, str]]:
    """(provider, its standing in words) in the strategy's order; `offered` is by priority."""
    Routing = TeamPolicy.Routing
    if policy.routing == Routing.CHEAPEST:
        return _cheapest(offered, model, resolution)
    if policy.routing == Routing.FASTEST:
        return _fastest(offered, model, policy.routing_min_jobs, now)
    return [(c, f"{_ordinal(n, 'first')} by priority") for n, c in enumerate(offered, 1)]


def _cheapest(offered, model, resolution):
    prices = {c.pk: c.price_for(model, resolution) for c in offered}
    ordered = sorted(offered, key=lambda c: prices[c.pk])  # stable: ties stay by priority
    levels = sorted(set(prices.values()))
    ranked = []
    for credential in ordered:
        each = prices[credential.pk]
        tied = [c for c in ordered if prices[c.pk] == each]
        words = f"{_ordinal(levels.index(each) + 1)} cheapest, {_usd(each)} an image".lstrip()
        if len(tied) > 1:
            others = len(tied) - 1
            place = _ordinal(tied.index(credential) + 1, "first")
            words += f" (tied with {others} other{'s' * (others > 1)}; {place} by priority)"
        ranked.append((credential, words))
    return ranked


def _fastest(offered, model, min_jobs, now):
    figures = tally.figures("24h", model=model, credential_ids=[c.pk for c in offered], now=now)
    medians, counts = {}, {}
    for credential in offered:
        record = figures.get((credential.pk, str(model)))
        counts[credential.pk] = record.succeeded if record else 0
        if record and record.succeeded >= max(min_jobs, 1) and record.median_seconds is not None:
            medians[credential.pk] = record.median_seconds
    known = sorted((c for c in offered if c.pk in medians), key=lambda c: medians[c.pk])
    ranked = [
        (c, f"{_ordinal(n)} fastest over the last day, {medians[c.pk]} s median".lstrip())
        for n, c in enumerate(known, 1)
    ]
    unknown = [c for c in offered if c.pk not in medians]
    if not known:
        why = f"no provider has {min_jobs} jobs over the last day to judge speed by yet"
        return [(c, f"{_ordinal(n, 'first')} by priority; {why}") for n, c in enumerate(unknown, 1)]
    return ranked + [
        (c, f"by priority, its speed not known yet ({counts[c.pk]} of {min_jobs} jobs "
            "over the last day)")
        for c in unknown
    ]  # fmt: skip


def _ordinal(n: int, first: str = "") -> str:
    if n == 1:
        return first
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _usd(amount: Decimal) -> str:
    return f"${amount.normalize():f}" if amount < Decimal("0.01") else f"${amount:.2f}"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _clip(text: str, limit: int = 200) -> str:
    """Job.route_reason holds 200 characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
