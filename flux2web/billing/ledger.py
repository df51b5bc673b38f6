"""Reserving, settling and refunding, and the quotas they are checked against.

Money rules: a job's price is reserved in the transaction that creates it, after the
person's row is locked, so simultaneous submissions cannot both squeeze under a limit.
Each job gets at most one entry of each kind (a unique constraint), so settling or
refunding twice, from racing workers or a retried task, changes nothing. The exception is
`adjust`: a job that fails over to a provider with another price has its reservation
moved to that price, after the same lock and the same limit check, before it is sent.

Billing stands below jobs and imports nothing of it: the jobs app calls these functions
inside its own transactions and hands over what only it knows (a job's price, how many
images were made, which of a person's jobs are in flight).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from flux2web.billing.models import LedgerEntry, Quota
from flux2web.providers.catalog import Problem

Kind = LedgerEntry.Kind
ZERO = Decimal(0)


def period_of(moment=None) -> date:
    """The first day of the (local) calendar month `moment` falls in."""
    return timezone.localtime(moment or timezone.now()).date().replace(day=1)


def next_period(period: date) -> date:
    days = calendar.monthrange(period.year, period.month)[1]
    return date.fromordinal(period.toordinal() + days)


# ---- Quotas. ---------------------------------------------------------------------------


def quota_for(user) -> Quota:
    """The person's own limits, else the team default, else no limits at all."""
    rows = {q.user_id: q for q in Quota.objects.filter(Q(user=user) | Q(user__isnull=True))}
    return rows.get(user.pk) or rows.get(None) or Quota()


@dataclass(frozen=True)
class Usage:
    quota: Quota
    period: date
    spent: Decimal  # settled plus still reserved or held, this month
    images: int
    in_flight: int | None  # the person's jobs queued or running, when the caller counted them
    # Worked out here, once: a page showing the quota line reads values and calls nothing
    # back in billing while it renders.
    resets_on: date = field(init=False)
    money_left: Decimal | None = field(init=False)  # None: no money limit
    images_left: int | None = field(init=False)  # None: no image limit

    def __post_init__(self):
        usd, images = self.quota.monthly_usd, self.quota.monthly_images
        set_ = object.__setattr__  # frozen
        set_(self, "resets_on", next_period(self.period))
        set_(self, "money_left", None if usd is None else max(ZERO, usd - self.spent))
        set_(self, "images_left", None if images is None else max(0, images - self.images))


def set_quota(*, user, **limits) -> Quota:
    """A person's own limits, or the team's default (no user): one row each, however many
    saves come at once (two tabs, a double click); the last one wins."""
    quota, _ = Quota.objects.update_or_create(user=user, defaults=limits)
    return quota


def usage(
    user, *, period: date | None = None, quota: Quota | None = None, in_flight: int | None = None
) -> Usage:
    """This month's spending and limits, and `in_flight` as the caller counted it (jobs are
    the jobs app's to count: `Job.objects.for_user(user).in_flight()`)."""
    period = period or period_of()
    sums = LedgerEntry.objects.filter(user=user, period=period).aggregate(
        spent=Sum("delta"), images=Sum("images")
    )
    return Usage(
        quota=quota or quota_for(user),
        period=period,
        # Unrounded: prices run to fractions of a cent, and a sum rounded down would let
        # a person past their limit. Pages round it as they show it.
        spent=sums["spent"] or ZERO,
        images=sums["images"] or 0,
        in_flight=in_flight,
    )


# ---- What a person's jobs cost, one line each. ------------------------------------------


@dataclass(frozen=True)
class JobLine:
    """A job's entries read together: a reservation and its charge are one cost, not two."""

    job: object  # the Job, read through the entry's foreign key
    at: datetime  # when its money last moved
    state: str  # reserved, charged, refunded or held
    counted: Decimal  # what it counts against the month: the sum of its entries' deltas
    note: str
    provider: object  # ProviderCredential or None


LINE_STATES = {Kind.SETTLE: "charged", Kind.REFUND: "refunded", Kind.HOLD: "held"}


