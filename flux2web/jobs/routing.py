"""A request and its routing: what a person asks for before it becomes one job per image
(JobSpec), which providers it may go to, what it costs, and why none can take it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from flux2web.credentials.models import ProviderCredential

# Auto's choice lives in auto.py; callers (submitting, the scoreboard) ask routing for it.
from flux2web.jobs.auto import Choice, route
from flux2web.jobs.auto import Health as Health
from flux2web.jobs.auto import claim_trial as claim_trial
from flux2web.jobs.auto import provider_health as provider_health
from flux2web.jobs.auto import with_passed as with_passed
from flux2web.lib.addresses import ReferenceRule, fetch_problem, reference_problem
from flux2web.providers import catalog
from flux2web.providers.types import GenerationRequest


class JobRefused(Exception):
    """The request cannot be queued; `problems` say why, each naming its field."""

    def __init__(self, problems: list[catalog.Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class OverQuota(JobRefused):
    """Refused because it would break the person's limits (money, images, jobs in flight)."""


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
    # The personal API token it came with (/v1/), if it came through the API.
    api_token_id: int | None = None

    def visible_for(self, owner) -> bool:
        return owner.new_images_team_visible if self.team_visible is None else self.team_visible


class Attachments(Protocol):
    """Files that come with a request (uploaded references), stored only once it is
    accepted, in the transaction that creates its jobs."""

    def store(self, spec: JobSpec) -> JobSpec:
        """Write the files and their rows; the spec that refers to them."""

    def discard(self) -> None:
        """Remove the files `store` wrote (their rows roll back with the transaction)."""


def candidates(
    model: str, requested: ProviderCredential | None, *, resolution: str | None = None
) -> list[ProviderCredential]:
    """Providers to try, in order (route() without the reasons)."""
    return [choice.credential for choice in route(model, requested, resolution=resolution)]


def check_spec(spec: JobSpec) -> list[catalog.Problem]:
    """Every reason this cannot be queued."""
    return _offer_problems(spec) + reference_problems(spec)


def reference_rule(spec: JobSpec) -> ReferenceRule:
    """The strictest reference rule among the providers this request may go to: a
    provider pausing now (a rate limit) counts, since it may be back when the job is sent."""
    model = spec.request.model
    formats: set[str] | None = None
    max_bytes = settings.MAX_IMAGE_BYTES
    who = []
    if spec.provider is None:
        may_take = ProviderCredential.objects.enabled().by_priority()
    else:
        may_take = [spec.provider] if spec.provider.enabled else []
    for credential in (c for c in may_take if c.offers(model)):
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
        if url not in spec.trusted_references
        and url not in spec.fetched_references
        and url not in done
        and reference_problem(url, number=number) is None
        and url.lower().startswith(("http://", "https://"))
    ]
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
        return [
            catalog.Problem(
                "provider",
                f"{named.name} is paused until {when} (rate limit "
                "or maintenance); choose Auto or wait.",
            )
        ]
    options = candidates(request.model, named, resolution=request.resolution)
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


def chosen_route(spec: JobSpec) -> Choice | None:
    """Where this request would go first, and why (the reason is empty for a provider
    the person named)."""
    request = spec.request
    options = route(request.model, spec.provider, resolution=request.resolution)
    return next((c for c in options if not catalog.validate(c.credential.dialect, request)), None)


def chosen_provider(spec: JobSpec) -> ProviderCredential | None:
    """The provider this request would go to first."""
    choice = chosen_route(spec)
    return choice.credential if choice else None


def price_for(spec: JobSpec) -> Decimal:
    """Price per image where the request would likely go; what is reserved per job. A
    trial job for a provider Auto skips is likely refused or sent elsewhere (only one of a
    batch goes there), so the reservation is at the first choice that is not a trial;
    should the trial take it, its reservation moves to that price (ledger.reprice)."""
    request = spec.request
    options = [
        c
        for c in route(request.model, spec.provider, resolution=request.resolution)
        if not catalog.validate(c.credential.dialect, request)
    ]
    choice = next((c for c in options if not c.trial), None) or next(iter(options), None)
    if choice is None:
        return Decimal(0)
    return choice.credential.price_for(request.model, request.resolution)
