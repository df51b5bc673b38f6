"""Counting each job in its provider's record (scores) once, as it ends at that provider,
and each create a provider refused; and rebuilding the record from what the jobs kept.

One rule decides what a job counts as, read off what the job row keeps (its state, its
error class, whether a provider accepted it), so that the count made as a job moves and
the count rebuilt later from the same rows agree.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from flux2web.billing.models import LedgerEntry
from flux2web.credentials.models import ProviderCredential
from flux2web.jobs.models import Image, Job, JobEvent
from flux2web.jobs.states import State
from flux2web.providers import catalog
from flux2web.providers.types import ErrorClass, ProviderError
from flux2web.scores import tally
from flux2web.scores.models import Refusal, Tally

log = logging.getLogger(__name__)

# What the transition decides on, and what the rebuild reads, of a job.
COLUMNS = (
    "state",
    "error_class",
    "provider_id",
    "provider__dialect",
    "model",
    "resolution",
    "price",
    "submitted_at",
    "mirrored_at",
    "finished_at",
    "provider_credits",
)
# The moves that can end a job at its provider (or take a "lost" back).
COUNTED = (State.SUCCEEDED, State.FAILED, State.TIMED_OUT, State.CANCELLED, State.UNCERTAIN)


def kind_of(state: str, error_class: str, *, accepted: bool) -> str | None:
    """What a job in `state` counts as in its provider's record, or None (not counted).

    A job never accepted (no submitted_at) failed or was cancelled before any provider took
    it: each provider that refused it was counted at the refusal (`refused`), so the job's
    own failure is not counted again. An uncertain job was sent, and its answer lost."""
    if state == State.UNCERTAIN:
        return "lost"
    if not accepted:
        return None
    if state == State.SUCCEEDED:
        return "succeeded"
    if state == State.FAILED:
        return "content" if error_class == ErrorClass.CONTENT_POLICY else "vendor_error"
    if state == State.TIMED_OUT:
        return "timed_out"
    if state == State.CANCELLED:
        return "cancelled"
    return None


def outcome_of(row: dict, kind: str, *, made: int = 0, charged=None) -> tally.Outcome:
    """The Outcome of a job (a dict of COLUMNS) that counts as `kind`: for a success, its
    time from submit to stored, the images made and what people were charged for them
    (`charged`: the ledger's settled amount, else the job's price for each image) against
    the list price, and what the vendor reported it charged, if it did."""
    if kind != "succeeded":
        return tally.Outcome(kind)
    made = max(1, made)  # as the ledger charges: the provider charged for what it made
    stored = row["mirrored_at"] or row["finished_at"]
    seconds = None
    if row["submitted_at"] and stored:
        seconds = max(0.0, (stored - row["submitted_at"]).total_seconds())
    caps = catalog.capabilities(row["provider__dialect"], row["model"])
    listed = caps.price_for(row["resolution"]) * made if caps else Decimal(0)
    if charged is None:
        charged = Decimal(row["price"] or 0) * made
    credits = row.get("provider_credits")
    return tally.Outcome(
        kind, seconds=seconds, images=made, charged=Decimal(charged), listed=listed,
        credits=None if credits is None else Decimal(credits),
    )  # fmt: skip


def follow(job_id: int, from_state: str, to: str) -> None:
    """Count the job in its provider's record if this move ended it there; called by
    `transition()` in the move's transaction, after the ledger's entry. A slip here is
    logged and never stops the move (tests, with JOB_TRANSITIONS_STRICT, see it raise)."""
    if to not in COUNTED and not (from_state == State.UNCERTAIN and to == State.RUNNING):
        return
    try:
        with transaction.atomic():
            _follow(job_id, from_state, to)
    except Exception:
        if getattr(settings, "JOB_TRANSITIONS_STRICT", False):
            raise
        log.exception("job %s: not counted in its provider's record", job_id)


def _follow(job_id: int, from_state: str, to: str) -> None:
    row = Job.objects.filter(pk=job_id).values(*COLUMNS).first()
    if row is None or row["provider_id"] is None:
        return
    if to == State.RUNNING:
        # Found again after its answer was lost: the "lost" it counted is taken back, in
        # the hour it was counted; it will count again when it ends.
        lost_at = (
            JobEvent.objects.filter(job_id=job_id, to_state=State.UNCERTAIN)
            .order_by("-at", "-pk")
            .values_list("at", flat=True)
            .first()
        )
        if lost_at is not None:
            lost = tally.Outcome("lost")
            tally.add(row["provider_id"], row["model"], lost, at=lost_at, undo=True)
        return
    kind = kind_of(to, row["error_class"], accepted=row["submitted_at"] is not None)
    if kind is None:
        return
    made = charged = None
    if kind == "succeeded":
        made = Image.objects.filter(job_id=job_id).count()
        charged = (
            LedgerEntry.objects.filter(job_id=job_id, kind=LedgerEntry.Kind.SETTLE)
            .values_list("amount", flat=True)
            .first()
        )
    outcome = outcome_of(row, kind, made=made or 0, charged=charged)
    tally.add(row["provider_id"], row["model"], outcome, at=row["finished_at"])


def refused(job: Job, credential: ProviderCredential, error: ProviderError) -> None:
    """A provider turned a create away before accepting it: counted for that provider,
    whatever becomes of the job (Auto may send it elsewhere). A create whose answer was
    lost is not a refusal: the job goes uncertain, and counts as lost there."""
    if error.accepted_maybe:
        return
    kind = "content" if error.error_class == ErrorClass.CONTENT_POLICY else "refused"
    limited = error.error_class == ErrorClass.RATE_LIMITED
    now = timezone.now()
    tally.add(credential.pk, job.model, tally.Outcome(kind, rate_limited=limited), at=now)
    # Kept by the provider's id and time: Auto's health weighs it, a rebuild counts it.
    Refusal.objects.create(
        credential_id=credential.pk, model=str(job.model), at=now, error_class=error.error_class
    )


# Refusals older than the scoreboard's longest window are read by nothing: Auto weighs the
# last hour, and a rebuild's older buckets are shown nowhere. Maintenance deletes them.
REFUSALS_KEPT = timedelta(days=31)


def forget_old_refusals(now=None) -> int:
    """Delete the refusals nothing reads any more; how many went."""
    since = (now or timezone.now()) - REFUSALS_KEPT
    deleted, _ = Refusal.objects.filter(at__lt=since).delete()
    return deleted


# ---- Rebuilding the record from the jobs' rows (a migration, `manage.py scores rebuild`) ----

# The note submitting writes for a refused create: "<provider> refused: <class>: <words>".
REFUSAL_NOTE = re.compile(r"^(?P<name>.+?) refused: (?P<error_class>[a-z_]+): ")
BATCH = 5000
TOTALS = ("attempts", "rate_limited", "images", "reported")


@dataclass
class _Bucket:
    counts: Counter = field(default_factory=Counter)
    charged: Decimal = Decimal(0)
    listed: Decimal = Decimal(0)
    reported_credits: Decimal = Decimal(0)
    seconds: Counter = field(default_factory=Counter)

    def add(self, outcome: tally.Outcome) -> None:
        self.counts["attempts"] += 1
        self.counts[outcome.kind] += 1
        self.counts["rate_limited"] += int(outcome.rate_limited)
        if outcome.kind == "succeeded":
            self.counts["images"] += outcome.images
            self.charged += outcome.charged
            self.listed += outcome.listed
            if outcome.credits is not None:
                self.counts["reported"] += 1
                self.reported_credits += outcome.credits
            if outcome.seconds is not None:
                self.seconds[str(round(outcome.seconds))] += 1


def rebuild(*, batch: int = BATCH, models=None) -> int:
    """Replace the providers' record with one counted afresh from every job's row and
    every refusal kept, reading the jobs `batch` at a time; returns the Tally rows written.
    Run it with no workers moving jobs (a migration, or a quiet moment): a job ending
    while it runs may be counted twice or not at all. `models` lets a migration pass its
    historical models (a dict by name)."""
    m = models or {
        "Job": Job,
        "JobEvent": JobEvent,
        "LedgerEntry": LedgerEntry,
        "ProviderCredential": ProviderCredential,
        "Tally": Tally,
        "Refusal": Refusal,
    }
    buckets: dict[tuple, _Bucket] = {}

    def count(credential_id: int, model: str, at: datetime, outcome: tally.Outcome) -> None:
        for span in (tally.Span.HOUR, tally.Span.DAY):
            key = (credential_id, str(model), span, tally.bucket_start(span, at))
            buckets.setdefault(key, _Bucket()).add(outcome)

    settled = m["LedgerEntry"].objects.filter(job=OuterRef("pk"), kind="settle")
    lost_at = m["JobEvent"].objects.filter(job=OuterRef("pk"), to_state=State.UNCERTAIN)
    jobs = (
        m["Job"]
        .objects.filter(provider__isnull=False, state__in=COUNTED)
        .annotate(
            made=Count("images"),
            charged=Subquery(settled.values("amount")[:1]),
            lost_at=Subquery(lost_at.order_by("-at", "-pk").values("at")[:1]),
        )
        .order_by("pk")
    )
    last = 0
    while True:
        rows = list(
            jobs.filter(pk__gt=last).values("pk", "made", "charged", "lost_at", *COLUMNS)[:batch]
        )
        if not rows:
            break
        last = rows[-1]["pk"]
        for row in rows:
            accepted = row["submitted_at"] is not None
            kind = kind_of(row["state"], row["error_class"], accepted=accepted)
            at = row["lost_at"] if kind == "lost" else row["finished_at"]
            if kind is None or at is None:
                continue
            outcome = outcome_of(row, kind, made=row["made"], charged=row["charged"])
            count(row["provider_id"], row["model"], at, outcome)

    def refusal(credential_id: int, model: str, at: datetime, error_class: str) -> None:
        kind = "content" if error_class == ErrorClass.CONTENT_POLICY else "refused"
        limited = error_class == ErrorClass.RATE_LIMITED
        count(credential_id, model, at, tally.Outcome(kind, rate_limited=limited))

    # Each refusal is kept by the provider's id (scores.Refusal), so a rename keeps it.
    # Refusals from before those were kept are read off the jobs' notes, by the provider's
    # name: one renamed since cannot be placed.
    kept_since = None
    if "Refusal" in m:
        refusals = m["Refusal"].objects.order_by("pk")
        kept_since = refusals.values_list("at", flat=True).first()
        rows = refusals.values_list("credential_id", "model", "at", "error_class")
        for credential_id, model, at, error_class in rows.iterator(chunk_size=batch):
            refusal(credential_id, model, at, error_class)
    by_name = dict(m["ProviderCredential"].objects.values_list("name", "pk"))
    notes = m["JobEvent"].objects.filter(kind="note", message__contains=" refused: ")
    if kept_since is not None:
        notes = notes.filter(at__lt=kept_since)
    notes = notes.values_list("message", "at", "job__model").order_by("pk")
    for message, at, model in notes.iterator(chunk_size=batch):
        found = REFUSAL_NOTE.match(message)
        if found is not None and found["name"] in by_name:
            refusal(by_name[found["name"]], model, at, found["error_class"])

    TallyModel = m["Tally"]
    # A migration's historical Tally may predate some counters: those are left out.
    has = {f.name for f in TallyModel._meta.get_fields()}
    now = timezone.now()
    with transaction.atomic():
        TallyModel.objects.all().delete()
        TallyModel.objects.bulk_create(
            (
                TallyModel(
                    credential_id=credential_id,
                    model=model,
                    span=span,
                    start=start,
                    seconds=dict(b.seconds),
                    changed_at=now,
                    **{
                        name: value
                        for name, value in (
                            ("charged", b.charged),
                            ("listed", b.listed),
                            ("reported_credits", b.reported_credits),
                            *((name, b.counts[name]) for name in (*tally.OUTCOMES, *TOTALS)),
                        )
                        if name in has
                    },
                )
                for (credential_id, model, span, start), b in buckets.items()
            ),
            batch_size=1000,
        )
    return len(buckets)


def keep_reported(job_id: int, status) -> None:
    """What the vendor says of its own time and cost for a task (KIE's costTime and
    creditsConsumed), kept on the job beside ours for the job page and the compare card."""
    said = {
        "provider_seconds": status.reported_seconds,
        "provider_credits": status.reported_credits,
    }
    if said := {name: value for name, value in said.items() if value is not None}:
        Job.objects.filter(pk=job_id, state=State.RUNNING).update(**said)
