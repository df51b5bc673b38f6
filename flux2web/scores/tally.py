"""Adding an attempt to a provider's record, and reading the record back over a window.

Each attempt is counted in two rows, its hour and its day (UTC), in the transaction that
ended it: the last 24 hours read 24 hour rows per provider and model, the last 7 or 30
days that many day rows ("the last 7 days" is today and the six days before). Times are
kept in whole seconds, so a median or p95 read from them is exact to the second.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from flux2web.scores.models import Tally

Span = Tally.Span

# What an attempt came to; each is a counter on Tally.
OUTCOMES = ("succeeded", "refused", "content", "vendor_error", "timed_out", "lost", "cancelled")

# window name: (the rows it reads, how many of them, the words for it)
WINDOWS = {
    "24h": (Span.HOUR, 24, "last 24 hours"),
    "7d": (Span.DAY, 7, "last 7 days"),
    "30d": (Span.DAY, 30, "last 30 days"),
}


@dataclass(frozen=True)
class Outcome:
    kind: str  # one of OUTCOMES
    seconds: float | None = None  # submit to stored, for a job that succeeded
    images: int = 0
    charged: Decimal = Decimal(0)
    listed: Decimal = Decimal(0)
    rate_limited: bool = False  # a refusal that was a 429
    credits: Decimal | None = None  # what the vendor reported it charged, if it did


def bucket_start(span: str, at: datetime) -> datetime:
    at = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0) if span == Span.DAY else at


def add(credential_id: int, model: str, outcome: Outcome, *, at=None, undo: bool = False):
    """Count one attempt (or take one back: `undo`) in its hour and its day. Call it in the
    transaction that ended the attempt, so the record never disagrees with the jobs."""
    if outcome.kind not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome.kind!r}")
    at = at or timezone.now()
    sign = -1 if undo else 1
    keys = [
        {
            "credential_id": credential_id,
            "model": str(model),
            "span": s,
            "start": bucket_start(s, at),
        }
        for s in (Span.HOUR, Span.DAY)
    ]
    if not undo:
        Tally.objects.bulk_create([Tally(**k) for k in keys], ignore_conflicts=True)
    counters = {
        "attempts": F("attempts") + sign,
        outcome.kind: F(outcome.kind) + sign,
        "changed_at": timezone.now(),
    }
    if outcome.rate_limited:
        counters["rate_limited"] = F("rate_limited") + sign
    if outcome.kind == "succeeded":
        counters |= {
            "images": F("images") + sign * outcome.images,
            "charged": F("charged") + sign * outcome.charged,
            "listed": F("listed") + sign * outcome.listed,
        }
        if outcome.credits is not None:
            counters |= {
                "reported": F("reported") + sign,
                "reported_credits": F("reported_credits") + sign * outcome.credits,
            }
    # Its own transaction when called alone (a test, a script); a savepoint in the job's.
    with transaction.atomic():
        for key in keys:
            _count(Tally.objects.filter(**key), outcome, counters, sign, undo=undo)


def _count(rows, outcome: Outcome, counters: dict, sign: int, *, undo: bool) -> None:
    """Add the counters to one bucket's row (`rows`: it alone)."""
    if undo:  # only what was counted is taken back: never a count below nothing
        rows = rows.filter(attempts__gt=0, **{f"{outcome.kind}__gt": 0})
    if outcome.seconds is None:
        rows.update(**counters)
        return
    row = rows.select_for_update().first()  # the times are one value: read, then write
    if row is None:
        return
    times = Counter(row.seconds)
    times[str(round(outcome.seconds))] += sign
    rows.update(**counters, seconds={k: n for k, n in times.items() if n > 0})


def percentile(times: Counter, q: float) -> int | None:
    """The nearest-rank q-th percentile (0 < q <= 1) of whole seconds counted in `times`."""
    total = sum(times.values())
    if not total:
        return None
    rank = max(1, -(-total * q // 1))  # ceil(total * q)
    seen = 0
    for seconds in sorted(times, key=int):
        seen += times[seconds]
        if seen >= rank:
            return int(seconds)
    return None


@dataclass
class Figures:
    """A provider's record for one model over a window."""

    credential_id: int
    model: str
    counts: Counter = field(default_factory=Counter)
    charged: Decimal = Decimal(0)
    listed: Decimal = Decimal(0)
    times: Counter = field(default_factory=Counter)
    reported_credits: Decimal = Decimal(0)

    def __getattr__(self, name):
        if name in COUNTED:
            return self.counts[name]
        raise AttributeError(name)

    @property
    def decided(self) -> int:
        """Attempts the vendor decided: those the person cancelled are not its doing."""
        return self.counts["attempts"] - self.counts["cancelled"]

    @property
    def success_rate(self) -> float | None:
        return self.counts["succeeded"] / self.decided if self.decided > 0 else None

    @property
    def median_seconds(self) -> int | None:
        return percentile(self.times, 0.5)

    @property
    def p95_seconds(self) -> int | None:
        return percentile(self.times, 0.95)

    @property
    def cost_per_image(self) -> Decimal | None:
        return self.charged / self.images if self.images else None

    @property
    def list_per_image(self) -> Decimal | None:
        return self.listed / self.images if self.images else None

    @property
    def reported_per_image(self) -> Decimal | None:
        """What the vendor said it charged per job, in its own unit, over the jobs for
        which it said (one image each)."""
        reported = self.counts["reported"]
        return self.reported_credits / reported if reported else None

    def take(self, row: Tally | dict) -> None:
        """Add a row's counts: a Tally, or a dict of its fields (window_values)."""
        get = row.__getitem__ if isinstance(row, dict) else row.__getattribute__
        counts = self.counts
        for name in COUNTED:
            counts[name] += get(name)
        self.charged += get("charged")
        self.listed += get("listed")
        self.reported_credits += get("reported_credits")
        times = self.times
        for seconds, n in get("seconds").items():
            times[seconds] += n


# Tally's counters beside its money and times.
COUNTED = (*OUTCOMES, "attempts", "rate_limited", "images", "reported")


def window_start(window: str, now=None) -> datetime:
    """The window's rows start after this (a key of WINDOWS)."""
    span, count, _ = WINDOWS[window]
    latest = bucket_start(span, now or timezone.now())
    step = timedelta(days=1) if span == Span.DAY else timedelta(hours=1)
    return latest - count * step


def window_rows(window: str, *, now=None):
    """The Tally rows of a window (a key of WINDOWS), oldest first."""
    span = WINDOWS[window][0]
    return Tally.objects.filter(span=span, start__gt=window_start(window, now)).order_by("start")


def window_values(window: str, *, now=None):
    """The window's rows as dicts of what Figures.take reads, with credential_id and model,
    in no order: a page reading a few hundred rows skips making a model of each."""
    fields = ("credential_id", "model", *COUNTED, "charged", "listed", "seconds")
    fields = (*fields, "reported_credits")
    return window_rows(window, now=now).order_by().values(*fields)


def figures(window: str, *, model: str | None = None, credential_ids=None, now=None):
    """{(credential id, model): Figures} over the window."""
    rows = window_rows(window, now=now)
    if model is not None:
        rows = rows.filter(model=str(model))
    if credential_ids is not None:
        rows = rows.filter(credential_id__in=list(credential_ids))
    found: dict[tuple[int, str], Figures] = {}
    for row in rows:
        key = (row.credential_id, row.model)
        found.setdefault(key, Figures(*key)).take(row)
    return found