def job_lines(user, *, period: date, limit: int = 200) -> tuple[list[JobLine], int]:
    """The person's jobs of the month, newest first (at most `limit`), and how many there
    are in all. The lines' `counted` add up to what usage() says was spent."""
    reserves = LedgerEntry.objects.filter(user=user, period=period, kind=Kind.RESERVE)
    ids = list(reserves.order_by("-at", "-id").values_list("job_id", flat=True)[:limit])
    entries = (
        LedgerEntry.objects.filter(job_id__in=ids)
        .select_related("job", "provider", "job__provider")
        .order_by("at", "id")
    )
    by_job: dict[int, list[LedgerEntry]] = {}
    for entry in entries:
        by_job.setdefault(entry.job_id, []).append(entry)
    lines = [_line(by_job[job_id]) for job_id in ids if job_id in by_job]
    total = reserves.count() if len(ids) == limit else len(ids)
    return lines, total


def _line(entries: list[LedgerEntry]) -> JobLine:
    kinds = {e.kind: e for e in entries}
    ending = kinds.get(Kind.SETTLE) or kinds.get(Kind.REFUND)
    if ending is not None:
        state, note = LINE_STATES[ending.kind], ending.note
        if ending.kind == Kind.REFUND:  # counts nothing; say what came back
            note = ", ".join(filter(None, [f"{_money(ending.amount)} given back", note]))
    else:
        state = "held" if Kind.HOLD in kinds else "reserved"
        moves = [e.note for e in entries if e.kind == Kind.ADJUST]
        note = "; ".join(filter(None, [kinds[Kind.HOLD].note if state == "held" else "", *moves]))
    job = entries[0].job
    provider = next((e.provider for e in reversed(entries) if e.provider_id), None)
    return JobLine(
        job=job,
        at=entries[-1].at,
        state=state,
        counted=sum((e.delta for e in entries), ZERO),
        note=note,
        provider=provider or job.provider,
    )


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def over_quota(
    user, *, price: Decimal, count: int, in_flight, cost: Decimal | None = None
) -> list[Problem]:
    """Why `count` more images at `price` each (or costing `cost` together, for a batch at
    several prices) would break the person's limits; [] if not. `in_flight` is a QuerySet
    of the person's jobs in flight, counted only when there is a limit to check."""
    quota = quota_for(user)
    if quota.unlimited:  # on every submission: no sums to take when there is nothing to check
        return []
    now = usage(user, quota=quota, in_flight=in_flight.count())
    resets = f"{now.resets_on:%-d %B}"
    cost = price * count if cost is None else cost
    said = []
    if quota.monthly_usd is not None and now.spent + cost > quota.monthly_usd:
        said.append(
            f"Over your monthly limit: this would cost {_money(cost)} and you have "
            f"{_money(now.money_left)} left of {_money(quota.monthly_usd)} (it resets on {resets})."
        )
    if quota.monthly_images is not None and now.images + count > quota.monthly_images:
        images = f"{count} image{'s' if count > 1 else ''}"
        said.append(
            f"Over your monthly limit: this would make {images} and you have "
            f"{now.images_left} of {quota.monthly_images} left (it resets on {resets})."
        )
    if quota.max_in_flight and now.in_flight + count > quota.max_in_flight:
        said.append(
            f"You may have {quota.max_in_flight} jobs in flight at once and have "
            f"{now.in_flight}; wait for some to finish or make fewer images."
        )
    return [Problem("count", text) for text in said]


