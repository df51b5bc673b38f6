"""Images with real files (and tell-tale metadata) and collections for tests; share links
are made by tests/links/factories.py."""

import io
import uuid

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image as PILImage
from PIL import PngImagePlugin

from flux2web.collections.models import Collection, CollectionItem
from flux2web.jobs.mirroring import thumbnail
from flux2web.jobs.models import Image, Job
from tests.jobs.factories import finish, make_jobs

SECRET_PROMPT = "a secret heron over Lake Wanaka, codename BLUEBIRD"


XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    'syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description>'
    f"{SECRET_PROMPT}</dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"
)


def png_with_metadata(size=(96, 64), prompt=SECRET_PROMPT) -> bytes:
    """A PNG as generators write them: the prompt in tEXt, iTXt (XMP) and EXIF."""
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", f"{prompt}\nSteps: 28, Seed: 1234")
    info.add_itxt("XML:com.adobe.xmp", XMP)
    exif = PILImage.Exif()
    exif[0x010E] = prompt  # ImageDescription
    out = io.BytesIO()
    PILImage.new("RGB", size, (200, 80, 40)).save(out, format="PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def jpeg_with_metadata(size=(96, 64), prompt=SECRET_PROMPT) -> bytes:
    exif = PILImage.Exif()
    exif[0x010E] = prompt
    out = io.BytesIO()
    PILImage.new("RGB", size, (20, 80, 140)).save(
        out, format="JPEG", exif=exif, xmp=XMP.encode(), comment=prompt.encode()
    )
    return out.getvalue()


def make_image(owner, prompt=SECRET_PROMPT, *, size=(96, 64), kind="png", deleted=False):
    job = Job.objects.create(
        owner=owner, idempotency_key=uuid.uuid4().hex, model="pro", prompt=prompt,
        aspect_ratio="3:2", seed=1234, price="0.05", state=Job.State.SUCCEEDED,
        finished_at=timezone.now(), deleted_at=timezone.now() if deleted else None,
    )  # fmt: skip
    data = png_with_metadata(size, prompt) if kind == "png" else jpeg_with_metadata(size, prompt)
    image = Image(
        job=job, owner=owner, index=0, provider_url="http://x/1", width=size[0], height=size[1],
        status=Image.Status.MIRRORED, content_type=f"image/{kind}",
    )  # fmt: skip
    image.original.save(f"result.{kind}", ContentFile(data), save=False)
    image.thumbnail.save("thumb.jpg", ContentFile(thumbnail(data)), save=False)
    image.save()
    return image


def make_collection(owner, images, title="Spring campaign — round 2", **fields):
    collection = Collection.objects.create(owner=owner, title=title, **fields)
    CollectionItem.objects.bulk_create(
        CollectionItem(collection=collection, image=image, added_by=owner, position=n)
        for n, image in enumerate(images)
    )
    return collection


HX = {"HX-Request": "true"}


def made(user, prompt="a lighthouse at dusk", *, team=False, size=(64, 64)) -> Image:
    """A finished job of `user` with one stored image; team-visible if `team`."""
    job = finish(make_jobs(user, prompt=prompt)[0])
    image = job.images.get()
    Image.objects.filter(pk=image.pk).update(team_visible=team, width=size[0], height=size[1])
    image.refresh_from_db()
    return image
