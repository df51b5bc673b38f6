"""What the API keeps of a request: its Idempotency-Key (the same key and body from the same
token never creates twice; another body under it is a 409); and of each connection waiting
for images, its place among the token's requests waiting at once (api/generating.py)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ApiRequest(models.Model):
    token = models.ForeignKey("accounts.ApiToken", on_delete=models.CASCADE, related_name="+")
    # The client's Idempotency-Key as a SHA-256 (any length or characters fit); blank when
    # it sent none.
    key = models.CharField(max_length=64, blank=True)
    # The SHA-256 of what was asked (the body, files included), to tell a retry from
    # another request reusing the key.
    digest = models.CharField(max_length=64)
    # The jobs it made, in order (the job_requests idempotency key they share).
    batch_key = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "key"],
                condition=~models.Q(key=""),
                name="apirequest_one_per_key",
            )
        ]
        indexes = [models.Index(fields=["token", "created_at"], name="apirequest_token_recent")]

    def __str__(self):
        return f"API request {self.pk} of token {self.token_id}"


class ApiWait(models.Model):
    """One connection waiting for images (two retries of one request are two): deleted when
    it answers; one whose process died frees its place when `until` passes."""

    token = models.ForeignKey("accounts.ApiToken", on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["token", "until"], name="apiwait_token_until")]

    def __str__(self):
        return f"A wait of token {self.token_id} until {self.until:%H:%M:%S}"
