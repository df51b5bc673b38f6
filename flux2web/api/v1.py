"""The OpenAI-compatible API under /v1/ (its views; `auth.endpoint` checks the token)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import JsonResponse

from flux2web.api import asking, catalog, errors, generating
from flux2web.api.auth import endpoint
from flux2web.studio import references
from flux2web.studio.forms import UPLOAD_PLACEHOLDER


@endpoint("GET")
def models(request):
    data = [m.as_json() for m in catalog.available()]
    return JsonResponse({"object": "list", "data": data})


@endpoint("POST")
def generations(request):
    generating.check_rate(request.api_token)
    body = asking.read_json(request)
    asked = asking.ask(body, owner=request.user, token=request.api_token)
    return generating.generate(request, asked)


@endpoint("POST")
def edits(request):
    """OpenAI's images.edit, multipart: the `image` files become the request's references
    (FLUX.2 image-to-image), each checked as a studio upload is."""
    generating.check_rate(request.api_token)
    if request.content_type != "multipart/form-data":
        raise errors.ApiError(
            400, "Send the image edit as multipart/form-data, as OpenAI's images.edit does."
        )
    files = [*request.FILES.getlist("image"), *request.FILES.getlist("image[]")]
    if "mask" in request.FILES or "mask" in request.POST:
        raise errors.ApiError(
            400, "FLUX.2 edits the whole image from its prompt: a mask is not taken.", param="mask"
        )
    for name in request.FILES:
        if name not in ("image", "image[]"):
            known = asking.is_field(name)
            said = f"Send '{name}' as a text field, not a file." if known else (
                f"Unrecognized request argument supplied: {name}")  # fmt: skip
            raise errors.ApiError(400, said, param=name)
    if not files:
        raise errors.ApiError(400, "Missing required parameter: 'image'.", param="image")
    for upload in files:
        try:
            references.check_image(upload)
        except ValidationError as refused:
            raise errors.ApiError(400, refused.messages[0], param="image") from None
    asked = asking.ask(
        asking.read_form(request),
        owner=request.user,
        token=request.api_token,
        text=True,
        uploads=files,
    )
    uploads = references.PendingUploads(
        owner=request.user,
        uploads=files,
        base=references.site_base(request),
        placeholder=UPLOAD_PLACEHOLDER.format(""),
    )
    return generating.generate(request, asked, uploads=uploads)


@endpoint()
def not_found(request, rest=""):
    raise errors.invalid_url(request)
