"""The team's users. A custom model from day one so roles and quotas can join it later."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


def new_token() -> str:
    return secrets.token_hex(8)


class User(AbstractUser):
    # Changes whenever this person's gallery changes (an image saved, deleted, starred), so
    # rendered gallery pages can be cached under it and never served stale. Random rather
    # than a counter: a recycled user id never meets an old cache entry.
    gallery_token = models.CharField(max_length=16, default=new_token, editable=False)
    # The same for the collections this person may add to (the lightbox's choice).
    collections_token = models.CharField(max_length=16, default=new_token, editable=False)
    # Team admins run the team in the app: members, quotas, providers, usage. Superusers
    # (the first account) are admins too.
    is_team_admin = models.BooleanField("team admin", default=False)
    # Whether this person's new images are visible to the team: "" follows the team's
    # default (TeamPolicy), otherwise their own choice. Each image can still be changed.
    new_images_visibility = models.CharField(
        max_length=8,
        blank=True,
        choices=[("", "Team default"), ("private", "Private"), ("team", "Visible to the team")],
    )

    class Meta:
        db_table = "accounts_user"

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.is_active and (self.is_team_admin or self.is_superuser)

    def may_manage(self, person: User) -> bool:
        """Whether this account may change `person`'s account (sign-in, role, password link).

        Never one with more power: only a superuser acts on a superuser, only staff or a
        superuser on staff (who reach Django admin). Team admins run everyone else.
        """
        if person.is_superuser and not self.is_superuser:
            return False
        return not (person.is_staff and not (self.is_staff or self.is_superuser))

    @property
    def new_images_team_visible(self) -> bool:
        """Whether this person's next images are visible to the team."""
        if self.new_images_visibility:
            return self.new_images_visibility == "team"
        return TeamPolicy.current().new_images_team_visible


def gallery_changed(user_id: int) -> None:
    User.objects.filter(pk=user_id).update(gallery_token=new_token())


def collections_changed(user_id: int | None) -> None:
    """The collections the person may add to changed; None: everyone's did."""
    people = User.objects.all() if user_id is None else User.objects.filter(pk=user_id)
    people.update(collections_token=new_token())


class TeamPolicy(models.Model):
    """The team's settings that admins choose: one row (pk=1), made on first use."""

    # The longest any link or team policy may run: ten years. Also keeps every date sum far
    # from datetime's year 9999, whatever the time zone.
    LINK_MAX_DAYS = 3650

    new_images_team_visible = models.BooleanField(
        "new images visible to the team by default", default=False
    )
    public_links_allowed = models.BooleanField("share links allowed", default=True)
    link_max_days = models.PositiveIntegerField(
        "longest link expiry (days)", null=True, blank=True, help_text="Empty: no maximum."
    )
    link_never_allowed = models.BooleanField("links that never expire allowed", default=False)
    link_password_required = models.BooleanField("a password on every link", default=False)

    class Routing(models.TextChoices):
        PRIORITY = "priority", "Priority"
        CHEAPEST = "cheapest", "Cheapest that works"
        FASTEST = "fastest", "Fastest that works"

    # How Auto picks a provider (jobs/routing.py); every strategy skips unhealthy ones.
    routing = models.CharField(
        "Auto routing", max_length=10, choices=Routing.choices, default=Routing.PRIORITY
    )
    routing_min_jobs = models.PositiveIntegerField(
        "jobs before a provider's figures are trusted",
        default=5,
        help_text="Fewer finished jobs over the last day: the provider's speed is not known yet.",
    )
    routing_health_percent = models.PositiveSmallIntegerField(
        "skip a provider below this success rate (%)",
        default=50,
        help_text="Over its jobs of the last hour; 0 never skips.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return "Team policy"

    @classmethod
    def current(cls) -> TeamPolicy:
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class ApiTokenQuerySet(models.QuerySet):
    def for_user(self, user) -> ApiTokenQuerySet:
        return self.filter(owner=user)

    def active(self, now: datetime | None = None) -> ApiTokenQuerySet:
        """Neither revoked nor expired (whether the owner may still sign in is theirs)."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )

    def revoke(self, now: datetime | None = None) -> int:
        """Dead at once and for good: nothing sets `revoked_at` back."""
        return self.filter(revoked_at__isnull=True).update(revoked_at=now or timezone.now())


class ApiToken(models.Model):
    """A person's key to the API (/v1/), sent as `Authorization: Bearer <token>`.

    Only the token's SHA-256 is kept (`lib.crypto.token_digest`, as share links'): the token
    is shown once, when it is made, and never again. `prefix` (its first characters, not
    enough to guess the rest) lets a person tell their tokens apart. Made and found by
    `accounts/api_tokens.py`."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Written at most once a minute per token, not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A name tells a person's live tokens apart; a revoked one gives its name back
            # (an expired one is revoked when its name is taken again).
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="api_token_name_once",
            )
        ]

    def __str__(self):
        return f"API token {self.name} ({self.prefix}…)"

    def status(self, now: datetime | None = None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= now:
            return "expired"
        return "active"
