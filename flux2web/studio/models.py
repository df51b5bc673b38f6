"""Reference images people upload for image-to-image jobs."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from flux2web.jobs.models import Image
from flux2web.providers.catalog import EXTENSIONS


def reference_path(upload: ReferenceUpload, filename: str) -> str:
    # Unguessable, like the results: the signed public URL is the only way in from outside.
    return f"refs/{upload.owner_id}/{secrets.token_urlsafe(18)}.{upload.extension}"


class ReferenceUploadQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Who may see a reference: a file from someone's disk, who uploaded it; a copy of
        an image ("Use as reference"), whoever may see that image now, its maker included:
        private beats everything, so an image made private takes its copies with it."""
        images = Image.objects.visible_to(user).values("pk")
        own = models.Q(owner=user, source_image__isnull=True)
        return self.filter(own | models.Q(source_image__in=images))


class ReferenceUpload(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reference_uploads"
    )
    file = models.FileField(upload_to=reference_path, max_length=200)
    content_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    original_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The image it is a copy of, when it was made with "Use as reference": whoever may see
    # that image may see this copy (a teammate's remix carries it), and it goes with it.
    source_image = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    objects = ReferenceUploadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Reference {self.pk} of {self.owner_id} ({self.width}x{self.height})"

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.content_type, "bin")
