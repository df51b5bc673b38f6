"""Uploaded reference images, and the signed, expiring public URLs providers fetch them by.

Providers only take URLs. Our uploads stay private; a provider gets a URL whose token is
signed and dated, so it works for a while and cannot be guessed or extended.
"""

from __future__ import annotations

import dataclasses
import io
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage

from flux2web.lib.ids import parse_id
from flux2web.providers.catalog import REF_MAX_BYTES, Problem
from flux2web.studio.models import ReferenceUpload

SALT = "flux2web.reference"
# Long enough for a queued job to wait out provider retries; a retry re-signs anyway.
URL_LIFETIME = timedelta(days=2)
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
TOKEN_IN_URL = re.compile(r"/refs/(?P<token>[^/]+)/reference\.(?P<ext>[a-z]+)$")


# Formats converted to PNG on upload: the picture survives unchanged (GIF's palette,
# HEIC's pixels as decoded) where providers would refuse the original.
CONVERTIBLE = {"GIF", "HEIF", "HEIC", "BMP", "TIFF"}
# What a refused upload is told, here and by the page's script before it sends anything
# (studio/forms.py hands these to the file field).
TOO_LARGE = "{name} is larger than {limit} MB."
TOO_BIG = (
    "{name} is {size} MB; KIE.ai and Apixo take reference images up to {limit} MB. "
    "Save it as JPEG or make it smaller."
)
UNREADABLE = "{name} is not an image we can read."
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

try:  # optional: with pillow-heif installed, Pillow opens HEIC (iPhone photos) too
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - depends on the machine
    pass
else:  # pragma: no cover
    register_heif_opener()


