"""Compare: two to four images a person may see, side by side at the same zoom, and for
two a before/after slider (static/js/compare.js). The selection bars post their choice
to `compare_chosen`, which sends the browser to the comparison's own address."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from flux2web.collections.tiles import media_prefix, review_url
from flux2web.jobs.models import Image
from flux2web.lib.ids import parse_id, parse_ids
from flux2web.lib.redirects import redirect_back

FEWEST, MOST = 2, 4
CHOOSE = "Choose 2 to 4 images to compare."
NOT_FOUND = (
    "One of the chosen images was not found: it may have been deleted, or it is not one "
    "you can see. Choose again."
)


def _chosen(values) -> tuple[list[int], str]:
    """The ids asked for, in the order chosen (each once), or why they cannot be compared."""
    asked = list(dict.fromkeys(values))
    if not FEWEST <= len(asked) <= MOST:
        return [], CHOOSE
    ids = [parse_id(value) for value in asked]
    if None in ids:
        return [], NOT_FOUND
    return ids, ""


def _shown(image: Image, viewer, media: str) -> dict:
    """What one pane shows: only what the viewer may see of an image visible to them."""
    job = image.job
    facts = [f"FLUX.2 [{job.model}]", job.provider.name if job.provider else "",
             f"{image.width} × {image.height}"]  # fmt: skip
    return {
        "image": image,
        "full": media + image.original.name,
        "prompt": job.prompt,
        "who": "" if image.owner_id == viewer.pk else str(image.owner),
        "facts": " · ".join(f for f in facts if f),
        "review": review_url(image.pk),
    }


@require_GET
def compare(request):
    values = request.GET.getlist("image") + request.GET.getlist("images")
    ids, error = _chosen(values)
    images = []
    if not error:
        found = Image.objects.visible_to(request.user).filter(pk__in=ids)
        by_pk = {i.pk: i for i in found.select_related("job", "job__provider", "owner")}
        if len(by_pk) < len(ids):
            error = NOT_FOUND
        else:
            media = media_prefix()
            images = [_shown(by_pk[pk], request.user, media) for pk in ids]
    context = {"images": images, "error": error, "two": len(images) == 2}
    return render(request, "gallery/compare.html", context, status=400 if error else 200)


@require_POST
def compare_chosen(request):
    """From a selection bar (a POST form that also does ZIP, share, delete): to the
    comparison's address, which holds only the image ids, never the form's token."""
    ids = list(dict.fromkeys(parse_ids(request.POST.getlist("image")[: MOST + 1])))
    if not FEWEST <= len(ids) <= MOST:
        messages.error(request, CHOOSE)
        return redirect_back(request, "gallery:index")
    query = urlencode([("image", pk) for pk in ids])
    return HttpResponseRedirect(f"{reverse('gallery:compare')}?{query}")
