"""Compare providers: one request sent to several named providers side by side. Which of
them can take it (and why not), what it costs, and the request each one is sent."""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from flux2web.credentials.models import ProviderCredential
from flux2web.jobs import services
from flux2web.providers import catalog
from flux2web.providers.types import GenerationRequest

MIN_PROVIDERS = 2
MAX_PROVIDERS = 5


@dataclass(frozen=True)
class Entry:
    """One provider in the compare list: its price per image, or why it cannot take it."""

    credential: ProviderCredential
    price: Decimal | None
    reasons: tuple[str, ...]
    chosen: bool
    can: bool
    # What of the request this provider does not take, left out for it alone ("LiangXin: no
    # resolution setting; sent at 1:1"); empty when it is sent as asked.
    left_out: str = ""


@dataclass(frozen=True)
class Plan:
    """Every provider listed, and what follows from the choice, worked out once (a page
    reads these values and asks nothing more)."""

    entries: tuple[Entry, ...]
    every: bool
    # The providers the comparison goes to.
    takers: tuple[Entry, ...]
    # Providers chosen that cannot take it (for "every": enabled ones that cannot).
    refused: tuple[Entry, ...]
    total: Decimal
    problems: tuple[str, ...]  # why it cannot be sent as it is

    @property
    def seen(self) -> str:
        """The plan as a page shows it (who, and the total), carried back by the press:
        a press spends only on a plan that was on the page (the studio's `_compare`)."""
        pks = sorted(str(e.credential.pk) for e in self.takers)
        return f"{','.join(pks)}={self.total}" if self.takers else ""


def _plan(entries: list[Entry], every: bool) -> Plan:
    takers = tuple(e for e in entries if e.chosen and e.can)
    if every:
        refused = tuple(e for e in entries if e.credential.enabled and not e.can)
    else:
        refused = tuple(e for e in entries if e.chosen and not e.can)
    problems = []
    if not every and len([e for e in entries if e.chosen]) > MAX_PROVIDERS:
        problems = [f"Compare at most {MAX_PROVIDERS} providers at once."]
    elif not every and refused:
        problems = [f"{e.credential.name} cannot take it: {' '.join(e.reasons)}" for e in refused]
    elif len(takers) < MIN_PROVIDERS:
        problems = [
            "Choose at least two providers that can take this request"
            + (" (fewer than two enabled providers can)." if every else ".")
        ]
    total = sum((e.price or Decimal(0) for e in takers), Decimal(0))
    return Plan(tuple(entries), every, takers, refused, total, tuple(problems))


def request_for(request: GenerationRequest, credential: ProviderCredential) -> GenerationRequest:
    """The request as this provider is sent it: see `fitted`."""
    return fitted(request, credential)[0]


def fitted(request: GenerationRequest, credential: ProviderCredential):
    """(the request as this provider is sent it, what was left out for it, in words).

    A setting the provider does not take (a resolution, a seed, a custom size, a ratio it
    does not offer, upsampling, another vendor's option) is left out for it alone, as the
    comparison is of the providers, not of whether each takes every setting."""
    caps = catalog.capabilities(credential.dialect, request.model)
    if caps is None:
        return request, ""
    changes: dict = {}
    notes: list[str] = []
    sized = False
    if request.resolution and request.resolution.upper() not in caps.resolutions:
        if caps.resolutions:
            changes["resolution"] = caps.resolutions[0]
            notes.append(f"no {request.resolution}")
        else:
            changes["resolution"] = None
            notes.append("no resolution setting")
        sized = True
    if request.aspect_ratio and request.aspect_ratio not in caps.aspect_ratios:
        changes["aspect_ratio"] = caps.default_ratio if not caps.size_range else None
        notes.append(f"no {request.aspect_ratio} ratio")
        sized = True
    if (request.width or request.height) and not caps.size_range:
        changes.update(width=None, height=None)
        notes.append("no custom size")
        sized = True
    if request.seed is not None and not caps.seed:
        changes["seed"] = None
        notes.append("no seed")
    if request.prompt_upsampling and not caps.upsampling:
        changes["prompt_upsampling"] = False
        notes.append("no prompt upsampling")
    options = {k: v for k, v in request.options.items() if caps.option(k) is not None}
    sent = dataclasses.replace(request, options=options, **changes)
    if not notes:
        return sent, ""
    if sized:
        size = sent.aspect_ratio or (
            f"{sent.width}×{sent.height}" if sent.width and sent.height else "its default size"
        )
        size = f"{size}, {sent.resolution}" if sent.resolution else size
        notes.append(f"sent at {size}")
    return sent, f"{credential.name}: {'; '.join(notes)}"


def plan_for(
    request: GenerationRequest,
    *,
    credentials: list[ProviderCredential] | None = None,
    chosen: set[str],
    every: bool,
    trusted: frozenset[str] = frozenset(),
    fetched: frozenset[str] = frozenset(),
    blank_prompt_ok: bool = False,
) -> Plan:
    """Every provider, in priority order, with its price or why it cannot take `request`:
    `credentials` as the form lists them, else the enabled ones and any chosen since
    switched off (to say so). `blank_prompt_ok`: the form before anything is typed, where
    "write a prompt" would only repeat itself for each."""
    entries = []
    if credentials is None:
        named = [int(pk) for pk in chosen if pk.isascii() and pk.isdigit() and len(pk) < 10]
        credentials = ProviderCredential.objects.filter(Q(enabled=True) | Q(pk__in=named))
        credentials = list(credentials.by_priority())
    for credential in credentials:
        sent, left_out = fitted(request, credential)
        spec = services.JobSpec(
            request=sent,
            provider=credential,
            trusted_references=trusted,
            fetched_references=fetched,
        )
        problems = services.check_spec(spec)
        if blank_prompt_ok and not request.prompt.strip():
            problems = [p for p in problems if p.field != "prompt"]
        reasons = tuple(dict.fromkeys(p.message for p in problems))
        offered = credential.enabled and credential.offers(request.model)
        price = credential.price_for(sent.model, sent.resolution) if offered else None
        # Every: those that can; else each one ticked, a switched-off one too (to say why).
        picked = credential.enabled and not reasons if every else str(credential.pk) in chosen
        entries.append(Entry(credential, price, reasons, picked, not reasons, left_out))
    return _plan(entries, every)


def specs_for(plan: Plan, base: services.JobSpec) -> list[services.JobSpec]:
    """One spec per provider the comparison goes to, one image each, all with one seed:
    the person's, or one drawn now, so the same prompt can come out the same where the
    seed is honoured."""
    seed = base.request.seed
    if seed is None:
        seed = secrets.randbelow(catalog.SEED_MAX + 1)
    request = dataclasses.replace(base.request, seed=seed)
    return [
        dataclasses.replace(
            base,
            request=request_for(request, entry.credential),
            provider=entry.credential,
            count=1,
            random_seed=False,
        )
        for entry in plan.takers
    ]
