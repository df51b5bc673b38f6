"""Share links for people without an account, the images a frozen link holds, and its
visitors. The tables keep the names they had when links lived in the `sharing` app
(migrations moved the models, not the data)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from flux2web.collections.models import Collection
from flux2web.jobs.models import Image


class ShareLink(models.Model):
    """A link for people without an account. Live when it points at a collection (images
    added later appear); frozen when it holds its own list of images (ShareLinkImage).

    The token itself is never stored in the clear: `token_hash` (SHA-256) finds the link,
    `token_encrypted` (Fernet, the credentials' keys) lets the owner copy the address
    again. A stolen database opens no link."""

    class Downloads(models.TextChoices):
        NONE = "none", "No downloads"
        WEB = "web", "Web size"
        ORIGINAL = "original", "Originals"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links"
    )
    collection = models.ForeignKey(
        Collection, null=True, blank=True, on_delete=models.CASCADE, related_name="links"
    )
    title = models.CharField(max_length=120, help_text="What visitors see as the page title.")
    label = models.CharField(max_length=80, blank=True, help_text="Who it is for; owner only.")
    slug = models.SlugField(max_length=60, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_encrypted = models.TextField(editable=False)

    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never.")
    password_hash = models.CharField(max_length=128, blank=True, editable=False)
    # Bumped whenever a setting changes: a visitor's unlock is remembered against it, so a
    # new password (or any change) asks again.
    version = models.PositiveIntegerField(default=1)

    show_prompts = models.BooleanField(default=False)
    show_parameters = models.BooleanField(default=False)
    show_creator = models.BooleanField(default=False)
    show_cost = models.BooleanField(default=False)
    downloads = models.CharField(max_length=8, choices=Downloads.choices, default=Downloads.NONE)
    allow_preview = models.BooleanField(
        default=True, help_text="Show title, cover and count in chat and social previews."
    )

    # Client proofing, each off by default (review.md): picks with an optional minimum and
    # maximum, confirmed by the visitor and locked at confirmation or at a deadline;
    # comments; and whether reviewers see each other's names and comments.
    allow_picks = models.BooleanField(default=False)
    picks_min = models.PositiveSmallIntegerField(null=True, blank=True)
    picks_max = models.PositiveSmallIntegerField(null=True, blank=True)
    lock_on_confirm = models.BooleanField(default=False)
    picks_deadline = models.DateTimeField(null=True, blank=True)
    allow_comments = models.BooleanField(default=False)
    show_reviewers = models.BooleanField(default=False)
    rotated_at = models.DateTimeField(null=True, blank=True)

    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # Stats. Counters are updated with F() expressions; unique visitors are ShareVisit rows.
    views = models.PositiveIntegerField(default=0)
    downloads_count = models.PositiveIntegerField(default=0)
    failed_passwords = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "sharing_sharelink"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="sharelink_owner_recent")]

    def __str__(self):
        return f"Share link {self.pk} ({self.label or self.title})"


class ShareLinkImage(models.Model):
    """The images of a frozen link, in the order they were chosen."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="frozen_items")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="+")
    position = models.IntegerField(default=0)

    class Meta:
        db_table = "sharing_sharelinkimage"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["link", "image"], name="sharelink_image_once")
        ]

    def __str__(self):
        return f"Image {self.image_id} of link {self.link_id}"


class ShareVisit(models.Model):
    """One row per visitor per link per day, for unique visitors. `visitor` is a salted
    daily hash of address and browser: no address is ever stored."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="visits")
    day = models.DateField()
    visitor = models.CharField(max_length=64)

    class Meta:
        db_table = "sharing_sharevisit"
        constraints = [
            models.UniqueConstraint(fields=["link", "day", "visitor"], name="sharevisit_once")
        ]

    def __str__(self):
        return f"Visit to link {self.link_id} on {self.day}"
