"""The job-request service: jobs from a request (form, CLI, retry, remix), checked and queued."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from flux2web.billing import ledger
from flux2web.jobs.dispatch import dispatch_submits
from flux2web.jobs.models import Comparison, Job, JobEvent
from flux2web.jobs.routing import (
    Attachments,
    JobRefused,
    JobSpec,
    OverQuota,
    check_spec,
    fetch_references,
    price_for,
)
from flux2web.providers import catalog

State = Job.State


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
    *,
    owner,
    spec: JobSpec,
    idempotency_key: str,
    attachments: Attachments | None = None,
    repeat_seconds: float = 0,
) -> tuple[list[Job], bool]:
    """(jobs, True) when this call queued them; (the earlier jobs, False) when the key had
    made them already (a double click), or when the person's last batch asked for exactly
    this less than `repeat_seconds` ago (a press on the form that came back with that
    batch, under a fresh key). Raises JobRefused.

    Nothing is written before every check has passed: `attachments` are stored in the
    transaction that creates the jobs, and removed again if it does not commit. The rows
    are committed before any provider call; the submit tasks are enqueued only once they are.
    """
    return _create(
        owner=owner,
        specs=[spec],
        idempotency_key=idempotency_key,
        attachments=attachments,
        repeat_seconds=repeat_seconds,
    )


def create_batch(*, owner, specs: list[JobSpec], idempotency_key: str) -> list[Job]:
    """Queue several requests (the lines of a prompt file) all or nothing: every request
    is checked, and the quota for the whole batch, before any job is created. Raises
    JobRefused; a repeated key returns the jobs it made."""
    return _create(owner=owner, specs=specs, idempotency_key=idempotency_key)[0]


def create_comparison(
    *,
    owner,
    specs: list[JobSpec],
    idempotency_key: str,
    attachments: Attachments | None = None,
    repeat_seconds: float = 0,
) -> tuple[list[Job], bool]:
    """One request sent to several named providers side by side: a job each, all or
    nothing, their price reserved together as one request, under one Comparison. Each
    spec names its provider (a named provider is never failed over, so no provider is
    asked twice and none is sent another's job); the references are stored once for all.
    (jobs, True) when this call queued them; (the earlier jobs, False) for a repeated key.
    A press that asks the same of the same providers within `repeat_seconds` of the
    person's last comparison is that comparison again (as for create_or_get_jobs).
    Raises JobRefused."""
    if len(specs) < 2 or any(spec.provider is None for spec in specs):
        raise ValueError("A comparison names two or more providers.")
    if len({spec.provider.pk for spec in specs}) != len(specs):
        raise ValueError("A comparison asks each provider once.")
    return _create(
        owner=owner,
        specs=specs,
        idempotency_key=idempotency_key,
        attachments=attachments,
        repeat_seconds=repeat_seconds,
        comparison=True,
    )


def _create(
    *,
    owner,
    specs,
    idempotency_key,
    attachments=None,
    repeat_seconds: float = 0,
    comparison: bool = False,
) -> tuple[list[Job], bool]:
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
            again = _compared_again if comparison else _pressed_again
            if repeat_seconds and (earlier := again(owner, specs, repeat_seconds)):
                return earlier, False
            over = ledger.over_quota(
                owner,
                price=prices[0],
                count=count,
                cost=cost,
                in_flight=Job.objects.for_user(owner).in_flight(),
            )
            if over:
                raise OverQuota(over)
            if comparison:
                specs = _stored_once(specs, attachments)
            elif attachments is not None:
                specs = [attachments.store(spec) for spec in specs]
            together = Comparison.objects.create(owner=owner) if comparison else None
            batch = Job(owner=owner).batch_id if comparison else None
            jobs = []
            for spec, price in zip(specs, prices, strict=True):
                jobs += _new_jobs(
                    owner,
                    spec,
                    price,
                    f"{idempotency_key}:",
                    first=len(jobs),
                    batch=batch,
                    comparison=together,
                )
            JobEvent.objects.bulk_create(
                JobEvent(job=j, kind=JobEvent.Kind.STATE, to_state=State.QUEUED, message="queued")
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


def _stored_once(specs: list[JobSpec], attachments: Attachments | None) -> list[JobSpec]:
    """The specs of a comparison with their uploads stored once, shared by every job."""
    if attachments is None:
        return specs
    first = attachments.store(specs[0])
    placeholders = set(specs[0].request.reference_urls) - set(first.request.reference_urls)
    added = [u for u in first.request.reference_urls if u not in specs[0].request.reference_urls]
    stored = [first]
    for spec in specs[1:]:
        kept = [u for u in spec.request.reference_urls if u not in placeholders]
        request = dataclasses.replace(spec.request, reference_urls=(*kept, *added))
        trusted = spec.trusted_references | frozenset(added)
        stored.append(dataclasses.replace(spec, request=request, trusted_references=trusted))
    return stored


def _asked(spec: JobSpec) -> dict:
    """The columns of each of its jobs that say what a request asked for (the seed aside:
    drawn per job): the request as Job.stored_request keeps it, and what the spec adds."""
    return {
        **Job.stored_request(spec.request),
        "seed_random": spec.random_seed,
        "requested_provider_id": spec.provider.pk if spec.provider else None,
        "remix_of_id": spec.remix_of_id,
        "api_token_id": spec.api_token_id,
    }


def _pressed_again(owner, specs: list[JobSpec], seconds: float) -> list[Job]:
    """The person's last batch, when it asked for exactly what `specs` ask and was queued
    less than `seconds` ago."""
    if len(specs) != 1:
        return []
    spec = specs[0]
    since = timezone.now() - timedelta(seconds=seconds)
    last = Job.objects.filter(owner=owner, created_at__gte=since).order_by("-pk").first()
    if last is None or (not spec.random_seed and last.seed != spec.request.seed):
        return []
    if any(getattr(last, name) != value for name, value in _asked(spec).items()):
        return []
    batch = list(Job.objects.filter(owner=owner, batch_id=last.batch_id).order_by("pk"))
    return batch if len(batch) == spec.count else []


def _compared_again(owner, specs: list[JobSpec], seconds: float) -> list[Job]:
    """The person's last comparison, when it asked the same of the same providers less than
    `seconds` ago (its seed aside: drawn per press when the person left it random)."""
    since = timezone.now() - timedelta(seconds=seconds)
    last = (
        Job.objects.filter(owner=owner, created_at__gte=since, comparison__isnull=False)
        .order_by("-pk")
        .first()
    )
    if last is None:
        return []
    earlier = list(Job.objects.filter(comparison_id=last.comparison_id).order_by("pk"))
    if len(earlier) != len(specs):
        return []
    for job, spec in zip(earlier, specs, strict=True):
        if any(getattr(job, name) != value for name, value in _asked(spec).items()):
            return []
    return earlier


def _new_jobs(
    owner, spec: JobSpec, price: Decimal, key: str, *, first: int, batch=None, comparison=None
) -> list[Job]:
    request = spec.request
    # A comparison's jobs share one batch, so the studio shows them as one card.
    batch = batch or Job(owner=owner).batch_id
    return [
        Job.objects.create(
            owner=owner,
            batch_id=batch,
            comparison=comparison,
            idempotency_key=f"{key}{first + n}",
            seed=secrets.randbelow(catalog.SEED_MAX + 1) if spec.random_seed else request.seed,
            price=price,
            team_visible=spec.visible_for(owner),
            **_asked(spec),
        )
        for n in range(spec.count)
    ]
