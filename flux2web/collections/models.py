"""Collections of images and the team's view of them. Share links are the links app's."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from flux2web.jobs.models import Image, Job


class CollectionQuerySet(models.QuerySet):
    def for_user(self, user):
        """Collections a person may see: their own and the team's shared ones."""
        return self.filter(
            models.Q(owner=user)
            | models.Q(
                visibility__in=[Collection.Visibility.TEAM_VIEW, Collection.Visibility.TEAM_ADD]
            )
        )

    def addable_by(self, user):
        """Collections a person may add images to: their own and team-can-add ones."""
        return self.filter(
            models.Q(owner=user) | models.Q(visibility=Collection.Visibility.TEAM_ADD)
        )


class Collection(models.Model):
    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private"
        TEAM_VIEW = "team_view", "Team can view"
        TEAM_ADD = "team_add", "Team can add"

    class Order(models.TextChoices):
        MANUAL = "manual", "My order"
        NEWEST = "newest", "Newest first"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections"
    )
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    cover = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    order = models.CharField(max_length=8, choices=Order.choices, default=Order.MANUAL)
    images = models.ManyToManyField(Image, through="CollectionItem", related_name="collections")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="collection_owner_recent")]

    def __str__(self):
        return self.title


class CollectionItem(models.Model):
    class Mark(models.TextChoices):
        """A reviewer's decision on an image in this collection (owner and adders)."""

        APPROVED = "approved", "Approved"
        CHANGES = "changes", "Needs changes"
        REJECTED = "rejected", "Rejected"

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="collection_items")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # Manual order: lower first. New items go to the end (max + 1).
    position = models.IntegerField(default=0)
    added_at = models.DateTimeField(default=timezone.now)
    mark = models.CharField(max_length=8, choices=Mark.choices, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "image"], name="collection_item_once")
        ]
        indexes = [models.Index(fields=["collection", "position"], name="collection_item_order")]

    def __str__(self):
        return f"Image {self.image_id} in collection {self.collection_id}"


class PendingAdd(models.Model):
    """The studio's "put the new images into this collection": kept on our side (the jobs
    app knows nothing of collections) and resolved when the job's images are stored."""

    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="+")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Job {self.job_id} into collection {self.collection_id}"
