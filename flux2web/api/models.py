"""What the API keeps of a request: its Idempotency-Key (the same key and body from the same
token never creates twice; another body under it is a 409), and while it waits for its
images, its place among the token's requests waiting at once (`api/limits.py`)."""

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
    # Set while a connection waits for the images, cleared when it answers: a process that
    # died while waiting frees its place when this time passes.
    waiting_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "key"],
                condition=~models.Q(key=""),
                name="apirequest_one_per_key",
            )
        ]
        indexes = [models.Index(fields=["token", "waiting_until"], name="apirequest_waiting")]

    def __str__(self):
        return f"API request {self.pk} of token {self.token_id}"