def is_heic(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in HEIC_BRANDS


def check_image(upload) -> tuple[str, int, int, bytes]:
    """(content type, width, height, bytes) of an upload that is a real image every
    provider takes (JPEG, PNG or WebP, within the strictest size limit), converted to PNG
    when that keeps the picture as it is (GIF, HEIC, BMP, TIFF); ValidationError saying
    what is wrong otherwise."""
    name = getattr(upload, "name", "") or "the file"
    if upload.size > settings.MAX_IMAGE_BYTES:
        limit = settings.MAX_IMAGE_BYTES // (1024 * 1024)
        raise ValidationError(TOO_LARGE.format(name=name, limit=limit))
    data = upload.read()
    upload.seek(0)
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
        if is_heic(data):
            raise ValidationError(
                f"{name} is a HEIC image, which this server cannot read (pillow-heif is not "
                "installed); save it as JPEG or PNG and upload that."
            ) from None
        raise ValidationError(UNREADABLE.format(name=name)) from None
    if kind not in FORMATS:
        if kind not in CONVERTIBLE:
            raise ValidationError(f"{name} is a {kind} image; upload PNG, JPEG or WebP.")
        try:
            data, kind = _as_png(data, name, kind), "PNG"
        except (OSError, ValueError):  # verify() passed, but the pixels stop short
            raise ValidationError(f"{name} is a damaged {kind} image we cannot read.") from None
    if len(data) > REF_MAX_BYTES:
        size, limit = f"{len(data) / (1024 * 1024):.1f}", REF_MAX_BYTES // (1024 * 1024)
        raise ValidationError(TOO_BIG.format(name=name, size=size, limit=limit))
    return FORMATS[kind], width, height, data


def _as_png(data: bytes, name: str, kind: str) -> bytes:
    with PILImage.open(io.BytesIO(data)) as picture:
        frames = getattr(picture, "n_frames", 1)
        if frames > 1:
            raise ValidationError(
                f"{name} is an animated {kind} ({frames} frames); providers take one still "
                "image. Save the frame you want as PNG and upload that."
            )
        keep_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
        still = picture.convert("RGBA" if keep_alpha else "RGB")
        out = io.BytesIO()
        still.save(out, format="PNG")
    return out.getvalue()


def copy_of(image, *, owner) -> ReferenceUpload:
    """The person's copy of an image to use as a reference ("Use as reference"): the one
    made before, if any (a double click, two tabs), else a new one."""
    made = ReferenceUpload.objects.filter(owner=owner, source_image=image).first()
    if made is not None:
        return made
    with image.original.open("rb") as source:
        upload = SimpleUploadedFile(image.original.name.rsplit("/", 1)[-1], source.read())
    return store_upload(owner=owner, upload=upload, source_image=image)


def store_upload(*, owner, upload, source_image=None) -> ReferenceUpload:
    content_type, width, height, data = check_image(upload)
    ref = ReferenceUpload(
        owner=owner,
        source_image=source_image,
        content_type=content_type,
        width=width,
        height=height,
        bytes=len(data),
        original_name=(getattr(upload, "name", "") or "")[:200],
    )
    ref.file.save("upload", ContentFile(data), save=False)
    try:
        ref.save()
    except BaseException:
        ref.file.storage.delete(ref.file.name)
        raise
    return ref


class PendingUploads:
    """Uploads that come with a request, stored only once every check has passed, in the
    transaction that creates its jobs (services.Attachments): the request's placeholders
    become signed URLs then. A refused or rolled-back request leaves no file behind."""

    def __init__(self, *, owner, uploads, base: str, placeholder: str):
        self.owner, self.uploads, self.base = owner, list(uploads), base
        self.placeholder = placeholder
        self.written: list[str] = []

    def store(self, spec):
        urls = []
        for upload in self.uploads:
            upload.seek(0)
            ref = store_upload(owner=self.owner, upload=upload)
            self.written.append(ref.file.name)
            urls.append(public_url(ref, base=self.base))
        kept = [u for u in spec.request.reference_urls if not u.startswith(self.placeholder)]
        request = dataclasses.replace(spec.request, reference_urls=(*kept, *urls))
        trusted = spec.trusted_references | frozenset(urls)
        return dataclasses.replace(spec, request=request, trusted_references=trusted)

    def discard(self) -> None:
        for name in self.written:
            default_storage.delete(name)
        self.written = []


def site_base(request) -> str:
    """Where providers reach this site: the links we sign for them start with it."""
    return settings.PUBLIC_URL or request.build_absolute_uri("/")


def public_url(ref: ReferenceUpload, *, base: str) -> str:
    token = signing.dumps(ref.pk, salt=SALT)
    path = reverse("studio:reference", args=[token, ref.extension])
    return base.rstrip("/") + path


def preview_path(ref: ReferenceUpload) -> str:
    """Where the studio's tile shows it: the signed link's path, on the page's own origin."""
    return reverse("studio:reference", args=[signing.dumps(ref.pk, salt=SALT), ref.extension])


def load_token(token: str) -> int | None:
    """The upload's id, or None for a forged or expired token."""
    try:
        return signing.loads(token, salt=SALT, max_age=URL_LIFETIME)
    except signing.BadSignature:
        return None


@dataclass(frozen=True)
class Taken:
    """Reference URLs as they will be sent: `ours` are links this site signed (they lead
    to us, so the address rule for URLs people give does not apply to them)."""

    urls: tuple[str, ...]
    ours: frozenset[str]
    problems: list[Problem]


def take_references(urls, *, owner, base: str) -> Taken:
    """Find our own upload links among reference URLs (a remix, a retry, a paste).

    Only uploads the person may see (their own, and copies of images they may see) are
    re-signed, so an old link keeps working for them; a link to any other upload is kept
    only while it still lives on this site and refused once expired: pressing Retry must
    never revive access to another's file.
    Everything else is returned as it is, for the address rule to judge.
    """
    own_origin = _origin(base) if base else None
    fresh, ours, problems = [], set(), []
    for number, url in enumerate(urls, start=1):
        ref, live = _our_upload(url)
        if ref is not None and base and _may_see(ref, owner):
            url = public_url(ref, base=base)
            ours.add(url)
        elif ref is not None and own_origin is not None and _origin(url) == own_origin:
            if live:
                ours.add(url)
            else:
                problems.append(
                    Problem(
                        "reference_urls",
                        (
                            f"Reference image {number} is an expired link to an image someone else "
                            "uploaded; upload the image yourself."
                        ),
                    )
                )
        fresh.append(url)
    return Taken(tuple(fresh), frozenset(ours), problems)


def _may_see(ref: ReferenceUpload, user) -> bool:
    return ReferenceUpload.objects.visible_to(user).filter(pk=ref.pk).exists()


@dataclass(frozen=True)
class Carried:
    """A job's reference URLs as the studio form starts from them (a remix, "Use as
    reference"): our uploads the person may see become tiles, addresses from elsewhere
    stay addresses, and uploads they may not see are counted, to say so."""

    uploads: list[ReferenceUpload]
    urls: list[str]
    left_out: int


def carry(urls, *, user) -> Carried:
    uploads, others, left_out = [], [], 0
    for url in urls:
        ref, _ = _our_upload(url)
        if ref is None:
            others.append(url)
        elif _may_see(ref, user):
            if ref not in uploads:
                uploads.append(ref)
        else:
            left_out += 1
    return Carried(uploads, others, left_out)


def visible_uploads(values, *, user) -> tuple[list[ReferenceUpload], bool]:
    """(the uploads named by these ids that the person may see, in order; whether any
    named was not one of them)."""
    ids = [parse_id(value) for value in values]
    wanted = list(dict.fromkeys(i for i in ids if i is not None))
    found = ReferenceUpload.objects.visible_to(user).filter(pk__in=wanted)
    by_id = {ref.pk: ref for ref in found}
    return [by_id[i] for i in wanted if i in by_id], any(i not in by_id for i in ids)


def upload_id(url: str) -> int | None:
    """The id of the upload a link of ours names, however old the link; None for any other
    address."""
    match = TOKEN_IN_URL.search(urlsplit(url).path)
    try:
        ref_id = signing.loads(match["token"], salt=SALT) if match else None
    except signing.BadSignature:
        return None
    return ref_id if isinstance(ref_id, int) else None


def _our_upload(url: str) -> tuple[ReferenceUpload | None, bool]:
    """(the upload a link of ours names, whether the link still lives)."""
    ref_id = upload_id(url)  # any age: whose it is decides
    ref = ReferenceUpload.objects.filter(pk=ref_id).first() if ref_id is not None else None
    match = TOKEN_IN_URL.search(urlsplit(url).path)
    if ref is None or match["ext"] != ref.extension:
        return None, False
    return ref, load_token(match["token"]) == ref_id


def _origin(url: str) -> tuple[str, str, int] | None:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme, parts.hostname or "", port
