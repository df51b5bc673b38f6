"""Uploaded reference images, and the signed, expiring public URLs providers fetch them by.

Providers only take URLs. Our uploads stay private; a provider gets a URL whose token is
signed and dated, so it works for a while and cannot be guessed or extended.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image as PILImage

from flux2web.studio.models import ReferenceUpload

SALT = "flux2web.reference"
# Long enough for a queued job to wait out provider retries; a retry re-signs anyway.
URL_LIFETIME = timedelta(days=2)
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
TOKEN_IN_URL = re.compile(r"/refs/(?P<token>[^/]+)/reference\.[a-z]+$")


def check_image(upload) -> tuple[str, int, int, bytes]:
    """(content type, width, height, bytes) of an upload that is a real image providers
    take; ValidationError saying what is wrong otherwise."""
    name = getattr(upload, "name", "") or "the file"
    if upload.size > settings.MAX_IMAGE_BYTES:
        limit = settings.MAX_IMAGE_BYTES // (1024 * 1024)
        raise ValidationError(f"{name} is larger than {limit} MB.")
    data = upload.read()
    try:
        with PILImage.open(io.BytesIO(data)) as picture:
            kind = picture.format
            width, height = picture.size
            if width * height > settings.MAX_IMAGE_PIXELS:
                raise ValidationError(f"{name} has too many pixels ({width}x{height}).")
            picture.verify()
    except ValidationError:
        raise
    except Exception:  # Pillow raises many kinds for a broken file
        raise ValidationError(f"{name} is not an image we can read.") from None
    if kind not in FORMATS:
        raise ValidationError(f"{name} is a {kind} image; upload PNG, JPEG or WebP.")
    upload.seek(0)
    return FORMATS[kind], width, height, data


def store_upload(*, owner, upload) -> ReferenceUpload:
    content_type, width, height, data = check_image(upload)
    ref = ReferenceUpload(
        owner=owner, content_type=content_type, width=width, height=height, bytes=len(data),
        original_name=(getattr(upload, "name", "") or "")[:200],
    )  # fmt: skip
    ref.file.save("upload", ContentFile(data), save=False)
    ref.save()
    return ref


def public_url(ref: ReferenceUpload, *, base: str) -> str:
    token = signing.dumps(ref.pk, salt=SALT)
    path = reverse("studio:reference", args=[token, ref.extension])
    return base.rstrip("/") + path


def load_token(token: str) -> int | None:
    """The upload's id, or None for a forged or expired token."""
    try:
        return signing.loads(token, salt=SALT, max_age=URL_LIFETIME)
    except signing.BadSignature:
        return None


def refresh_urls(urls, *, base: str) -> list[str]:
    """Re-sign our own reference URLs (a retry next week must not send an expired one)."""
    fresh = []
    for url in urls:
        match = TOKEN_IN_URL.search(url)
        ref_id = None
        if match:
            try:
                ref_id = signing.loads(match["token"], salt=SALT)  # any age: it is ours
            except signing.BadSignature:
                ref_id = None
        ref = ReferenceUpload.objects.filter(pk=ref_id).first() if ref_id else None
        fresh.append(public_url(ref, base=base) if ref else url)
    return fresh
