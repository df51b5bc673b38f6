"""The team's provider accounts: which reseller, where, and its key (encrypted at rest)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from flux2web.lib import crypto
from flux2web.providers import client_for
from flux2web.providers.base import DialectClient
from flux2web.providers.catalog import DIALECTS, limit_words
from flux2web.providers.redact import scrub

DIALECT_CHOICES = [(name, dialect.label) for name, dialect in DIALECTS.items()]


MAX_SECRET_LENGTH = 500


def check_secret(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(f"The {what} is empty.")
    if any(ch.isspace() for ch in value):
        raise ValidationError(f"The {what} contains spaces or line breaks; paste it again.")
    if len(value) > MAX_SECRET_LENGTH:
        raise ValidationError(
            f"The {what} is longer than {MAX_SECRET_LENGTH} characters; no provider's is."
        )
    if "\x00" in value:
        raise ValidationError(f"The {what} contains a NUL character; paste it again.")
    return value


class ProviderCredentialQuerySet(models.QuerySet):
    def enabled(self):
        return self.filter(enabled=True)

    def available(self, now=None):
        """Enabled and not cooling down: what routing may send new work to."""
        now = now or timezone.now()
        return self.filter(enabled=True).filter(
            models.Q(cooldown_until__isnull=True) | models.Q(cooldown_until__lte=now)
        )

    def by_priority(self):
        return self.order_by("priority", "name")


class ProviderCredential(models.Model):
    name = models.CharField(max_length=60, unique=True)
    dialect = models.CharField(max_length=20, choices=DIALECT_CHOICES)
    base_url = models.URLField(max_length=300)
    # The secrets are only ever stored encrypted; the last four characters let a person
    # recognise a key without revealing it.
    api_key_encrypted = models.TextField(editable=False)
    api_key_last4 = models.CharField(max_length=4, editable=False)
    hmac_key_encrypted = models.TextField(blank=True, editable=False)
    priority = models.PositiveIntegerField(default=100, help_text="Lower numbers are tried first.")
    enabled = models.BooleanField(default=True)
    # Why it was switched off by the health policy ("auth": key refused, "credits": account
    # empty); empty when an admin switched it off or it is on.
    disabled_reason = models.CharField(max_length=20, blank=True, editable=False)
    # Rate limits and maintenance pause routing to it until then.
    cooldown_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The admin's own price per image, {"pro": {"1K": "0.05", ...}}; the catalog's otherwise.
    prices = models.JSONField(default=dict, blank=True)
    # The models this account may be used for; empty means all its dialect offers.
    models_offered = models.JSONField(default=list, blank=True)
    # Its own limit on new tasks (a clone, a paid tier): at most `count` per `seconds`.
    # Both empty: the dialect's documented limit; a count of 0: none at all.
    create_limit_count = models.PositiveIntegerField(null=True, blank=True)
    create_limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error_class = models.CharField(max_length=30, blank=True, editable=False)
    last_error_message = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProviderCredentialQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"<ProviderCredential {self.name} ({self.dialect})>"

    def set_api_key(self, value: str):
        value = check_secret(value, "API key")
        self.api_key_encrypted = crypto.encrypt(value)
        self.api_key_last4 = value[-4:]

    def set_hmac_key(self, value: str | None):
        self.hmac_key_encrypted = (
            crypto.encrypt(check_secret(value, "webhook HMAC key")) if value else ""
        )

    @property
    def key_hint(self) -> str:
        return f"…{self.api_key_last4}" if self.api_key_last4 else "(none)"

    @property
    def has_hmac_key(self) -> bool:
        return bool(self.hmac_key_encrypted)

    @property
    def cooling(self) -> bool:
        return self.cooldown_until is not None and self.cooldown_until > timezone.now()

    @property
    def create_limit(self) -> tuple[int, int] | None:
        """(tasks, seconds) this account accepts, or None for no limit."""
        if self.create_limit_count is None:
            return DIALECTS[self.dialect].create_limit
        if self.create_limit_count == 0 or not self.create_limit_seconds:
            return None
        return self.create_limit_count, self.create_limit_seconds

    @property
    def create_limit_words(self) -> str:
        own = "" if self.create_limit_count is not None else " (the vendor's documented limit)"
        return limit_words(self.create_limit) + own

    @property
    def first_poll_seconds(self) -> float | None:
        """When we first ask the vendor about a new task, polling without a callback."""
        dialect = DIALECTS.get(self.dialect)
        caps = next(iter(dialect.models.values()), None) if dialect else None
        return caps.schedule.first_after if caps else None

    def offers(self, model) -> bool:
        model = str(model)
        if self.models_offered and model not in self.models_offered:
            return False
        return DIALECTS[self.dialect].offers(model)

    def price_for(self, model, resolution: str | None) -> Decimal:
        """Price per image: the admin's figure for this model and resolution, or the catalog's."""
        caps = DIALECTS[self.dialect].capabilities(model)
        default = caps.price_for(resolution) if caps else Decimal(0)
        own = (self.prices or {}).get(str(model), {})
        key = (resolution or "").upper() or next(iter(caps.prices), "") if caps else ""
        try:
            return Decimal(str(own[key])) if key in own else default
        except (ArithmeticError, ValueError):
            return default

    def api_key(self) -> str:
        return crypto.decrypt(self.api_key_encrypted)

    def hmac_key(self) -> str:
        return crypto.decrypt(self.hmac_key_encrypted) if self.hmac_key_encrypted else ""

    def scrub(self, text: str) -> str:
        """`text` without this account's secrets or anything shaped like a secret."""
        try:
            secrets = (self.api_key(), self.hmac_key())
        except Exception:  # a key that no longer decrypts: the patterns still apply
            secrets = ()
        return scrub(text, secrets)

    def client(self, **options) -> DialectClient:
        """A client speaking this provider's dialect with its key; close it after use."""
        return client_for(
            self.dialect,
            base_url=self.base_url,
            api_key=self.api_key(),
            hmac_key=self.hmac_key(),
            name=self.name,
            **options,
        )


class CredentialError(models.Model):
    """Append-only: each error a provider gave, for health by class over recent hours."""

    credential = models.ForeignKey(
        ProviderCredential, on_delete=models.CASCADE, related_name="errors"
    )
    at = models.DateTimeField(default=timezone.now)
    error_class = models.CharField(max_length=30)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["credential", "-at"], name="credential_error_recent")]

    def __str__(self):
        return f"{self.credential_id} {self.error_class} at {self.at:%Y-%m-%d %H:%M}"


class CreateWindow(models.Model):
    """When the latest new tasks went to one account: the sliding window its create limit
    is kept under. One row per credential, locked while a slot is taken, so every worker
    process on every machine counts the same sends (credentials/pacing.py)."""

    credential = models.OneToOneField(
        ProviderCredential, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # Unix times of the latest sends, oldest first; at most the limit's count of them.
    sent = models.JSONField(default=list)

    def __str__(self):
        return f"create window of {self.credential_id}"


def polling_words(credentials) -> str:
    """Why a time from submit to stored may be our polling's as much as the vendor's:
    "without callbacks (...) they include our polling: first status read after KIE.ai
    2.5 s, Apixo 15 s"; empty when callbacks can tell us (a public address is set)."""
    from django.conf import settings

    if settings.PUBLIC_URL:
        return ""
    delays = ", ".join(
        f"{c.name} {c.first_poll_seconds:g} s"
        for c in credentials
        if c.first_poll_seconds is not None
    )
    words = "without callbacks (no public address is set) they include our polling"
    return f"{words}: first status read after {delays}, then every few seconds" if delays else words
