"""What each provider's jobs did, kept as running totals per hour and per day as jobs
end (written by `tally.add` in the job's own transaction), so that the scoreboard and
Auto's choices read a few hundred rows however many jobs there were."""

from __future__ import annotations

from django.db import models

from flux2web.credentials.models import ProviderCredential


class Tally(models.Model):
    class Span(models.TextChoices):
        HOUR = "hour"
        DAY = "day"

    credential = models.ForeignKey(ProviderCredential, on_delete=models.CASCADE, related_name="+")
    model = models.CharField(max_length=10)
    span = models.CharField(max_length=4, choices=Span.choices)
    start = models.DateTimeField()

    # Every attempt that ended here: the jobs that finished at this provider, and each
    # create it refused (a refused job may go on to another provider under Auto).
    attempts = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)  # refused before spending
    content = models.PositiveIntegerField(default=0)  # the vendor's content rules
    vendor_error = models.PositiveIntegerField(default=0)  # failed at the vendor
    timed_out = models.PositiveIntegerField(default=0)
    lost = models.PositiveIntegerField(default=0)  # uncertain: answer lost, task forgotten
    cancelled = models.PositiveIntegerField(default=0)  # by the person: not the vendor's
    rate_limited = models.PositiveIntegerField(default=0)  # 429s among the refusals
    images = models.PositiveIntegerField(default=0)
    # The succeeded jobs' images: what people were charged for them (the price set for the
    # provider), and what they cost at the provider's list price.
    charged = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    listed = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    # What the vendor said it charged, where it says (KIE's creditsConsumed, in its own
    # unit): the sum over the succeeded jobs that reported one, and how many did.
    reported = models.PositiveIntegerField(default=0)
    reported_credits = models.DecimalField(max_digits=16, decimal_places=4, default=0)
    # Time from submit to stored of each succeeded job, in whole seconds: {"14": 3, ...}.
    seconds = models.JSONField(default=dict)
    # When this row last changed: the scoreboard keeps its rendering under the latest of
    # its window's rows (team/scoreboard.py).
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "model", "span", "start"], name="tally_one_per_bucket"
            )
        ]
        indexes = [models.Index(fields=["span", "start"], name="tally_span_start")]

    def __str__(self):
        return f"{self.credential_id} {self.model} {self.span} {self.start:%Y-%m-%d %H:00}"


class Refusal(models.Model):
    """Append-only: each create a provider turned away before accepting it, by the
    provider's id (a rename keeps them) and when: Auto's health weighs them beside the
    jobs that ended there, and the record's rebuild counts them."""

    credential = models.ForeignKey(ProviderCredential, on_delete=models.CASCADE, related_name="+")
    model = models.CharField(max_length=10)
    at = models.DateTimeField()
    error_class = models.CharField(max_length=30)

    class Meta:
        indexes = [models.Index(fields=["credential", "at"], name="refusal_credential_at")]

    def __str__(self):
        return f"{self.credential_id} {self.error_class} at {self.at:%Y-%m-%d %H:%M}"
