"""The files a share link serves: a web-size JPEG and metadata-free originals, made from the
stored original once and kept in media storage under names nobody can guess or reach
through /media/ (that view only serves an image's own original and thumbnail)."""

from __future__ import annotations

import io
import struct

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image as PILImage
from PIL import ImageOps

from flux2web.jobs.models import Image

WEB_SIZE = (1600, 1600)

# PNG chunks that carry pixels or how to show them; everything else (tEXt, zTXt, iTXt,
# eXIf, tIME, C2PA's caBX and whatever comes next) is dropped. A whitelist, so a new
# kind of metadata chunk is stripped without anyone remembering to add it.
PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP",
    b"sBIT", b"pHYs", b"bKGD", b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _cached(name: str, make) -> str:
    if not default_storage.exists(name):
        data = make()
        if not default_storage.exists(name):  # another request made it meanwhile
            saved = default_storage.save(name, ContentFile(data))
            if saved != name:  # lost a race on a storage that renames: keep one copy
                default_storage.delete(saved)
    return name


def web_file(image: Image) -> str:
    """The storage name of the image's web-size JPEG (longest side 1600 px, no metadata)."""
    return _cached(image.derived_name("web", "jpg"), lambda: web_jpeg(_read(image)))


def clean_original(image: Image) -> tuple[str, str]:
    """(storage name, content type) of the original with its metadata removed, pixels
    untouched: PNG and JPEG lose their metadata chunks and segments; anything else is
    re-saved as a lossless PNG."""
    kind = _kind(image)
    if kind == "png":
        return _cached(image.derived_name("clean", "png"), lambda: strip_png(_read(image))), (
            "image/png"
        )
    if kind == "jpeg":
        name = image.derived_name("clean", "jpg")
        return _cached(name, lambda: strip_jpeg(_read(image))), "image/jpeg"
    return _cached(image.derived_name("clean", "png"), lambda: as_png(_read(image))), ("image/png")


def _kind(image: Image) -> str:
    content_type = (image.content_type or "").lower()
    if content_type == "image/png" or image.original.name.lower().endswith(".png"):
        return "png"
    if content_type in ("image/jpeg", "image/jpg") or image.original.name.lower().endswith(
        (".jpg", ".jpeg")
    ):
        return "jpeg"
    return "other"


def _read(image: Image) -> bytes:
    with default_storage.open(image.original.name, "rb") as handle:
        return handle.read()


def web_jpeg(data: bytes) -> bytes:
    with PILImage.open(io.BytesIO(data)) as source:
        source.draft("RGB", WEB_SIZE)
        picture = source.convert("RGB")
    ImageOps.exif_transpose(picture, in_place=True)
    picture.thumbnail(WEB_SIZE, reducing_gap=2.0)
    # Pillow carries some of the source's info into a save (a JPEG comment, for one): start
    # from none, and strip the result as well.
    picture.info = {}
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=86, optimize=True, progressive=True)
    return strip_jpeg(out.getvalue())


def as_png(data: bytes) -> bytes:
    with PILImage.open(io.BytesIO(data)) as source:
        picture = ImageOps.exif_transpose(source)
        out = io.BytesIO()
        picture.save(out, format="PNG")
    return out.getvalue()


def strip_png(data: bytes) -> bytes:
    """The same PNG without its metadata chunks; pixel data is copied byte for byte."""
    if not data.startswith(PNG_SIGNATURE):
        return as_png(data)
    out = [PNG_SIGNATURE]
    at = len(PNG_SIGNATURE)
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(data):
            return as_png(data)  # truncated: let Pillow decide what is there
        if kind in PNG_KEEP:
            out.append(data[at:end])
        at = end
        if kind == b"IEND":
            break
    return b"".join(out)


# JPEG segments worth keeping: the JFIF header (APP0 "JFIF") and the colour profile (APP2
# "ICC_PROFILE"). APP1 (EXIF, XMP), APP13 (IPTC), COM and every other APPn go. Only the
# primary picture is kept, up to its EOI: whatever follows it (the further pictures of
# an MPO, a "motion photo"'s video, appended trailers) goes too, with its own metadata.
def strip_jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        return as_png(data)
    out = [b"\xff\xd8"]
    at = 2
    while at + 2 <= len(data):
        if data[at] != 0xFF:
            return as_png(data)
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:  # end of the primary picture: nothing after it is served
            out.append(b"\xff\xd9")
            return b"".join(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # stand-alone markers
            out.append(data[at : at + 2])
            at += 2
            continue
        if at + 4 > len(data):
            return as_png(data)
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        segment = data[at : at + 2 + length]
        at += 2 + length
        if marker == 0xDA:  # start of scan: its header, then entropy-coded data
            scan_end = _scan_end(data, at)
            out.append(segment)
            out.append(data[at:scan_end])
            at = scan_end
            continue
        if marker == 0xE0:
            keep = segment[4:9] == b"JFIF\0"
        elif marker == 0xE2:
            keep = segment[4:16] == b"ICC_PROFILE\0"
        else:
            keep = not (0xE0 <= marker <= 0xEF) and marker != 0xFE
        if keep:
            out.append(segment)
    # No EOI: a truncated file. What was read is closed off; decoders show what is there.
    out.append(b"\xff\xd9")
    return b"".join(out)


def _scan_end(data: bytes, at: int) -> int:
    """Where a scan's entropy-coded data ends: at the next marker that is neither a
    stuffed 0xFF00 nor a restart marker (RST0-7)."""
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= len(data):
            return len(data)
        following = data[at + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            at += 1 if following == 0xFF else 2
            continue
        return at


def strip_thumbnail(data: bytes) -> bytes:
    """Thumbnails are JPEGs we made without metadata; strip anyway, it costs microseconds."""
    return strip_jpeg(data) if data.startswith(b"\xff\xd8") else data