def lock_person(user) -> None:
    """Serialise reservations per person (PostgreSQL row lock; SQLite's write lock does
    the same there, as every transaction begins IMMEDIATE)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


# ---- Ledger entries. -------------------------------------------------------------------


def reserve(jobs: list) -> None:
    """Called inside the transaction that creates the jobs."""
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            job=job,
            user_id=job.owner_id,
            kind=Kind.RESERVE,
            amount=job.price,
            delta=job.price,
            images=1,
            period=period_of(job.created_at),
            at=job.created_at,
        )
        for job in jobs
    )


def _entries(job_id: int) -> dict[str, LedgerEntry]:
    return {e.kind: e for e in LedgerEntry.objects.filter(job_id=job_id)}


def _held(job_id: int, reserve: LedgerEntry) -> Decimal:
    """What is reserved for the job now: the reservation plus any price moves."""
    moved = LedgerEntry.objects.filter(job_id=job_id, kind=Kind.ADJUST).aggregate(s=Sum("delta"))
    return reserve.amount + (moved["s"] or ZERO)


def reprice(job_id: int, price: Decimal, *, provider=None) -> str:
    """Move a job's reservation to `price`, the price where it is about to be sent.
    Returns '' when done, else why it would pass the person's monthly limit (and then
    nothing changes). Call inside the transaction that records where the job goes."""
    # The reservation names the person (entries are never changed); lock before reading on.
    first = LedgerEntry.objects.filter(job_id=job_id, kind=Kind.RESERVE).first()
    if first is None:
        return ""
    owner = get_user_model().objects.get(pk=first.user_id)
    lock_person(owner)
    entries = _entries(job_id)
    reserve = entries.get(Kind.RESERVE)
    if Kind.SETTLE in entries or Kind.REFUND in entries:
        return ""
    held = _held(job_id, reserve)
    change = price - held
    if not change:
        return ""
    if change > 0:
        quota = quota_for(owner)
        if quota.monthly_usd is not None:
            now = usage(owner, period=reserve.period, quota=quota)
            if now.spent + change > quota.monthly_usd:
                return (
                    f"{_money(price)} would pass your monthly limit "
                    f"({_money(now.money_left + held)} of {_money(quota.monthly_usd)} left "
                    "for this image)"
                )
    LedgerEntry.objects.create(
        job_id=job_id,
        user_id=reserve.user_id,
        kind=Kind.ADJUST,
        amount=price,
        delta=change,
        period=reserve.period,
        provider=provider,
        note=f"moved from {_money(held)}",
    )
    return ""


def _add(
    reserve: LedgerEntry, kind: str, *, amount, delta, images=0, note="", provider_id=None
) -> bool:
    """Write the entry unless a racing twin (or the opposite ending) got there first."""
    entry = LedgerEntry(
        job_id=reserve.job_id,
        user_id=reserve.user_id,
        kind=kind,
        amount=amount,
        delta=delta,
        images=images,
        period=reserve.period,
        note=note,
        provider_id=provider_id,
    )
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction goes on
            entry.save()
    except IntegrityError:
        return False
    return True


def settle(
    job_id: int, *, price: Decimal, made: int, provider_id: int | None, note: str = ""
) -> bool:
    """Charge `made` images at `price` each (the job's price where it was made). False if
    nothing to do."""
    entries = _entries(job_id)
    reserve = entries.get(Kind.RESERVE)
    if reserve is None or Kind.SETTLE in entries or Kind.REFUND in entries:
        return False
    charged = price * made
    return _add(
        reserve,
        Kind.SETTLE,
        amount=charged,
        delta=charged - _held(job_id, reserve),
        images=made - 1,
        note=note,
        provider_id=provider_id,
    )


def refund(job_id: int, *, provider_id: int | None, note: str = "") -> bool:
    entries = _entries(job_id)
    reserve = entries.get(Kind.RESERVE)
    if reserve is None or Kind.SETTLE in entries or Kind.REFUND in entries:
        return False
    held = _held(job_id, reserve)
    return _add(
        reserve,
        Kind.REFUND,
        amount=held,
        delta=-held,
        images=-1,
        note=note,
        provider_id=provider_id,
    )


def hold(job_id: int) -> bool:
    entries = _entries(job_id)
    reserve = entries.get(Kind.RESERVE)
    if reserve is None or Kind.HOLD in entries or Kind.SETTLE in entries or Kind.REFUND in entries:
        return False
    # Nothing moves: the reservation simply stays until an admin decides.
    return _add(
        reserve,
        Kind.HOLD,
        amount=_held(job_id, reserve),
        delta=ZERO,
        note="answer lost; may be charged",
    )


def resolved(job_id: int) -> bool:
    """Whether the job's money is decided: settled or refunded."""
    return LedgerEntry.objects.filter(job_id=job_id, kind__in=[Kind.SETTLE, Kind.REFUND]).exists()
