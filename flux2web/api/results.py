"""The addresses the API answers with: our own, signed and dated, readable without a session
for FLUX2WEB_API_URL_MINUTES (60 by default, as OpenAI's are), then 404 for everyone; an
image deleted meanwhile is 404 too. The provider's address is never given out."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from flux2web.jobs.models import Image
from flux2web.providers.catalog import EXTENSIONS

SALT = "flux2web.api.result"


def path_for(image: Image) -> str:
    token = signing.dumps(image.pk, salt=SALT)
    extension = EXTENSIONS.get(image.content_type, "png")
    return reverse("api:result", args=[token, extension])


@require_safe
@login_not_required
def result(request, token: str, ext: str):
    seconds = settings.API_URL_MINUTES * 60
    try:
        image_id = signing.loads(token, salt=SALT, max_age=seconds)
        # dumps wrote "<value>:<time in base 62>:<signature>"; checked by loads just now.
        signed_at = signing.b62_decode(token.rsplit(":", 2)[1])
    except (signing.BadSignature, ValueError, IndexError):  # forged, or expired
        raise Http404("No such image.") from None
    image = Image.objects.shown().filter(pk=image_id).first()
    if image is None or EXTENSIONS.get(image.content_type, "png") != ext:
        raise Http404("No such image.")
    try:
        handle = default_storage.open(image.original.name)
    except FileNotFoundError:
        raise Http404("No such image.") from None
    response = FileResponse(handle, content_type=image.content_type or "image/png")
    # Anyone holding the address may read it until it expires, and no longer: no cache
    # may keep it past that.
    left = max(0, int(signed_at + seconds - timezone.now().timestamp()))
    response["Cache-Control"] = f"private, max-age={left}"
    response["X-Robots-Tag"] = "noindex"
    return response
