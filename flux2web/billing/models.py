"""Quotas and the ledger: every image charged to someone, never a counter kept on the side.

The tables keep the names they had in the team app (team_quota, team_ledgerentry), so
moving the models here touched no row."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from flux2web.credentials.models import ProviderCredential


class Quota(models.Model):
    """Monthly limits. The row without a user is the team's default; a person's own row
    replaces it whole. An empty limit means no limit."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="quota",
    )
    monthly_usd = models.DecimalField(
        "money per month (USD)", max_digits=10, decimal_places=2, null=True, blank=True
    )
    monthly_images = models.PositiveIntegerField("images per month", null=True, blank=True)
    max_in_flight = models.PositiveIntegerField("jobs in flight at once", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "team_quota"
        constraints = [
            # One default (user NULL, counted as 0) and at most one row per person.
            models.UniqueConstraint(Coalesce("user", 0), name="quota_one_per_user_and_default")
        ]

    def __str__(self):
        return f"Quota for {self.user or 'the team'}"

    @property
    def unlimited(self) -> bool:
        return self.monthly_usd is None and self.monthly_images is None and not self.max_in_flight


class LedgerEntry(models.Model):
    """Append-only. `delta` is what the entry changes in what counts against the person's
    month (`period`); balances are sums of entries. One entry of each kind per job."""

    class Kind(models.TextChoices):
        RESERVE = "reserve"  # when the job is created, in the same transaction
        SETTLE = "settle"  # it succeeded: charged at the price of what was made
        REFUND = "refund"  # it failed, was cancelled or timed out: nothing charged
        HOLD = "hold"  # uncertain: stays reserved until an admin decides
        # it moved to a provider with another price: the reservation follows (one per move)
        ADJUST = "adjust"

    # Named, not imported: billing stands below jobs, which calls it (docs/architecture.md).
    job = models.ForeignKey("jobs.Job", on_delete=models.PROTECT, related_name="ledger")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        ProviderCredential, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=4)
    delta = models.DecimalField(max_digits=10, decimal_places=4)
    images = models.IntegerField(default=0, help_text="Change in images counted this month.")
    period = models.DateField(help_text="First day of the month this counts against.")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "team_ledgerentry"
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "kind"],
                condition=~models.Q(kind="adjust"),
                name="ledger_one_kind_per_job",
            ),
            # Charged or refunded, never both, even when two workers race to decide.
            models.UniqueConstraint(
                fields=["job"],
                condition=models.Q(kind__in=["settle", "refund"]),
                name="ledger_one_ending_per_job",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "period"], name="ledger_user_period"),
            models.Index(fields=["period", "kind"], name="ledger_period_kind"),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount} for job {self.job_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only.")
        super().save(*args, **kwargs)
